#include "corio/net/transports.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "corio/corio.hpp"
#include "net/net_fixture.hpp"

using namespace std::chrono_literals;
using corio::Task;
namespace net = corio::net;
using corio_test::net_run;
using corio_test::Reports;

namespace {

// Echoes what it receives; records its life.
struct Echo : net::Protocol {
    net::Transport* t = nullptr;
    std::vector<std::string>* log;
    explicit Echo(std::vector<std::string>* l) : log(l) {}
    void connection_made(net::Transport& tr) override {
        t = &tr;
        log->push_back("made");
    }
    void data_received(std::string_view d) override {
        t->write(d);
        log->push_back("echoed " + std::string(d));
    }
    bool eof_received() override {
        log->push_back("eof");
        return false;
    }
    void connection_lost(std::exception_ptr e) override {
        log->push_back(e ? "lost: " + corio::describe_exception(e) : "lost");
    }
};

// A client protocol that collects what it receives and resolves futures.
struct Collect : net::Protocol {
    net::Transport* t = nullptr;
    std::string got;
    std::size_t want = 0;
    corio::Future<std::string>* done = nullptr;
    corio::Future<void>* lost = nullptr;
    std::exception_ptr lost_with;
    int paused = 0, resumed = 0;
    corio::Event* resumed_event = nullptr;
    void connection_made(net::Transport& tr) override { t = &tr; }
    void data_received(std::string_view d) override {
        got += d;
        if (done != nullptr && got.size() >= want && !done->done()) {
            done->set_result(got);
        }
    }
    void connection_lost(std::exception_ptr e) override {
        lost_with = e;
        if (lost != nullptr && !lost->done()) {
            lost->set_result();
        }
    }
    void pause_writing() override { ++paused; }
    void resume_writing() override {
        ++resumed;
        if (resumed_event != nullptr) {
            resumed_event->set();
        }
    }
};

// A client transport whose Collect protocol resolves `lost` on connection_lost.
Task<std::shared_ptr<net::Transport>> connect_collecting(std::uint16_t port,
                                                         corio::Future<void>& lost) {
    co_return co_await net::create_connection(
        [&lost] {
            auto c = std::make_unique<Collect>();
            c->lost = &lost;
            return c;
        },
        "127.0.0.1", port);
}

}  // namespace

TEST(Transports, EchoServerAndClientThroughProtocols) {
    std::vector<std::string> server_log;
    net_run([](std::vector<std::string>& slog) -> Task<void> {
        net::Server server = co_await net::create_server(
            [&] { return std::make_unique<Echo>(&slog); }, "127.0.0.1", 0);
        auto port = server.sockets().at(0).port();
        corio::Future<std::string> done;
        corio::Future<void> lost;
        auto transport = co_await net::create_connection(
            [&] {
                auto c = std::make_unique<Collect>();
                c->done = &done;
                c->lost = &lost;
                c->want = 11;
                return c;
            },
            "127.0.0.1", port);
        EXPECT_EQ(transport->peername().port(), port);
        transport->write("hello ");
        transport->writelines(std::vector<std::string>{"wor", "ld"});
        EXPECT_EQ(co_await done, "hello world");
        transport->write_eof();  // the server's protocol closes on EOF
        co_await lost;
        EXPECT_EQ(static_cast<Collect&>(transport->get_protocol()).lost_with, nullptr);
        server.close();
        co_await server.wait_closed();
    }(server_log));
    std::vector<std::string> events;  // without the "echoed ..." lines (chunking varies)
    std::string echoed;
    for (const auto& e : server_log) {
        if (e.rfind("echoed ", 0) == 0) {
            echoed += e.substr(7);
        } else {
            events.push_back(e);
        }
    }
    EXPECT_EQ(events, (std::vector<std::string>{"made", "eof", "lost"}));
    EXPECT_EQ(echoed, "hello world");
}

