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

}  // namespace detail

/// Runs `main` on a new event loop until it finishes, then cancels the tasks
/// left over and waits for them, shuts down the default executor, and closes
/// the loop. Returns main's value or rethrows its exception. `options`
/// chooses virtual time and debug mode. Throws RuntimeError if a loop is
/// already running on this thread. asyncio: `asyncio.run`.
template <class T>
T run(Task<T> main, LoopOptions options = {}) {
    if (detail::tls_running_loop != nullptr) {
        throw RuntimeError("corio::run() cannot be called from a running event loop");
    }
    if (!main) {
        throw std::invalid_argument("run: main is an empty Task");
    }
    EventLoop loop(options);
    struct Finish {
        EventLoop& loop;
        ~Finish() { detail::finish_run(loop); }
    } finish{loop};
    return loop.run_until_complete(std::move(main));
}

}  // namespace corio
