// corio/run.hpp - run() and Runner: the program's entry into the event loop.
//
// Mirrors asyncio.run and asyncio.Runner (runners.py).
#pragma once

#include <memory>
#include <string>

#include "corio/event_loop.hpp"
#include "corio/task.hpp"

namespace corio {

namespace detail {

// asyncio.Runner.close()'s sequence: cancels every task still pending and
// waits for them (reporting errors other than CancelledError), closes the
// async generators still unfinished (shutdown_asyncgens), shuts the default
// executor down waiting for its threads, then closes the loop. `who` names
// the corio function the user called, in reports. Never throws; problems go
// to the exception handler.
void finish_run(EventLoop& loop, const char* who = "corio::run()") noexcept;

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

template <class T>
T run(Task<T> main, LoopOptions options = {});

/// Runs coroutines on one event loop that it owns, across several run()
/// calls, and shuts it down in close() (or its destructor): the C++ form of
/// `with asyncio.Runner() as runner:`. The loop is made on first use (run()
/// or get_loop()) with `options`, together with a copy of the current
/// context, which every run() shares (a variable set by one run's task is
/// seen by the next). Not copyable or movable; use it on one thread.
/// asyncio: `asyncio.Runner`.
class Runner {
public:
    /// `options` chooses virtual time and debug mode of the loop.
    explicit Runner(LoopOptions options = {}) noexcept : options_(options) {}
    Runner(const Runner&) = delete;
    Runner& operator=(const Runner&) = delete;
    /// close(). asyncio: `Runner.__exit__`.
    ~Runner();

    /// Runs `coro` as a task on the runner's loop until it finishes and
    /// returns its value or rethrows its exception; tasks it leaves behind
    /// stay on the loop for the next run() (until close()). On the main
    /// thread, SIGINT (Ctrl-C) cancels it, and run() then throws
    /// KeyboardInterrupt. Throws RuntimeError if a loop is running on this
    /// thread, if the runner is closed, or if `coro` is empty or was already
    /// awaited ("cannot reuse already awaited coroutine"). asyncio:
    /// `Runner.run`.
    template <class T>
    T run(Task<T> coro) {
        check_can_run(coro, "run()");
        EventLoop& loop = get_loop();
        return run_in(loop, std::move(coro), Context(context_));
    }
    /// run() with the task in `context` instead of the runner's context.
    /// asyncio: `Runner.run(coro, context=)`.
    template <class T>
    T run(Task<T> coro, const Context& context) {
        check_can_run(coro, "run()");
        return run_in(get_loop(), std::move(coro), context);
    }

    /// The runner's loop, made on first call. Throws RuntimeError if the
    /// runner is closed. asyncio: `Runner.get_loop`.
    EventLoop& get_loop();

    /// Cancels the tasks left on the loop and waits for them, closes the
    /// async generators still unfinished, shuts the default executor down
    /// (waiting for its threads) and closes the loop. Problems go to the
    /// loop's exception handler. Idempotent; after it, run() and get_loop()
    /// throw RuntimeError. A reference from get_loop() stays valid (the loop
    /// reports is_closed()) until the runner is destroyed. Throws
    /// RuntimeError if called while the loop is running. asyncio: `Runner.close`.
    void close();

private:
    template <class T>
    friend T run(Task<T> main, LoopOptions options);

    template <class T>
    T run_in(EventLoop& loop, Task<T> coro, const Context& context) {
        TaskHandle<T> task = loop.create_task(std::move(coro), std::string(), context);
        detail::SigintCancelsMain sigint(loop, task);
        try {
            return loop.run_until_complete(std::move(task));
        } catch (const CancelledError&) {
            sigint.rethrow_as_interrupt();
            throw;
        }
    }

    // The corio function the user called ("corio::run()" or "Runner::..."),
    // for messages.
    Runner(LoopOptions options, const char* who) noexcept : options_(options), who_(who) {}
    template <class T>
    void check_can_run(const Task<T>& coro, const char* call) const {
        check_can_run_impl(!coro || coro.awaited(), call);
    }
    void check_can_run_impl(bool reused, const char* call) const;

    LoopOptions options_;
    const char* who_ = nullptr;  // null: Runner's own members
    std::unique_ptr<EventLoop> loop_;
    // A copy of the context current when the loop was made; every run()
    // without a context of its own runs its task in it (asyncio).
    detail::ContextRef context_;
    bool closed_ = false;
};

/// Runs `main` on a new event loop until it finishes, then cancels the tasks
/// left over and waits for them, closes the unfinished async generators,
/// shuts down the default executor, and closes the loop: a Runner used once
/// (each run() gets a loop of its own). Returns main's value or rethrows its
/// exception. `options` chooses virtual time and debug mode. On the main
/// thread, SIGINT (Ctrl-C) cancels main, and run() then throws
/// KeyboardInterrupt. Throws RuntimeError if a loop is already running on
/// this thread, or if `main` is empty (already run or awaited: asyncio's
/// "cannot reuse already awaited coroutine").
/// asyncio: `asyncio.run`.
template <class T>
T run(Task<T> main, LoopOptions options) {
    Runner runner(options, "corio::run()");
    runner.check_can_run(main, "");
    return runner.run(std::move(main));
}

}  // namespace corio
