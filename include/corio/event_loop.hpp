// corio/event_loop.hpp - the event loop: ready queue, timers, I/O readiness,
// the thread-safe entry, exception handling and debug mode.
//
// Mirrors asyncio's events.py / base_events.py. One loop per thread; every
// method is for the loop's own thread unless it says "thread-safe". See
// docs/event-loop.md for the order of one iteration.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>

#include "corio/contextvars.hpp"
#include "corio/detail/callback.hpp"
#include "corio/detail/frame_allocator.hpp"
#include "corio/detail/intrusive_list.hpp"
#include "corio/detail/ready_queue.hpp"

namespace corio {

class EventLoop;
template <class T>
class Task;
template <class T>
class TaskHandle;
template <class T>
class Future;
class Executor;

/// The loop's clock: monotonic, nanosecond resolution. Under virtual time
/// (LoopOptions::virtual_time) loop.time() starts at TimePoint{} and jumps to
/// the next timer whenever the loop is idle.
using Clock = std::chrono::steady_clock;
using Duration = std::chrono::nanoseconds;
using TimePoint = std::chrono::time_point<Clock, Duration>;

namespace detail {

class TaskState;
class FutureBase;
class HandleImpl;
class LoopImpl;
struct LoopAccess;
struct GraphAccess;
struct WorkItem;
struct IoState;
class Backend;

/// A timer in the loop's heap. `index` is its heap slot (kNotQueued when out
/// of the heap); `fire` runs on the loop thread when `when` has passed.
struct TimerNode {
    static constexpr std::uint32_t kNotQueued = ~std::uint32_t{0};
    /// A `when` that never comes (TimePoint::max()): add_timer leaves such a
    /// node out of the heap, so it never fires, not even under virtual time.
    static constexpr std::int64_t kNever = INT64_MAX;
    std::int64_t when = 0;  // loop time, ns
    std::uint64_t seq = 0;  // FIFO order among equal deadlines
    std::uint32_t index = kNotQueued;
    void (*fire)(TimerNode*) = nullptr;

    bool queued() const noexcept { return index != kNotQueued; }
};

/// Work a feature wants done once at the end of the current iteration: after
/// the ready callbacks ran, before the loop polls again. Write coalescing
/// (every write of an iteration leaves in one syscall) and the executors'
/// batching (one hand-off per executor per iteration) use it. Queued with
/// LoopAccess::at_end_of_iteration. A hook may queue itself (or others)
/// again while it runs: they run in the same phase. close() runs the hooks
/// still queued as the end of the last iteration; one queued after that,
/// while the loop tears down, gets `run` = false.
struct IterationHook : ListNode {
    void (*run)(IterationHook* self, bool run) noexcept = nullptr;
};

/// An async generator that was started on a loop and has not finished: the
/// loop's registry of them lets shutdown_asyncgens() close them all, and a
/// generator dropped while suspended is closed by a task of its loop
/// (asyncio's firstiter / finalizer hooks). Lives in the generator's
/// promise; the loop thread only.
struct AsyncGenNode : ListNode {
    EventLoop* loop = nullptr;  // the loop it is registered on (null when not)
    bool orphaned = false;      // its AsyncGenerator is gone: the registry owns the frame
    bool running = false;       // a task is inside the generator (next, athrow, aclose)
    bool started = false;       // it was resumed once
    const char* func = "";      // the generator function, for reports
    // Throws GeneratorExit in at the co_yield and runs the generator to its
    // end; the task returns true if it yielded instead (an error). The frame
    // is not destroyed.
    Task<bool> (*close)(AsyncGenNode* self) = nullptr;
    // Destroys the frame (the node goes with it).
    void (*destroy)(AsyncGenNode* self) noexcept = nullptr;
};

// The loop running on this thread, and the task it is running right now.
inline thread_local EventLoop* tls_running_loop = nullptr;
inline thread_local TaskState* tls_current_task = nullptr;

}  // namespace detail

/// A callback scheduled with call_soon() / call_soon_threadsafe(). Copies share
/// the callback. asyncio: `asyncio.Handle`.
class Handle {
public:
    Handle() noexcept = default;
    explicit Handle(detail::HandleImpl* impl) noexcept : impl_(impl) {}
    Handle(const Handle& other) noexcept;
    Handle(Handle&& other) noexcept : impl_(std::exchange(other.impl_, nullptr)) {}
    Handle& operator=(Handle other) noexcept {
        std::swap(impl_, other.impl_);
        return *this;
    }
    ~Handle();

