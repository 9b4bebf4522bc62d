#include "corio/event_loop.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <string>
#include <thread>
#include <vector>

#include "corio/corio.hpp"
#include "support/loop_fixture.hpp"

using namespace std::chrono_literals;
using corio::EventLoop;
using corio::LoopOptions;
using corio_test::Reports;

namespace {

LoopOptions virtual_opts() {
    return LoopOptions{.virtual_time = true, .debug = false};
}

// Runs the loop until stop() is called from a callback.
void run_until_stopped(EventLoop& loop) {
    loop.run_forever();
}

}  // namespace

TEST(EventLoop, CallSoonRunsCallbacksInFifoOrder) {
    EventLoop loop(virtual_opts());
    std::vector<int> order;
    for (int i = 0; i < 5; ++i) {
        loop.call_soon([&order, i] { order.push_back(i); });
    }
    loop.call_soon([&] { loop.stop(); });
    run_until_stopped(loop);
    EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3, 4}));
}

TEST(EventLoop, CallbackScheduledDuringIterationRunsOnTheNextOne) {
    EventLoop loop(virtual_opts());
    std::vector<std::string> log;
    loop.call_soon([&] {
        log.push_back("a");
        loop.call_soon([&] { log.push_back("c"); });
    });
    loop.call_soon([&] { log.push_back("b"); });
    loop.run_once(false);
    EXPECT_EQ(log, (std::vector<std::string>{"a", "b"}));
    loop.run_once(false);
    EXPECT_EQ(log, (std::vector<std::string>{"a", "b", "c"}));
}

TEST(EventLoop, CallLaterFiresAfterThirtyVirtualSecondsInstantly) {
    EventLoop loop(virtual_opts());
    corio::TimePoint start = loop.time();
    corio::TimePoint fired_at{};
    loop.call_later(30s, [&] {
        fired_at = loop.time();
        loop.stop();
    });
    auto wall0 = std::chrono::steady_clock::now();
    run_until_stopped(loop);
    EXPECT_EQ(fired_at - start, 30s);
    EXPECT_LT(std::chrono::steady_clock::now() - wall0, 5s);  // no real 30 s wait
}

TEST(EventLoop, TimersFireByDeadlineThenInSchedulingOrder) {
    EventLoop loop(virtual_opts());
    std::vector<int> order;
    auto t0 = loop.time();
    loop.call_at(t0 + 20ms, [&] { order.push_back(3); });
    loop.call_at(t0 + 10ms, [&] { order.push_back(1); });
    loop.call_at(t0 + 10ms, [&] { order.push_back(2); });
    loop.call_at(t0 + 30ms, [&] { loop.stop(); });
    run_until_stopped(loop);
    EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
}

TEST(EventLoop, CancelledTimerNeverRunsAndLeavesNothingToSkip) {
    EventLoop loop(virtual_opts());
    bool ran = false;
    corio::TimerHandle h = loop.call_later(1s, [&] { ran = true; });
    EXPECT_EQ(corio::detail::LoopAccess::census(loop).timers, 1u);
    EXPECT_EQ(h.when(), loop.time() + 1s);
    h.cancel();
    EXPECT_TRUE(h.cancelled());
    EXPECT_EQ(corio::detail::LoopAccess::census(loop).timers, 0u);
    loop.call_later(2s, [&] { loop.stop(); });
    run_until_stopped(loop);
    EXPECT_FALSE(ran);
}

TEST(EventLoop, CancelledHandleNeverRuns) {
    EventLoop loop(virtual_opts());
    bool ran = false;
    corio::Handle h = loop.call_soon([&] { ran = true; });
    h.cancel();
    loop.run_once(false);
    EXPECT_FALSE(ran);
    EXPECT_TRUE(h.cancelled());
}

TEST(EventLoop, TimerHandleDroppedByUserStillFires) {
    EventLoop loop(virtual_opts());
    bool ran = false;
    (void)loop.call_later(5ms, [&] {
        ran = true;
        loop.stop();
    });
    run_until_stopped(loop);
    EXPECT_TRUE(ran);
}

TEST(EventLoop, NegativeDelayIsRejected) {
    EventLoop loop(virtual_opts());
    EXPECT_THROW(loop.call_later(-1ms, [] {}), std::invalid_argument);
    EXPECT_EQ(corio::detail::LoopAccess::census(loop).timers, 0u);
}

