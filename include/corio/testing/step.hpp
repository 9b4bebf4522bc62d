// corio/testing/step.hpp - TestLoop: drive a virtual-time loop one iteration
// at a time and check what is pending, like tokio-test's task harness.
#pragma once

#include <chrono>
#include <string>

#include "corio/event_loop.hpp"
#include "corio/task.hpp"

namespace corio::testing {

/// A virtual-time loop for white-box tests:
///   TestLoop tl;
///   auto t = tl.spawn(worker());
///   tl.step();                 // one iteration
///   EXPECT_FALSE(t.done());
///   tl.advance(5s);            // the clock moves; due timers fire on the next step
/// The loop is closed (pending tasks destroyed and reported) when the
/// TestLoop dies.
class TestLoop {
public:
    TestLoop() : loop_(LoopOptions{.virtual_time = true, .debug = false}) {}

    EventLoop& loop() noexcept { return loop_; }

    /// Schedules `coro` as a task; it runs on the next step().
    template <class T>
    TaskHandle<T> spawn(Task<T> coro, std::string name = {}) {
        return loop_.create_task(std::move(coro), std::move(name));
    }
    /// Runs exactly one iteration without blocking (no clock jump).
    void step() { loop_.run_once(false); }
    /// Runs `n` iterations without blocking.
    void steps(int n) {
        for (int i = 0; i < n; ++i) {
            step();
        }
    }
    /// Moves the virtual clock by `d`; timers now due fire on the next step().
    template <class Rep, class Period>
    void advance(std::chrono::duration<Rep, Period> d) {
        detail::LoopAccess::advance_virtual_time(loop_, std::chrono::duration_cast<Duration>(d));
    }
    /// Runs the loop until `task` is done (the clock jumps as needed) and
    /// returns its result.
    template <class T>
    T run(TaskHandle<T> task) {
        return loop_.run_until_complete(std::move(task));
    }
    /// Loop time since the TestLoop was made.
    Duration elapsed() const noexcept { return loop_.time().time_since_epoch(); }

private:
    EventLoop loop_;
};

}  // namespace corio::testing