    /// Prevents the callback from running if it has not run yet. Idempotent.
    /// For a TimerHandle, call it on the loop's thread.
    void cancel();
    /// True once cancel() was called.
    bool cancelled() const noexcept;
    explicit operator bool() const noexcept { return impl_ != nullptr; }

protected:
    detail::HandleImpl* impl_ = nullptr;
};

/// A callback scheduled with call_later() / call_at(). cancel() removes it
/// from the timer heap at once (O(log n)); nothing is left to skip later.
/// asyncio: `asyncio.TimerHandle`.
class TimerHandle : public Handle {
public:
    using Handle::Handle;
    /// The loop time at which the callback is (or was) due.
    TimePoint when() const noexcept;
};

/// What went wrong, passed to the exception handler. asyncio's context dict.
struct ExceptionContext {
    std::string message;           // always set
    std::exception_ptr exception;  // may be null
    std::string task;              // name of the task involved, if any
    std::string source;            // "function (file:line)" where it was created, if known
};

using ExceptionHandler = std::function<void(EventLoop&, const ExceptionContext&)>;

/// Options for a new loop.
/// The loop's I/O backend (see docs/event-loop.md).
enum class BackendKind : std::uint8_t {
    /// The environment variable CORIO_BACKEND (epoll or io_uring) decides;
    /// unset, corio's default (the faster one on the echo benchmark, W5).
    automatic,
    /// Readiness: epoll, edge-triggered, syscalls tried at once.
    epoll,
    /// Completions: io_uring, one batched submit-and-wait per iteration.
    /// Where io_uring is unavailable or refused (old kernel, io_uring
    /// disabled by sysctl or seccomp, RLIMIT_MEMLOCK, corio built without
    /// liburing) the loop falls back to epoll and says why in debug mode.
    io_uring,
};

struct LoopOptions {
    /// Virtual time: when nothing is ready, no I/O is pending and no executor
    /// work is outstanding, the clock jumps to the next timer. For tests. The
    /// environment variable CORIO_VIRTUAL_TIME=1 turns it on for every loop
    /// (to test whole programs, such as the examples).
    bool virtual_time = false;
    /// Debug mode; unset means the environment variable CORIO_DEBUG=1 decides.
    std::optional<bool> debug;
    /// The I/O backend.
    BackendKind backend = BackendKind::automatic;
};

/// The event loop. Not copyable or movable; one loop runs per thread at a time.
/// asyncio: `asyncio.AbstractEventLoop` / `BaseEventLoop`.
class EventLoop {
public:
    EventLoop();
    explicit EventLoop(LoopOptions options);
    EventLoop(const EventLoop&) = delete;
    EventLoop& operator=(const EventLoop&) = delete;
    /// Closes the loop if it is not closed (see close()).
    ~EventLoop();

    // -- Scheduling callbacks -------------------------------------------------

    /// Schedules `cb` to run on the next iteration, after the callbacks already
    /// ready (FIFO). `cb` runs in a copy of the context current now (see
    /// contextvars.hpp), or in `context` when given. Throws RuntimeError if
    /// the loop is closed. An exception thrown by `cb` goes to the exception
    /// handler. asyncio: `loop.call_soon(cb, context=)`.
    Handle call_soon(detail::Callback cb);
    Handle call_soon(detail::Callback cb, const Context& context);

    /// Thread-safe call_soon(): may be called from any thread; wakes the loop
    /// if it is waiting for I/O. Wake-ups are batched: one eventfd write per
    /// sleep of the loop, however many callbacks arrive. `cb` runs in a copy
    /// of the calling thread's current context (so a coroutine submitted with
    /// run_coroutine_threadsafe, or a call from another loop, sees the
    /// caller's context variables), or in `context`. Throws RuntimeError if
    /// the loop is closed. asyncio: `loop.call_soon_threadsafe`.
    Handle call_soon_threadsafe(detail::Callback cb);
    Handle call_soon_threadsafe(detail::Callback cb, const Context& context);

    /// Schedules `cb` after `delay`. Throws std::invalid_argument if `delay`
    /// is negative (asyncio would run it at once; corio treats it as a bug).
    /// A delay beyond the clock's range (Duration::max()) saturates to
    /// "never": the handle exists and can be cancelled, `cb` never runs, and
    /// no timer is kept (asyncio: `call_later(math.inf, cb)`). The context is
    /// call_soon()'s. asyncio: `loop.call_later`.
    template <class Rep, class Period>
    TimerHandle call_later(std::chrono::duration<Rep, Period> delay, detail::Callback cb) {
        return call_later_ns(std::chrono::duration_cast<Duration>(delay), std::move(cb),
                             detail::capture_context());
    }
    template <class Rep, class Period>
    TimerHandle call_later(std::chrono::duration<Rep, Period> delay, detail::Callback cb,
                           const Context& context) {
        return call_later_ns(std::chrono::duration_cast<Duration>(delay), std::move(cb),
                             context.ref());
    }

