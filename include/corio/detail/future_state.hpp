// corio/detail/future_state.hpp - the shared records behind Future<T> and
// TaskHandle<T>, and the protocol every corio awaitable uses to suspend a task.
//
// Ownership. A FutureBase is reference counted (not atomically: loop thread
// only). Handles own one reference each; a pending task is also owned by its
// loop, which drops that reference when the task finishes. The last release
// destroys the record (and, for a task, its coroutine frame) and reports an
// exception that nobody retrieved.
//
// Completion. A record finishes once (pending -> result | failed | cancelled);
// then every CompletionNode in `waiters_` is unlinked and told, in the order
// the nodes were added. Done callbacks are nodes too, so they keep asyncio's
// registration order with the tasks awaiting the record.
//
// Suspension protocol (the analogue of asyncio's Task.__step / _fut_waiter):
//   await_suspend: t = Waiter::current_task(); register the waiter wherever
//                  it waits; w.suspend(t, h).
//   wake-up:       whoever completes the wait calls w.wake() exactly once and
//                  forgets the waiter.
//   cancellation:  task.cancel() calls w.on_cancel(&w) while the task waits on
//                  w. on_cancel returns true if the task will be woken and see
//                  the cancellation (it then unregistered the waiter itself and
//                  called wake(), or forwarded the cancel to something that
//                  will wake it); false if it is too late, in which case the
//                  task keeps `must_cancel_` and the cancellation surfaces at
//                  this await point anyway when the task resumes.
//   await_resume:  w.check_cancelled() before taking the result; an awaitable
//                  that already took something (a lock, an item) gives it
//                  back before rethrowing.
#pragma once

#include <coroutine>
#include <cstdint>
#include <exception>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>

#include "corio/contextvars.hpp"
#include "corio/detail/callback.hpp"
#include "corio/detail/frame_allocator.hpp"
#include "corio/detail/intrusive_list.hpp"
#include "corio/errors.hpp"
#include "corio/event_loop.hpp"

namespace corio::detail {

class FutureBase;
class TaskState;
struct PromiseBase;

/// Something told when a FutureBase finishes. `on_done` runs on the loop
/// thread, after the node was unlinked; it may destroy the node.
struct CompletionNode : ListNode {
    void (*on_done)(CompletionNode* self, FutureBase& fut) = nullptr;
};

/// What a suspended task waits on (see the protocol above). Lives in the
/// awaiter, i.e. in the suspended coroutine's frame.
struct Waiter {
    TaskState* task = nullptr;  // set by suspend()
    // Required before suspend(); reset to null when the wait is cancelled
    // (cancel_and_wake), which is how check_cancelled() knows.
    bool (*on_cancel)(Waiter*) = nullptr;

    /// The task running on this thread; throws RuntimeError outside a task.
    static TaskState& current_task();
    /// Parks `t` at `h` on this waiter; delivers a cancellation requested while
    /// `t` was running (asyncio's `_must_cancel` at a yield).
    inline void suspend(TaskState& t, std::coroutine_handle<> h);
    /// Schedules the task's next step. Call once per suspension.
    inline void wake();
    /// In await_resume: throws CancelledError if this wait was cancelled or a
    /// cancellation arrived after the wake-up. No-op if the await never suspended.
    inline void check_cancelled();
    /// True when check_cancelled() would throw: lets an awaitable give back
    /// what the wake-up handed it before the CancelledError surfaces.
    inline bool cancel_pending() const noexcept;
    /// Ends the wait as cancelled: the task wakes and check_cancelled() throws.
    bool cancel_and_wake() noexcept {
        on_cancel = nullptr;
        wake();
        return true;
    }
};

class FutureBase : public FrameAllocated {
public:
    enum class Status : std::uint8_t { pending, result, failed, cancelled };

    FutureBase(const FutureBase&) = delete;
    FutureBase& operator=(const FutureBase&) = delete;

    void add_ref() noexcept { ++refs_; }
    /// More than one reference: another handle may still read the value.
    bool shared() const noexcept { return refs_ > 1; }
    void release() noexcept {
        if (--refs_ == 0) {
            destroy_record();
        }
    }

