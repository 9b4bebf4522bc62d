#include "corio/shield.hpp"

#include <gtest/gtest.h>

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

}  // namespace

TEST(Shield, ReturnsTheResult) {
    vrun([]() -> Task<void> { EXPECT_EQ(co_await corio::shield(after(1s, 2)), 2); }());
}

TEST(Shield, KeepsTheInnerRunningWhenTheOuterIsCancelled) {
    vrun([]() -> Task<void> {
        auto inner = corio::create_task(after(5s, 8));
        auto outer = corio::create_task(
            [](TaskHandle<int> i) -> Task<int> { co_return co_await corio::shield(i); }(inner));
        co_await corio::sleep(1s);
        outer.cancel();
        EXPECT_THROW(co_await outer, corio::CancelledError);
        EXPECT_FALSE(inner.done());
        EXPECT_EQ(co_await inner, 8);
        // A lazy Task given to shield becomes a task that outlives the caller.
        bool finished = false;
        auto outer2 = corio::create_task([](bool& f) -> Task<void> {
            co_await corio::shield([](bool& g) -> Task<void> {
                co_await corio::sleep(3s);
                g = true;
            }(f));
        }(finished));
        co_await corio::sleep(1s);
        outer2.cancel();
        EXPECT_THROW(co_await outer2, corio::CancelledError);
        EXPECT_FALSE(finished);
        co_await corio::sleep(3s);
        EXPECT_TRUE(finished);
    }());
}

TEST(Shield, CancellingTheInnerCancelsTheOuter) {
    vrun([]() -> Task<void> {
        auto inner = corio::create_task(after(5s, 8));
        corio::get_running_loop().call_later(1s, [inner]() mutable { inner.cancel(); });
        EXPECT_THROW(co_await corio::shield(inner), corio::CancelledError);
    }());
}

TEST(Shield, PassesTheInnersErrorOn) {
    vrun([]() -> Task<void> {
        EXPECT_THROW(co_await corio::shield([]() -> Task<int> {
                         co_await corio::sleep(1s);
                         throw std::out_of_range("inner");
                     }()),
                     std::out_of_range);
    }());
}

// asyncio's shield() returns a future: cancel it, and the inner one runs on.
TEST(Shield, ReturnsAFutureThatCanBeCancelledWithoutCancellingTheInner) {
    vrun([]() -> Task<void> {
        auto inner = corio::create_task(after(5s, 8));
        corio::Future<int> outer = corio::shield(inner);
        EXPECT_FALSE(outer.done());
        EXPECT_TRUE(outer.cancel());
        EXPECT_TRUE(outer.cancelled());
        EXPECT_THROW(co_await outer, corio::CancelledError);
        EXPECT_FALSE(inner.cancelled());
        EXPECT_EQ(co_await inner, 8);
        auto second = corio::shield(inner);  // an inner already done: done at once
        EXPECT_TRUE(second.done());
        EXPECT_EQ(second.result(), 8);
    }());
}