    /// Schedules `cb` at loop time `when` (see time()). A time in the past runs
    /// it on the next iteration; TimePoint::max() never comes (no timer is
    /// kept). The context is call_soon()'s. asyncio: `loop.call_at`.
    TimerHandle call_at(TimePoint when, detail::Callback cb);
    TimerHandle call_at(TimePoint when, detail::Callback cb, const Context& context);

    /// The loop's monotonic clock (virtual under LoopOptions::virtual_time).
    /// asyncio: `loop.time()`.
    TimePoint time() const noexcept;

    // -- Running and stopping -------------------------------------------------

    /// Runs until stop() is called. Throws RuntimeError if the loop is closed
    /// or already running, or if another loop runs on this thread.
    /// asyncio: `loop.run_forever`.
    void run_forever();

    /// Runs until `main` (a lazy Task, scheduled as a task here) finishes and
    /// returns its result or rethrows its exception. Throws RuntimeError if the
    /// loop stopped first. Defined in task.hpp. asyncio: `loop.run_until_complete`.
    template <class T>
    T run_until_complete(Task<T> main);
    /// Runs until the task finishes; returns its result or rethrows.
    template <class T>
    T run_until_complete(TaskHandle<T> task);
    /// Runs until the future is done; returns its result or rethrows.
    template <class T>
    T run_until_complete(Future<T> future);

    /// Stops run_forever() after the current iteration. Called before
    /// run_forever(), makes it run one iteration. asyncio: `loop.stop`.
    void stop() noexcept;
    bool is_running() const noexcept { return running_; }
    bool is_closed() const noexcept { return closed_; }

    /// Closes the loop: drops every pending callback and timer, destroys every
    /// task still pending (reporting "Task was destroyed but it is pending!"),
    /// and releases the I/O backend. Idempotent. Throws RuntimeError if the
    /// loop is running. asyncio: `loop.close`.
    void close();

    /// Closes every async generator that was started on this loop and has not
    /// finished, concurrently, as aclose() does: GeneratorExit is thrown in at
    /// its co_yield and its cleanup runs, awaits included. Errors (and a
    /// generator that yields again) go to the exception handler. run() and
    /// Runner call it after cancelling the leftover tasks. Suspends until
    /// every generator is closed. asyncio: `loop.shutdown_asyncgens()`.
    Task<void> shutdown_asyncgens();

    /// Runs one iteration: poll I/O, move due timers and thread-safe callbacks
    /// to the ready queue, run what was ready. `block` = false never waits.
    /// Outside run_forever() it marks the loop running for the iteration. For
    /// tests (corio::testing::TestLoop) and for driving the loop from another
    /// framework. Throws RuntimeError if the loop is closed.
    void run_once(bool block = true);

    // -- Tasks ----------------------------------------------------------------

    /// Wraps `coro` in a task scheduled on this loop (see corio::create_task).
    template <class T>
    TaskHandle<T> create_task(Task<T> coro, std::string name = {});
    /// The same, running the task in `context` (shared, not copied).
    template <class T>
    TaskHandle<T> create_task(Task<T> coro, std::string name, const Context& context);

    // -- Executors (defined in threads.hpp) -----------------------------------

    /// Runs `f(args...)` on `executor` (null: the loop's default executor, a
    /// ThreadPoolExecutor made on first use) and returns a Future for its
    /// result; the work is handed over with the rest of this iteration's in
    /// one batch. Exceptions thrown by `f` reach the awaiter with their type.
    /// Cancelling the Future (or the task awaiting it) keeps the call from
    /// starting if it has not yet; a running call finishes and its result is
    /// dropped. `f` runs in the worker thread's own context, not the
    /// caller's (asyncio's difference with to_thread). Throws RuntimeError if
    /// the executor is shut down. asyncio: `loop.run_in_executor`.
    template <class F, class... Args>
    auto run_in_executor(Executor* executor, F&& f, Args&&... args);
    /// Makes `executor` the default one (shared: run() shuts it down at the
    /// end). asyncio: `loop.set_default_executor`.
    void set_default_executor(std::shared_ptr<Executor> executor);

    // -- File descriptors -----------------------------------------------------

