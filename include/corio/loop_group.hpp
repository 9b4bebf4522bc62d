// corio/loop_group.hpp - loops on many threads: LoopGroup, run_per_core,
// submit_to.
//
// asyncio runs one loop per thread and has no notion of a group; programs
// that want every core run one process per core (aiohttp behind gunicorn
// with reuse_port). corio does it in one process, share-nothing as Seastar's
// smp (one reactor per core, submit_to) and Tokio's multi-thread runtime:
// LoopGroup starts N threads, each running its own EventLoop, gives them one
// shared default executor, routes SIGINT/SIGTERM to every loop, and tears
// everything down without leaking a task. submit_to() awaits a coroutine
// run on another loop. A TCP port served by every loop of a group is in
// corio/net/loop_group.hpp.
//
//   std::vector<int> r = corio::run_per_core([](corio::EventLoop&, std::size_t i) {
//       return serve(i);                            // Task<int>, one per loop
//   });
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "corio/detail/callback.hpp"
#include "corio/detail/remote_task.hpp"
#include "corio/event_loop.hpp"
#include "corio/executor.hpp"
#include "corio/task.hpp"
#include "corio/threads.hpp"

namespace corio {

/// Options of a LoopGroup. The members are plain values and functions, so
/// `LoopGroup g({.threads = 2})` reads as asyncio keyword arguments do.
struct LoopGroupOptions {
    /// How many loops (and threads); 0 means std::thread::hardware_concurrency()
    /// (at least 1).
    std::size_t threads = 0;
    /// Pins loop i's thread to the i-th CPU the process may run on (modulo
    /// their number), as Seastar pins its reactors.
    bool pin_threads = false;
    /// Options of every loop (virtual time, debug).
    LoopOptions loop{};
    /// run() routes SIGINT and SIGTERM to the group (see LoopGroup::run) when
    /// they have their default action at the time; false leaves signals alone.
    bool handle_signals = true;
    /// The group's default executor, installed on every loop; null makes a
    /// ThreadPoolExecutor (Python's default size). Shut down by join().
    std::shared_ptr<Executor> default_executor;
    /// Called on each loop's thread with (loop, index) after the loop is made
    /// and before it runs, e.g. to set an exception handler. An exception
    /// makes the constructor throw it. Tokio: `on_thread_start`.
    std::function<void(EventLoop&, std::size_t)> on_thread_start;
    /// Called on each loop's thread once every task of the loop has finished,
    /// just before the loop closes. Tokio: `on_thread_stop`.
    std::function<void(EventLoop&, std::size_t)> on_thread_stop;
};

/// N event loops, each running on its own thread ("corio-loop-<i>") from
/// construction until join(). Other threads reach a loop through its
/// thread-safe entry points (call_soon_threadsafe, run_coroutine_threadsafe)
/// and tasks reach other loops with submit_to(). No asyncio counterpart (one
/// process per core with reuse_port is the Python pattern); Seastar:
/// `smp` / `sharded<>`, Tokio: the multi-thread `Runtime`.
///
/// Shutdown never hangs on the group's own account and leaks no task: join()
/// cancels every task still pending on every loop and waits for them (while
/// all loops still run, so cross-loop calls made during the unwinding still
/// work), then closes the loops on their threads and shuts the shared
/// executor down once. A task that swallows its cancellation and keeps
/// waiting delays join() as it delays asyncio.run().
class LoopGroup {
public:
    /// Starts the threads and their loops; returns once every loop runs.
    /// Throws std::system_error if a thread cannot be started or pinned, and
    /// what on_thread_start threw (the threads started are stopped first).
    explicit LoopGroup(LoopGroupOptions options = {});
    LoopGroup(const LoopGroup&) = delete;
    LoopGroup& operator=(const LoopGroup&) = delete;
    /// join(); reports (to stderr) what join() would throw. Aborts when
    /// called on one of the group's own loops, which could never finish.
    ~LoopGroup();

