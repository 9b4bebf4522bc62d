#include "corio/future.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "corio/corio.hpp"
#include "support/loop_fixture.hpp"

using namespace std::chrono_literals;
using corio::Future;
using corio::Task;
using corio_test::Reports;
using corio_test::vrun;

TEST(Future, SetResultWakesEveryAwaiter) {
    vrun([]() -> Task<void> {
        Future<int> fut;
        auto waiter = [](Future<int> f) -> Task<int> { co_return co_await f; };
        auto a = corio::create_task(waiter(fut));
        auto b = corio::create_task(waiter(fut));
        co_await corio::sleep(0s);
        EXPECT_FALSE(fut.done());
        corio::get_running_loop().call_later(5ms, [fut]() mutable { fut.set_result(3); });
        EXPECT_EQ(co_await a, 3);
        EXPECT_EQ(co_await b, 3);
        EXPECT_TRUE(fut.done());
        EXPECT_EQ(fut.result(), 3);
    }());
}

TEST(Future, InvalidStateErrorExactlyWhereAsyncioRaisesIt) {
    vrun([]() -> Task<void> {
        Future<int> fut;
        EXPECT_THROW((void)fut.result(), corio::InvalidStateError);
        EXPECT_THROW((void)fut.exception(), corio::InvalidStateError);
        fut.set_result(1);
        EXPECT_THROW(fut.set_result(2), corio::InvalidStateError);
        EXPECT_THROW(fut.set_exception(std::runtime_error("x")), corio::InvalidStateError);
        EXPECT_EQ(fut.result(), 1);  // unchanged
        EXPECT_EQ(fut.exception(), nullptr);
        EXPECT_FALSE(fut.cancel());

        Future<void> cancelled;
        EXPECT_TRUE(cancelled.cancel());
        EXPECT_THROW(cancelled.set_result(), corio::InvalidStateError);
        EXPECT_THROW((void)cancelled.exception(), corio::CancelledError);
        EXPECT_THROW(cancelled.set_exception(nullptr), corio::InvalidStateError);
        co_return;
    }());
}

TEST(Future, SetExceptionReachesAwaiters) {
    vrun([]() -> Task<void> {
        Future<int> fut;
        EXPECT_THROW(fut.set_exception(std::exception_ptr()), std::invalid_argument);
        fut.set_exception(std::runtime_error("failed"));
        EXPECT_THROW(co_await fut, std::runtime_error);
        EXPECT_EQ(corio::describe_exception(fut.exception()), "std::runtime_error: failed");
    }());
}

TEST(Future, CancelGivesAwaitersCancelledErrorWithTheMessage) {
    vrun([]() -> Task<void> {
        Future<std::string> fut;
        auto h = corio::create_task(
            [](Future<std::string> f) -> Task<std::string> { co_return co_await f; }(fut));
        co_await corio::sleep(0s);
        EXPECT_TRUE(fut.cancel("gone"));
        EXPECT_TRUE(fut.cancelled());
        try {
            co_await h;
            ADD_FAILURE();
        } catch (const corio::CancelledError& e) {
            EXPECT_EQ(e.message(), "gone");
        }
    }());
}

TEST(Future, DoneCallbacksRunInRegistrationOrderThroughTheLoop) {
    vrun([]() -> Task<void> {
        Future<int> fut;
        std::vector<int> log;
        fut.add_done_callback([&](Future<int> f) { log.push_back(f.result()); });
        fut.add_done_callback([&](Future<int> f) { log.push_back(f.result() * 10); });
        fut.set_result(2);
        EXPECT_TRUE(log.empty());
        co_await corio::sleep(0s);
        EXPECT_EQ(log, (std::vector<int>{2, 20}));
    }());
}

TEST(Future, MoveOnlyResultIsMovedOutByAnRvalueAwait) {
    vrun([]() -> Task<void> {
        Future<std::unique_ptr<int>> fut;
        fut.set_result(std::make_unique<int>(8));
        std::unique_ptr<int>& ref = co_await fut;
        EXPECT_EQ(*ref, 8);
        Future<std::unique_ptr<int>> copy = fut;
        std::unique_ptr<int> p = co_await std::move(copy);
        EXPECT_EQ(*p, 8);
        EXPECT_EQ(fut.result(), nullptr);  // moved out of the shared state
    }());
}

TEST(Future, UnretrievedExceptionIsReported) {
    Reports reports;
    vrun(
        []() -> Task<void> {
            Future<int> fut;
            fut.set_exception(std::runtime_error("nobody looked"));
            co_return;
        }(),
        &reports);
    EXPECT_EQ(reports.count("Future exception was never retrieved"), 1u);
}

TEST(Future, NeedsARunningLoopOrAnExplicitOne) {
    EXPECT_THROW(Future<int>{}, corio::RuntimeError);
    corio::EventLoop loop(corio::LoopOptions{.virtual_time = true, .debug = false});
    Future<int> fut(loop);
    loop.call_soon([fut]() mutable { fut.set_result(4); });
    EXPECT_EQ(loop.run_until_complete(fut), 4);
}
