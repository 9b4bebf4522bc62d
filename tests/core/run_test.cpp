#include "corio/run.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "corio/corio.hpp"
#include "corio/testing/virtual_time.hpp"
#include "support/loop_fixture.hpp"

using namespace std::chrono_literals;
using corio::Task;

namespace {

Task<int> answer() {
    co_await corio::sleep(1ms);
    co_return 42;
}

}  // namespace

TEST(Run, ReturnsMainsValueOrRethrows) {
    EXPECT_EQ(corio::run(answer()), 42);
    EXPECT_THROW(corio::run([]() -> Task<void> {
                     co_await corio::sleep(0s);
                     throw std::domain_error("main failed");
                 }()),
                 std::domain_error);
    EXPECT_THROW(corio::run(Task<int>()), corio::RuntimeError);  // as a reused coroutine
}

TEST(Run, CancelsLeftoverTasksAndWaitsForThem) {
    auto log = std::make_shared<std::string>();
    corio::testing::run_virtual([](std::shared_ptr<std::string> l) -> Task<void> {
        (void)corio::create_task([](std::shared_ptr<std::string> l2) -> Task<void> {
            std::exception_ptr cancelled;
            try {
                co_await corio::sleep(1h);
            } catch (const corio::CancelledError&) {
                cancelled = std::current_exception();
            }
            co_await corio::sleep(1s);  // run() waits for this cleanup
            *l2 += "cleaned up";
            std::rethrow_exception(cancelled);
        }(l));
        co_await corio::sleep(0s);
    }(log));
    EXPECT_EQ(*log, "cleaned up");
}

TEST(Run, ReportsErrorsOfLeftoverTasksDuringShutdown) {
    auto reports = std::make_shared<corio_test::Reports>();
    corio::testing::run_virtual([](std::shared_ptr<corio_test::Reports> r) -> Task<void> {
        corio_test::install_recorder(corio::get_running_loop(), r.get());
        (void)corio::create_task(
            []() -> Task<void> {
                try {
                    co_await corio::sleep(1h);
                } catch (const corio::CancelledError&) {
                    throw std::runtime_error("cleanup failed");
                }
            }(),
            "messy");
        co_await corio::sleep(0s);
    }(reports));
    ASSERT_EQ(reports->count("unhandled exception during corio::run() shutdown"), 1u);
    EXPECT_EQ(reports->items[0].task, "messy");
    EXPECT_EQ(reports->count("never retrieved"), 0u);
}

TEST(Run, InsideARunningLoopIsAnError) {
    corio::run([]() -> Task<void> {
        EXPECT_THROW(corio::run(answer()), corio::RuntimeError);
        co_return;
    }());
}

TEST(Run, MainSeesARunningLoopAndTheLoopIsGoneAfterwards) {
    corio::EventLoop* seen =
        corio::run([]() -> Task<corio::EventLoop*> { co_return &corio::get_running_loop(); }());
    EXPECT_NE(seen, nullptr);
    EXPECT_THROW(corio::get_running_loop(), corio::RuntimeError);
}

TEST(Run, EachRunGetsAFreshLoopThatKeepsNothingFromTheLastOne) {
    corio::testing::run_virtual([]() -> Task<void> {
        corio::EventLoop& loop = corio::get_running_loop();
        loop.set_debug(true);
        loop.set_exception_handler([](corio::EventLoop&, const corio::ExceptionContext&) {});
        (void)corio::create_task([]() -> Task<void> { co_await corio::sleep(1h); }());
        co_return;
    }());
    corio::testing::run_virtual([]() -> Task<void> {
        corio::EventLoop& loop = corio::get_running_loop();
        EXPECT_FALSE(loop.get_debug());
        EXPECT_FALSE(loop.get_exception_handler());
        EXPECT_EQ(corio::all_tasks().size(), 1u);  // main only
        EXPECT_EQ(loop.time(), corio::TimePoint{});
        co_return;
    }());
}

// -- Runner -------------------------------------------------------------------