    /// The number of loops.
    std::size_t size() const noexcept;
    /// Loop `i` (0 <= i < size()), for its thread-safe methods, submit_to()
    /// and run_coroutine_threadsafe(). Valid until join(). Throws
    /// std::out_of_range for a bad index, RuntimeError after join().
    EventLoop& loop(std::size_t i) const;
    /// Every loop, in index order (see loop()).
    std::vector<EventLoop*> loops() const;
    /// The index of `loop` in the group, or nullopt if it is not one of its
    /// loops (e.g. `group.index_of(corio::get_running_loop())`).
    std::optional<std::size_t> index_of(const EventLoop& loop) const noexcept;
    /// The default executor every loop shares (run_in_executor(nullptr, ...),
    /// to_thread, getaddrinfo): one pool for the group, not one per loop.
    Executor& executor() const noexcept;

    /// Runs one main per loop and waits for all of them: `make_main(loop, i)`
    /// is called on loop i's own thread (the N calls run concurrently; it
    /// must be safe to call so) and returns the Task<T> run there as a task.
    /// Returns the N results in loop order (nothing for T = void). Blocks the
    /// calling thread, which must not run an event loop (RuntimeError, as
    /// corio::run()).
    ///
    /// When a main fails, the group cancels the others and, once they are
    /// all done, run() rethrows the first failure; a later failure of another
    /// main goes to its loop's exception handler. stop() and signals cancel
    /// every main too. A main that catches the cancellation and returns
    /// counts as returned. Throws, when not every main returned: the first
    /// failure (other than CancelledError); else KeyboardInterrupt if SIGINT
    /// stopped the group; else the first CancelledError (stop(), SIGTERM).
    /// After the mains, every task left on any loop is cancelled and awaited
    /// (asyncio.run's epilogue, across the group); the loops keep running
    /// for the next run(). Throws RuntimeError if a run() is in progress or
    /// the group was stopped.
    ///
    /// Signals: with handle_signals, while run() runs, every loop has a
    /// handler for SIGINT and SIGTERM (if their action was the default one):
    /// the first signal cancels every main (as corio::run does for SIGINT);
    /// a second one (SIGINT or SIGTERM) while the mains are still unwinding
    /// ends the process by that signal's default action, as an unhandled
    /// Ctrl-C would. The default actions are back when run() returns.
    ///
    /// Cancellation: none (it is not a coroutine); use stop().
    ///
    /// Why a factory rather than N ready-made tasks: a coroutine's frame is
    /// allocated by the thread that calls the coroutine function (corio's
    /// per-thread frame allocator), and a main usually needs its loop and
    /// index to set up per-loop state; calling make_main on each loop's
    /// thread gives both (Seastar's `smp::invoke_on_all` does the same).
    /// make_main lives until run() returns, so a coroutine lambda that
    /// captures by reference is safe here.
    template <class F>
    auto run(F make_main);

    /// Cancels every main of a run() in progress (and those about to start)
    /// and makes later run() calls throw RuntimeError. Thread-safe, callable
    /// from the group's own loops; returns at once. Tasks other than the
    /// mains are cancelled by run()'s epilogue or by join().
    void stop() noexcept;
    /// stop(), waits for a run() in progress, cancels and awaits every task
    /// left on every loop, closes the loops on their threads, ends the
    /// threads and shuts the default executor down (waiting for its work).
    /// Idempotent; concurrent calls wait for the first. Throws RuntimeError
    /// when called from one of the group's loops (it would wait for itself).
    void join();

private:
    struct Shard;
    struct RunState;
    struct Impl;

    using MainFactory = detail::Function<Task<void>(EventLoop&, std::size_t)>;
    void run_mains(MainFactory make_main);