    Status status() const noexcept { return status_; }
    bool done() const noexcept { return status_ != Status::pending; }
    bool is_task() const noexcept { return is_task_; }
    EventLoop& loop() const noexcept { return *loop_; }

    /// asyncio's cancel(): for a future, finish it as cancelled; for a task,
    /// request cancellation (TaskState::request_cancel).
    bool cancel(std::string_view msg);

    /// Throws what result() throws for a record that did not succeed:
    /// InvalidStateError if pending, CancelledError if cancelled, the stored
    /// exception if failed. Marks the exception retrieved.
    void check_result();
    /// asyncio's exception(): InvalidStateError if pending, CancelledError if
    /// cancelled, else the exception (null on success). Marks it retrieved.
    std::exception_ptr exception();
    /// Stops the "exception was never retrieved" report, now and, for a record
    /// still pending, when it fails later (gather does this for the children
    /// it no longer watches, as asyncio's gather retrieves their exceptions).
    void mark_retrieved() noexcept {
        log_exception_ = false;
        suppress_log_ = true;
    }
    /// The error as an exception_ptr: the exception if failed (marked
    /// retrieved), a CancelledError if cancelled, null on success or pending.
    std::exception_ptr error_ptr();
    /// The cancellation message given to cancel(msg) (may be empty).
    std::string cancel_message() const;
    /// The CancelledError a cancelled record raises.
    [[noreturn]] void throw_cancelled() const;

    void add_waiter(CompletionNode& node) noexcept { waiters_.push_back(node); }
    std::uint64_t add_done_callback(Function<void(FutureBase&)> fn);
    std::size_t remove_done_callback(std::uint64_t id) noexcept;

    /// The name used in reports: the task's name, or "Future".
    std::string describe() const;
    /// Where it was created ("function() at line N"), or empty.
    std::string source() const;

protected:
    friend struct GraphAccess;
    // Records are deleted through destroy_record(), which knows their type
    // from is_task_: no vtable (16 bytes per task matter, see W1).
    FutureBase(EventLoop& loop, bool is_task) noexcept
        : log_exception_(false),
          suppress_log_(false),
          is_task_(is_task),
          must_cancel_(false),
          started_(false),
          has_context_(false),
          stepping_(false),
          loop_(&loop) {}
    ~FutureBase();

    struct Extra {
        std::string name;
        std::string cancel_message;
        std::uint64_t next_callback_id = 1;
        ContextRef context;  // TaskState with has_context_: the task's context
    };
    Extra& extra();
    void destroy_record() noexcept;  // reports an unretrieved exception, then deletes
    void finish(Status s, std::exception_ptr e = nullptr);
    void set_cancel_message(std::string_view msg);
    // Where the exception lives: a task keeps it in its root promise.
    std::exception_ptr& exception_slot() noexcept;
    const std::exception_ptr& exception_slot() const noexcept {
        return const_cast<FutureBase*>(this)->exception_slot();
    }

    std::uint32_t refs_ = 1;
    Status status_ = Status::pending;
    bool log_exception_ : 1;  // failed, and nobody looked at the exception yet
    bool suppress_log_ : 1;   // never report this record's exception
    bool is_task_ : 1;
    bool must_cancel_ : 1;  // TaskState: cancel at the next suspension (asyncio's _must_cancel)
    bool started_ : 1;      // TaskState: the first step ran
    bool has_context_ : 1;  // TaskState: extra_->context is its context (else an empty one)
    bool stepping_ : 1;     // TaskState: inside a step (an eager task's may run within it)
    EventLoop* loop_;
    IntrusiveList<CompletionNode> waiters_;
    std::unique_ptr<Extra> extra_;
};

// What `result() &&` and `co_await std::move(handle)` hand out: the value
// moved out of the record, unless another handle shares it (a combinator's
// copy of the caller's handle, gather(h, h)); then a copy, so the others
// still see it. A move-only value is moved in any case.
template <class T>
T take_value_of(T& value, const FutureBase& record) {
    if constexpr (std::is_copy_constructible_v<T>) {
        if (record.shared()) {
            return value;
        }
    }
    return std::move(value);
}

/// The record behind Future<T>: the exception and a typed deleter; the value
/// lives in FutureState<T> (future.hpp).
class FutureRecord : public FutureBase {
public:
    void set_result_status();
    void set_exception(std::exception_ptr e);
    /// Finishes the record as cancelled, raising `e` (a CancelledError).
    void set_cancelled(std::exception_ptr e);

protected:
    friend class FutureBase;
    friend struct GraphAccess;
    FutureRecord(EventLoop& loop, void (*destroy)(FutureRecord*) noexcept) noexcept
        : FutureBase(loop, false), destroy_(destroy) {}
    ~FutureRecord() = default;

