#include "corio/locks.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "corio/corio.hpp"
#include "support/loop_fixture.hpp"

using namespace std::chrono_literals;
using corio::Task;
using corio::TaskHandle;
using corio_test::vrun;

namespace {

// Takes the lock, notes the order, holds it for `hold`.
Task<void> take(corio::Lock& lock, std::vector<int>& order, int id, corio::Duration hold) {
    co_await lock.acquire();
    order.push_back(id);
    co_await corio::sleep(hold);
    lock.release();
}

}  // namespace

// -- Lock ---------------------------------------------------------------------

TEST(Lock, ExcludesAndServesWaitersFifo) {
    vrun([]() -> Task<void> {
        corio::Lock lock;
        std::vector<int> order;
        std::vector<TaskHandle<void>> ts;
        for (int i = 0; i < 4; ++i) {
            ts.push_back(corio::create_task(take(lock, order, i, 10ms)));
        }
        auto t0 = corio::get_running_loop().time();
        co_await corio::gather(ts);
        EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3}));
        EXPECT_EQ(corio::get_running_loop().time() - t0, 40ms);  // one at a time
        EXPECT_FALSE(lock.locked());
    }());
}

// asyncio's idiom `await asyncio.wait_for(lock.acquire(), t)`: a timeout
// leaves no waiter behind, and a release in time hands the lock over.
TEST(Lock, AcquireUnderWaitFor) {
    vrun([]() -> Task<void> {
        corio::Lock lock;
        co_await lock.acquire();
        EXPECT_THROW(co_await corio::wait_for(lock.acquire(), 1s), corio::TimeoutError);
        auto later = corio::create_task([](corio::Lock& l) -> Task<void> {
            co_await corio::sleep(500ms);
            l.release();
        }(lock));
        EXPECT_TRUE(co_await corio::wait_for(lock.acquire(), 1s));
        EXPECT_TRUE(lock.locked());
        lock.release();
        EXPECT_FALSE(lock.locked());  // the timed-out waiter took nothing
        co_await later;
    }());
}

TEST(Lock, ReleasingAnUnlockedLockIsAnError) {
    corio::Lock lock;
    EXPECT_THROW(lock.release(), corio::RuntimeError);
}

TEST(Lock, ScopedGuardReleasesAtScopeEnd) {
    vrun([]() -> Task<void> {
        corio::Lock lock;
        {
            auto held = co_await lock.scoped();
            EXPECT_TRUE(lock.locked());
        }
        EXPECT_FALSE(lock.locked());
        {
            auto held = co_await lock.scoped();
            held.release();
            EXPECT_FALSE(lock.locked());
        }
    }());
}

TEST(Lock, CancelledWaiterLeavesTheQueue) {
    vrun([]() -> Task<void> {
        corio::Lock lock;
        co_await lock.acquire();
        std::vector<int> order;
        auto a = corio::create_task(take(lock, order, 1, 0s));
        auto b = corio::create_task(take(lock, order, 2, 0s));
        co_await corio::sleep(1ms);
        a.cancel();
        co_await corio::sleep(1ms);
        EXPECT_TRUE(a.cancelled());
        lock.release();
        co_await b;
        EXPECT_EQ(order, (std::vector<int>{2}));
        EXPECT_FALSE(lock.locked());
    }());
}

TEST(Lock, WaiterCancelledAfterItsWakeUpPassesTheLockOn) {
    // Regression guard for the classic lost-wake-up: the lock is released to
    // `a`, then `a` is cancelled before it runs; `b` must still get the lock.
    vrun([]() -> Task<void> {
        corio::Lock lock;
        co_await lock.acquire();
        std::vector<int> order;
        auto a = corio::create_task(take(lock, order, 1, 0s));
        auto b = corio::create_task(take(lock, order, 2, 0s));
        co_await corio::sleep(1ms);
        lock.release();  // wakes a
        a.cancel();      // before a runs
        EXPECT_THROW(co_await a, corio::CancelledError);
        co_await b;
        EXPECT_EQ(order, (std::vector<int>{2}));
        EXPECT_FALSE(lock.locked());
    }());
}

TEST(Lock, NewcomersDoNotOvertakeAWokenWaiter) {
    vrun([]() -> Task<void> {
        corio::Lock lock;
        co_await lock.acquire();
        std::vector<int> order;
        auto a = corio::create_task(take(lock, order, 1, 0s));
        co_await corio::sleep(1ms);
        lock.release();  // a is woken but has not run
        auto late = corio::create_task(take(lock, order, 2, 0s));
        co_await corio::gather(a, late);
        EXPECT_EQ(order, (std::vector<int>{1, 2}));
    }());
}

