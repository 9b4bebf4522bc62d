// corio/task.hpp - coroutines and tasks: Task<T>, TaskHandle<T>,
// create_task, current_task, all_tasks, sleep.
//
// Mirrors asyncio's tasks.py (Task, create_task, current_task, all_tasks,
// sleep) and coroutines. `Task<T>` is what `async def f() -> T` is in Python:
// calling the function runs nothing; `co_await f()` runs it inline in the
// awaiting task (symmetric transfer, no loop round trip, no stack growth), and
// `create_task(f())` runs it concurrently as a new task.
#pragma once

#include <coroutine>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "corio/detail/future_state.hpp"
#include "corio/errors.hpp"
#include "corio/event_loop.hpp"

namespace corio {

template <class T = void>
class Task;
template <class T = void>
class TaskHandle;

namespace detail {

/// Where a coroutine was created; filled in by the compiler at the call.
struct SourceLoc {
    const char* func = "";
    std::uint32_t line = 0;
    static constexpr SourceLoc current(const char* func = __builtin_FUNCTION(),
                                       std::uint32_t line = __builtin_LINE()) noexcept {
        return {func, line};
    }
};

// A name (the low 48 bits: x86-64 and AArch64 user addresses fit) and a line
// (the top 16) packed in one word: every byte of a frame counts (W1).
inline std::uintptr_t pack_site(const char* name, std::uint32_t line) noexcept {
    return reinterpret_cast<std::uintptr_t>(name) |
           (std::uintptr_t{line < 0xffff ? line : 0xffff} << 48);
}
inline const char* site_name(std::uintptr_t site) noexcept {
    return reinterpret_cast<const char*>(site & ((std::uintptr_t{1} << 48) - 1));
}
inline std::uint32_t site_line(std::uintptr_t site) noexcept {
    return static_cast<std::uint32_t>(site >> 48);
}

#if defined(CORIO_AWAIT_LOCATIONS)
/// Where a co_await is, filled in by the compiler (await locations mode).
struct AwaitSite {
    std::uintptr_t packed;
    static AwaitSite current(const char* file = __builtin_FILE(),
                             std::uint32_t line = __builtin_LINE()) noexcept {
        return {pack_site(file, line)};
    }
};

/// What await_transform hands back in await locations mode: the awaiter of
/// the co_await's operand (made by its operator co_await, or the operand
/// itself, by reference), forwarded as is. Returned as a prvalue built in
/// place, so no awaiter is ever copied or moved (GCC 12 copies an awaiter
/// returned as a reference).
template <class Aw>
struct Located {
    Aw aw;
    decltype(auto) await_ready() { return aw.await_ready(); }
    template <class H>
    decltype(auto) await_suspend(H h) {
        return aw.await_suspend(h);
    }
    decltype(auto) await_resume() { return aw.await_resume(); }
};
#endif

// Warns (debug mode) about a coroutine destroyed before it ever ran.
void report_never_awaited(const SourceLoc& where) noexcept;
// Throws asyncio's RuntimeError("cannot reuse already awaited coroutine"),
// naming `what` was given an empty or already awaited Task.
[[noreturn]] void throw_reused_coroutine(const char* what);
// Throws InvalidStateError: `what` (e.g. "TaskHandle::done()") was called on
// an empty handle (default-constructed or moved from).
[[noreturn]] void throw_empty_handle(const char* what);
bool debug_enabled() noexcept;

// The promise part every corio coroutine (Task, AsyncGenerator) starts with,
// at the start of its promise: a task's await chain is walked from its
// innermost frame up through `continuation_` (graph.cpp), reading each
// frame's promise as a PromiseBase.
struct PromiseBase {
    // The coroutine's function and line, packed into one word (pack_site).
    explicit PromiseBase(SourceLoc loc) noexcept : where_(pack_site(loc.func, loc.line)) {}

    using InitialAwaiter = std::suspend_always;

    struct FinalAwaiter {
        bool await_ready() const noexcept { return false; }
        template <class P>
        std::coroutine_handle<> await_suspend(std::coroutine_handle<P> h) const noexcept {
            std::coroutine_handle<> next = h.promise().continuation_;
            return next ? next : std::noop_coroutine();
        }
        void await_resume() const noexcept {}
    };