    std::unique_ptr<Impl> impl_;
};

namespace detail {

// run()'s wrapper around a main returning a value: stores it into `out`
// (written on the main's loop, read by run() after every main is done).
template <class T>
Task<void> store_main_result(Task<T> main, std::optional<T>* out) {
    T value = co_await std::move(main);
    out->emplace(std::move(value));
}

template <class F>
using main_task_t = std::invoke_result_t<F&, EventLoop&, std::size_t>;

}  // namespace detail

template <class F>
auto LoopGroup::run(F make_main) {
    using MainTask = detail::main_task_t<F>;
    using T = typename MainTask::value_type;
    static_assert(std::is_same_v<MainTask, Task<T>>,
                  "LoopGroup::run: make_main(loop, index) must return a corio::Task");
    if constexpr (std::is_void_v<T>) {
        run_mains([&make_main](EventLoop& loop, std::size_t i) { return make_main(loop, i); });
    } else {
        std::vector<std::optional<T>> values(size());
        run_mains([&make_main, &values](EventLoop& loop, std::size_t i) {
            return detail::store_main_result(make_main(loop, i), &values[i]);
        });
        std::vector<T> out;
        out.reserve(values.size());
        for (std::optional<T>& v : values) {
            out.push_back(std::move(*v));
        }
        return out;
    }
}

/// Runs `make_main` on a new LoopGroup (see LoopGroup::run), then joins the
/// group: one loop per core by default, `options` for the rest. Returns the
/// mains' results in loop order, or throws as LoopGroup::run. The
/// many-threads counterpart of corio::run() (asyncio.run); Seastar:
/// `app_template::run` with `smp::invoke_on_all`.
template <class F>
auto run_per_core(F make_main, LoopGroupOptions options = {}) {
    LoopGroup group(std::move(options));
    return group.run(std::move(make_main));
}

namespace detail {

// submit_to()'s awaiter: starts the coroutine on the target loop when
// awaited (start_threadsafe, the bridge run_coroutine_threadsafe uses too)
// and sleeps until the outcome comes back through the caller loop's
// thread-safe entry, counted as external work so that the caller's loop
// neither jumps virtual time nor closes while it is out.
//
// Ownership: the SubmitLink is made at suspension; the remote side fills
// it and posts it to the caller's loop (SubmitSink, exactly once, see
// remote_task.hpp), whose item frees it. The awaiter and the link point at
// each other; both are touched on the caller's loop thread only (the remote
// side touches the link before posting it), and whichever goes first
// unhooks the other.
template <class T>
class SubmitAwaiter;

template <class T>
struct SubmitLink {
    explicit SubmitLink(EventLoop& caller) noexcept : loop(&caller) {}

    EventLoop* loop;                      // the caller's
    SubmitAwaiter<T>* awaiter = nullptr;  // null once the awaiter is gone
    RemoteOutcome<T> outcome;

    static void complete(void* p, bool run) noexcept;
};

template <class T>
class SubmitSink {
public:
    explicit SubmitSink(SubmitLink<T>* link) noexcept : link_(link) {}
    SubmitSink(SubmitSink&& o) noexcept : link_(std::exchange(o.link_, nullptr)) {}
    SubmitSink& operator=(SubmitSink&&) = delete;
    // Any thread: never delivered (the remote side was dropped): cancelled.
    ~SubmitSink() {
        if (link_ != nullptr) {
            RemoteOutcome<T> out;
            out.cancelled = true;
            deliver(std::move(out));
        }
    }

