#include "corio/net/udp.hpp"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <vector>

#include "corio/corio.hpp"
#include "net/net_fixture.hpp"

using namespace std::chrono_literals;
using corio::Task;
namespace net = corio::net;
using corio_test::net_run;

namespace {

struct EchoUdp : net::DatagramProtocol {
    net::DatagramTransport* t = nullptr;
    void connection_made(net::DatagramTransport& tr) override { t = &tr; }
    void datagram_received(std::string_view d, const net::SocketAddress& from) override {
        t->sendto("echo " + std::string(d), from);
    }
};

struct Client : net::DatagramProtocol {
    std::vector<std::string> got;
    std::vector<std::string> errors;
    corio::Event* arrived = nullptr;
    corio::Future<void>* lost = nullptr;
    void datagram_received(std::string_view d, const net::SocketAddress&) override {
        got.emplace_back(d);
        if (arrived != nullptr) {
            arrived->set();
        }
    }
    void error_received(std::exception_ptr e) override {
        errors.push_back(corio::describe_exception(e));
        if (arrived != nullptr) {
            arrived->set();
        }
    }
    void connection_lost(std::exception_ptr) override {
        if (lost != nullptr) {
            lost->set_result();
        }
    }
};

}  // namespace

TEST(Udp, ProtocolsEchoDatagramsBothWays) {
    net_run([]() -> Task<void> {
        auto server = co_await net::create_datagram_endpoint(
            [] { return std::make_unique<EchoUdp>(); },
            {.local_addr = net::SocketAddress::ip("127.0.0.1", 0)});
        net::SocketAddress addr = server->sockname();
        corio::Event arrived;
        corio::Future<void> lost;
        auto client = co_await net::create_datagram_endpoint(
            [&] {
                auto c = std::make_unique<Client>();
                c->arrived = &arrived;
                c->lost = &lost;
                return c;
            },
            {.remote_addr = addr});
        auto& proto = static_cast<Client&>(client->get_protocol());
        for (int i = 0; i < 3; ++i) {
            arrived.clear();
            client->sendto("ping " + std::to_string(i));
            co_await arrived.wait();
        }
        EXPECT_EQ(proto.got,
                  (std::vector<std::string>{"echo ping 0", "echo ping 1", "echo ping 2"}));
        EXPECT_EQ(std::any_cast<net::SocketAddress>(client->get_extra_info("peername")), addr);
        EXPECT_THROW(client->sendto("x", net::SocketAddress::ip("127.0.0.1", 9)),
                     std::invalid_argument);
        client->close();
        co_await lost;
        EXPECT_THROW(client->sendto("after close"), corio::RuntimeError);
        server->close();
        co_await corio::sleep(0s);  // connection_lost runs through the loop
    }());
}

TEST(Udp, AConnectedEndpointReportsRefusalThroughErrorReceived) {
    net_run([]() -> Task<void> {
        // A bound socket that is then closed: the port answers with ICMP
        // port-unreachable, which a connected UDP socket reports.
        net::SocketAddress dead;
        {
            net::Socket s = net::Socket::create(AF_INET, SOCK_DGRAM);
            s.bind(net::SocketAddress::ip("127.0.0.1", 0));
            dead = s.local_address();
        }
        corio::Event arrived;
        auto client = co_await net::create_datagram_endpoint(
            [&] {
                auto c = std::make_unique<Client>();
                c->arrived = &arrived;
                return c;
            },
            {.remote_addr = dead});
        auto& proto = static_cast<Client&>(client->get_protocol());
        client->sendto("anyone?");
        co_await corio::wait_for(arrived.wait(), 5s);
        if (proto.errors.empty()) {
            client->sendto("anyone?");  // the error surfaces on the next call
            arrived.clear();
            co_await corio::wait_for(arrived.wait(), 5s);
        }
        CO_ASSERT_FALSE(proto.errors.empty());
        EXPECT_NE(proto.errors[0].find("Connection refused"), std::string::npos) << proto.errors[0];
        client->close();
        co_await corio::sleep(0s);
    }());
}

TEST(Udp, AReceiveAfterAnIcmpErrorWaitsInsteadOfSpinning) {
    net_run([]() -> Task<void> {
        net::SocketAddress dead;
        {
            net::Socket s = net::Socket::create(AF_INET, SOCK_DGRAM);
            s.bind(net::SocketAddress::ip("127.0.0.1", 0));
            dead = s.local_address();
        }
        net::Socket sock = net::Socket::create(AF_INET, SOCK_DGRAM);
        sock.bind(net::SocketAddress::ip("127.0.0.1", 0));
        co_await net::sock_connect(sock, dead);
        co_await net::sock_sendall(sock, "anyone?");
        // The port-unreachable comes back as an error on the next receive.
        EXPECT_THROW(co_await corio::wait_for(net::sock_recv(sock, 100), 5s), std::system_error);
        // Now nothing is pending: the receive must suspend (it used to spin
        // on the stale error bit and freeze the loop).
        auto receiving = corio::create_task(net::sock_recv(sock, 100));
        co_await corio::sleep(0s);
        EXPECT_FALSE(receiving.done());
        receiving.cancel();
        EXPECT_THROW(co_await receiving, corio::CancelledError);
    }());
}