    /// Runs `cb` whenever `fd` is readable, until remove_reader(fd); replaces a
    /// previous reader of `fd`. Throws std::system_error if the fd cannot be
    /// watched (e.g. a regular file). asyncio: `loop.add_reader`.
    void add_reader(int fd, detail::Callback cb);
    /// Stops watching `fd` for reading; false if it was not watched.
    bool remove_reader(int fd);
    /// Like add_reader(), for writability. asyncio: `loop.add_writer`.
    void add_writer(int fd, detail::Callback cb);
    /// Stops watching `fd` for writing; false if it was not watched.
    bool remove_writer(int fd);

    // -- Signals --------------------------------------------------------------

    /// Runs `cb` (through the ready queue, on this loop) whenever signal
    /// `sig` arrives, instead of its default action; replaces this loop's
    /// previous handler for `sig`. Signals are process-wide: when several
    /// loops (in several threads) have a handler for `sig`, each delivery
    /// runs every one of them, each on its own loop. Throws
    /// std::invalid_argument for an invalid signal or SIGKILL/SIGSTOP.
    /// asyncio: `loop.add_signal_handler` (one handler per signal per loop).
    void add_signal_handler(int sig, detail::Callback cb);
    /// Removes this loop's handler for `sig`; once no loop has one, the
    /// signal's default action is back. False if this loop had no handler
    /// for it. asyncio: `loop.remove_signal_handler`.
    bool remove_signal_handler(int sig);

    // -- Errors ---------------------------------------------------------------

    /// Replaces the exception handler; an empty function restores the default.
    /// asyncio: `loop.set_exception_handler`.
    void set_exception_handler(ExceptionHandler handler);
    const ExceptionHandler& get_exception_handler() const noexcept { return handler_; }
    /// Passes `ctx` to the handler (the default one if none is set). If the
    /// handler throws, the default handler reports both. Never throws.
    /// asyncio: `loop.call_exception_handler`.
    void call_exception_handler(const ExceptionContext& ctx) noexcept;
    /// Writes `ctx` to stderr: the message, the task and where it was created,
    /// and the exception's type and what(), after its chain of causes (see
    /// exception_cause()), each followed by Python's "The above exception was
    /// the direct cause of the following exception:". asyncio:
    /// `loop.default_exception_handler`.
    static void default_exception_handler(const ExceptionContext& ctx) noexcept;

    // -- Debug ----------------------------------------------------------------

    /// Debug mode: warns on callbacks slower than slow_callback_duration, on
    /// tasks destroyed while pending and on coroutines never awaited.
    /// asyncio: `loop.set_debug`.
    void set_debug(bool enabled) noexcept { debug_ = enabled; }
    bool get_debug() const noexcept { return debug_; }
    /// Threshold for the slow-callback warning (default 100 ms).
    Duration slow_callback_duration = std::chrono::milliseconds(100);

    bool virtual_time() const noexcept { return virtual_time_; }
    /// The backend the loop runs on: "epoll" or "io_uring".
    const char* backend_name() const noexcept;

private:
    friend struct detail::LoopAccess;

    TimerHandle call_later_ns(Duration delay, detail::Callback cb, detail::ContextRef context);
    Handle call_soon_in(detail::Callback cb, detail::ContextRef context);
    Handle call_soon_threadsafe_in(detail::Callback cb, detail::ContextRef context);
    TimerHandle call_at_in(TimePoint when, detail::Callback cb, detail::ContextRef context);
    void check_open() const;
    // run_until_complete's body: runs until `s` is done (RuntimeError if the
    // loop stopped first).
    void run_until_done(detail::FutureBase& s);
    void iterate(bool block);
    int poll_io(std::int64_t timeout);
    void poll_virtual_time();
    void drain_incoming();
    void dispatch_ready();
    void set_fd_callback(int fd, bool writer, detail::Callback* cb);
    void remove_all_signal_handlers() noexcept;
    // RuntimeError if the loop is closed, running, or another loop runs here.
    void check_can_run();
    void enter_running();
    void leave_running() noexcept;

