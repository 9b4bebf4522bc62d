#include "corio/wait.hpp"

#include <gtest/gtest.h>

#include <array>
#include <span>
#include <string>
#include <vector>

#include "corio/corio.hpp"
#include "support/loop_fixture.hpp"

using namespace std::chrono_literals;
using corio::Task;
using corio::TaskHandle;
using corio_test::vrun;

namespace {

Task<int> after(corio::Duration d, int v) {
    co_await corio::sleep(d);
    co_return v;
}
Task<int> fail_after(corio::Duration d) {
    co_await corio::sleep(d);
    throw std::runtime_error("failed");
}

std::vector<TaskHandle<int>> spawn(std::initializer_list<int> ms) {
    std::vector<TaskHandle<int>> out;
    for (int m : ms) {
        out.push_back(corio::create_task(after(std::chrono::milliseconds(m), m)));
    }
    return out;
}

}  // namespace

TEST(Wait, AllCompletedWaitsForEveryTask) {
    vrun([]() -> Task<void> {
        auto tasks = spawn({30, 10, 20});
        auto [done, pending] = co_await corio::wait(tasks);
        EXPECT_EQ(done.size(), 3u);
        EXPECT_TRUE(pending.empty());
        EXPECT_EQ(done[0].result(), 30);  // input order
    }());
}

TEST(Wait, FirstCompletedLeavesTheRestRunning) {
    vrun([]() -> Task<void> {
        auto tasks = spawn({30, 10, 20});
        auto r = co_await corio::wait(tasks, {.return_when = corio::FIRST_COMPLETED});
        CO_ASSERT_EQ(r.done.size(), 1u);
        EXPECT_EQ(r.done[0].result(), 10);
        CO_ASSERT_EQ(r.pending.size(), 2u);
        for (auto& p : r.pending) {
            EXPECT_FALSE(p.cancelled());
            EXPECT_GT(co_await p, 10);
        }
    }());
}

TEST(Wait, FirstExceptionReturnsOnTheFirstFailureElseWhenAllDone) {
    vrun([]() -> Task<void> {
        std::vector<TaskHandle<int>> tasks{corio::create_task(after(30ms, 1)),
                                           corio::create_task(fail_after(10ms))};
        auto r = co_await corio::wait(tasks, {.return_when = corio::FIRST_EXCEPTION});
        CO_ASSERT_EQ(r.done.size(), 1u);
        EXPECT_THROW((void)r.done[0].result(), std::runtime_error);
        EXPECT_EQ(co_await r.pending[0], 1);
        auto ok = spawn({1, 2});
        auto r2 = co_await corio::wait(ok, {.return_when = corio::FIRST_EXCEPTION});
        EXPECT_EQ(r2.done.size(), 2u);
    }());
}

TEST(Wait, TimeoutReturnsThePendingOnesAndCancelsNothing) {
    vrun([]() -> Task<void> {
        auto tasks = spawn({10, 5000});
        auto t0 = corio::get_running_loop().time();
        auto r = co_await corio::wait(tasks, {.timeout = 1s});
        EXPECT_EQ(corio::get_running_loop().time() - t0, 1s);
        CO_ASSERT_EQ(r.done.size(), 1u);
        CO_ASSERT_EQ(r.pending.size(), 1u);
        EXPECT_FALSE(r.pending[0].cancelled());
        EXPECT_EQ(co_await r.pending[0], 5000);
    }());
}

TEST(Wait, EmptyOrEmptyHandlesAreRejected) {
    vrun([]() -> Task<void> {
        EXPECT_THROW((void)corio::wait(std::vector<TaskHandle<int>>{}), std::invalid_argument);
        EXPECT_THROW((void)corio::wait(std::vector<TaskHandle<int>>(1)), std::invalid_argument);
        co_return;
    }());
}

TEST(Wait, CancellingTheWaiterDoesNotCancelTheTasks) {
    vrun([]() -> Task<void> {
        auto tasks = spawn({100});
        auto w = corio::create_task(corio::wait(tasks));
        co_await corio::sleep(10ms);
        w.cancel();
        EXPECT_THROW(co_await w, corio::CancelledError);
        EXPECT_FALSE(tasks[0].done());
        EXPECT_EQ(co_await tasks[0], 100);
    }());
}