TEST(Udp, SockRecvfromAndSockSendtoAwaitDatagrams) {
    net_run([]() -> Task<void> {
        net::Socket a = net::Socket::create(AF_INET, SOCK_DGRAM);
        a.bind(net::SocketAddress::ip("127.0.0.1", 0));
        net::Socket b = net::Socket::create(AF_INET, SOCK_DGRAM);
        b.bind(net::SocketAddress::ip("127.0.0.1", 0));
        auto receiving = corio::create_task(net::sock_recvfrom(a, 100));
        co_await corio::sleep(0s);
        EXPECT_FALSE(receiving.done());
        EXPECT_EQ(co_await net::sock_sendto(b, "datagram", a.local_address()), 8u);
        auto [data, from] = co_await receiving;
        EXPECT_EQ(data, "datagram");
        EXPECT_EQ(from, b.local_address());
        // Several queued datagrams come out one by one (no edge is lost).
        for (int i = 0; i < 3; ++i) {
            co_await net::sock_sendto(b, std::to_string(i), a.local_address());
        }
        for (int i = 0; i < 3; ++i) {
            auto [d, f] = co_await net::sock_recvfrom(a);
            EXPECT_EQ(d, std::to_string(i));
        }
    }());
}

// asyncio's sendto() tries the kernel at once: a datagram sent right after
// the endpoint is made (before the loop has polled its socket) is not
// queued, so an abort() that follows cannot lose it.
TEST(Udp, AFirstSendtoGoesOutAtOnceAndSurvivesAbort) {
    struct Quiet : net::DatagramProtocol {};
    net_run([]() -> Task<void> {
        net::Socket rx = net::Socket::create(AF_INET, SOCK_DGRAM);
        rx.bind(net::SocketAddress::ip("127.0.0.1", 0));
        auto tx = co_await net::create_datagram_endpoint([] { return std::make_unique<Quiet>(); },
                                                         {.remote_addr = rx.local_address()});
        tx->sendto("ping");
        if (std::string(corio::get_running_loop().backend_name()) == "epoll") {
            EXPECT_EQ(tx->get_write_buffer_size(), 0u);  // the kernel took it in the call
        }  // io_uring: it is in the ring, handed over at the latest when the socket closes
        tx->abort();
        co_await corio::sleep(0s);  // connection_lost runs
        char buf[16];
        ssize_t n = ::recv(rx.fd(), buf, sizeof buf, MSG_DONTWAIT);  // in rx's queue
        EXPECT_EQ(std::string(buf, n > 0 ? static_cast<std::size_t>(n) : 0), "ping");
    }());
}

TEST(Udp, EndpointNeedsAnAddress) {
    net_run([]() -> Task<void> {
        EXPECT_THROW(
            co_await net::create_datagram_endpoint([] { return std::make_unique<Client>(); }, {}),
            std::invalid_argument);
        co_return;
    }());
}

// As Transports.IoPostedBehindConnectionLostFindsTheTransportAlive, for UDP:
// each step, in its own loop iteration, sends a datagram to one endpoint and
// aborts it; whenever the next iteration polls, the datagram's I/O is posted
// behind the connection_lost that drops the endpoint's last reference.
TEST(Udp, IoPostedBehindConnectionLostFindsTheEndpointAlive) {
    net_run([]() -> Task<void> {
        constexpr int kEndpoints = 100;  // > 3 polls' worth of busy iterations
        struct Count : net::DatagramProtocol {
            int* lost;
            explicit Count(int* l) : lost(l) {}
            void datagram_received(std::string_view, const net::SocketAddress&) override {
                ADD_FAILURE() << "read after abort";
            }
            void connection_lost(std::exception_ptr) override { ++*lost; }
        };
        int lost = 0;
        std::vector<net::DatagramTransport*> endpoints;  // alive until connection_lost
        for (int i = 0; i < kEndpoints; ++i) {
            auto t = co_await net::create_datagram_endpoint(
                [&] { return std::make_unique<Count>(&lost); },
                {.local_addr = net::SocketAddress::ip("127.0.0.1", 0)});
            endpoints.push_back(t.get());
        }
        int sender = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        co_await corio_test::one_per_iteration(kEndpoints, [&](int i) {
            net::DatagramTransport* t = endpoints[static_cast<std::size_t>(i)];
            net::SocketAddress to = t->sockname();
            EXPECT_EQ(::sendto(sender, "x", 1, 0, to.data(), to.size()), 1);
            t->abort();
        });
        while (lost < kEndpoints) {
            co_await corio::sleep(0s);
        }
        EXPECT_EQ(lost, kEndpoints);
        ::close(sender);
    }());
}