    InitialAwaiter initial_suspend() noexcept { return {}; }
    FinalAwaiter final_suspend() noexcept { return {}; }
    void unhandled_exception() noexcept { exception_ = std::current_exception(); }

    static void* operator new(std::size_t size) { return frame_allocate(size); }
    static void operator delete(void* p, std::size_t size) noexcept { frame_deallocate(p, size); }

    SourceLoc location() const noexcept { return {site_name(where_), site_line(where_)}; }

#if defined(CORIO_AWAIT_LOCATIONS)
    // Await locations mode (CMake option CORIO_AWAIT_LOCATIONS, on in Debug
    // builds): every co_await records its file and line in `at_` (one store)
    // for get_stack(). It costs `at_` and a reference per co_await in every
    // frame: W1's task frame is 136 bytes with it, 112 without (GCC 12 -O2).
    template <class A>
    auto await_transform(A&& a, AwaitSite site = AwaitSite::current()) {
        at_ = site.packed;
        if constexpr (requires { std::forward<A>(a).operator co_await(); }) {
            return Located<decltype(std::forward<A>(a).operator co_await())>{
                std::forward<A>(a).operator co_await()};
        } else {
            return Located<std::remove_reference_t<A>&>{a};
        }
    }
    std::uintptr_t at_ = 0;  // the file and line of the last co_await (pack_site)
#endif

    std::coroutine_handle<> continuation_;  // the awaiting coroutine; null for a task's root
    std::exception_ptr exception_;
    std::uintptr_t where_;
};

template <class T>
struct Promise : PromiseBase {
    static_assert(!std::is_reference_v<T>, "Task<T&> is not supported; return a pointer");
    explicit Promise(SourceLoc loc = SourceLoc::current()) noexcept : PromiseBase(loc) {}
    Task<T> get_return_object() noexcept;

    template <class U = T>
    void return_value(U&& v) {
        value_.emplace(std::forward<U>(v));
    }
    T take() {
        if (exception_) {
            std::rethrow_exception(exception_);
        }
        return std::move(*value_);
    }
    T& ref() { return *value_; }

    std::optional<T> value_;
};

template <>
struct Promise<void> : PromiseBase {
    explicit Promise(SourceLoc loc = SourceLoc::current()) noexcept : PromiseBase(loc) {}
    Task<void> get_return_object() noexcept;
    void return_void() noexcept {}
    void take() {
        if (exception_) {
            std::rethrow_exception(exception_);
        }
    }
};

}  // namespace detail

/// A lazy coroutine returning T (void and move-only types included): the C++
/// spelling of `async def f() -> T`. Calling the coroutine function runs
/// nothing. `co_await` of the Task runs it inline in the awaiting task, by
/// symmetric transfer (a chain of a million nested awaits uses no stack), and
/// returns its value or rethrows its exception; this plain await never goes
/// through the loop and adds no cancellation point. To run it concurrently,
/// pass it to create_task(). A Task can be awaited once: awaiting it again,
/// or awaiting a Task that was moved out (into create_task(), say), throws
/// RuntimeError("cannot reuse already awaited coroutine"), as asyncio does, in
/// every build. It is move-only and destroying an unstarted Task destroys its
/// frame (debug mode warns that the coroutine was never awaited). Only corio
/// awaitables may be awaited inside.
template <class T>
class [[nodiscard]] Task {
public:
    using promise_type = detail::Promise<T>;
    using value_type = T;

    Task() noexcept = default;
    explicit Task(std::coroutine_handle<promise_type> h) noexcept : h_(h) {}
    Task(Task&& other) noexcept : h_(std::exchange(other.h_, nullptr)) {}
    Task& operator=(Task&& other) noexcept {
        if (this != &other) {
            destroy();
            h_ = std::exchange(other.h_, nullptr);
        }
        return *this;
    }
    Task(const Task&) = delete;
    Task& operator=(const Task&) = delete;
    ~Task() { destroy(); }

