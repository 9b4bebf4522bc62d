#include "corio/loop_group.hpp"

#include <gtest/gtest.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>

#include <atomic>
#include <latch>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "corio/corio.hpp"
#include "support/group_fixture.hpp"

using namespace std::chrono_literals;
using corio::EventLoop;
using corio::LoopGroup;
using corio::Task;
using corio_test::GroupChecks;

namespace {

std::string thread_name() {
    char buf[32] = {};
    ::pthread_getname_np(::pthread_self(), buf, sizeof buf);
    return buf;
}

// Sleeps until cancelled; counts the cancellation.
Task<void> sleep_until_cancelled(std::atomic<int>* cancelled) {
    try {
        co_await corio::sleep(1h);
    } catch (const corio::CancelledError&) {
        ++*cancelled;
        throw;
    }
}

// Blocks an executor thread (not the loop) until `l` is released.
Task<void> wait_latch(std::latch* l) {
    co_await corio::to_thread([l] { l->wait(); });
}

// The index, in `group`, of the loop this runs on.
Task<std::size_t> where(const LoopGroup* group) {
    co_return group->index_of(corio::get_running_loop()).value();
}

bool has_default_action(int sig) {
    struct sigaction now {};
    ::sigaction(sig, nullptr, &now);
    return now.sa_handler == SIG_DFL;
}

}  // namespace

// -- Start, run, join ---------------------------------------------------------

TEST(LoopGroup, StartsOneRunningLoopPerNamedThread) {
    GroupChecks checks;
    {
        LoopGroup group(checks.options(3));
        ASSERT_EQ(group.size(), 3u);
        std::set<std::thread::id> ids;
        for (std::size_t i = 0; i < group.size(); ++i) {
            EXPECT_EQ(group.index_of(group.loop(i)), i);
            auto f = corio::run_coroutine_threadsafe(
                []() -> Task<std::string> { co_return thread_name(); }(), group.loop(i));
            EXPECT_EQ(f.result(10s), "corio-loop-" + std::to_string(i));
            auto id = corio::run_coroutine_threadsafe(
                []() -> Task<std::thread::id> { co_return std::this_thread::get_id(); }(),
                group.loop(i));
            ids.insert(id.result(10s));
        }
        EXPECT_EQ(ids.size(), 3u);
        EXPECT_EQ(ids.count(std::this_thread::get_id()), 0u);
        EXPECT_EQ(group.loops().size(), 3u);
        EXPECT_THROW(group.loop(3), std::out_of_range);
        EventLoop other;
        EXPECT_FALSE(group.index_of(other).has_value());
    }
    checks.expect_clean(3);
}

TEST(LoopGroup, PinnedLoopsEachRunOnOneCpu) {
    LoopGroup group(corio::LoopGroupOptions{.threads = 2, .pin_threads = true});
    std::vector<int> cpus = group.run([](EventLoop&, std::size_t) -> Task<int> {
        cpu_set_t set;
        CPU_ZERO(&set);
        ::sched_getaffinity(0, sizeof set, &set);
        co_return CPU_COUNT(&set);
    });
    EXPECT_EQ(cpus, (std::vector<int>{1, 1}));
}

TEST(LoopGroup, DefaultsToOneLoopPerCore) {
    LoopGroup group;
    EXPECT_EQ(group.size(), std::max(1u, std::thread::hardware_concurrency()));
}

TEST(LoopGroup, RunCallsEachMainOnItsOwnLoopAndReturnsResultsInLoopOrder) {
    GroupChecks checks;
    {
        LoopGroup group(checks.options(3));
        std::atomic<int> made_on_own_loop{0};
        std::vector<int> r = group.run([&](EventLoop& loop, std::size_t i) -> Task<int> {
            made_on_own_loop += &corio::get_running_loop() == &loop ? 1 : 0;
            return [](EventLoop* l, std::size_t idx) -> Task<int> {
                co_await corio::sleep(1ms);
                EXPECT_EQ(&corio::get_running_loop(), l);
                co_return static_cast<int>(idx) * 10;
            }(&loop, i);
        });
        EXPECT_EQ(r, (std::vector<int>{0, 10, 20}));
        EXPECT_EQ(made_on_own_loop, 3);
        // The group stays usable for another run.
        std::atomic<int> ran{0};
        group.run([&ran](EventLoop&, std::size_t) -> Task<void> {
            ++ran;
            co_return;
        });
        EXPECT_EQ(ran, 3);
    }
    checks.expect_clean(3);
}

