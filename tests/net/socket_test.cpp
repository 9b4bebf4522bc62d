#include "corio/net/socket.hpp"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "core/io.hpp"
#include "corio/corio.hpp"
#include "net/net_fixture.hpp"

using namespace std::chrono_literals;
using corio::Task;
namespace net = corio::net;
using corio_test::net_run;

namespace {

// A listening loopback socket on an ephemeral port.
net::Socket listener(std::uint16_t& port) {
    net::Socket s = net::Socket::create(AF_INET, SOCK_STREAM);
    s.set_reuse_address(true);
    s.bind(net::SocketAddress::ip("127.0.0.1", 0));
    s.listen(16);
    port = s.local_address().port();
    return s;
}

// A connected pair of loopback sockets: {client, server side}.
Task<std::pair<net::Socket, net::Socket>> connected_pair() {
    std::uint16_t port = 0;
    net::Socket l = listener(port);
    net::Socket c = net::Socket::create(AF_INET, SOCK_STREAM);
    auto accepting = corio::create_task(net::sock_accept(l));
    co_await net::sock_connect(c, net::SocketAddress::ip("127.0.0.1", port));
    std::pair<net::Socket, net::SocketAddress> accepted = co_await std::move(accepting);
    EXPECT_EQ(accepted.second, c.local_address());
    co_return std::pair<net::Socket, net::Socket>(std::move(c), std::move(accepted.first));
}

// Runs fn once per loop iteration until it returns true (at most `max`).
Task<bool> each_iteration_until(std::function<bool()> fn, int max = 1000) {
    for (int i = 0; i < max; ++i) {
        if (fn()) {
            co_return true;
        }
        co_await corio::sleep(0s);
    }
    co_return false;
}

}  // namespace

TEST(Sockets, ConnectAcceptSendRecvAndEof) {
    net_run([]() -> Task<void> {
        auto [c, s] = co_await connected_pair();
        co_await net::sock_sendall(c, "ping");
        EXPECT_EQ(co_await net::sock_recv(s, 100), "ping");
        std::string big(1 << 20, 'x');  // more than the socket buffers hold
        auto sending = corio::create_task(net::sock_sendall(s, big));
        std::size_t got = 0;
        char buf[65536];
        while (got < big.size()) {
            got += co_await net::sock_recv_into(c, std::span<char>(buf, sizeof buf));
        }
        co_await sending;
        EXPECT_EQ(got, big.size());
        s.shutdown(SHUT_WR);
        EXPECT_EQ(co_await net::sock_recv(c, 10), "");  // EOF
    }());
}

TEST(Sockets, ConnectionRefusedNamesTheAddress) {
    net_run([]() -> Task<void> {
        net::Socket holder;
        std::uint16_t port = corio_test::refused_port(holder);
        net::Socket c = net::Socket::create(AF_INET, SOCK_STREAM);
        try {
            co_await net::sock_connect(c, net::SocketAddress::ip("127.0.0.1", port));
            ADD_FAILURE() << "connected to a closed port";
        } catch (const std::system_error& e) {
            EXPECT_EQ(e.code().value(), ECONNREFUSED);
            EXPECT_NE(std::string(e.what()).find("127.0.0.1:" + std::to_string(port)),
                      std::string::npos);
        }
    }());
}

TEST(Sockets, ClosingASocketEndsAWaitingRecvWithEbadf) {
    net_run([]() -> Task<void> {
        auto [c, s] = co_await connected_pair();
        auto reader = corio::create_task(net::sock_recv(s, 10));
        co_await corio::sleep(0s);
        s.close();
        try {
            co_await reader;
            ADD_FAILURE() << "recv on a closed socket returned";
        } catch (const std::system_error& e) {
            EXPECT_EQ(e.code().value(), EBADF);
        }
    }());
}

