// White-box tests of the connection engine (src/net/socket_transport.hpp).
#include "net/socket_transport.hpp"

#include <gtest/gtest.h>
#include <sys/socket.h>

#include <string>

#include "core/backend.hpp"
#include "corio/corio.hpp"
#include "net/connection.hpp"
#include "net/net_fixture.hpp"

using namespace std::chrono_literals;
using corio::Task;
namespace net = corio::net;
using corio_test::net_run;

namespace {

// Collects what arrives and resolves `done` at EOF.
struct UntilEof : net::Protocol {
    std::string got;
    corio::Future<void>* done = nullptr;
    void data_received(std::string_view d) override { got += d; }
    bool eof_received() override {
        done->set_result();
        return false;
    }
};

// A BufferedProtocol that lends fixed-size buffers and records the sizes
// it was given.
struct Lending : net::BufferedProtocol {
    std::string got;
    char buf[5];
    std::size_t lent = 0;
    corio::Future<void>* done = nullptr;
    std::span<char> get_buffer(std::size_t) override {
        ++lent;
        return {buf, sizeof buf};
    }
    void buffer_updated(std::size_t n) override { got.append(buf, n); }
    bool eof_received() override {
        done->set_result();
        return false;
    }
};

// A connected loopback pair made with the sock_* functions: {client, server side}.
Task<std::pair<net::Socket, net::Socket>> socket_pair() {
    net::Socket l = net::Socket::create(AF_INET, SOCK_STREAM);
    l.bind(net::SocketAddress::ip("127.0.0.1", 0));
    l.listen(4);
    net::Socket c = net::Socket::create(AF_INET, SOCK_STREAM);
    auto accepting = corio::create_task(net::sock_accept(l));
    co_await net::sock_connect(c, l.local_address());
    std::pair<net::Socket, net::SocketAddress> a = co_await std::move(accepting);
    co_return std::pair<net::Socket, net::Socket>(std::move(c), std::move(a.first));
}

}  // namespace

// Used to hang: bytes and EOF that came while the socket was connecting
// (its readiness seen then) were never read, since no new edge came.
TEST(SocketTransport, DataThatArrivedBeforeItStartedIsDelivered) {
    net_run([]() -> Task<void> {
        auto [c, s] = co_await socket_pair();
        co_await net::sock_sendall(s, "early");
        s.shutdown(SHUT_WR);
        co_await corio::sleep(5ms);  // the client's fd reports it in a poll
        corio::Future<void> done;
        auto proto = std::make_unique<UntilEof>();
        UntilEof* p = proto.get();
        p->done = &done;
        auto t = net::detail::start_plain(std::move(c), std::move(proto), nullptr);
        co_await corio::wait_for(done, 5s);
        EXPECT_EQ(p->got, "early");
    }());
}

TEST(SocketTransport, ABufferedProtocolReceivesIntoItsOwnBuffer) {
    net_run([]() -> Task<void> {
        auto [c, s] = co_await socket_pair();
        corio::Future<void> done;
        auto proto = std::make_unique<Lending>();
        Lending* p = proto.get();
        p->done = &done;
        auto t = net::detail::start_plain(std::move(c), std::move(proto), nullptr);
        co_await net::sock_sendall(s, "twelve bytes");
        s.shutdown(SHUT_WR);
        co_await corio::wait_for(done, 5s);
        EXPECT_EQ(p->got, "twelve bytes");
        EXPECT_GE(p->lent, 3u);  // 5 + 5 + 2: the buffer's size is respected
    }());
}

TEST(SocketTransport, WritesOfOneIterationLeaveTogetherInOrder) {
    net_run([]() -> Task<void> {
        auto [c, s] = co_await socket_pair();
        corio::Future<void> done;
        auto proto = std::make_unique<UntilEof>();
        proto->done = &done;
        auto t = net::detail::start_plain(std::move(c), std::move(proto), nullptr);
        t->write("a");
        std::string_view pieces[] = {"b", "cd", "", "e"};
        t->writelines(std::span<const std::string_view>(pieces));
        EXPECT_EQ(t->get_write_buffer_size(), 5u);  // queued until the iteration ends
        t->write_eof();
        std::string got;
        for (;;) {
            std::string more = co_await corio::wait_for(net::sock_recv(s, 100), 5s);
            if (more.empty()) {
                break;
            }
            got += more;
        }
        EXPECT_EQ(got, "abcde");
        t->close();
    }());
}

TEST(SocketTransport, ALargeWriteIsSentAtOnceNotAtTheEndOfTheIteration) {
    net_run([]() -> Task<void> {
        auto [c, s] = co_await socket_pair();
        corio::Future<void> done;
        auto proto = std::make_unique<UntilEof>();
        proto->done = &done;
        auto t = net::detail::start_plain(std::move(c), std::move(proto), nullptr);
        co_await corio::sleep(1ms);  // what starting the transport queued is submitted
        std::string big(net::detail::SocketTransport::kFlushThreshold, 'x');
        auto& backend = corio::detail::LoopAccess::backend(corio::get_running_loop());
        EXPECT_FALSE(backend.has_unsubmitted());
        t->write(big);
        if (std::string(backend.name()) == "epoll") {
            // The kernel took (most of) it within the call.
            EXPECT_LT(t->get_write_buffer_size(), big.size());
        } else {
            // The write is in the ring already, not waiting for the iteration's end.
            EXPECT_TRUE(backend.has_unsubmitted());
        }
        t->abort();
    }());
}