TEST(LoopGroup, RunPerCoreRunsOneMainPerLoopAndJoins) {
    std::vector<std::size_t> r =
        corio::run_per_core([](EventLoop&, std::size_t i) -> Task<std::size_t> { co_return i; },
                            corio::LoopGroupOptions{.threads = 2});
    EXPECT_EQ(r, (std::vector<std::size_t>{0, 1}));
}

TEST(LoopGroup, RunCancelsTheTasksMainsLeaveBehindOnEveryLoop) {
    GroupChecks checks;
    std::atomic<int> cancelled{0};
    {
        LoopGroup group(checks.options(2));
        group.run([&cancelled](EventLoop&, std::size_t) -> Task<void> {
            corio::create_task(sleep_until_cancelled(&cancelled));
            co_return;
        });
        EXPECT_EQ(cancelled, 2);  // before run() returned
    }
    checks.expect_clean(2);
}

TEST(LoopGroup, MisuseIsRefusedWithRuntimeError) {
    LoopGroup group(corio::LoopGroupOptions{.threads = 2});
    // join() from one of its own loops would wait for itself.
    auto from_loop = corio::run_coroutine_threadsafe(
        [](LoopGroup* g) -> Task<bool> {
            try {
                g->join();
            } catch (const corio::RuntimeError&) {
                co_return true;
            }
            co_return false;
        }(&group),
        group.loop(0));
    EXPECT_TRUE(from_loop.result(10s));
    // run() from a thread running a loop, and a second run() at once.
    std::atomic<int> refused{0};
    group.run([&](EventLoop&, std::size_t i) -> Task<void> {
        if (i != 0) {
            co_return;
        }
        try {
            group.run([](EventLoop&, std::size_t) -> Task<void> { co_return; });
        } catch (const corio::RuntimeError&) {
            ++refused;  // a running loop
        }
        co_await corio::to_thread([&] {
            try {
                group.run([](EventLoop&, std::size_t) -> Task<void> { co_return; });
            } catch (const corio::RuntimeError&) {
                ++refused;  // a run() in progress
            }
        });
    });
    EXPECT_EQ(refused, 2);
    group.join();
    group.join();  // idempotent
    EXPECT_THROW(group.loop(0), corio::RuntimeError);
    EXPECT_THROW(group.run([](EventLoop&, std::size_t) -> Task<void> { co_return; }),
                 corio::RuntimeError);
}

TEST(LoopGroup, AFailingThreadStartHookFailsTheConstructorWithoutHanging) {
    auto make = [] {
        LoopGroup group(
            corio::LoopGroupOptions{.threads = 3, .on_thread_start = [](EventLoop&, std::size_t i) {
                                        if (i == 1) {
                                            throw std::length_error("no loop 1");
                                        }
                                    }});
    };
    EXPECT_THROW(make(), std::length_error);
}

// -- The shared executor ------------------------------------------------------

namespace {

// An executor that counts its shutdowns, around a one-thread pool.
class CountingExecutor final : public corio::Executor {
public:
    void execute_batch(corio::detail::WorkItem* first, corio::detail::WorkItem* last,
                       std::size_t n) override {
        pool_.execute_batch(first, last, n);
    }
    void shutdown(bool wait, bool cancel_futures) override {
        ++shutdowns;
        pool_.shutdown(wait, cancel_futures);
    }
    bool is_shutdown() const override { return pool_.is_shutdown(); }
    std::atomic<int> shutdowns{0};

private:
    corio::ThreadPoolExecutor pool_{1};
};

}  // namespace

TEST(LoopGroup, EveryLoopSharesOneDefaultExecutorShutDownOnceByJoin) {
    auto ex = std::make_shared<CountingExecutor>();
    GroupChecks checks;
    {
        LoopGroup group(checks.options(3, corio::LoopGroupOptions{.default_executor = ex}));
        EXPECT_EQ(&group.executor(), ex.get());
        std::vector<std::thread::id> workers = group.run([](EventLoop&, std::size_t) {
            return []() -> Task<std::thread::id> {
                co_return co_await corio::to_thread([] { return std::this_thread::get_id(); });
            }();
        });
        // One pool of one thread ran the call of every loop.
        EXPECT_EQ(workers[0], workers[1]);
        EXPECT_EQ(workers[1], workers[2]);
        EXPECT_EQ(ex->shutdowns, 0);
        group.join();
        EXPECT_EQ(ex->shutdowns, 1);
        EXPECT_TRUE(ex->is_shutdown());
    }
    EXPECT_EQ(ex->shutdowns, 1);
    checks.expect_clean(3);
}

