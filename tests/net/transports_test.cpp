#include "corio/net/transports.hpp"

#include <gtest/gtest.h>

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
    void data_received(std::string_view d) override { t->write(d); }
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
    EXPECT_EQ(server_log, (std::vector<std::string>{"made", "eof", "lost"}));
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
        co_await corio::sleep(20ms);
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
        auto transport = co_await net::create_connection(
            [&] {
                auto c = std::make_unique<Collect>();
                c->lost = &lost;
                return c;
            },
            "127.0.0.1", port);
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
        auto transport = co_await net::create_connection(
            [&] {
                auto c = std::make_unique<Collect>();
                c->lost = &lost;
                return c;
            },
            "127.0.0.1", port);
        transport->write(std::string(8 << 20, 'x'));
        transport->abort();
        co_await lost;
        EXPECT_EQ(transport->get_write_buffer_size(), 0u);
        transport->write("ignored after abort");
        server.close();
        co_await server.wait_closed();
    }());
}