TEST(EventLoop, CallAtInThePastRunsOnNextIteration) {
    EventLoop loop(virtual_opts());
    bool ran = false;
    loop.call_at(loop.time() - 1s, [&] { ran = true; });
    loop.run_once(false);
    EXPECT_TRUE(ran);
}

TEST(EventLoop, RealTimeIsMonotonicAndTimersWaitForRealTime) {
    EventLoop loop;
    auto t0 = loop.time();
    corio::TimePoint fired{};
    loop.call_later(2ms, [&] {
        fired = loop.time();
        loop.stop();
    });
    run_until_stopped(loop);
    EXPECT_GE(fired - t0, 2ms);
}

TEST(EventLoop, StopBeforeRunForeverRunsOneIteration) {
    EventLoop loop(virtual_opts());
    int runs = 0;
    loop.call_soon([&] { ++runs; });
    loop.stop();
    loop.run_forever();
    EXPECT_EQ(runs, 1);
    EXPECT_FALSE(loop.is_running());
}

TEST(EventLoop, IsRunningOnlyInsideRunForever) {
    EventLoop loop(virtual_opts());
    bool inside = false;
    loop.call_soon([&] {
        inside = loop.is_running();
        loop.stop();
    });
    EXPECT_FALSE(loop.is_running());
    loop.run_forever();
    EXPECT_TRUE(inside);
    EXPECT_FALSE(loop.is_running());
}

TEST(EventLoop, RunForeverInsideRunningLoopThrows) {
    EventLoop loop(virtual_opts());
    bool threw = false;
    loop.call_soon([&] {
        try {
            loop.run_forever();
        } catch (const corio::RuntimeError&) {
            threw = true;
        }
        loop.stop();
    });
    loop.run_forever();
    EXPECT_TRUE(threw);
}

// asyncio checks before it wraps the coroutine: a refused
// run_until_complete never runs it.
TEST(EventLoop, RunUntilCompleteInsideTheRunningLoopThrowsAndRunsNothing) {
    EventLoop loop(virtual_opts());
    bool threw = false;
    bool ran = false;
    loop.call_soon([&] {
        try {
            loop.run_until_complete([](bool& r) -> corio::Task<void> {
                r = true;
                co_return;
            }(ran));
        } catch (const corio::RuntimeError&) {
            threw = true;
        }
        loop.call_soon([&] { loop.stop(); });  // a few more iterations
    });
    loop.run_forever();
    EXPECT_TRUE(threw);
    EXPECT_FALSE(ran);
}

TEST(EventLoop, SecondLoopCannotRunWhileFirstRuns) {
    EventLoop a(virtual_opts());
    EventLoop b(virtual_opts());
    bool threw = false;
    a.call_soon([&] {
        b.stop();
        try {
            b.run_forever();
        } catch (const corio::RuntimeError& e) {
            threw = std::string(e.what()).find("another loop") != std::string::npos;
        }
        a.stop();
    });
    a.run_forever();
    EXPECT_TRUE(threw);
}

TEST(EventLoop, ClosedLoopRejectsWorkAndCloseIsIdempotent) {
    EventLoop loop(virtual_opts());
    loop.close();
    EXPECT_TRUE(loop.is_closed());
    EXPECT_THROW(loop.call_soon([] {}), corio::RuntimeError);
    EXPECT_THROW(loop.call_later(1s, [] {}), corio::RuntimeError);
    EXPECT_THROW(loop.call_soon_threadsafe([] {}), corio::RuntimeError);
    EXPECT_THROW(loop.run_forever(), corio::RuntimeError);
    EXPECT_NO_THROW(loop.close());
}

TEST(EventLoop, CloseWhileRunningThrows) {
    EventLoop loop(virtual_opts());
    bool threw = false;
    loop.call_soon([&] {
        try {
            loop.close();
        } catch (const corio::RuntimeError&) {
            threw = true;
        }
        loop.stop();
    });
    loop.run_forever();
    EXPECT_TRUE(threw);
    EXPECT_FALSE(loop.is_closed());
}

TEST(EventLoop, CloseDropsPendingCallbacksAndTimers) {
    EventLoop loop(virtual_opts());
    bool ran = false;
    loop.call_soon([&] { ran = true; });
    loop.call_later(1s, [&] { ran = true; });
    loop.close();
    EXPECT_FALSE(ran);
}