    /// False for a moved-from or default-constructed Task.
    explicit operator bool() const noexcept { return static_cast<bool>(h_); }

    struct Awaiter {
        std::coroutine_handle<promise_type> h;
        bool await_ready() const {
            // Empty (moved out) or already awaited: resuming it would run a
            // finished frame.
            if (!h || h.promise().continuation_) {
                detail::throw_reused_coroutine("co_await");
            }
            return false;
        }
        std::coroutine_handle<> await_suspend(std::coroutine_handle<> caller) noexcept {
            h.promise().continuation_ = caller;
            return h;
        }
        T await_resume() { return h.promise().take(); }
    };

    Awaiter operator co_await() && noexcept { return Awaiter{h_}; }
    Awaiter operator co_await() & noexcept { return Awaiter{h_}; }

    /// Gives up ownership of the frame (used by create_task).
    std::coroutine_handle<promise_type> release() noexcept { return std::exchange(h_, nullptr); }
    /// The frame, still owned (internal: awaiters that run a Task lazily).
    std::coroutine_handle<promise_type> handle() const noexcept { return h_; }

    /// True once the Task was awaited (it cannot be awaited or run again).
    bool awaited() const noexcept { return h_ && h_.promise().continuation_; }

private:
    void destroy() noexcept {
        if (h_) {
            // Never awaited: nobody became its continuation (create_task
            // releases the frame instead of destroying it).
            if (!h_.promise().continuation_ && detail::debug_enabled()) {
                detail::report_never_awaited(h_.promise().location());
            }
            h_.destroy();
            h_ = nullptr;
        }
    }

    std::coroutine_handle<promise_type> h_;
};

/// One frame of a task's await chain: a corio coroutine and where it is
/// suspended. Python: a frame of `Task.get_stack()`, asyncio's
/// `FrameCallGraphEntry`.
struct FrameInfo {
    /// The coroutine's function, as `__func__` names it, without template
    /// arguments ("operator()" for a lambda).
    std::string function;
    /// The line where the coroutine function begins.
    std::uint32_t defined_at = 0;
    /// The file and line of the co_await it is suspended at, in await
    /// locations mode (on in Debug builds: CMake option
    /// CORIO_AWAIT_LOCATIONS); else empty and 0.
    std::string file;
    std::uint32_t line = 0;
};

namespace detail {

template <class T>
Task<T> Promise<T>::get_return_object() noexcept {
    return Task<T>(std::coroutine_handle<Promise<T>>::from_promise(*this));
}
inline Task<void> Promise<void>::get_return_object() noexcept {
    return Task<void>(std::coroutine_handle<Promise<void>>::from_promise(*this));
}

/// Awaits a FutureBase (a task or a future) from a task; the typed wrappers
/// add the result. Cancelling the awaiting task forwards the cancel to the
/// awaited one (asyncio: `_fut_waiter.cancel()`), then keeps waiting for it.
struct FutureAwaiter : CompletionNode, Waiter {
    explicit FutureAwaiter(FutureBase* f) noexcept : fut(f) {}
    FutureAwaiter(const FutureAwaiter&) = delete;
    FutureAwaiter& operator=(const FutureAwaiter&) = delete;

    bool await_ready() const {
        if (fut == nullptr) {
            throw_empty_handle("co_await");
        }
        return fut->done();
    }
    void await_suspend(std::coroutine_handle<> h);
    // Its on_cancel and on_done (named: graph.cpp recognises them).
    static bool cancel_fn(Waiter* w);
    static void done_fn(CompletionNode* n, FutureBase& f);

