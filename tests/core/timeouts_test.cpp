#include "corio/timeouts.hpp"

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

Task<int> after(corio::Duration d, int v) {
    co_await corio::sleep(d);
    co_return v;
}

corio::Duration elapsed_since(corio::TimePoint t0) {
    return corio::get_running_loop().time() - t0;
}

}  // namespace

TEST(WaitFor, ReturnsTheResultBeforeTheDeadline) {
    vrun([]() -> Task<void> {
        EXPECT_EQ(co_await corio::wait_for(after(1s, 5), 2s), 5);
        EXPECT_EQ(co_await corio::wait_for(after(1s, 6), std::nullopt), 6);
    }());
}

TEST(WaitFor, AThirtySecondTimeoutTakesNoRealTime) {
    vrun([]() -> Task<void> {
        auto t0 = corio::get_running_loop().time();
        EXPECT_THROW(co_await corio::wait_for(after(60s, 1), 30s), corio::TimeoutError);
        EXPECT_EQ(elapsed_since(t0), 30s);
    }());
}

TEST(WaitFor, CancelsTheInnerAndWaitsForItBeforeRaising) {
    vrun([]() -> Task<void> {
        std::vector<std::string> log;
        auto inner = [](std::vector<std::string>& l) -> Task<int> {
            std::exception_ptr cancelled;
            try {
                co_await corio::sleep(1h);
            } catch (const corio::CancelledError&) {
                cancelled = std::current_exception();
                l.push_back("inner cancelled");
            }
            co_await corio::sleep(2s);  // cleanup takes time
            l.push_back("inner cleaned up");
            std::rethrow_exception(cancelled);
        };
        auto t0 = corio::get_running_loop().time();
        auto h = corio::create_task(inner(log));
        try {
            co_await corio::wait_for(h, 1s);
            ADD_FAILURE();
        } catch (const corio::TimeoutError&) {
            log.push_back("timeout");
        }
        EXPECT_EQ(log,
                  (std::vector<std::string>{"inner cancelled", "inner cleaned up", "timeout"}));
        EXPECT_EQ(elapsed_since(t0), 3s);
        EXPECT_TRUE(h.cancelled());
        // A lazy Task runs inline and is cancelled at its current await.
        log.clear();
        EXPECT_THROW(co_await corio::wait_for(inner(log), 1s), corio::TimeoutError);
        EXPECT_EQ(log.size(), 2u);
    }());
}

TEST(WaitFor, ZeroTimeoutReturnsADoneResultElseTimesOutAtOnce) {
    vrun([]() -> Task<void> {
        auto done = corio::create_task(after(0s, 3));
        co_await corio::sleep(1ms);
        EXPECT_EQ(co_await corio::wait_for(done, 0s), 3);
        bool ran = false;
        auto t0 = corio::get_running_loop().time();
        EXPECT_THROW(co_await corio::wait_for(
                         [](bool& r) -> Task<int> {
                             r = true;
                             co_return 1;
                         }(ran),
                         0s),
                     corio::TimeoutError);
        EXPECT_FALSE(ran);  // wrapped in a task cancelled before its first step
        auto pending = corio::create_task(after(1h, 1));
        EXPECT_THROW(co_await corio::wait_for(pending, -1s), corio::TimeoutError);
        EXPECT_TRUE(pending.cancelled());
        EXPECT_EQ(elapsed_since(t0), 0s);
    }());
}

TEST(WaitFor, CancellingTheCallerGivesCancelledErrorNotTimeoutError) {
    vrun([]() -> Task<void> {
        auto inner = corio::create_task(after(1h, 1));
        auto outer = corio::create_task(corio::wait_for(inner, 10s));
        co_await corio::sleep(1s);
        outer.cancel();
        EXPECT_THROW(co_await outer, corio::CancelledError);
        EXPECT_TRUE(inner.cancelled());
    }());
}

TEST(Timeout, ExpiryRaisesTimeoutErrorAndMarksExpired) {
    vrun([]() -> Task<void> {
        auto cm = corio::timeout(2s);
        EXPECT_FALSE(cm.expired());
        auto t0 = corio::get_running_loop().time();
        EXPECT_THROW(co_await cm.run(after(10s, 1)), corio::TimeoutError);
        EXPECT_TRUE(cm.expired());
        EXPECT_EQ(elapsed_since(t0), 2s);
        EXPECT_EQ(corio::current_task().cancelling(), 0);  // its own cancel was taken back
        EXPECT_THROW(co_await cm.run(after(1s, 1)), corio::RuntimeError);  // used once
    }());
}

TEST(Timeout, RescheduleMovesTheDeadline) {
    vrun([]() -> Task<void> {
        auto cm = corio::timeout(std::nullopt);
        EXPECT_THROW(cm.reschedule(std::nullopt), corio::RuntimeError);  // not entered
        auto t0 = corio::get_running_loop().time();
        int v = co_await cm.run([](corio::Timeout& scope) -> Task<int> {
            auto& loop = corio::get_running_loop();
            scope.reschedule(loop.time() + 1s);
            co_await corio::sleep(500ms);
            scope.reschedule(loop.time() + 10s);  // pushed further out
            co_await corio::sleep(2s);
            co_return 9;
        }(cm));
        EXPECT_EQ(v, 9);
        EXPECT_FALSE(cm.expired());
        EXPECT_EQ(elapsed_since(t0), 2500ms);
        EXPECT_THROW(cm.reschedule(std::nullopt), corio::RuntimeError);  // finished
    }());
}