TEST(LoopGroup, TheDefaultExecutorIsOnePoolNotOnePerLoop) {
    LoopGroup group(corio::LoopGroupOptions{.threads = 2});
    std::vector<const corio::Executor*> seen = group.run([](EventLoop& loop, std::size_t) {
        return [](EventLoop* l) -> Task<const corio::Executor*> {
            co_return corio::detail::LoopAccess::default_executor(*l).get();
        }(&loop);
    });
    EXPECT_EQ(seen[0], &group.executor());
    EXPECT_EQ(seen[1], &group.executor());
    group.join();
    EXPECT_TRUE(group.executor().is_shutdown());
}

// -- submit_to ----------------------------------------------------------------

namespace {

// Runs `body(group, from, to)` as the main of loop `from` (the other mains
// return at once).
template <class Body>
void on_loop(LoopGroup& group, std::size_t from, Body body) {
    group.run([&](EventLoop&, std::size_t i) -> Task<void> {
        if (i == from) {
            return body(group, from);
        }
        return []() -> Task<void> { co_return; }();
    });
}

}  // namespace

class SubmitTo : public testing::TestWithParam<std::pair<std::size_t, std::size_t>> {};

TEST_P(SubmitTo, TheResultComesBackToTheCallersLoop) {
    auto [from, to] = GetParam();
    GroupChecks checks;
    {
        LoopGroup group(checks.options(2));
        on_loop(group, from, [to = to](LoopGroup& g, std::size_t me) -> Task<void> {
            std::size_t ran_on = co_await corio::submit_to(g.loop(to), where(&g));
            EXPECT_EQ(ran_on, to);
            EXPECT_EQ(g.index_of(corio::get_running_loop()), me);
            std::string s = co_await corio::submit_to(g.loop(to), []() -> Task<std::string> {
                co_await corio::sleep(1ms);
                co_return std::string(1000, 'x');
            }());
            EXPECT_EQ(s.size(), 1000u);
            co_await corio::submit_to(g.loop(to), []() -> Task<void> { co_return; }());
        });
    }
    checks.expect_clean(2);
}

TEST_P(SubmitTo, GatheredCallsEachComeBackFromTheirOwnLoop) {
    auto [from, to] = GetParam();
    GroupChecks checks;
    {
        LoopGroup group(checks.options(2));
        on_loop(group, from, [to = to](LoopGroup& g, std::size_t me) -> Task<void> {
            auto [here, there] = co_await corio::gather(corio::submit_to(g.loop(me), where(&g)),
                                                        corio::submit_to(g.loop(to), where(&g)));
            EXPECT_EQ(here, me);
            EXPECT_EQ(there, to);
        });
    }
    checks.expect_clean(2);
}

TEST_P(SubmitTo, TheExceptionComesBackWithItsType) {
    auto [from, to] = GetParam();
    GroupChecks checks;
    {
        LoopGroup group(checks.options(2));
        on_loop(group, from, [to = to](LoopGroup& g, std::size_t) -> Task<void> {
            bool caught = false;
            try {
                co_await corio::submit_to(g.loop(to), []() -> Task<int> {
                    co_await corio::sleep(0s);
                    throw std::invalid_argument("bad on the other loop");
                }());
            } catch (const std::invalid_argument& e) {
                caught = std::string(e.what()) == "bad on the other loop";
            }
            EXPECT_TRUE(caught);
        });
    }
    checks.expect_clean(2);
}

namespace {

// Tells `back`'s `started` future that it runs, then sleeps until cancelled;
// `swallow` returns 42 instead of rethrowing the cancellation.
Task<int> remote_sleeper(EventLoop* back, corio::Future<void>* started, std::atomic<bool>* saw,
                         bool swallow) {
    back->call_soon_threadsafe([started] { started->set_result(); });
    try {
        co_await corio::sleep(1h);
    } catch (const corio::CancelledError&) {
        *saw = true;
        if (!swallow) {
            throw;
        }
    }
    co_return 42;
}

}  // namespace