    void deliver(RemoteOutcome<T>&& out) noexcept {
        SubmitLink<T>* link = std::exchange(link_, nullptr);
        link->outcome = std::move(out);
        ReadyItem item{&SubmitLink<T>::complete, static_cast<void*>(link)};
        // Cannot fail: the caller's loop waits for its external work before
        // it stops accepting items.
        LoopAccess::post_threadsafe(*link->loop, &item, 1);
    }

private:
    SubmitLink<T>* link_;
};

template <class T>
class SubmitAwaiter : public Waiter {
public:
    SubmitAwaiter(EventLoop& target, Task<T> coro) : target_(&target), coro_(std::move(coro)) {}
    SubmitAwaiter(SubmitAwaiter&&) noexcept = default;  // before it is awaited only
    SubmitAwaiter& operator=(SubmitAwaiter&&) = delete;
    // Destroyed while the remote task runs (the awaiting task was destroyed
    // by a closing loop): asks the remote task to stop.
    ~SubmitAwaiter() {
        if (link_ != nullptr) {
            link_->awaiter = nullptr;
            cancel_threadsafe(bridge_, *target_, {});
        }
    }

    bool await_ready() const noexcept { return false; }

    void await_suspend(std::coroutine_handle<> h) {
        TaskState& t = current_task();
        EventLoop& here = t.loop();
        auto* link = new SubmitLink<T>(here);
        LoopAccess::begin_external_work(here);
        // On RuntimeError (a closed target) the dropped sink has posted the
        // link, which nobody waits for: it just ends the external work.
        bridge_ = start_threadsafe(std::move(coro_), *target_, SubmitSink<T>(link));
        link->awaiter = this;
        link_ = link;
        on_cancel = [](Waiter* w) {
            auto* self = static_cast<SubmitAwaiter*>(w);
            // Forward and keep waiting: the remote task's outcome is ours.
            cancel_threadsafe(self->bridge_, *self->target_, self->task->cancel_message());
            return true;
        };
        suspend(t, h);
    }

    T await_resume() {
        check_cancelled();
        if (outcome_.error) {
            std::rethrow_exception(std::exchange(outcome_.error, nullptr));
        }
        if (outcome_.cancelled) {
            throw CancelledError(std::move(outcome_.cancel_message));
        }
        if constexpr (!std::is_void_v<T>) {
            return std::move(*outcome_.value);
        }
    }

private:
    friend struct SubmitLink<T>;

    EventLoop* target_;
    Task<T> coro_;
    std::shared_ptr<ThreadsafeBridge> bridge_;
    SubmitLink<T>* link_ = nullptr;
    RemoteOutcome<T> outcome_;
};

template <class T>
void SubmitLink<T>::complete(void* p, bool run) noexcept {
    std::unique_ptr<SubmitLink> self(static_cast<SubmitLink*>(p));
    LoopAccess::end_external_work(*self->loop);
    if (SubmitAwaiter<T>* a = self->awaiter) {
        a->link_ = nullptr;
        a->outcome_ = std::move(self->outcome);
        if (run) {
            a->wake();
        }
    }
}

}  // namespace detail

/// Runs `coro` as a task on `target` - another loop of a LoopGroup, or any
/// loop running in another thread - and, awaited from a task, suspends until
/// that task finishes; returns its result or rethrows its exception on the
/// caller's loop. Lazy: nothing is submitted until it is awaited. Cancelling
/// the awaiting task cancels the remote task and keeps waiting for it, as
/// awaiting a TaskHandle does: the caller sees CancelledError (or the value,
/// if the remote task swallowed the cancellation) once the remote task is
/// done. If `target` closes before the task finishes, the caller gets
/// CancelledError. Throws RuntimeError when awaited outside a task or when
/// `target` is closed, and for an empty Task. From a plain thread, use
/// run_coroutine_threadsafe(). Seastar: `smp::submit_to`; asyncio has no
/// counterpart (`wrap_future(run_coroutine_threadsafe(coro, loop))` comes
/// closest, but its cancellation does not wait for the remote task).
template <class T>
detail::SubmitAwaiter<T> submit_to(EventLoop& target, Task<T> coro) {
    if (!coro) {
        throw RuntimeError(
            "cannot reuse already awaited coroutine (submit_to: coro is an empty Task)");
    }
    return detail::SubmitAwaiter<T>(target, std::move(coro));
}

}  // namespace corio
