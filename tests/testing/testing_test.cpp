// The fixture shipped to users: run_checked()'s census and report checks,
// and the fault-injecting MemoryTransport.
#include <gtest/gtest.h>

#include <cerrno>
#include <string>
#include <system_error>
#include <vector>

#include "corio/corio.hpp"
#include "corio/net/testing/memory_transport.hpp"
#include "corio/testing/checked.hpp"

using namespace std::chrono_literals;
using corio::Task;
namespace net = corio::net;
namespace ct = corio::testing;

namespace {

Task<void> forever() {
    co_await corio::sleep(1h);
}

// -- run_checked -----------------------------------------------------------------

TEST(RunChecked, ReturnsTheResultOfACleanProgram) {
    int v = ct::run_checked([]() -> Task<int> {
        co_await corio::sleep(30s);  // virtual time: instant
        co_return 42;
    }());
    EXPECT_EQ(v, 42);
}

TEST(RunChecked, ATaskLeftRunningIsLeftBehind) {
    try {
        ct::run_checked([]() -> Task<void> {
            corio::create_task(forever());
            co_return;
        }());
        FAIL() << "no LeftBehind";
    } catch (const ct::LeftBehind& e) {
        EXPECT_EQ(e.census.tasks, 1u);
        EXPECT_EQ(e.census.timers, 1u);  // the task's sleep
        EXPECT_NE(std::string(e.what()).find("1 task, 1 timer"), std::string::npos) << e.what();
    }
}

TEST(RunChecked, ACallLaterLeftScheduledIsLeftBehind) {
    EXPECT_THROW(ct::run_checked([]() -> Task<void> {
                     corio::get_running_loop().call_later(5s, [] {});
                     co_return;
                 }()),
                 ct::LeftBehind);
}

TEST(RunChecked, AnUnretrievedExceptionIsAnUnexpectedReport) {
    try {
        ct::run_checked([]() -> Task<void> {
            corio::get_running_loop().call_soon(
                [] { throw std::runtime_error("boom in a callback"); });
            co_await corio::sleep(0s);
        }());
        FAIL() << "no UnexpectedReport";
    } catch (const ct::UnexpectedReport& e) {
        EXPECT_NE(std::string(e.what()).find("boom in a callback"), std::string::npos) << e.what();
    }
}

TEST(RunChecked, ReportsCollectedByTheTestAreNotFailures) {
    ct::Reports reports;
    ct::run_checked(
        []() -> Task<void> {
            corio::get_running_loop().call_soon([] { throw std::runtime_error("expected boom"); });
            co_await corio::sleep(0s);
        }(),
        {.reports = &reports});
    ASSERT_EQ(reports.items.size(), 1u);
    ASSERT_TRUE(reports.items[0].exception != nullptr);
    EXPECT_NE(corio::describe_exception(reports.items[0].exception).find("expected boom"),
              std::string::npos);
}

TEST(RunChecked, TheProgramsOwnExceptionWins) {
    EXPECT_THROW(ct::run_checked([]() -> Task<void> {
                     corio::create_task(forever());
                     throw std::logic_error("the program failed");
                     co_return;
                 }()),
                 std::logic_error);
}

TEST(RunChecked, ADeadlockFailsInsteadOfHanging) {
    EXPECT_THROW(ct::run_checked([]() -> Task<void> {
                     corio::Event never;
                     co_await never.wait();
                 }()),
                 corio::RuntimeError);
}

// -- MemoryTransport ---------------------------------------------------------------

// Records every callback, in order.
struct Recorder : net::Protocol {
    std::vector<std::string>* log;
    net::Transport* t = nullptr;
    std::string data;
    bool keep_open_on_eof = false;
    explicit Recorder(std::vector<std::string>* l) : log(l) {}
    void connection_made(net::Transport& tr) override {
        t = &tr;
        log->push_back("made");
    }
    void data_received(std::string_view d) override {
        data += d;
        log->push_back("data:" + std::string(d));
    }
    bool eof_received() override {
        log->push_back("eof");
        return keep_open_on_eof;
    }
    void connection_lost(std::exception_ptr e) override {
        std::string what = "lost";
        if (e) {
            try {
                std::rethrow_exception(e);
            } catch (const std::system_error& se) {
                what += ":" + std::to_string(se.code().value());
            } catch (...) {
                what += ":other";
            }
        }
        log->push_back(what);
    }
    void pause_writing() override { log->push_back("pause"); }
    void resume_writing() override { log->push_back("resume"); }
};

TEST(MemoryTransport, FedBytesArriveInChunksOnLaterIterationsAfterStalls) {
    ct::run_checked([]() -> Task<void> {
        std::vector<std::string> log;
        auto rec = std::make_unique<Recorder>(&log);
        Recorder* r = rec.get();
        auto t = std::make_shared<ct::MemoryTransport>(
            std::move(rec), ct::MemoryFaults{.read_chunk = 2, .stall_iterations = 3});
        t->start();
        t->feed("abcde");
        EXPECT_EQ(r->data, "");  // never inside feed()
        int iterations = 0;
        while (r->data.size() < 5 && iterations < 100) {
            co_await corio::sleep(0s);
            ++iterations;
        }
        EXPECT_EQ(r->data, "abcde");
        // 3 chunks, each after 3 empty iterations
        EXPECT_GE(iterations, 12);
        EXPECT_EQ(log, (std::vector<std::string>{"made", "data:ab", "data:cd", "data:e"}));
        t->feed_eof();
        co_await t->settle();
        EXPECT_EQ(log.at(4), "eof");
        co_await corio::sleep(0s);
        EXPECT_EQ(log.back(), "lost");  // eof_received() said false: closed
        EXPECT_TRUE(t->lost());
    }());
}

// A BufferedProtocol with a 3-byte buffer.
struct Tiny : net::BufferedProtocol {
    char buf[3];
    std::string got;
    int updates = 0;
    std::span<char> get_buffer(std::size_t) override { return {buf, sizeof buf}; }
    void buffer_updated(std::size_t n) override {
        got.append(buf, n);
        ++updates;
    }
};

TEST(MemoryTransport, ABufferedProtocolGetsNoMoreThanItsBufferHolds) {
    ct::run_checked([]() -> Task<void> {
        auto p = std::make_unique<Tiny>();
        Tiny* tiny = p.get();
        auto t = std::make_shared<ct::MemoryTransport>(std::move(p));
        t->start();
        t->feed("0123456789");
        co_await t->settle();
        EXPECT_EQ(tiny->got, "0123456789");
        EXPECT_EQ(tiny->updates, 4);  // 3 + 3 + 3 + 1
        t->abort();
        co_await corio::sleep(0s);
    }());
}

TEST(MemoryTransport, ASlowPeerPausesAndResumesTheWriter) {
    ct::run_checked([]() -> Task<void> {
        std::vector<std::string> log;
        auto t = std::make_shared<ct::MemoryTransport>(std::make_unique<Recorder>(&log),
                                                       ct::MemoryFaults{.write_chunk = 10});
        t->start();
        t->set_write_buffer_limits(20, 5);
        t->write(std::string(15, 'x'));
        EXPECT_EQ(log.size(), 1u);  // below the high-water mark
        t->write(std::string(15, 'y'));
        EXPECT_EQ(log.back(), "pause");
        EXPECT_EQ(t->get_write_buffer_size(), 30u);
        co_await corio::sleep(0s);  // the peer takes 10
        EXPECT_EQ(t->get_write_buffer_size(), 20u);
        EXPECT_EQ(log.back(), "pause");
        co_await corio::sleep(0s);
        co_await corio::sleep(0s);  // 20 -> 10 -> 0: at most 5 left, resumed
        EXPECT_EQ(log.back(), "resume");
        EXPECT_EQ(t->take_written(), std::string(15, 'x') + std::string(15, 'y'));
        EXPECT_EQ(t->take_written(), "");
        t->close();
        co_await corio::sleep(0s);
        EXPECT_EQ(log.back(), "lost");
    }());
}

TEST(MemoryTransport, CloseSendsTheBufferFirstAbortDropsIt) {
    ct::run_checked([]() -> Task<void> {
        std::vector<std::string> log;
        auto a = std::make_shared<ct::MemoryTransport>(std::make_unique<Recorder>(&log),
                                                       ct::MemoryFaults{.write_chunk = 4});
        a->start();
        a->write("0123456789");
        a->close();
        a->write("dropped");  // writes after close are dropped, as asyncio's
        EXPECT_TRUE(a->is_closing());
        co_await corio::sleep(0s);
        EXPECT_FALSE(a->lost());  // 6 bytes still to go
        co_await corio::sleep(0s);
        co_await corio::sleep(0s);
        co_await corio::sleep(0s);
        EXPECT_TRUE(a->lost());
        EXPECT_EQ(a->take_written(), "0123456789");

        std::vector<std::string> log2;
        auto b = std::make_shared<ct::MemoryTransport>(std::make_unique<Recorder>(&log2),
                                                       ct::MemoryFaults{.peer_reads = false});
        b->start();
        b->write("never seen");
        b->abort();
        co_await corio::sleep(0s);
        EXPECT_EQ(log2.back(), "lost");
        b->drain_peer(true);
        co_await corio::sleep(0s);
        EXPECT_EQ(b->take_written(), "");
    }());
}

TEST(MemoryTransport, AResetLosesTheConnectionWithEconnreset) {
    ct::run_checked([]() -> Task<void> {
        std::vector<std::string> log;
        auto t = std::make_shared<ct::MemoryTransport>(std::make_unique<Recorder>(&log),
                                                       ct::MemoryFaults{.stall_iterations = 5});
        t->start();
        t->feed("never delivered");
        t->reset();
        co_await corio::sleep(0s);
        co_await t->settle();
        EXPECT_EQ(log, (std::vector<std::string>{"made", "lost:" + std::to_string(ECONNRESET)}));
        EXPECT_TRUE(t->is_closing());
    }());
}

TEST(MemoryTransport, WriteEofReachesThePeerAfterTheData) {
    ct::run_checked([]() -> Task<void> {
        std::vector<std::string> log;
        auto t = std::make_shared<ct::MemoryTransport>(std::make_unique<Recorder>(&log),
                                                       ct::MemoryFaults{.write_chunk = 3});
        t->start();
        t->write("abcdef");
        t->write_eof();
        EXPECT_THROW(t->write("x"), corio::RuntimeError);
        co_await corio::sleep(0s);
        EXPECT_FALSE(t->peer_saw_eof());
        co_await corio::sleep(0s);
        EXPECT_TRUE(t->peer_saw_eof());
        EXPECT_EQ(t->take_written(), "abcdef");
        t->abort();
        co_await corio::sleep(0s);
    }());
}

}  // namespace