TEST_P(SubmitTo, CancellingTheCallerCancelsTheRemoteTaskAndWaitsForIt) {
    auto [from, to] = GetParam();
    GroupChecks checks;
    {
        LoopGroup group(checks.options(2));
        on_loop(group, from, [to = to](LoopGroup& g, std::size_t) -> Task<void> {
            EventLoop& here = corio::get_running_loop();
            corio::Future<void> started(here);
            std::atomic<bool> saw{false};
            auto caller = corio::create_task(
                corio::submit_to(g.loop(to), remote_sleeper(&here, &started, &saw, false)));
            co_await started;
            caller.cancel("stop it");
            bool cancelled = false;
            try {
                co_await caller;
            } catch (const corio::CancelledError&) {
                cancelled = true;
            }
            EXPECT_TRUE(cancelled);
            EXPECT_TRUE(saw);  // the remote task has finished by now
        });
    }
    checks.expect_clean(2);
}

TEST_P(SubmitTo, ARemoteTaskThatSwallowsTheCancellationDeliversItsValue) {
    auto [from, to] = GetParam();
    GroupChecks checks;
    {
        LoopGroup group(checks.options(2));
        on_loop(group, from, [to = to](LoopGroup& g, std::size_t) -> Task<void> {
            EventLoop& here = corio::get_running_loop();
            corio::Future<void> started(here);
            std::atomic<bool> saw{false};
            auto caller = corio::create_task(
                corio::submit_to(g.loop(to), remote_sleeper(&here, &started, &saw, true)));
            co_await started;
            caller.cancel();
            EXPECT_EQ(co_await caller, 42);  // as awaiting a task that swallows it
            EXPECT_TRUE(saw);
        });
    }
    checks.expect_clean(2);
}

INSTANTIATE_TEST_SUITE_P(BothDirections, SubmitTo,
                         testing::Values(std::pair<std::size_t, std::size_t>{0, 1},
                                         std::pair<std::size_t, std::size_t>{1, 0}));

TEST(SubmitToErrors, ClosedTargetsAndEmptyTasksAreRuntimeErrors) {
    EventLoop closed;
    closed.close();
    corio::run([](EventLoop* c) -> Task<void> {
        EXPECT_THROW(co_await corio::submit_to(*c, []() -> Task<void> { co_return; }()),
                     corio::RuntimeError);
        EXPECT_THROW((void)corio::submit_to(corio::get_running_loop(), Task<int>()),
                     corio::RuntimeError);
        // Its own loop works too (a round trip through the thread-safe entry).
        int v = co_await corio::submit_to(corio::get_running_loop(),
                                          []() -> Task<int> { co_return 5; }());
        EXPECT_EQ(v, 5);
    }(&closed));
}

TEST(SubmitToErrors, ATargetLoopThatClosesUnderThePendingTaskCancelsTheCaller) {
    // A loop on another thread, closed while the submitted task still waits.
    std::latch ready(1);
    EventLoop* target = nullptr;
    std::atomic<bool> close_now{false};
    std::thread t([&] {
        EventLoop loop;
        loop.set_exception_handler([](EventLoop&, const corio::ExceptionContext&) {});
        target = &loop;
        ready.count_down();
        while (!close_now) {
            loop.run_once();
        }
        loop.close();  // destroys the pending task
    });
    ready.wait();
    corio::run([](EventLoop* target, std::atomic<bool>* close_now) -> Task<void> {
        EventLoop& here = corio::get_running_loop();
        corio::Future<void> started(here);
        std::atomic<bool> saw{false};
        auto caller = corio::create_task(
            corio::submit_to(*target, remote_sleeper(&here, &started, &saw, false)));
        co_await started;
        *close_now = true;
        target->call_soon_threadsafe([] {});  // wake it up to see close_now
        EXPECT_THROW(co_await caller, corio::CancelledError);
        EXPECT_FALSE(saw);  // destroyed, not cancelled: its catch never ran
    }(target, &close_now));
    t.join();
}

// -- Mains that fail, stop(), signals ----------------------------------------

TEST(LoopGroup, AMainThatThrowsCancelsTheOthersAndRunRethrowsIt) {
    GroupChecks checks;
    std::atomic<int> cancelled{0};
    {
        LoopGroup group(checks.options(3));
        std::latch others_started(2);
        auto main = [&](EventLoop&, std::size_t i) -> Task<void> {
            if (i == 0) {
                return [](std::latch* l) -> Task<void> {
                    co_await wait_latch(l);
                    throw std::runtime_error("boom");
                }(&others_started);
            }
            return [](std::latch* l, std::atomic<int>* c) -> Task<void> {
                l->count_down();
                co_await sleep_until_cancelled(c);
            }(&others_started, &cancelled);
        };
        try {
            group.run(main);
            ADD_FAILURE() << "run() returned";
        } catch (const std::runtime_error& e) {
            EXPECT_STREQ(e.what(), "boom");
        }
        EXPECT_EQ(cancelled, 2);
    }
    checks.expect_clean(3);
}