    FutureBase* fut;
};

template <class T>
using result_ref_t = std::conditional_t<std::is_void_v<T>, void, std::add_lvalue_reference_t<T>>;

// TaskHandle::get_stack() and print_stack() (graph.cpp).
std::vector<FrameInfo> task_stack(const TaskState& t);
void print_task_stack(const TaskState& t, std::FILE* out);

// TaskHandle::cancel(): request_cancel() on the loop's thread (the usual
// case, inline), else cancel_elsewhere().
bool cancel_elsewhere(TaskState& t, std::string_view msg);
inline bool cancel_from_any_thread(TaskState& t, std::string_view msg) {
    if (tls_running_loop == &t.loop()) {
        return t.request_cancel(msg);
    }
    return cancel_elsewhere(t, msg);
}

}  // namespace detail

/// A task running on a loop: the C++ side of asyncio's `Task` object, returned
/// by create_task(). Copies refer to the same task (reference counted, loop
/// thread only). The loop keeps a running task alive when every handle is
/// gone. TaskHandle<T> converts to TaskHandle<void>, an untyped view of any
/// task (current_task() and all_tasks() return those).
///
/// `co_await handle` suspends until the task finishes and returns its result
/// (a reference into the task for an lvalue handle; `co_await std::move(h)`
/// moves the result out) or rethrows its exception; CancelledError if it was
/// cancelled. Cancelling the awaiting task cancels the awaited one too and
/// keeps waiting for it, as asyncio does. Throws RuntimeError when awaited
/// from a task of another loop, or by the task itself.
template <class T>
class TaskHandle {
public:
    TaskHandle() noexcept = default;
    /// Adopts one reference to `s` (internal).
    explicit TaskHandle(detail::TaskState* s) noexcept : s_(s) {}
    TaskHandle(const TaskHandle& o) noexcept : s_(o.s_) {
        if (s_) {
            s_->add_ref();
        }
    }
    TaskHandle(TaskHandle&& o) noexcept : s_(std::exchange(o.s_, nullptr)) {}
    TaskHandle& operator=(TaskHandle o) noexcept {
        std::swap(s_, o.s_);
        return *this;
    }
    ~TaskHandle() {
        if (s_) {
            s_->release();
        }
    }

    template <class U, class = std::enable_if_t<std::is_void_v<T> && !std::is_void_v<U>>>
    TaskHandle(const TaskHandle<U>& o) noexcept : TaskHandle(TaskHandle<U>(o).release()) {}

    /// False for an empty handle (default-constructed or moved from). Every
    /// other member throws InvalidStateError on an empty handle, naming the
    /// call; `co_await` of one throws it too.
    explicit operator bool() const noexcept { return s_ != nullptr; }

    /// True when the task finished: returned, failed or was cancelled.
    bool done() const { return st("TaskHandle::done()").done(); }
    /// True when the task finished by being cancelled.
    bool cancelled() const {
        return st("TaskHandle::cancelled()").status() == detail::FutureBase::Status::cancelled;
    }
    /// Requests cancellation: CancelledError(msg) is thrown inside the task at
    /// its current await point (or into what it awaits, if that is a task or
    /// future). False if the task is already done. asyncio: `Task.cancel`.
    ///
    /// Unlike the rest of TaskHandle, cancel() may be called from any thread:
    /// from a thread other than the one running the task's loop, it posts the
    /// request to the loop (waking it if it sleeps) and returns true, or false
    /// if the loop is closed; a task that finishes before the request arrives
    /// ignores it. (asyncio needs `loop.call_soon_threadsafe(task.cancel)`.)
    bool cancel(std::string_view msg = {}) {
        return detail::cancel_from_any_thread(st("TaskHandle::cancel()"), msg);
    }
    /// Number of pending cancellation requests. asyncio: `Task.cancelling`.
    int cancelling() const { return st("TaskHandle::cancelling()").cancelling(); }
    /// Decrements cancelling() and returns the new count. asyncio: `Task.uncancel`.
    int uncancel() { return st("TaskHandle::uncancel()").uncancel(); }

    /// The task's value (a reference into the task); rethrows its exception;
    /// CancelledError if cancelled; InvalidStateError if not done.
    detail::result_ref_t<T> result() const& {
        st("TaskHandle::result()").check_result();
        if constexpr (!std::is_void_v<T>) {
            return promise().ref();
        }
    }
    /// Like result(), but moves the value out (copies it while another
    /// handle shares the task; see detail::take_value_of).
    T result() && {
        st("TaskHandle::result()").check_result();
        if constexpr (!std::is_void_v<T>) {
            return detail::take_value_of(promise().ref(), *s_);
        }
    }
    /// The exception the task failed with (null if it succeeded);
    /// CancelledError if cancelled; InvalidStateError if not done.
    std::exception_ptr exception() const { return st("TaskHandle::exception()").exception(); }