TEST(AsCompleted, YieldsInCompletionOrderThenNothing) {
    vrun([]() -> Task<void> {
        std::vector<Task<int>> coros;
        coros.push_back(after(30ms, 30));
        coros.push_back(after(10ms, 10));
        coros.push_back(after(20ms, 20));
        auto ac = corio::as_completed(std::move(coros));
        std::vector<int> got;
        while (auto t = co_await ac.next()) {
            got.push_back(co_await *t);
        }
        EXPECT_EQ(got, (std::vector<int>{10, 20, 30}));
        EXPECT_EQ(ac.remaining(), 0u);
        EXPECT_FALSE(co_await ac.next());
    }());
}

TEST(AsCompleted, FinishedOnesComeFirstInTheirGivenOrder) {
    vrun([]() -> Task<void> {
        auto tasks = spawn({0, 0, 50});
        co_await corio::sleep(1ms);
        auto ac = corio::as_completed(tasks);
        std::vector<TaskHandle<int>> order;
        while (auto t = co_await ac.next()) {
            order.push_back(*t);
        }
        CO_ASSERT_EQ(order.size(), 3u);
        EXPECT_EQ(order[0], tasks[0]);
        EXPECT_EQ(order[1], tasks[1]);
        EXPECT_EQ(order[2], tasks[2]);
    }());
}

TEST(AsCompleted, TimeoutRaisesTimeoutErrorAndLeavesTasksRunning) {
    vrun([]() -> Task<void> {
        auto tasks = spawn({10, 5000});
        auto ac = corio::as_completed(tasks, 1s);
        auto first = co_await ac.next();
        CO_ASSERT_TRUE(first);
        EXPECT_EQ(first->result(), 10);
        EXPECT_THROW(co_await ac.next(), corio::TimeoutError);
        EXPECT_FALSE(tasks[1].done());
        co_await tasks[1];
    }());
}

// asyncio: at the timeout every unfinished child is dropped; ones finished
// before it are still given out, then each next() raises TimeoutError, even
// after a dropped child has finished.
TEST(AsCompleted, AfterTheTimeoutOnlyEarlierFinishersAreGivenOut) {
    vrun([]() -> Task<void> {
        auto tasks = spawn({10, 20, 3000});
        auto ac = corio::as_completed(tasks, 2s);
        co_await corio::sleep(5s);  // 10 and 20 finished, the timeout passed, then 3000 finished
        CO_ASSERT_TRUE(tasks[2].done());
        auto a = co_await ac.next();
        auto b = co_await ac.next();
        CO_ASSERT_TRUE(a && b);
        EXPECT_EQ(a->result() + b->result(), 30);
        EXPECT_THROW(co_await ac.next(), corio::TimeoutError);
        EXPECT_THROW(co_await ac.next(), corio::TimeoutError);
    }());
}

// GCC 12 rejects `co_await wait(std::vector{t1, t2})` ("array used as
// initializer": any braced list inside co_await); these spellings compile.
TEST(Wait, TakesTheTasksAsArgumentsOrAsAnyRange) {
    vrun([]() -> Task<void> {
        auto t1 = corio::create_task(after(10ms, 1));
        auto t2 = corio::create_task(after(20ms, 2));
        auto [done, pending] = co_await corio::wait(t1, t2);
        EXPECT_EQ(done.size(), 2u);
        EXPECT_TRUE(pending.empty());
        EXPECT_EQ(done[0], t1);  // in the order given
        std::array<TaskHandle<int>, 2> arr{corio::create_task(after(1h, 3)),
                                           corio::create_task(after(5ms, 4))};
        auto r = co_await corio::wait(arr, {.return_when = corio::FIRST_COMPLETED});
        EXPECT_EQ(r.done.size(), 1u);
        EXPECT_EQ(r.done[0], arr[1]);
        auto r2 = co_await corio::wait(std::span(arr), {.timeout = 1s});
        EXPECT_EQ(r2.pending.size(), 1u);
        arr[0].cancel();
        auto r3 = co_await corio::wait(arr[0]);
        EXPECT_TRUE(r3.done[0].cancelled());
    }());
}