TEST(Transports, PauseReadingStopsDataReceived) {
    net_run([]() -> Task<void> {
        std::vector<std::string> slog;
        net::Server server = co_await net::create_server(
            [&] { return std::make_unique<Echo>(&slog); }, "127.0.0.1", 0);
        auto port = server.sockets().at(0).port();
        corio::Future<std::string> first;
        auto transport = co_await net::create_connection(
            [&] {
                auto c = std::make_unique<Collect>();
                c->done = &first;
                c->want = 1;
                return c;
            },
            "127.0.0.1", port);
        auto& proto = static_cast<Collect&>(transport->get_protocol());
        transport->write("a");
        EXPECT_EQ(co_await first, "a");
        transport->pause_reading();
        EXPECT_FALSE(transport->is_reading());
        transport->write("b");
        // Once the server echoed "b" it is in our socket (loopback delivers
        // within the send); the loop then polls many times and must not read it.
        while (std::find(slog.begin(), slog.end(), "echoed b") == slog.end()) {
            co_await corio::sleep(0s);
        }
        for (int i = 0; i < 100; ++i) {
            co_await corio::sleep(0s);
        }
        EXPECT_EQ(proto.got, "a");  // "b" waits in the socket
        corio::Future<std::string> second;
        proto.done = &second;
        proto.want = 2;
        transport->resume_reading();
        EXPECT_EQ(co_await second, "ab");
        transport->close();
        EXPECT_TRUE(transport->is_closing());
        server.close();
        co_await server.wait_closed();
    }());
}

TEST(Transports, WriteBufferWatermarksPauseAndResumeTheProtocol) {
    net_run([]() -> Task<void> {
        corio::Event go;
        net::Server server = co_await net::start_server(
            [&](net::StreamReader r, net::StreamWriter w) -> Task<void> {
                co_await go.wait();
                while (!(co_await r.read(1 << 20)).empty()) {
                }
                w.close();
            },
            "127.0.0.1", 0);
        auto port = server.sockets().at(0).port();
        corio::Future<void> lost;
        auto transport = co_await connect_collecting(port, lost);
        auto& proto = static_cast<Collect&>(transport->get_protocol());
        transport->set_write_buffer_limits(1 << 16, 1 << 14);
        while (transport->get_write_buffer_size() <= (1 << 16)) {
            transport->write(std::string(1 << 20, 'q'));
        }
        EXPECT_EQ(proto.paused, 1);
        go.set();
        corio::Event resumed;
        proto.resumed_event = &resumed;
        co_await resumed.wait();
        EXPECT_EQ(proto.resumed, 1);
        EXPECT_LE(transport->get_write_buffer_size(), std::size_t{1} << 14);
        transport->close();
        co_await lost;
        server.close();
        co_await server.wait_closed();
    }());
}

TEST(Transports, AnExceptionInDataReceivedIsReportedAndClosesWithIt) {
    Reports reports;
    net_run(
        []() -> Task<void> {
            struct Failing : net::Protocol {
                void data_received(std::string_view) override {
                    throw std::runtime_error("protocol bug");
                }
            };
            net::Server server = co_await net::create_server(
                [] { return std::make_unique<Failing>(); }, "127.0.0.1", 0);
            auto port = server.sockets().at(0).port();
            auto [r, w] = co_await net::open_connection("127.0.0.1", port);
            w.write("boom");
            EXPECT_EQ(co_await r.read(), "");  // the server aborted the connection
            w.close();
            server.close();
            co_await server.wait_closed();
        }(),
        &reports);
    ASSERT_EQ(reports.count("protocol.data_received() call failed"), 1u);
    EXPECT_EQ(corio::describe_exception(reports.items[0].exception),
              "std::runtime_error: protocol bug");
}

TEST(Transports, AbortDropsTheBufferAndReportsALostConnectionWithoutError) {
    net_run([]() -> Task<void> {
        net::Server server = co_await net::start_server(
            [](net::StreamReader r, net::StreamWriter w) -> Task<void> {
                co_await r.read();
                w.close();
            },
            "127.0.0.1", 0);
        auto port = server.sockets().at(0).port();
        corio::Future<void> lost;
        auto transport = co_await connect_collecting(port, lost);
        transport->write(std::string(8 << 20, 'x'));
        transport->abort();
        co_await lost;
        EXPECT_EQ(transport->get_write_buffer_size(), 0u);
        transport->write("ignored after abort");
        server.close();
        co_await server.wait_closed();
    }());
}