    /// Calls `fn(handle)` through call_soon() once the task is done (at once,
    /// i.e. on the next iteration, if it is done already). Returns an id for
    /// remove_done_callback(). Exceptions from `fn` reach the loop's exception
    /// handler. asyncio: `Task.add_done_callback`.
    template <class F>
    std::uint64_t add_done_callback(F fn) {
        return st("TaskHandle::add_done_callback()")
            .add_done_callback([fn = std::move(fn)](detail::FutureBase& f) mutable {
                f.add_ref();
                fn(TaskHandle<T>(static_cast<detail::TaskState*>(&f)));
            });
    }
    /// Removes a callback added by add_done_callback(); returns how many were
    /// removed (0 or 1).
    std::size_t remove_done_callback(std::uint64_t id) {
        return st("TaskHandle::remove_done_callback()").remove_done_callback(id);
    }

    /// The context the task runs in (an empty one is made for a task that had
    /// none): Context::run() on it, or create_task(..., context) with it,
    /// share the task's variables. asyncio: `Task.get_context`.
    Context get_context() const { return Context(st("TaskHandle::get_context()").context()); }

    /// The task's await chain, outermost first: its own coroutine, the
    /// coroutines it awaits inline (lazy Tasks, async generators), down to
    /// the innermost, each with where it is suspended (see FrameInfo). Empty
    /// for a task that is done, or not started yet. Costs nothing until
    /// called. asyncio: `Task.get_stack()`.
    std::vector<FrameInfo> get_stack() const {
        return detail::task_stack(st("TaskHandle::get_stack()"));
    }
    /// Writes the stack as Python's traceback does ("Stack for ... (most
    /// recent call last):", one line per frame) to `out`. asyncio:
    /// `Task.print_stack()`.
    void print_stack(std::FILE* out = stderr) const {
        detail::print_task_stack(st("TaskHandle::print_stack()"), out);
    }

    /// The task's name ("Task-N" unless one was given).
    std::string get_name() const { return st("TaskHandle::get_name()").get_name(); }
    void set_name(std::string name) { st("TaskHandle::set_name()").set_name(std::move(name)); }
    EventLoop& get_loop() const { return st("TaskHandle::get_loop()").loop(); }

    struct Awaiter : detail::FutureAwaiter {
        using FutureAwaiter::FutureAwaiter;
        T await_resume() {
            check_cancelled();
            auto* s = static_cast<detail::TaskState*>(fut);
            s->check_result();
            if constexpr (!std::is_void_v<T>) {
                return detail::take_value_of(static_cast<detail::Promise<T>&>(s->promise()).ref(),
                                             *s);
            }
        }
    };
    struct RefAwaiter : detail::FutureAwaiter {
        using FutureAwaiter::FutureAwaiter;
        detail::result_ref_t<T> await_resume() {
            check_cancelled();
            auto* s = static_cast<detail::TaskState*>(fut);
            s->check_result();
            if constexpr (!std::is_void_v<T>) {
                return static_cast<detail::Promise<T>&>(s->promise()).ref();
            }
        }
    };

    RefAwaiter operator co_await() const& noexcept { return RefAwaiter(s_); }
    Awaiter operator co_await() && noexcept { return Awaiter(s_); }

    friend bool operator==(const TaskHandle& a, const TaskHandle& b) noexcept {
        return a.s_ == b.s_;
    }

    /// The underlying record (internal).
    detail::TaskState* state() const noexcept { return s_; }
    /// Gives up the reference (internal).
    detail::TaskState* release() noexcept { return std::exchange(s_, nullptr); }

private:
    detail::TaskState& st(const char* what) const {
        if (s_ == nullptr) {
            detail::throw_empty_handle(what);
        }
        return *s_;
    }
    auto& promise() const noexcept {
        if constexpr (std::is_void_v<T>) {
            return s_->promise();
        } else {
            return static_cast<detail::Promise<T>&>(s_->promise());
        }
    }

