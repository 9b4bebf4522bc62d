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