TEST(LoopGroup, AFailureAfterTheFirstIsReportedOnItsLoop) {
    GroupChecks checks;
    {
        LoopGroup group(checks.options(2));
        std::latch started(1);
        auto main = [&](EventLoop&, std::size_t i) -> Task<void> {
            if (i == 0) {
                return [](std::latch* l) -> Task<void> {
                    co_await wait_latch(l);
                    throw std::runtime_error("first");
                }(&started);
            }
            return [](std::latch* l) -> Task<void> {
                l->count_down();
                try {
                    co_await corio::sleep(1h);
                } catch (const corio::CancelledError&) {
                }
                throw std::logic_error("second");
            }(&started);
        };
        EXPECT_THROW(group.run(main), std::runtime_error);
    }
    EXPECT_EQ(checks.allow("the main of loop 1 failed after another main had failed / "
                           "std::logic_error: second"),
              1u);
    checks.expect_clean(2);
}

TEST(LoopGroup, StopCancelsEveryMainAndLaterRunsAreRefused) {
    GroupChecks checks;
    std::atomic<int> cancelled{0};
    {
        LoopGroup group(checks.options(2));
        std::latch started(1);
        auto main = [&](EventLoop&, std::size_t i) -> Task<void> {
            if (i == 0) {
                // stop() from one of the group's own loops.
                return [](std::latch* l, LoopGroup* g, std::atomic<int>* c) -> Task<void> {
                    co_await wait_latch(l);
                    g->stop();
                    co_await sleep_until_cancelled(c);
                }(&started, &group, &cancelled);
            }
            return [](std::latch* l, std::atomic<int>* c) -> Task<void> {
                l->count_down();
                co_await sleep_until_cancelled(c);
            }(&started, &cancelled);
        };
        try {
            group.run(main);
            ADD_FAILURE() << "run() returned";
        } catch (const corio::CancelledError& e) {
            EXPECT_EQ(e.message(), "LoopGroup.stop()");
        }
        EXPECT_EQ(cancelled, 2);
        EXPECT_THROW(group.run(main), corio::RuntimeError);
    }
    checks.expect_clean(2);
}

TEST(LoopGroup, JoinCancelsEveryTaskOnEveryLoopAndLeaksNothing) {
    GroupChecks checks;
    std::atomic<int> cancelled{0};
    std::atomic<bool> refused_while_unwinding{false};
    std::vector<corio::ConcurrentFuture<void>> sleepers;
    corio::ConcurrentFuture<int> across;
    {
        LoopGroup group(checks.options(2));
        std::latch started(5);
        for (std::size_t i = 0; i < 2; ++i) {
            for (int k = 0; k < 2; ++k) {
                sleepers.push_back(corio::run_coroutine_threadsafe(
                    [](std::latch* l, std::atomic<int>* c) -> Task<void> {
                        l->count_down();
                        co_await sleep_until_cancelled(c);
                    }(&started, &cancelled),
                    group.loop(i)));
            }
        }
        // A task on loop 0 waiting for loop 1, whose unwinding calls loop 1
        // again: the loops stay open until the whole group has drained.
        across = corio::run_coroutine_threadsafe(
            [](LoopGroup* g, std::latch* l, std::atomic<int>* c,
               std::atomic<bool>* refused) -> Task<int> {
                std::exception_ptr stopped;
                try {
                    co_await corio::submit_to(
                        g->loop(1), [](std::latch* l2, std::atomic<int>* c2) -> Task<void> {
                            l2->count_down();
                            co_await sleep_until_cancelled(c2);
                        }(l, c));
                } catch (const corio::CancelledError&) {
                    stopped = std::current_exception();
                }
                try {
                    // Runs, or is cancelled by the drain's next round.
                    co_await corio::submit_to(g->loop(1), []() -> Task<void> { co_return; }());
                } catch (const corio::RuntimeError&) {
                    *refused = true;  // "Event loop is closed": the group closed too early
                }
                if (stopped) {
                    std::rethrow_exception(stopped);
                }
                co_return 0;
            }(&group, &started, &cancelled, &refused_while_unwinding),
            group.loop(0));
        started.wait();
        group.join();
        EXPECT_EQ(cancelled, 5);
        EXPECT_FALSE(refused_while_unwinding);
    }
    for (auto& f : sleepers) {
        EXPECT_TRUE(f.cancelled());
    }
    EXPECT_TRUE(across.cancelled());
    checks.expect_clean(2);
}