    detail::TaskState* s_ = nullptr;
};

/// Wraps `coro` in a task and schedules its first step on the running loop
/// (after the callbacks already ready). Returns at once; the coroutine starts
/// on a later iteration. `name` defaults to "Task-N". The task runs in a copy
/// of the current context (see contextvars.hpp): it sees the context
/// variables set so far, and what it sets stays its own. Throws RuntimeError
/// when no loop is running, or for an empty Task (already awaited: asyncio's
/// "cannot reuse already awaited coroutine").
/// asyncio: `asyncio.create_task`.
template <class T>
TaskHandle<T> create_task(Task<T> coro, std::string name = {}) {
    return detail::running_loop_for("create_task()").create_task(std::move(coro), std::move(name));
}

/// create_task() running the task in `context` itself, not in a copy: what
/// the task sets is seen in `context` afterwards (and by other tasks sharing
/// it). asyncio: `asyncio.create_task(coro, name=, context=)`.
template <class T>
TaskHandle<T> create_task(Task<T> coro, std::string name, const Context& context) {
    return detail::running_loop_for("create_task()")
        .create_task(std::move(coro), std::move(name), context);
}
/// create_task(coro, {}, context).
template <class T>
TaskHandle<T> create_task(Task<T> coro, const Context& context) {
    return create_task(std::move(coro), std::string(), context);
}

/// create_task() that runs the coroutine's first step now, inside this call,
/// up to its first suspension: a coroutine that completes without
/// suspending is done when this returns (its done callbacks are still
/// scheduled, as always). Between its suspensions it is an ordinary task.
/// The caller's current task and context are set aside while the step
/// runs and restored after it. Throws what create_task() throws; what the
/// coroutine throws is the task's exception, as with create_task().
/// asyncio: `asyncio.eager_task_factory` (3.12), `Task(..., eager_start=True)`.
template <class T>
TaskHandle<T> create_eager_task(Task<T> coro, std::string name = {});

namespace detail {

template <class T>
TaskHandle<T> make_task(EventLoop& loop, Task<T>& coro, std::string& name,
                        const ContextRef* context, bool eager = false) {
    if (!coro || coro.awaited()) {
        throw_reused_coroutine(eager ? "create_eager_task" : "create_task");
    }
    auto h = coro.release();
    auto* s = new TaskState(loop, h, h.promise());
    s->add_ref();  // the handle's, before an eager start can finish the task
    TaskHandle<T> handle(s);
    s->start(std::move(name), context, eager);
    return handle;
}

}  // namespace detail

template <class T>
TaskHandle<T> create_eager_task(Task<T> coro, std::string name) {
    EventLoop& loop = detail::running_loop_for("create_eager_task()");
    return detail::make_task(loop, coro, name, nullptr, true);
}

template <class T>
TaskHandle<T> EventLoop::create_task(Task<T> coro, std::string name) {
    check_open();
    return detail::make_task(*this, coro, name, nullptr);
}

template <class T>
TaskHandle<T> EventLoop::create_task(Task<T> coro, std::string name, const Context& context) {
    check_open();
    return detail::make_task(*this, coro, name, &context.ref());
}

namespace detail {

template <class A>
concept direct_awaiter = requires(A& a) {
    a.await_ready();
    a.await_resume();
};

template <direct_awaiter A>
Task<decltype(std::declval<A&>().await_resume())> await_in_task(A aw) {
    co_return co_await aw;
}

}  // namespace detail

/// create_task() of a corio awaitable that is not a Task (e.g. `sleep(1s,
/// v)`): it is awaited inside a new task, as asyncio wraps coroutines like
/// `asyncio.sleep()`.
template <detail::direct_awaiter A>
auto create_task(A aw, std::string name = {}) {
    return create_task(detail::await_in_task(std::move(aw)), std::move(name));
}

/// asyncio's ensure_future() for a lazy Task: wraps it in a task, as
/// create_task() does. Throws what create_task() throws, naming
/// ensure_future(). asyncio: `asyncio.ensure_future(coro)`.
template <class T>
TaskHandle<T> ensure_future(Task<T> coro) {
    return detail::running_loop_for("ensure_future()").create_task(std::move(coro));
}
/// ensure_future() of a task already made: returns it unchanged (asyncio
/// returns a Future or Task as is). Throws std::invalid_argument for an
/// empty handle.
template <class T>
TaskHandle<T> ensure_future(TaskHandle<T> task) {
    if (!task) {
        throw std::invalid_argument("ensure_future(): empty TaskHandle");
    }
    return task;
}
/// ensure_future() of a plain corio awaitable: awaited in a new task.
template <detail::direct_awaiter A>
auto ensure_future(A aw) {
    return detail::running_loop_for("ensure_future()")
        .create_task(detail::await_in_task(std::move(aw)));
}

/// The task running on this thread's loop, or an empty handle when called from
/// a plain callback. Throws RuntimeError when no loop runs. asyncio:
/// `asyncio.current_task`.
TaskHandle<void> current_task();

/// Every task of the running loop that is not done yet, in creation order.
/// Throws RuntimeError when no loop runs. asyncio: `asyncio.all_tasks`.
std::vector<TaskHandle<void>> all_tasks();

namespace detail {

/// The awaitable behind sleep(): a timer in the loop's heap, or one trip
/// through the ready queue for a zero delay.
struct SleepAwaiter : Waiter, TimerNode {
    explicit SleepAwaiter(Duration d) noexcept : delay(d) {}
    SleepAwaiter(const SleepAwaiter& o) noexcept : Waiter(), TimerNode(), delay(o.delay) {}
    SleepAwaiter& operator=(const SleepAwaiter&) = delete;
    ~SleepAwaiter();