    // Hot state lives here; the rest (timers, backend, thread-safe queue, fd
    // table, task list) lives in impl_.
    detail::ReadyQueue ready_;
    std::unique_ptr<detail::LoopImpl> impl_;
    ExceptionHandler handler_;
    bool running_ = false;
    bool stopping_ = false;
    bool closed_ = false;
    bool debug_ = false;
    bool virtual_time_ = false;
};

/// The loop running on the calling thread. Throws RuntimeError("no running
/// event loop") when there is none. asyncio: `asyncio.get_running_loop`.
EventLoop& get_running_loop();

namespace detail {

// Internal entry points for corio's own awaitables. Loop thread only.
struct LoopAccess {
    static void post(EventLoop& loop, void (*fn)(void*, bool), void* arg) {
        loop.ready_.push(fn, arg);
    }
    // call_soon() running `cb` in `context` (null: an empty context).
    static Handle call_soon_in(EventLoop& loop, Callback cb, ContextRef context) {
        return loop.call_soon_in(std::move(cb), std::move(context));
    }
    static std::int64_t now_ns(const EventLoop& loop) noexcept;
    // Queues `node` in the heap, unless node.when is TimerNode::kNever.
    static void add_timer(EventLoop& loop, TimerNode& node);
    static void remove_timer(EventLoop& loop, TimerNode& node) noexcept;
    // Thread-safe: true when `loop` is running on another thread, or is not
    // running and was created on another thread; then its tasks must be
    // reached through post_threadsafe.
    static bool belongs_to_other_thread(const EventLoop& loop) noexcept;
    // Thread-safe: true while some thread runs the loop.
    static bool running_anywhere(const EventLoop& loop) noexcept;
    static void link_task(EventLoop& loop, TaskState& task) noexcept;
    static void unlink_task(EventLoop& loop, TaskState& task) noexcept;
    static TaskState* first_task(EventLoop& loop) noexcept;
    // Thread-safe: queues ready items for the loop (one lock, at most one
    // wake-up); false if the loop is closed, and then the items were not taken.
    static bool post_threadsafe(EventLoop& loop, const ReadyItem* items, std::size_t n);
    // Queues `hook` to run at the end of this iteration (once, however often
    // it is queued before it runs). Also runs hooks queued outside an
    // iteration, at the start of the next one.
    static void at_end_of_iteration(EventLoop& loop, IterationHook& hook) noexcept;
    // Queues `item` for `executor`: each executor gets the items of one
    // iteration in a single batch (one lock, one wake-up) at the end of the
    // iteration, instead of one hand-off per call (W8). Defined with the
    // executors (an end-of-iteration hook): the loop knows none.
    static void queue_work(EventLoop& loop, Executor& executor, WorkItem& item);
    // The loop's default executor (made by threads.hpp on first use).
    static std::shared_ptr<Executor>& default_executor(EventLoop& loop) noexcept;
    // The async generators started on the loop and not finished.
    static IntrusiveList<AsyncGenNode>& asyncgens(EventLoop& loop) noexcept;
    // Work handed to another thread whose completion will come back through
    // post_threadsafe: virtual time does not jump while any is outstanding,
    // and close() waits for it.
    static void begin_external_work(EventLoop& loop) noexcept;
    static void end_external_work(EventLoop& loop) noexcept;
    // What the loop still holds, for teardown checks in tests.
    struct Census {
        std::size_t tasks, timers, ready, watched_fds;
    };
    static Census census(const EventLoop& loop) noexcept;
    // Registers `st.fd` with the loop's backend (src/core/io.hpp). Throws
    // std::system_error, or RuntimeError if the loop is closed.
    static void io_register(EventLoop& loop, IoState& st);
    // Forgets `st.fd` (call before closing the fd): operations still in
    // progress on it end with -EBADF.
    static void io_unregister(IoState& st) noexcept;
    // The loop's I/O backend (src/core/backend.hpp).
    static Backend& backend(EventLoop& loop) noexcept;
    // Virtual time only: a loop that would then wait forever - nothing ready,
    // no timer, no watched fd, no outstanding executor work - throws
    // RuntimeError("deadlock ...") instead. Tests turn this on.
    static void fail_on_deadlock(EventLoop& loop, bool on) noexcept;
    // Virtual time only: moves the clock forward by `d`.
    static void advance_virtual_time(EventLoop& loop, Duration d);
};

/// The running loop, or throws RuntimeError naming `what` needed it.
EventLoop& running_loop_for(const char* what);
/// Throws std::invalid_argument naming `what` if `d` is negative; returns `d`.
Duration checked_delay(Duration d, const char* what);
/// The deadline `now + d`, saturated: TimePoint::max() when the sum would
/// overflow, and for d == Duration::max(). A deadline of TimePoint::max()
/// means "never": no timer is armed for it (a timer there would fire under
/// virtual time, which jumps to the next timer).
inline TimePoint deadline_after(TimePoint now, Duration d) noexcept {
    if (d.count() > 0 && now.time_since_epoch().count() > Duration::max().count() - d.count()) {
        return TimePoint::max();
    }
    return now + d;
}
/// Reports `ctx` to `loop`'s handler if that loop is still alive on this
/// thread, else to the default handler.
void report(EventLoop* loop, const ExceptionContext& ctx) noexcept;
/// "Task 'name'" or "callback", for debug-mode reports.
std::string describe_ready_item(const ReadyItem& item);

}  // namespace detail

}  // namespace corio