    std::exception_ptr exception_;
    void (*destroy_)(FutureRecord*) noexcept;
    // cancel() of a record that does more than finish itself (gather's,
    // which cancels its children instead); null for a plain future.
    bool (*cancel_hook_)(FutureRecord*, std::string_view msg) = nullptr;
};

/// The record of a running task: a FutureBase that owns the coroutine frame
/// of the task's root Task<T> and drives it from the ready queue.
class TaskState final : public FutureBase {
public:
    TaskState(EventLoop& loop, std::coroutine_handle<> coro, PromiseBase& promise);
    ~TaskState();

    /// Schedules the first step and links the task into its loop. The task
    /// runs in `context` if given (shared, as asyncio's create_task(...,
    /// context=)), else in a copy of the current context (none if empty).
    /// `eager`: the first step runs now, inside this call, instead (the
    /// caller holds a reference first: the task may be done on return).
    void start(std::string name, const ContextRef* context = nullptr, bool eager = false);

    /// The task's context, made (empty) if it had none. asyncio:
    /// `Task.get_context`.
    ContextRef context();
    /// Makes `ctx` the task's context (set() in a task without one).
    void adopt_context(ContextRef ctx);

    /// asyncio's Task.cancel(msg).
    bool request_cancel(std::string_view msg);
    int cancelling() const noexcept { return static_cast<int>(num_cancels_requested_); }
    int uncancel() noexcept;

    std::string get_name() const;
    void set_name(std::string name);
    std::string task_source() const;
    /// The task's number, distinct among the tasks of its thread (the N of
    /// "Task-N" for an unnamed one); set once, by start().
    std::uint32_t id() const noexcept { return id_; }

    PromiseBase& promise() const noexcept { return *promise_; }
    std::coroutine_handle<> coroutine() const noexcept { return coro_; }

    /// Destroys the frame of a task that will never finish (loop closing).
    void destroy_pending() noexcept;

    // The loop's intrusive list of pending tasks.
    TaskState* prev_task = nullptr;
    TaskState* next_task = nullptr;

    /// The ready-queue function that runs the task's next step.
    static void step(void* self, bool run) noexcept;

private:
    friend struct Waiter;
    friend class FutureBase;
    friend struct GraphAccess;
    void on_frame_done() noexcept;

    std::coroutine_handle<> coro_;       // root frame, owned
    std::coroutine_handle<> resume_at_;  // innermost suspended frame
    PromiseBase* promise_;
    Waiter* waiting_on_ = nullptr;
    std::uint32_t id_ = 0;
    std::uint32_t num_cancels_requested_ = 0;
};

inline void Waiter::suspend(TaskState& t, std::coroutine_handle<> h) {
    task = &t;
    t.resume_at_ = h;
    t.waiting_on_ = this;
    if (t.must_cancel_ && on_cancel(this)) {
        t.must_cancel_ = false;
    }
}

inline void Waiter::wake() {
    TaskState* t = task;
    if (t->waiting_on_ == this) {
        t->waiting_on_ = nullptr;
    }
    LoopAccess::post(*t->loop_, &TaskState::step, t);
}

inline bool Waiter::cancel_pending() const noexcept {
    return task != nullptr && (on_cancel == nullptr || task->must_cancel_);
}

inline void Waiter::check_cancelled() {
    TaskState* t = task;
    if (t == nullptr) {
        return;
    }
    if (on_cancel == nullptr || t->must_cancel_) {
        t->must_cancel_ = false;
        t->throw_cancelled();
    }
}

}  // namespace corio::detail