TEST(LoopGroupSignals, SigtermStopsEveryLoopsMainAndTheDefaultActionIsBack) {
    ASSERT_TRUE(has_default_action(SIGTERM));
    GroupChecks checks;
    std::atomic<int> cancelled{0};
    {
        LoopGroup group(checks.options(3));
        std::latch started(2);
        auto main = [&](EventLoop&, std::size_t i) -> Task<void> {
            if (i == 0) {
                return [](std::latch* l, std::atomic<int>* c) -> Task<void> {
                    co_await wait_latch(l);
                    ::raise(SIGTERM);  // the group's handlers are installed
                    co_await sleep_until_cancelled(c);
                }(&started, &cancelled);
            }
            return [](std::latch* l, std::atomic<int>* c) -> Task<void> {
                l->count_down();
                co_await sleep_until_cancelled(c);
            }(&started, &cancelled);
        };
        try {
            group.run(main);
            ADD_FAILURE() << "run() returned";
        } catch (const corio::CancelledError& e) {
            EXPECT_EQ(e.message(), "LoopGroup: SIGTERM");
        }
        EXPECT_EQ(cancelled, 3);
        EXPECT_TRUE(has_default_action(SIGTERM));
        EXPECT_TRUE(has_default_action(SIGINT));
    }
    checks.expect_clean(3);
}

TEST(LoopGroupSignals, SigintMakesRunThrowKeyboardInterrupt) {
    ASSERT_TRUE(has_default_action(SIGINT));
    std::atomic<int> cancelled{0};
    LoopGroup group(corio::LoopGroupOptions{.threads = 2});
    std::latch started(1);
    auto main = [&](EventLoop&, std::size_t i) -> Task<void> {
        if (i == 1) {
            return [](std::latch* l, std::atomic<int>* c) -> Task<void> {
                co_await wait_latch(l);
                ::raise(SIGINT);
                co_await sleep_until_cancelled(c);
            }(&started, &cancelled);
        }
        return [](std::latch* l, std::atomic<int>* c) -> Task<void> {
            l->count_down();
            co_await sleep_until_cancelled(c);
        }(&started, &cancelled);
    };
    EXPECT_THROW(group.run(main), corio::KeyboardInterrupt);
    EXPECT_EQ(cancelled, 2);
    EXPECT_TRUE(has_default_action(SIGINT));
}

TEST(LoopGroupSignals, MainsThatCatchTheCancellationEndNormally) {
    LoopGroup group(corio::LoopGroupOptions{.threads = 2});
    std::latch started(1);
    std::vector<int> r = group.run([&](EventLoop&, std::size_t i) -> Task<int> {
        return [](std::latch* l, std::size_t idx) -> Task<int> {
            if (idx == 0) {
                co_await wait_latch(l);
                ::raise(SIGTERM);
            } else {
                l->count_down();
            }
            try {
                co_await corio::sleep(1h);
            } catch (const corio::CancelledError&) {
                co_return 1;  // a server that shuts down cleanly on SIGTERM
            }
            co_return 0;
        }(&started, i);
    });
    EXPECT_EQ(r, (std::vector<int>{1, 1}));
}

TEST(LoopGroupSignalsDeathTest, ASecondSignalWhileUnwindingEndsTheProcess) {
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    EXPECT_EXIT(
        {
            LoopGroup group(corio::LoopGroupOptions{.threads = 2});
            group.run([](EventLoop&, std::size_t i) -> Task<void> {
                return [](std::size_t idx) -> Task<void> {
                    try {
                        if (idx == 0) {
                            ::raise(SIGTERM);
                        }
                        co_await corio::sleep(1h);
                    } catch (const corio::CancelledError&) {
                    }
                    if (idx == 0) {
                        ::raise(SIGTERM);  // still unwinding: the second one
                    }
                    co_await corio::sleep(1h);  // a slow cleanup
                }(i);
            });
            std::exit(0);
        },
        testing::KilledBySignal(SIGTERM), "");
}