TEST(EventLoop, GetRunningLoopOutsideAndInside) {
    EXPECT_THROW(corio::get_running_loop(), corio::RuntimeError);
    EventLoop loop(virtual_opts());
    EventLoop* seen = nullptr;
    loop.call_soon([&] {
        seen = &corio::get_running_loop();
        loop.stop();
    });
    loop.run_forever();
    EXPECT_EQ(seen, &loop);
    EXPECT_THROW(corio::get_running_loop(), corio::RuntimeError);
}

TEST(EventLoop, ExceptionInCallbackReachesHandlerAndLoopGoesOn) {
    EventLoop loop(virtual_opts());
    Reports reports;
    corio_test::install_recorder(loop, &reports);
    bool after = false;
    loop.call_soon([] { throw std::runtime_error("boom"); });
    loop.call_soon([&] {
        after = true;
        loop.stop();
    });
    loop.run_forever();
    ASSERT_EQ(reports.items.size(), 1u);
    EXPECT_EQ(reports.items[0].message, "Exception in callback");
    EXPECT_EQ(corio::describe_exception(reports.items[0].exception), "std::runtime_error: boom");
    EXPECT_TRUE(after);
}

TEST(EventLoop, DefaultHandlerWritesMessageTaskAndExceptionToStderr) {
    testing::internal::CaptureStderr();
    EventLoop::default_exception_handler(corio::ExceptionContext{
        "Something failed", std::make_exception_ptr(std::logic_error("bad")), "Task-7",
        "worker() at line 3"});
    std::string out = testing::internal::GetCapturedStderr();
    EXPECT_NE(out.find("corio: Something failed"), std::string::npos) << out;
    EXPECT_NE(out.find("task: Task-7 (created by worker() at line 3)"), std::string::npos) << out;
    EXPECT_NE(out.find("std::logic_error: bad"), std::string::npos) << out;
}

TEST(EventLoop, DefaultHandlerPrintsTheCauseFirstAsPythonDoes) {
    std::exception_ptr e;
    try {
        try {
            throw corio::CancelledError();
        } catch (const corio::CancelledError&) {
            std::throw_with_nested(corio::TimeoutError("timed out"));
        }
    } catch (...) {
        e = std::current_exception();
    }
    testing::internal::CaptureStderr();
    EventLoop::default_exception_handler(corio::ExceptionContext{"Task failed", e, {}, {}});
    std::string out = testing::internal::GetCapturedStderr();
    EXPECT_EQ(out,
              "corio: Task failed\n"
              "  exception: corio::CancelledError\n"
              "  The above exception was the direct cause of the following exception:\n"
              "  exception: corio::TimeoutError: timed out\n");
}

TEST(EventLoop, HandlerThatThrowsFallsBackToDefaultHandler) {
    EventLoop loop(virtual_opts());
    loop.set_exception_handler([](EventLoop&, const corio::ExceptionContext&) {
        throw std::runtime_error("handler bug");
    });
    testing::internal::CaptureStderr();
    loop.call_exception_handler(corio::ExceptionContext{"original problem", nullptr, {}, {}});
    std::string out = testing::internal::GetCapturedStderr();
    EXPECT_NE(out.find("Unhandled error in exception handler"), std::string::npos) << out;
    EXPECT_NE(out.find("handler bug"), std::string::npos) << out;
    EXPECT_NE(out.find("original problem"), std::string::npos) << out;
}

TEST(EventLoop, AddReaderRunsWhileReadableAndRemoveReaderStops) {
    EventLoop loop(virtual_opts());
    int fds[2];
    ASSERT_EQ(::pipe2(fds, O_NONBLOCK | O_CLOEXEC), 0);
    std::string got;
    loop.add_reader(fds[0], [&] {
        char buf[16];
        ssize_t n = ::read(fds[0], buf, sizeof buf);
        got.append(buf, static_cast<std::size_t>(n));
        if (got == "hello") {
            EXPECT_TRUE(loop.remove_reader(fds[0]));
            loop.stop();
        }
    });
    ASSERT_EQ(::write(fds[1], "hel", 3), 3);
    loop.call_soon([&] { ASSERT_EQ(::write(fds[1], "lo", 2), 2); });
    loop.run_forever();
    EXPECT_EQ(got, "hello");
    EXPECT_FALSE(loop.remove_reader(fds[0]));
    EXPECT_EQ(corio::detail::LoopAccess::census(loop).watched_fds, 0u);
    ::close(fds[0]);
    ::close(fds[1]);
}