// -- Event --------------------------------------------------------------------

TEST(Event, SetWakesEveryWaiterInOrder) {
    vrun([]() -> Task<void> {
        corio::Event ev;
        std::vector<int> order;
        std::vector<TaskHandle<void>> tasks;
        for (int i = 0; i < 3; ++i) {
            tasks.push_back(
                corio::create_task([](corio::Event& e, std::vector<int>& o, int id) -> Task<void> {
                    EXPECT_TRUE(co_await e.wait());
                    o.push_back(id);
                }(ev, order, i)));
        }
        co_await corio::sleep(1s);
        EXPECT_TRUE(order.empty());
        ev.set();
        EXPECT_TRUE(ev.is_set());
        co_await corio::gather(tasks);
        EXPECT_EQ(order, (std::vector<int>{0, 1, 2}));
    }());
}

TEST(Event, WaitOnASetEventReturnsAtOnceAndClearResets) {
    vrun([]() -> Task<void> {
        corio::Event ev;
        ev.set();
        auto t0 = corio::get_running_loop().time();
        co_await ev.wait();
        EXPECT_EQ(corio::get_running_loop().time(), t0);
        ev.clear();
        EXPECT_FALSE(ev.is_set());
        auto h = corio::create_task([](corio::Event& e) -> Task<void> { co_await e.wait(); }(ev));
        co_await corio::sleep(1s);
        EXPECT_FALSE(h.done());
        ev.set();
        co_await h;
    }());
}

TEST(Event, CancelledWaiterLeavesTheEvent) {
    vrun([]() -> Task<void> {
        corio::Event ev;
        auto h = corio::create_task([](corio::Event& e) -> Task<void> { co_await e.wait(); }(ev));
        auto other =
            corio::create_task([](corio::Event& e) -> Task<void> { co_await e.wait(); }(ev));
        co_await corio::sleep(0s);
        h.cancel();
        EXPECT_THROW(co_await h, corio::CancelledError);
        ev.set();
        co_await other;
    }());
}

TEST(Event, AnAwaiterMadeButNotAwaitedSurvivesSet) {
    vrun([]() -> Task<void> {
        corio::Event ev;
        auto w = ev.wait();  // joins the list at once
        ev.set();            // must not touch the unsuspended awaiter's task
        EXPECT_TRUE(co_await w);
    }());
}

// -- Condition ----------------------------------------------------------------

TEST(Condition, WaitReleasesAndReacquiresTheLock) {
    vrun([]() -> Task<void> {
        corio::Condition cond;
        bool ready = false;
        auto waiter = corio::create_task([](corio::Condition& c, bool& r) -> Task<bool> {
            auto held = co_await c.scoped();
            co_await c.wait_for([&] { return r; });
            co_return c.locked();
        }(cond, ready));
        co_await corio::sleep(1ms);
        {
            auto held = co_await cond.scoped();  // the waiter released it
            ready = true;
            cond.notify();
        }
        EXPECT_TRUE(co_await waiter);
        EXPECT_FALSE(cond.locked());
    }());
}

TEST(Condition, WaitForReturnsThePredicatesLastValueWithItsType) {
    vrun([]() -> Task<void> {
        corio::Condition cond;
        std::vector<std::string> items;
        auto waiter = corio::create_task(
            [](corio::Condition& c, std::vector<std::string>& v) -> Task<std::string> {
                auto held = co_await c.scoped();
                // asyncio: `item = await cond.wait_for(lambda: queue and queue[0])`
                std::optional<std::string> got =
                    co_await c.wait_for([&]() -> std::optional<std::string> {
                        if (v.empty()) {
                            return std::nullopt;
                        }
                        return v.front();
                    });
                co_return *got;
            }(cond, items));
        co_await corio::sleep(1ms);
        {
            auto held = co_await cond.scoped();
            items.push_back("first");
            cond.notify();
        }
        EXPECT_EQ(co_await waiter, "first");
        auto held = co_await cond.scoped();
        std::size_t n = co_await cond.wait_for([&] { return items.size(); });  // a count, not bool
        EXPECT_EQ(n, 1u);
    }());
}

