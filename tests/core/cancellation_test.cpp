// Cancellation with asyncio 3.11+ semantics.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "corio/corio.hpp"
#include "support/loop_fixture.hpp"

using namespace std::chrono_literals;
using corio::Task;
using corio::TaskHandle;
using corio_test::vrun;

namespace {

Task<int> sleeper(corio::Duration d) {
    co_await corio::sleep(d);
    co_return 1;
}

}  // namespace

TEST(Cancellation, CancelRaisesCancelledErrorAtTheSleepWithTheMessage) {
    vrun([]() -> Task<void> {
        std::string seen;
        auto h = corio::create_task([](std::string& s) -> Task<void> {
            try {
                co_await corio::sleep(1h);
            } catch (const corio::CancelledError& e) {
                s = e.message();
                throw;
            }
        }(seen));
        co_await corio::sleep(0s);
        EXPECT_TRUE(h.cancel("stop now"));
        EXPECT_EQ(h.cancelling(), 1);
        EXPECT_EQ(corio::detail::LoopAccess::census(corio::get_running_loop()).timers, 0u);
        try {
            co_await h;
            ADD_FAILURE() << "no CancelledError";
        } catch (const corio::CancelledError& e) {
            EXPECT_EQ(e.message(), "stop now");
        }
        EXPECT_EQ(seen, "stop now");
        EXPECT_TRUE(h.cancelled());
        EXPECT_FALSE(h.cancel());  // already done
        EXPECT_THROW((void)h.result(), corio::CancelledError);
        EXPECT_THROW((void)h.exception(), corio::CancelledError);
    }());
}

TEST(Cancellation, ATaskMayCatchCancelledErrorAndGoOn) {
    vrun([]() -> Task<void> {
        auto h = corio::create_task([]() -> Task<int> {
            try {
                co_await corio::sleep(1h);
            } catch (const corio::CancelledError&) {
            }
            co_await corio::sleep(1s);  // still a working task
            co_return 7;
        }());
        co_await corio::sleep(0s);
        h.cancel();
        EXPECT_EQ(co_await h, 7);
        EXPECT_FALSE(h.cancelled());
        EXPECT_EQ(h.cancelling(), 1);
    }());
}

TEST(Cancellation, UncancelCountsDownAndClearsAPendingRequest) {
    vrun([]() -> Task<void> {
        auto h = corio::create_task([]() -> Task<int> {
            auto me = corio::current_task();
            me.cancel();
            me.cancel();
            EXPECT_EQ(me.cancelling(), 2);
            EXPECT_EQ(me.uncancel(), 1);
            EXPECT_EQ(me.uncancel(), 0);
            EXPECT_EQ(me.uncancel(), 0);
            co_await corio::sleep(1ms);  // no cancellation left to deliver
            co_return 3;
        }());
        EXPECT_EQ(co_await h, 3);
    }());
}

TEST(Cancellation, CancelBeforeTheFirstStepMeansTheCoroutineNeverRuns) {
    vrun([]() -> Task<void> {
        bool ran = false;
        auto h = corio::create_task([](bool& r) -> Task<void> {
            r = true;
            co_return;
        }(ran));
        h.cancel();
        EXPECT_THROW(co_await h, corio::CancelledError);
        EXPECT_FALSE(ran);
        EXPECT_TRUE(h.cancelled());
    }());
}

TEST(Cancellation, SelfCancelSurfacesAtTheNextAwaitWithoutWaiting) {
    vrun([]() -> Task<void> {
        auto t0 = corio::get_running_loop().time();
        auto h = corio::create_task([]() -> Task<void> {
            corio::current_task().cancel();
            co_await corio::sleep(1h);
        }());
        EXPECT_THROW(co_await h, corio::CancelledError);
        EXPECT_EQ(corio::get_running_loop().time(), t0);
    }());
}

TEST(Cancellation, CancelAfterTheWakeUpStillRaisesAtThatAwait) {
    // asyncio: a task whose future completed but which has not run yet gets
    // CancelledError at that await, the result notwithstanding.
    vrun([]() -> Task<void> {
        corio::Future<int> fut;
        auto h = corio::create_task(
            [](corio::Future<int> f) -> Task<int> { co_return co_await f; }(fut));
        co_await corio::sleep(0s);
        fut.set_result(5);
        h.cancel();
        EXPECT_THROW(co_await h, corio::CancelledError);
        EXPECT_EQ(fut.result(), 5);
    }());
}

TEST(Cancellation, CancellingATaskCancelsTheTaskItAwaits) {
    vrun([]() -> Task<void> {
        auto inner = corio::create_task(sleeper(1h));
        auto outer =
            corio::create_task([](TaskHandle<int> i) -> Task<int> { co_return co_await i; }(inner));
        co_await corio::sleep(0s);
        outer.cancel("outer");
        EXPECT_THROW(co_await outer, corio::CancelledError);
        EXPECT_TRUE(inner.cancelled());
        EXPECT_TRUE(outer.cancelled());
    }());
}

TEST(Cancellation, InnerTaskThatIgnoresCancelLetsTheOuterFinish) {
    vrun([]() -> Task<void> {
        auto inner = corio::create_task([]() -> Task<int> {
            try {
                co_await corio::sleep(1h);
            } catch (const corio::CancelledError&) {
            }
            co_return 11;
        }());
        auto outer =
            corio::create_task([](TaskHandle<int> i) -> Task<int> { co_return co_await i; }(inner));
        co_await corio::sleep(0s);
        outer.cancel();
        EXPECT_EQ(co_await outer, 11);  // asyncio: the inner's choice wins
    }());
}

TEST(Cancellation, CancellingATaskCancelsTheFutureItAwaits) {
    vrun([]() -> Task<void> {
        corio::Future<int> fut;
        auto h = corio::create_task(
            [](corio::Future<int> f) -> Task<int> { co_return co_await f; }(fut));
        co_await corio::sleep(0s);
        h.cancel();
        EXPECT_THROW(co_await h, corio::CancelledError);
        EXPECT_TRUE(fut.cancelled());
    }());
}

TEST(Cancellation, TaskReturningWhileACancelIsPendingEndsCancelled) {
    vrun([]() -> Task<void> {
        auto h = corio::create_task([]() -> Task<int> {
            corio::current_task().cancel();
            co_return 1;
        }());
        EXPECT_THROW(co_await h, corio::CancelledError);
        EXPECT_TRUE(h.cancelled());
    }());
}

TEST(Cancellation, CancelledErrorIsNotAStdException) {
    // Like asyncio's BaseException: `catch (const std::exception&)` cannot swallow it.
    static_assert(!std::is_base_of_v<std::exception, corio::CancelledError>);
    vrun([]() -> Task<void> {
        auto h = corio::create_task([]() -> Task<void> {
            try {
                co_await corio::sleep(1h);
            } catch (const std::exception&) {
                ADD_FAILURE() << "caught as std::exception";
            }
        }());
        co_await corio::sleep(0s);
        h.cancel();
        EXPECT_THROW(co_await h, corio::CancelledError);
    }());
}

TEST(Cancellation, CancellingTheAwaiterOfACancelledTaskRaisesCancelledError) {
    vrun([]() -> Task<void> {
        auto a = corio::create_task(sleeper(1h));
        co_await corio::sleep(0s);
        a.cancel();
        co_await corio::sleep(0s);
        EXPECT_TRUE(a.cancelled());
        EXPECT_THROW(co_await a, corio::CancelledError);
    }());
}