    bool await_ready() const noexcept { return false; }
    void await_suspend(std::coroutine_handle<> h);
    void await_resume() { check_cancelled(); }
    // Its on_cancel functions (named: graph.cpp recognises them).
    static bool cancel_timer(Waiter* w);
    static bool cancel_yield(Waiter* w);

    Duration delay;
};

template <class T>
struct SleepValueAwaiter : SleepAwaiter {
    SleepValueAwaiter(Duration d, T v) : SleepAwaiter(d), value(std::move(v)) {}
    T await_resume() {
        check_cancelled();
        return std::move(value);
    }
    T value;
};

}  // namespace detail

/// Suspends the calling task for `delay` (loop time; virtual under virtual
/// time). sleep(0) yields to the loop once, letting every ready callback run
/// (asyncio's `sleep(0)`). Cancellation interrupts the sleep and throws
/// CancelledError; the timer is removed at once. Throws std::invalid_argument
/// for a negative delay (asyncio returns at once; corio treats it as a bug),
/// RuntimeError outside a task. A delay beyond the clock's range
/// (Duration::max()) sleeps until cancelled. asyncio: `asyncio.sleep`.
template <class Rep, class Period>
detail::SleepAwaiter sleep(std::chrono::duration<Rep, Period> delay) {
    return detail::SleepAwaiter(
        detail::checked_delay(std::chrono::duration_cast<Duration>(delay), "sleep"));
}

/// sleep(delay), then returns `result`. asyncio: `asyncio.sleep(delay, result)`.
template <class Rep, class Period, class T>
detail::SleepValueAwaiter<T> sleep(std::chrono::duration<Rep, Period> delay, T result) {
    return detail::SleepValueAwaiter<T>(
        detail::checked_delay(std::chrono::duration_cast<Duration>(delay), "sleep"),
        std::move(result));
}

// -- EventLoop::run_until_complete ------------------------------------------

template <class T>
T EventLoop::run_until_complete(TaskHandle<T> task) {
    if (!task) {
        throw std::invalid_argument("run_until_complete: task is empty");
    }
    run_until_done(*task.state());
    return std::move(task).result();
}

template <class T>
T EventLoop::run_until_complete(Task<T> main) {
    check_can_run();  // before the task exists: on failure `main` never runs (asyncio)
    return run_until_complete(create_task(std::move(main)));
}

}  // namespace corio

template <class T>
struct std::hash<corio::TaskHandle<T>> {
    std::size_t operator()(const corio::TaskHandle<T>& h) const noexcept {
        return std::hash<const void*>()(h.state());
    }
};