TEST(Condition, NotifyWakesNAndNotifyAllWakesEveryone) {
    vrun([]() -> Task<void> {
        corio::Condition cond;
        int woken = 0;
        std::vector<TaskHandle<void>> ts;
        for (int i = 0; i < 5; ++i) {
            ts.push_back(corio::create_task([](corio::Condition& c, int& w) -> Task<void> {
                auto held = co_await c.scoped();
                co_await c.wait();
                ++w;
            }(cond, woken)));
        }
        co_await corio::sleep(1ms);
        {
            auto held = co_await cond.scoped();
            cond.notify(2);
        }
        co_await corio::sleep(1ms);
        EXPECT_EQ(woken, 2);
        {
            // n <= 0 wakes nobody, as in asyncio (-1 used to wrap around to "all").
            auto held = co_await cond.scoped();
            cond.notify(0);
            cond.notify(-1);
        }
        co_await corio::sleep(1ms);
        EXPECT_EQ(woken, 2);
        {
            auto held = co_await cond.scoped();
            cond.notify_all();
        }
        co_await corio::gather(ts);
        EXPECT_EQ(woken, 5);
    }());
}

TEST(Condition, WaitAndNotifyWithoutTheLockAreErrors) {
    vrun([]() -> Task<void> {
        corio::Condition cond;
        EXPECT_THROW(cond.notify(), corio::RuntimeError);
        EXPECT_THROW(co_await cond.wait(), corio::RuntimeError);
        co_return;
    }());
}

TEST(Condition, ACancelledWaiterHoldsTheLockAgainWhenItSeesCancelledError) {
    vrun([]() -> Task<void> {
        corio::Lock lock;
        corio::Condition cond(lock);
        bool held_on_cancel = false;
        auto w = corio::create_task([](corio::Condition& c, bool& h) -> Task<void> {
            co_await c.acquire();
            try {
                co_await c.wait();
            } catch (const corio::CancelledError&) {
                h = c.locked();
                c.release();
                throw;
            }
        }(cond, held_on_cancel));
        co_await corio::sleep(1ms);
        co_await lock.acquire();  // the waiter cannot re-acquire while we hold it
        w.cancel();
        co_await corio::sleep(1ms);
        EXPECT_FALSE(w.done());
        lock.release();
        EXPECT_THROW(co_await w, corio::CancelledError);
        EXPECT_TRUE(held_on_cancel);
        EXPECT_FALSE(lock.locked());
    }());
}

TEST(Condition, ANotifiedWaiterThatIsCancelledPassesTheNotificationOn) {
    vrun([]() -> Task<void> {
        corio::Condition cond;
        int woken = 0;
        auto make = [&](int& w) {
            return corio::create_task([](corio::Condition& c, int& n) -> Task<void> {
                auto held = co_await c.scoped();
                co_await c.wait();
                ++n;
            }(cond, w));
        };
        auto a = make(woken);
        auto b = make(woken);
        co_await corio::sleep(1ms);
        {
            auto held = co_await cond.scoped();
            cond.notify(1);  // goes to a
        }
        a.cancel();  // before a runs
        EXPECT_THROW(co_await a, corio::CancelledError);
        co_await b;  // woken by a's hand-over, not left waiting forever
        EXPECT_EQ(woken, 1);
    }());
}

// -- Semaphore ----------------------------------------------------------------

TEST(Semaphore, LimitsConcurrencyToItsValue) {
    vrun([]() -> Task<void> {
        corio::Semaphore sem(2);
        int inside = 0;
        int peak = 0;
        std::vector<Task<void>> jobs;
        for (int i = 0; i < 6; ++i) {
            jobs.push_back([](corio::Semaphore& s, int& in, int& pk) -> Task<void> {
                auto held = co_await s.scoped();
                pk = std::max(pk, ++in);
                co_await corio::sleep(10ms);
                --in;
            }(sem, inside, peak));
        }
        auto t0 = corio::get_running_loop().time();
        co_await corio::gather(std::move(jobs));
        EXPECT_EQ(peak, 2);
        EXPECT_EQ(corio::get_running_loop().time() - t0, 30ms);
        EXPECT_EQ(sem.value(), 2);
    }());
}

TEST(Semaphore, IsFifoAndNewcomersWaitBehindWokenWaiters) {
    vrun([]() -> Task<void> {
        corio::Semaphore sem(0);
        std::vector<int> order;
        auto take = [](corio::Semaphore& s, std::vector<int>& o, int id) -> Task<void> {
            co_await s.acquire();
            o.push_back(id);
        };
        auto a = corio::create_task(take(sem, order, 1));
        co_await corio::sleep(1ms);
        sem.release();  // the permit goes to a
        EXPECT_TRUE(sem.locked());
        auto late = corio::create_task(take(sem, order, 2));
        co_await a;
        co_await corio::sleep(1ms);
        EXPECT_FALSE(late.done());
        sem.release();
        co_await late;
        EXPECT_EQ(order, (std::vector<int>{1, 2}));
    }());
}

