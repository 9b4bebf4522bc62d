// tests/support/loop_fixture.hpp - run a test's main coroutine on a
// virtual-time loop with teardown checks.
//
// vrun(main) fails the test if, once main is done, any task, timer or fd
// watch is still alive, or if anything reached the exception handler that
// the test did not expect. Pass a Reports to collect (and then assert on)
// what the handler received.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "corio/event_loop.hpp"
#include "corio/run.hpp"
#include "corio/task.hpp"
#include "corio/testing/checked.hpp"

// ASSERT_* returns from the function, which a coroutine cannot do: these
// record the failure and co_return instead (in Task<void> coroutines).
#define CO_ASSERT_TRUE(cond)                            \
    do {                                                \
        const bool corio_ok_ = static_cast<bool>(cond); \
        EXPECT_TRUE(corio_ok_) << #cond;                \
        if (!corio_ok_)                                 \
            co_return;                                  \
    } while (0)
#define CO_ASSERT_FALSE(cond) CO_ASSERT_TRUE(!(cond))
#define CO_ASSERT_EQ(a, b)                   \
    do {                                     \
        const bool corio_ok_ = ((a) == (b)); \
        EXPECT_EQ(a, b);                     \
        if (!corio_ok_)                      \
            co_return;                       \
    } while (0)

namespace corio_test {

// The shipped fixture's pieces (corio/testing/checked.hpp); vrun() below
// adds GoogleTest failures on top of them.
using Reports = corio::testing::Reports;

inline void install_recorder(corio::EventLoop& loop, Reports* reports) {
    loop.set_exception_handler([reports](corio::EventLoop&, const corio::ExceptionContext& ctx) {
        if (reports) {
            reports->items.push_back(ctx);
        } else {
            ADD_FAILURE() << "unexpected report: " << ctx.message
                          << (ctx.exception ? " / " + corio::describe_exception(ctx.exception)
                                            : std::string());
        }
    });
}

inline void check_clean(corio::EventLoop& loop) {
    corio::testing::Census c = corio::testing::census(loop);
    EXPECT_EQ(c.tasks, 0u) << "tasks still pending at teardown";
    EXPECT_EQ(c.timers, 0u) << "timers still scheduled at teardown";
    EXPECT_EQ(c.watched_fds, 0u) << "fds still watched at teardown";
}

/// Runs `main` to completion on a fresh virtual-time loop and returns its
/// result (or rethrows), after checking that nothing was left behind. A test
/// that deadlocks fails with RuntimeError("deadlock ...") instead of hanging.
template <class T>
T vrun(corio::Task<T> main, Reports* reports = nullptr, bool virtual_time = true) {
    corio::EventLoop loop(corio::LoopOptions{.virtual_time = virtual_time, .debug = false});
    install_recorder(loop, reports);
    corio::detail::LoopAccess::fail_on_deadlock(loop, true);
    auto handle = loop.create_task(std::move(main), "main");
    struct Teardown {
        corio::EventLoop& loop;
        ~Teardown() {
            // Let callbacks already scheduled (done callbacks, wake-ups) run.
            for (int i = 0; i < 4; ++i) {
                loop.run_once(false);
            }
            check_clean(loop);
            corio::detail::finish_run(loop);
        }
    } teardown{loop};
    return loop.run_until_complete(std::move(handle));
}

/// Loop time elapsed since `start`, in milliseconds.
inline long long ms_since(corio::TimePoint start) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(corio::get_running_loop().time() -
                                                                 start)
        .count();
}

}  // namespace corio_test