TEST(Runner, RunsSeveralCoroutinesOnOneLoopAndLeftoverTasksCarryOn) {
    corio::Runner runner(corio::LoopOptions{.virtual_time = true, .debug = false});
    corio::EventLoop& loop = runner.get_loop();
    corio::TaskHandle<int> leftover;
    corio::EventLoop* first =
        runner.run([](corio::TaskHandle<int>& out) -> Task<corio::EventLoop*> {
            out = corio::create_task(answer());  // not awaited by this run
            co_return &corio::get_running_loop();
        }(leftover));
    EXPECT_EQ(first, &loop);
    EXPECT_FALSE(leftover.done());
    EXPECT_EQ(runner.run([](corio::TaskHandle<int> t, corio::EventLoop* expected) -> Task<int> {
        EXPECT_EQ(&corio::get_running_loop(), expected);
        co_return co_await t;
    }(leftover, &loop)),
              42);
    runner.close();
}

TEST(Runner, CloseShutsEverythingDownAndTheLoopStaysInspectable) {
    auto log = std::make_shared<std::string>();
    corio::Runner runner(corio::LoopOptions{.virtual_time = true, .debug = false});
    corio::EventLoop& loop = runner.get_loop();
    runner.run([](std::shared_ptr<std::string> l) -> Task<void> {
        (void)corio::create_task([](std::shared_ptr<std::string> l2) -> Task<void> {
            try {
                co_await corio::sleep(1h);
            } catch (const corio::CancelledError&) {
                *l2 += "cancelled;";
                throw;
            }
        }(l));
        co_return;
    }(log));
    EXPECT_FALSE(loop.is_closed());
    EXPECT_TRUE(log->empty());  // still pending between runs
    runner.close();
    EXPECT_EQ(*log, "cancelled;");
    EXPECT_TRUE(loop.is_closed());  // the loop object outlives close()
    runner.close();                 // idempotent
    try {
        runner.run(answer());
        ADD_FAILURE();
    } catch (const corio::RuntimeError& e) {
        EXPECT_NE(std::string(e.what()).find("Runner::run(): the Runner is closed"),
                  std::string::npos)
            << e.what();
    }
    EXPECT_THROW(runner.get_loop(), corio::RuntimeError);
}

TEST(Runner, ItsDestructorClosesTheLoop) {
    auto log = std::make_shared<std::string>();
    {
        corio::Runner runner(corio::LoopOptions{.virtual_time = true, .debug = false});
        runner.run([](std::shared_ptr<std::string> l) -> Task<void> {
            (void)corio::create_task([](std::shared_ptr<std::string> l2) -> Task<void> {
                co_await corio::sleep(1h);
                *l2 += "never";
            }(l));
            co_return;
        }(log));
    }
    EXPECT_TRUE(log->empty());  // cancelled by the destructor's close()
    EXPECT_EQ(log.use_count(), 1);
}

TEST(Runner, MessagesNameTheFunctionTheUserCalled) {
    corio::Runner runner(corio::LoopOptions{.virtual_time = true, .debug = false});
    corio::Runner* r = &runner;
    corio::run([](corio::Runner* r2) -> Task<void> {
        try {
            r2->run(answer());
            ADD_FAILURE();
        } catch (const corio::RuntimeError& e) {
            EXPECT_STREQ(e.what(), "Runner::run() cannot be called from a running event loop");
        }
        try {
            corio::run(answer());
            ADD_FAILURE();
        } catch (const corio::RuntimeError& e) {
            EXPECT_STREQ(e.what(), "corio::run() cannot be called from a running event loop");
        }
        co_return;
    }(r));
    Task<int> used = answer();
    EXPECT_EQ(runner.run([](Task<int>& t) -> Task<int> { co_return co_await t; }(used)), 42);
    try {
        runner.run(std::move(used));
        ADD_FAILURE();
    } catch (const corio::RuntimeError& e) {
        EXPECT_NE(
            std::string(e.what()).find("cannot reuse already awaited coroutine (Runner::run()"),
            std::string::npos)
            << e.what();
    }
    auto reports = std::make_shared<corio_test::Reports>();
    corio_test::install_recorder(runner.get_loop(), reports.get());
    runner.run([]() -> Task<void> {
        (void)corio::create_task([]() -> Task<void> {
            try {
                co_await corio::sleep(1h);
            } catch (const corio::CancelledError&) {
                throw std::runtime_error("cleanup failed");
            }
        }());
        co_return;
    }());
    runner.close();
    EXPECT_EQ(reports->count("unhandled exception during Runner::close() shutdown"), 1u);
}