TEST(Semaphore, APermitHandedToACancelledWaiterGoesToTheNext) {
    vrun([]() -> Task<void> {
        corio::Semaphore sem(0);
        auto take = [](corio::Semaphore& s) -> Task<void> { co_await s.acquire(); };
        auto a = corio::create_task(take(sem));
        auto b = corio::create_task(take(sem));
        co_await corio::sleep(1ms);
        sem.release();  // handed to a
        a.cancel();     // before a runs
        EXPECT_THROW(co_await a, corio::CancelledError);
        co_await b;
        EXPECT_EQ(sem.value(), 0);
        sem.release();
        EXPECT_EQ(sem.value(), 1);
    }());
}

TEST(Semaphore, AcquireUnderWaitFor) {
    vrun([]() -> Task<void> {
        corio::Semaphore sem(1);
        co_await sem.acquire();
        EXPECT_THROW(co_await corio::wait_for(sem.acquire(), 1s), corio::TimeoutError);
        sem.release();
        EXPECT_TRUE(co_await corio::wait_for(sem.acquire(), 1s));
        EXPECT_TRUE(sem.locked());  // the one permit is held; the timed-out waiter took none
        sem.release();
        EXPECT_FALSE(sem.locked());
    }());
}

TEST(Semaphore, BadValuesAndOverReleaseAreRejected) {
    EXPECT_THROW(corio::Semaphore(-1), std::invalid_argument);
    corio::BoundedSemaphore bounded(1);
    EXPECT_THROW(bounded.release(), std::invalid_argument);
    EXPECT_EQ(bounded.value(), 1);
    corio::Semaphore plain(1);
    plain.release();
    EXPECT_EQ(plain.value(), 2);
}

// -- Barrier ------------------------------------------------------------------

TEST(Barrier, PartiesMeetAndGetDistinctIndexesRoundAfterRound) {
    vrun([]() -> Task<void> {
        corio::Barrier barrier(3);
        EXPECT_THROW(corio::Barrier(0), std::invalid_argument);
        EXPECT_THROW(corio::Barrier(-1), std::invalid_argument);  // used to wrap around
        for (int round = 0; round < 2; ++round) {
            std::vector<Task<std::size_t>> parties;
            for (int i = 0; i < 3; ++i) {
                parties.push_back([](corio::Barrier& b, int delay) -> Task<std::size_t> {
                    co_await corio::sleep(std::chrono::milliseconds(delay));
                    co_return co_await b.wait();
                }(barrier, 10 * (i + 1)));
            }
            auto t0 = corio::get_running_loop().time();
            auto idx = co_await corio::gather(std::move(parties));
            EXPECT_EQ(corio::get_running_loop().time() - t0, 30ms);  // all left together
            std::sort(idx.begin(), idx.end());
            EXPECT_EQ(idx, (std::vector<std::size_t>{0, 1, 2}));
            EXPECT_EQ(barrier.n_waiting(), 0u);
        }
    }());
}

TEST(Barrier, AbortBreaksWaitersAndLaterWaits) {
    vrun([]() -> Task<void> {
        corio::Barrier barrier(3);
        auto w = corio::create_task(barrier.wait());
        co_await corio::sleep(1ms);
        EXPECT_EQ(barrier.n_waiting(), 1u);
        co_await barrier.abort();
        EXPECT_THROW(co_await w, corio::BrokenBarrierError);
        EXPECT_TRUE(barrier.broken());
        EXPECT_THROW(co_await barrier.wait(), corio::BrokenBarrierError);
    }());
}

TEST(Barrier, ResetBreaksCurrentWaitersThenWorksAgain) {
    vrun([]() -> Task<void> {
        corio::Barrier barrier(2);
        auto w = corio::create_task(barrier.wait());
        co_await corio::sleep(1ms);
        co_await barrier.reset();
        EXPECT_THROW(co_await w, corio::BrokenBarrierError);
        EXPECT_FALSE(barrier.broken());
        auto [a, b] = co_await corio::gather(barrier.wait(), barrier.wait());
        EXPECT_EQ(a + b, 1u);
    }());
}