// Used to lose the bytes: the recv had finished (its task woken with the
// data) when the task was cancelled, before it resumed. The checker runs
// first in the iteration where the kernel's answer arrives: it was queued
// in the iteration before, and the sender is another task.
TEST(Sockets, ARecvCancelledAfterItGotDataLeavesTheBytesForTheNextOne) {
    net_run([]() -> Task<void> {
        auto [c, s] = co_await connected_pair();
        auto reader = corio::create_task(net::sock_recv(s, 10));
        co_await corio::sleep(0s);  // the recv is waiting
        auto sender = corio::create_task(net::sock_sendall(c, "kept"));
        corio::detail::IoState* io = s.io_state();
        bool caught = co_await each_iteration_until([&] {
            if (io->reading != nullptr && io->reading->state == corio::detail::IoOp::done) {
                reader.cancel();
                return true;
            }
            return false;
        });
        EXPECT_TRUE(caught);
        EXPECT_THROW(co_await reader, corio::CancelledError);
        co_await sender;
        // Lost bytes would leave this waiting: fail instead of hanging.
        EXPECT_EQ(co_await corio::wait_for(net::sock_recv(s, 10), 5s), "kept");
    }());
}

// Used to leak the accepted fd: accept had finished when its task was
// cancelled (the connector is another task, as above).
TEST(Sockets, AnAcceptCancelledAfterItGotAConnectionLeavesItForTheNextOne) {
    net_run([]() -> Task<void> {
        std::uint16_t port = 0;
        net::Socket l = listener(port);
        auto acceptor = corio::create_task(net::sock_accept(l));
        co_await corio::sleep(0s);
        net::Socket c = net::Socket::create(AF_INET, SOCK_STREAM);
        auto connector =
            corio::create_task(net::sock_connect(c, net::SocketAddress::ip("127.0.0.1", port)));
        corio::detail::IoState* io = l.io_state();
        bool caught = co_await each_iteration_until([&] {
            if (io->reading != nullptr && io->reading->state == corio::detail::IoOp::done) {
                acceptor.cancel();
                return true;
            }
            return false;
        });
        EXPECT_TRUE(caught);
        EXPECT_THROW(co_await acceptor, corio::CancelledError);
        co_await connector;
        auto [s, peer] = co_await corio::wait_for(net::sock_accept(l), 5s);
        EXPECT_EQ(peer, c.local_address());
        co_await net::sock_sendall(c, "hi");
        EXPECT_EQ(co_await net::sock_recv(s, 10), "hi");
    }());
}

TEST(Sockets, OneWaiterPerDirection) {
    net_run([]() -> Task<void> {
        auto [c, s] = co_await connected_pair();
        auto first = corio::create_task(net::sock_recv(s, 10));
        co_await corio::sleep(0s);
        EXPECT_THROW(co_await net::sock_recv(s, 10), corio::RuntimeError);
        first.cancel();
        EXPECT_THROW(co_await first, corio::CancelledError);
        co_await net::sock_sendall(c, "x");
        EXPECT_EQ(co_await net::sock_recv(s, 10), "x");
    }());
}

TEST(Sockets, DatagramsKeepTheirBoundariesAndSender) {
    net_run([]() -> Task<void> {
        net::Socket a = net::Socket::create(AF_INET, SOCK_DGRAM);
        a.bind(net::SocketAddress::ip("127.0.0.1", 0));
        net::Socket b = net::Socket::create(AF_INET, SOCK_DGRAM);
        b.bind(net::SocketAddress::ip("127.0.0.1", 0));
        EXPECT_EQ(co_await net::sock_sendto(a, "one", b.local_address()), 3u);
        EXPECT_EQ(co_await net::sock_sendto(a, "two!", b.local_address()), 4u);
        auto [d1, from1] = co_await net::sock_recvfrom(b, 100);
        auto [d2, from2] = co_await net::sock_recvfrom(b, 2);  // truncated to 2
        EXPECT_EQ(d1, "one");
        EXPECT_EQ(d2, "tw");
        EXPECT_EQ(from1, a.local_address());
        EXPECT_EQ(from2, a.local_address());
    }());
}

TEST(Sockets, AMovedSocketKeepsItsRegistrationAndWaiters) {
    net_run([]() -> Task<void> {
        auto [c, s] = co_await connected_pair();
        EXPECT_EQ(co_await net::sock_recv(s, 0), "");
        co_await net::sock_sendall(c, "a");
        net::Socket moved = std::move(s);
        EXPECT_FALSE(s);
        EXPECT_EQ(co_await net::sock_recv(moved, 10), "a");
        EXPECT_THROW(co_await net::sock_recv(s, 10), std::system_error);  // EBADF
    }());
}