// The loop polls only every 32 iterations while callbacks are ready. Each
// step below runs in its own iteration: it sends a byte to one server-side
// transport and aborts it, so connection_lost is queued first; whenever the
// next iteration polls, that byte's I/O is posted behind connection_lost,
// which drops the transport's last reference before the posted call runs.
// The posted call must keep the transport alive (under ASan a use after
// free fails this test).
TEST(Transports, IoPostedBehindConnectionLostFindsTheTransportAlive) {
    net_run([]() -> Task<void> {
        constexpr int kConns = 100;  // > 3 polls' worth of iterations
        struct Hold : net::Protocol {
            std::vector<net::Transport*>* made;
            int* lost;
            corio::Event* all;
            Hold(std::vector<net::Transport*>* m, int* l, corio::Event* a)
                : made(m), lost(l), all(a) {}
            void connection_made(net::Transport& t) override {
                made->push_back(&t);
                if (made->size() == kConns) {
                    all->set();
                }
            }
            void data_received(std::string_view) override { ADD_FAILURE() << "read after abort"; }
            void connection_lost(std::exception_ptr) override { ++*lost; }
        };
        std::vector<net::Transport*> made;
        int lost = 0;
        corio::Event all;
        net::Server server = co_await net::create_server(
            [&] { return std::make_unique<Hold>(&made, &lost, &all); }, "127.0.0.1", 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_port = htons(server.sockets().at(0).port());
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        std::map<std::uint16_t, int> client_by_port;  // the client's local port -> its fd
        for (int i = 0; i < kConns; ++i) {
            int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
            EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
            sockaddr_in local{};
            socklen_t len = sizeof local;
            ::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &len);
            client_by_port[ntohs(local.sin_port)] = fd;
        }
        co_await all.wait();

        co_await corio_test::one_per_iteration(kConns, [&](int i) {
            net::Transport* t = made[static_cast<std::size_t>(i)];
            EXPECT_EQ(::send(client_by_port.at(t->peername().port()), "x", 1, MSG_NOSIGNAL), 1);
            t->abort();
        });
        while (lost < kConns) {
            co_await corio::sleep(0s);
        }
        EXPECT_EQ(lost, kConns);
        for (auto& [port, fd] : client_by_port) {
            ::close(fd);
        }
        server.close();
        co_await server.wait_closed();
    }());
}

// eof_received() returning true keeps the connection open for writing: the
// socket is no longer read (eof_received runs once), is_reading() stays
// true as in asyncio, and what the protocol writes afterwards arrives.
TEST(Transports, AKeptOpenEofStopsReadingButLetsTheProtocolWrite) {
    net_run([]() -> Task<void> {
        struct KeepOpen : net::Protocol {
            net::Transport* t = nullptr;
            int eofs = 0;
            std::string got;
            corio::Event eof;
            void connection_made(net::Transport& tr) override { t = &tr; }
            void data_received(std::string_view d) override { got += d; }
            bool eof_received() override {
                ++eofs;
                eof.set();
                return true;
            }
        };
        net::Server server = co_await net::start_server(
            [](net::StreamReader r, net::StreamWriter w) -> Task<void> {
                w.write("hi");
                w.write_eof();
                EXPECT_EQ(co_await r.read(), "after eof");
                w.close();
            },
            "127.0.0.1", 0);
        auto port = server.sockets().at(0).port();
        auto transport = co_await net::create_connection(
            [] { return std::make_unique<KeepOpen>(); }, "127.0.0.1", port);
        auto& proto = static_cast<KeepOpen&>(transport->get_protocol());
        co_await proto.eof.wait();
        EXPECT_EQ(proto.got, "hi");
        for (int i = 0; i < 10; ++i) {
            co_await corio::sleep(0s);  // the EOF stays readable: it must not be read again
        }
        EXPECT_EQ(proto.eofs, 1);
        EXPECT_TRUE(transport->is_reading());
        transport->write("after eof");
        transport->close();
        server.close();
        co_await server.wait_closed();
    }());
}
