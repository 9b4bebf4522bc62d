// corio/run.hpp - run(): the program's entry into the event loop.
//
// Mirrors asyncio.run (runners.py).
#pragma once

#include "corio/event_loop.hpp"
#include "corio/task.hpp"

namespace corio {

namespace detail {

// asyncio.run's epilogue: cancels every task still pending and waits for them
// (reporting errors other than CancelledError), then closes the loop. Never
// throws; problems go to the exception handler.
void finish_run(EventLoop& loop) noexcept;

// asyncio.Runner's SIGINT handling: on the main thread, when SIGINT has its
// default action, the first Ctrl-C cancels main; a second one ends the
// process as an unhandled Ctrl-C does.
class SigintCancelsMain {
public:
    SigintCancelsMain(EventLoop& loop, TaskHandle<void> main);
    SigintCancelsMain(const SigintCancelsMain&) = delete;
    SigintCancelsMain& operator=(const SigintCancelsMain&) = delete;
    ~SigintCancelsMain();
    /// Called with main's CancelledError in flight: throws KeyboardInterrupt
    /// if SIGINT caused it and main holds no other cancellation.
    void rethrow_as_interrupt();

private:
    EventLoop& loop_;
    TaskHandle<void> main_;
    int count_ = 0;
    bool installed_ = false;
};

}  // namespace detail

/// Runs `main` on a new event loop until it finishes, then cancels the tasks
/// left over and waits for them, shuts down the default executor, and closes
/// the loop. Returns main's value or rethrows its exception. `options`
/// chooses virtual time and debug mode. On the main thread, SIGINT (Ctrl-C)
/// cancels main, and run() then throws KeyboardInterrupt. Throws
/// RuntimeError if a loop is already running on this thread, or if `main`
/// is empty (already run or awaited: asyncio's "cannot reuse already awaited
/// coroutine").
/// asyncio: `asyncio.run`.
template <class T>
T run(Task<T> main, LoopOptions options = {}) {
    if (detail::tls_running_loop != nullptr) {
        throw RuntimeError("corio::run() cannot be called from a running event loop");
    }
    if (!main) {
        // Most often a Task that was already run or awaited (moved from).
        throw RuntimeError("cannot reuse already awaited coroutine (run: main is an empty Task)");
    }
    EventLoop loop(options);
    struct Finish {
        EventLoop& loop;
        ~Finish() { detail::finish_run(loop); }
    } finish{loop};
    TaskHandle<T> task = loop.create_task(std::move(main));
    detail::SigintCancelsMain sigint(loop, task);
    try {
        return loop.run_until_complete(std::move(task));
    } catch (const CancelledError&) {
        sigint.rethrow_as_interrupt();
        throw;
    }
}

}  // namespace corio