TEST(EventLoop, AddWriterRunsWhenWritable) {
    EventLoop loop(virtual_opts());
    int fds[2];
    ASSERT_EQ(::pipe2(fds, O_NONBLOCK | O_CLOEXEC), 0);
    int calls = 0;
    loop.add_writer(fds[1], [&] {
        ++calls;
        loop.remove_writer(fds[1]);
        loop.stop();
    });
    loop.run_forever();
    EXPECT_EQ(calls, 1);
    ::close(fds[0]);
    ::close(fds[1]);
}

TEST(EventLoop, BadFileDescriptorsGiveClearErrors) {
    EventLoop loop(virtual_opts());
    EXPECT_THROW(loop.add_reader(-1, [] {}), std::invalid_argument);
    int fd = ::open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
    ASSERT_GE(fd, 0);
    try {
        loop.add_reader(fd, [] {});
        ADD_FAILURE() << "a regular file cannot be watched";
    } catch (const std::system_error& e) {
        EXPECT_EQ(e.code().value(), EPERM);
    }
    EXPECT_EQ(corio::detail::LoopAccess::census(loop).watched_fds, 0u);
    ::close(fd);
    EXPECT_FALSE(loop.remove_reader(12345));
}

TEST(EventLoop, CallSoonThreadsafeWakesABlockedLoop) {
    EventLoop loop;  // real time: the loop really blocks in epoll
    std::thread::id ran_on;
    std::thread t;
    loop.call_soon([&] {
        t = std::thread([&] {
            loop.call_soon_threadsafe([&] {
                ran_on = std::this_thread::get_id();
                loop.stop();
            });
        });
    });
    loop.run_forever();
    t.join();
    EXPECT_EQ(ran_on, std::this_thread::get_id());
}

TEST(EventLoop, ManyThreadsafeCallbacksAllRunInOrderPerThread) {
    EventLoop loop;
    constexpr int kThreads = 4;
    constexpr int kEach = 2000;
    std::vector<std::vector<int>> seen(kThreads);
    int total = 0;
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < kEach; ++i) {
                loop.call_soon_threadsafe([&, t, i] {
                    seen[static_cast<std::size_t>(t)].push_back(i);
                    if (++total == kThreads * kEach) {
                        loop.stop();
                    }
                });
            }
        });
    }
    loop.run_forever();
    for (auto& th : threads) {
        th.join();
    }
    for (const auto& s : seen) {
        ASSERT_EQ(s.size(), static_cast<std::size_t>(kEach));
        for (int i = 0; i < kEach; ++i) {
            EXPECT_EQ(s[static_cast<std::size_t>(i)], i);
        }
    }
}

TEST(EventLoop, VirtualClockWaitsForOutstandingExternalWork) {
    EventLoop loop(virtual_opts());
    corio::TimePoint start = loop.time();
    corio::TimePoint arrived{};
    std::thread t;
    loop.call_later(10s, [&] { loop.stop(); });
    loop.call_soon([&] {
        corio::detail::LoopAccess::begin_external_work(loop);
        t = std::thread([&] {
            loop.call_soon_threadsafe([&] {
                arrived = loop.time();
                corio::detail::LoopAccess::end_external_work(loop);
            });
        });
    });
    loop.run_forever();
    t.join();
    EXPECT_EQ(arrived - start, 0s);  // the clock did not jump past the pending work
    EXPECT_EQ(loop.time() - start, 10s);
}

TEST(EventLoop, DebugModeReportsSlowCallbacks) {
    EventLoop loop(LoopOptions{.virtual_time = true, .debug = true});
    Reports reports;
    corio_test::install_recorder(loop, &reports);
    loop.slow_callback_duration = corio::Duration(-1);  // every callback counts as slow
    loop.call_soon([&] { loop.stop(); });
    loop.run_forever();
    EXPECT_EQ(reports.count("Executing callback took"), 1u);
}

TEST(EventLoop, DebugModeIsOffUnlessAskedFor) {
    EventLoop loop(LoopOptions{.virtual_time = true, .debug = false});
    EXPECT_FALSE(loop.get_debug());
    loop.set_debug(true);
    EXPECT_TRUE(loop.get_debug());
}

TEST(EventLoop, AVirtualTimeLoopCanReportADeadlockInsteadOfHanging) {
    EventLoop loop(virtual_opts());
    corio::detail::LoopAccess::fail_on_deadlock(loop, true);
    corio::Future<int> never(loop);
    EXPECT_THROW(loop.run_until_complete(never), corio::RuntimeError);
    never.cancel();
}