TEST(Timeout, TimeoutAtInThePastExpiresAtOnce) {
    vrun([]() -> Task<void> {
        auto& loop = corio::get_running_loop();
        auto cm = corio::timeout_at(loop.time() - 1s);
        auto t0 = loop.time();
        EXPECT_THROW(co_await cm.run(after(1s, 1)), corio::TimeoutError);
        EXPECT_EQ(elapsed_since(t0), 0s);
    }());
}

TEST(Timeout, BodyThatSwallowsTheCancellationReturnsNormally) {
    vrun([]() -> Task<void> {
        auto cm = corio::timeout(1s);
        int v = co_await cm.run([]() -> Task<int> {
            try {
                co_await corio::sleep(1h);
            } catch (const corio::CancelledError&) {
            }
            co_return 4;
        }());
        EXPECT_EQ(v, 4);
        EXPECT_TRUE(cm.expired());
    }());
}

TEST(Timeout, AnOuterCancellationIsNotTurnedIntoTimeoutError) {
    vrun([]() -> Task<void> {
        auto h = corio::create_task(
            []() -> Task<int> { co_return co_await corio::timeout(1s).run(after(1h, 1)); }());
        co_await corio::sleep(500ms);
        h.cancel();
        EXPECT_THROW(co_await h, corio::CancelledError);
    }());
}

// Regression: `time() + Duration::max()` overflowed, so wait_for(handle,
// Duration::max()) timed out at once and wait_for(coroutine, ...) or
// timeout(...) armed a deadline in the past or at the end of time.
TEST(WaitFor, DurationMaxMeansNoLimitAsNoneDoes) {
    vrun([]() -> Task<void> {
        co_await corio::sleep(1s);  // loop time > 0: the sum would overflow
        auto t0 = corio::get_running_loop().time();
        auto h = corio::create_task(after(5s, 7));
        EXPECT_EQ(co_await corio::wait_for(h, corio::Duration::max()), 7);
        EXPECT_EQ(co_await corio::wait_for(after(5s, 8), corio::Duration::max()), 8);
        EXPECT_EQ(elapsed_since(t0), 10s);
    }());
}

TEST(Timeout, DurationMaxNeverExpiresAndOtherTimersKeepTheirTimes) {
    vrun([]() -> Task<void> {
        co_await corio::sleep(1s);
        auto t0 = corio::get_running_loop().time();
        auto cm = corio::timeout(corio::Duration::max());
        EXPECT_EQ(cm.when(), corio::TimePoint::max());
        EXPECT_EQ(co_await cm.run(after(3s, 4)), 4);
        EXPECT_FALSE(cm.expired());
        EXPECT_EQ(elapsed_since(t0), 3s);
        auto at = corio::timeout_at(corio::TimePoint::max());
        EXPECT_EQ(co_await at.run(after(1s, 5)), 5);
        EXPECT_EQ(elapsed_since(t0), 4s);
    }());
}

TEST(WaitFor, TimeoutErrorCarriesTheCancelledErrorAsItsCause) {
    vrun([]() -> Task<void> {
        std::exception_ptr caught;
        try {
            co_await corio::wait_for(after(1h, 1), 1s);
        } catch (const corio::TimeoutError& e) {
            caught = std::current_exception();
            // Python: `raise TimeoutError from exc` -> e.__cause__ is the CancelledError.
            EXPECT_THROW(std::rethrow_if_nested(e), corio::CancelledError);
        }
        CO_ASSERT_TRUE(caught);
        EXPECT_EQ(corio::describe_exception(caught), "corio::TimeoutError: timed out");
        EXPECT_EQ(corio::describe_exception(corio::exception_cause(caught)),
                  "corio::CancelledError");
        EXPECT_EQ(corio::format_exception(caught),
                  "corio::CancelledError\n"
                  "\n"
                  "The above exception was the direct cause of the following exception:\n"
                  "\n"
                  "corio::TimeoutError: timed out\n");
        // The same for a handle timing out at once, and for a Timeout scope.
        auto h = corio::create_task(after(1h, 2));
        try {
            co_await corio::wait_for(h, 0s);
        } catch (const corio::TimeoutError&) {
            EXPECT_TRUE(corio::exception_cause(std::current_exception()));
        }
        auto cm = corio::timeout(1s);
        try {
            co_await cm.run(after(1h, 3));
        } catch (const corio::TimeoutError&) {
            EXPECT_TRUE(corio::exception_cause(std::current_exception()));
        }
        EXPECT_FALSE(corio::exception_cause(std::make_exception_ptr(std::runtime_error("x"))));
    }());
}