namespace {

// An end-of-iteration hook that logs each run (and whether it was told to run).
struct LoggingHook : corio::detail::IterationHook {
    std::vector<std::string>* log;
    std::string name;
    LoggingHook* requeue = nullptr;  // queued again from inside run()
    EventLoop* loop = nullptr;
    LoggingHook(std::vector<std::string>* l, std::string n) : log(l), name(std::move(n)) {
        run = [](IterationHook* h, bool go) noexcept {
            auto* self = static_cast<LoggingHook*>(h);
            self->log->push_back(self->name + (go ? "" : "(closing)"));
            if (LoggingHook* next = std::exchange(self->requeue, nullptr)) {
                corio::detail::LoopAccess::at_end_of_iteration(*self->loop, *next);
            }
        };
    }
};

}  // namespace

TEST(IterationHook, RunsOnceAfterTheCallbacksOfItsIteration) {
    EventLoop loop(virtual_opts());
    std::vector<std::string> log;
    LoggingHook hook(&log, "hook");
    loop.call_soon([&] {
        log.push_back("a");
        corio::detail::LoopAccess::at_end_of_iteration(loop, hook);
        corio::detail::LoopAccess::at_end_of_iteration(loop, hook);  // still once
        loop.call_soon([&] { log.push_back("next"); });
    });
    loop.call_soon([&] { log.push_back("b"); });
    loop.run_once(false);
    EXPECT_EQ(log, (std::vector<std::string>{"a", "b", "hook"}));
    loop.run_once(false);
    EXPECT_EQ(log, (std::vector<std::string>{"a", "b", "hook", "next"}));
}

TEST(IterationHook, AHookQueuedByAHookRunsInTheSamePhase) {
    EventLoop loop(virtual_opts());
    std::vector<std::string> log;
    LoggingHook first(&log, "first");
    LoggingHook second(&log, "second");
    first.requeue = &second;
    first.loop = &loop;
    loop.call_soon([&] { corio::detail::LoopAccess::at_end_of_iteration(loop, first); });
    loop.run_once(false);
    EXPECT_EQ(log, (std::vector<std::string>{"first", "second"}));
}

TEST(IterationHook, QueuedOutsideAnIterationRunsBeforeTheNextPoll) {
    EventLoop loop(virtual_opts());
    std::vector<std::string> log;
    LoggingHook hook(&log, "hook");
    corio::detail::LoopAccess::at_end_of_iteration(loop, hook);
    loop.call_soon([&] { log.push_back("callback"); });
    loop.run_once(false);
    EXPECT_EQ(log, (std::vector<std::string>{"hook", "callback"}));
}

TEST(IterationHook, CloseRunsQueuedHooksAsTheLastIteration) {
    std::vector<std::string> log;
    LoggingHook hook(&log, "hook");
    {
        EventLoop loop(virtual_opts());
        corio::detail::LoopAccess::at_end_of_iteration(loop, hook);
        loop.close();
        EXPECT_EQ(log, (std::vector<std::string>{"hook"}));
    }
    EXPECT_FALSE(hook.linked());
}

// Regression: call_later(Duration::max()) overflowed `time() + delay`: the
// callback ran at once on a real clock, and a virtual clock jumped to the end
// of time, after which no other timer kept its time.
TEST(EventLoop, CallLaterWithDurationMaxNeverRunsAndOtherTimersKeepFiring) {
    for (bool virtual_time : {true, false}) {
        EventLoop loop(LoopOptions{.virtual_time = virtual_time, .debug = false});
        bool never = false;
        corio::TimePoint start = loop.time();
        corio::TimePoint fired{};
        corio::TimerHandle h = loop.call_later(corio::Duration::max(), [&] { never = true; });
        EXPECT_EQ(h.when(), corio::TimePoint::max());
        loop.call_later(1ms, [&] {
            fired = loop.time();
            loop.stop();
        });
        loop.run_forever();
        EXPECT_FALSE(never);
        EXPECT_GE(fired - start, 1ms);
        EXPECT_LT(fired - start, 1h);
        EXPECT_EQ(corio::detail::LoopAccess::census(loop).timers, 0u);  // nothing kept for it
        h.cancel();
        EXPECT_TRUE(h.cancelled());
    }
}
