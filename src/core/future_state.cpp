// src/core/future_state.cpp - FutureBase and TaskState: completion, results,
// cancellation and the task step.
#include "corio/detail/future_state.hpp"

#include <cstdio>
#include <memory>
#include <string>

#include "corio/detail/multi_wait.hpp"
#include "corio/task.hpp"

namespace corio::detail {

namespace {

// A done callback: a heap node in the record's waiter list.
struct CallbackNode : CompletionNode {
    std::uint64_t id = 0;
    Function<void(FutureBase&)> fn;
    ContextRef context;  // current when it was added (asyncio), null if empty
};

// Keeps a record alive inside a scheduled callback.
class Ref {
public:
    explicit Ref(FutureBase* f) noexcept : f_(f) { f_->add_ref(); }
    Ref(Ref&& o) noexcept : f_(std::exchange(o.f_, nullptr)) {}
    Ref(const Ref&) = delete;
    ~Ref() {
        if (f_) {
            f_->release();
        }
    }
    FutureBase& operator*() const noexcept { return *f_; }

private:
    FutureBase* f_;
};

void schedule_callback(FutureBase& f, Function<void(FutureBase&)> fn, ContextRef context) {
    LoopAccess::call_soon_in(
        f.loop(), [ref = Ref(&f), fn = std::move(fn)]() mutable { fn(*ref); }, std::move(context));
}

void callback_done(CompletionNode* n, FutureBase& f) {
    std::unique_ptr<CallbackNode> node(static_cast<CallbackNode*>(n));
    try {
        schedule_callback(f, std::move(node->fn), std::move(node->context));
    } catch (...) {
        report(&f.loop(), ExceptionContext{"Could not schedule a done callback",
                                           std::current_exception(), f.describe(), f.source()});
    }
}

// Task numbers: unnamed tasks count 1, 2, 3, ... ("Task-N", as asyncio's
// counter, which only unnamed tasks advance); named tasks take theirs from
// another sequence (top bit set), so that every task still has a distinct
// number (a cancel() posted from another thread checks it).
thread_local std::uint32_t tls_task_counter = 0;
thread_local std::uint32_t tls_named_task_counter = 0;
constexpr std::uint32_t kNamedTaskBit = 0x80000000u;

}  // namespace

// -- FutureBase ---------------------------------------------------------------

FutureBase::~FutureBase() {
    while (!waiters_.empty()) {
        CompletionNode& n = waiters_.pop_front();
        if (n.on_done == &callback_done) {
            delete static_cast<CallbackNode*>(&n);
        }
    }
}

void FutureBase::destroy_record() noexcept {
    if (log_exception_) {
        log_exception_ = false;
        report(loop_, ExceptionContext{is_task_ ? "Task exception was never retrieved"
                                                : "Future exception was never retrieved",
                                       exception_slot(), describe(), source()});
    }
    if (is_task_) {
        delete static_cast<TaskState*>(this);
    } else {
        auto* r = static_cast<FutureRecord*>(this);
        r->destroy_(r);
    }
}

std::exception_ptr& FutureBase::exception_slot() noexcept {
    if (is_task_) {
        PromiseBase* p = static_cast<TaskState*>(this)->promise_;
        if (p == nullptr) {
            // The frame was destroyed pending (loop closed): no exception kept.
            static thread_local std::exception_ptr none;
            none = nullptr;
            return none;
        }
        return p->exception_;
    }
    return static_cast<FutureRecord*>(this)->exception_;
}

std::string FutureBase::describe() const {
    return is_task_ ? static_cast<const TaskState*>(this)->get_name() : std::string("Future");
}

std::string FutureBase::source() const {
    return is_task_ ? static_cast<const TaskState*>(this)->task_source() : std::string();
}

FutureBase::Extra& FutureBase::extra() {
    if (!extra_) {
        extra_ = std::make_unique<Extra>();
    }
    return *extra_;
}

void FutureBase::set_cancel_message(std::string_view msg) {
    if (!msg.empty() || extra_) {
        extra().cancel_message.assign(msg);
    }
}

std::string FutureBase::cancel_message() const {
    return extra_ ? extra_->cancel_message : std::string();
}

void FutureBase::throw_cancelled() const {
    if (exception_slot()) {
        std::rethrow_exception(exception_slot());  // the CancelledError the task ended with
    }
    throw CancelledError(cancel_message());
}

bool FutureBase::cancel(std::string_view msg) {
    if (is_task_) {
        return static_cast<TaskState*>(this)->request_cancel(msg);
    }
    if (done()) {
        return false;
    }
    if (auto* r = static_cast<FutureRecord*>(this); r->cancel_hook_ != nullptr) {
        return r->cancel_hook_(r, msg);
    }
    set_cancel_message(msg);
    finish(Status::cancelled);
    return true;
}

void FutureBase::check_result() {
    switch (status_) {
        case Status::pending:
            throw InvalidStateError("Result is not set.");
        case Status::cancelled:
            throw_cancelled();
        case Status::failed:
            log_exception_ = false;
            std::rethrow_exception(exception_slot());
        case Status::result:
            return;
    }
}

std::exception_ptr FutureBase::exception() {
    switch (status_) {
        case Status::pending:
            throw InvalidStateError("Exception is not set.");
        case Status::cancelled:
            throw_cancelled();
        default:
            log_exception_ = false;
            return exception_slot();
    }
}

std::exception_ptr FutureBase::error_ptr() {
    switch (status_) {
        case Status::failed:
            log_exception_ = false;
            return exception_slot();
        case Status::cancelled:
            return exception_slot() ? exception_slot()
                                    : std::make_exception_ptr(CancelledError(cancel_message()));
        default:
            return nullptr;
    }
}

void FutureRecord::set_result_status() {
    finish(Status::result);
}

void FutureRecord::set_exception(std::exception_ptr e) {
    finish(Status::failed, std::move(e));
}

void FutureRecord::set_cancelled(std::exception_ptr e) {
    finish(Status::cancelled, std::move(e));
}

void FutureBase::finish(Status s, std::exception_ptr e) {
    status_ = s;
    if (e) {
        exception_slot() = std::move(e);
    }
    log_exception_ = (s == Status::failed) && !suppress_log_;
    add_ref();  // the nodes may drop the last outside reference
    while (!waiters_.empty()) {
        CompletionNode& n = waiters_.pop_front();
        n.on_done(&n, *this);
    }
    release();
}

std::uint64_t FutureBase::add_done_callback(Function<void(FutureBase&)> fn) {
    std::uint64_t id = extra().next_callback_id++;
    if (done()) {
        schedule_callback(*this, std::move(fn), capture_context());
        return id;
    }
    auto* node = new CallbackNode;
    node->on_done = &callback_done;
    node->id = id;
    node->fn = std::move(fn);
    node->context = capture_context();
    waiters_.push_back(*node);
    return id;
}

std::size_t FutureBase::remove_done_callback(std::uint64_t id) noexcept {
    std::size_t removed = 0;
    waiters_.for_each([&](CompletionNode& n) {
        if (removed == 0 && n.on_done == &callback_done && static_cast<CallbackNode&>(n).id == id) {
            n.unlink();
            delete static_cast<CallbackNode*>(&n);
            removed = 1;
        }
    });
    return removed;
}

// -- TaskState ----------------------------------------------------------------

TaskState::TaskState(EventLoop& loop, std::coroutine_handle<> coro, PromiseBase& promise)
    : FutureBase(loop, true), coro_(coro), resume_at_(coro), promise_(&promise) {}

TaskState::~TaskState() {
    if (coro_) {
        coro_.destroy();
    }
}

void TaskState::start(std::string name, const ContextRef* context, bool eager) {
    if (name.empty()) {
        id_ = ++tls_task_counter & ~kNamedTaskBit;
    } else {
        id_ = kNamedTaskBit | ++tls_named_task_counter;
        extra().name = std::move(name);
    }
    if (context != nullptr) {
        if (*context) {
            adopt_context(*context);
        }
    } else if (ContextRef copy = capture_context()) {
        adopt_context(std::move(copy));
    }
    LoopAccess::link_task(*loop_, *this);
    if (eager) {
        step(this, true);
    } else {
        LoopAccess::post(*loop_, &TaskState::step, this);
    }
}

void TaskState::step(void* self, bool run) noexcept {
    auto* t = static_cast<TaskState*>(self);
    if (!run) {
        return;  // the loop is closing; close() destroys the task itself
    }
    if (!t->started_) {
        t->started_ = true;
        if (t->must_cancel_) {
            // Cancelled before its first step: the coroutine never runs.
            t->must_cancel_ = false;
            LoopAccess::unlink_task(*t->loop_, *t);
            t->finish(Status::cancelled,
                      std::make_exception_ptr(CancelledError(t->cancel_message())));
            t->release();
            return;
        }
    }
    t->waiting_on_ = nullptr;
    // The task's context is current during its step (asyncio's
    // `self._context.run(self.__step_run_and_handle_result)`); a task that
    // never set a variable runs in an empty one (null).
    // Both are restored after: an eager task's first step runs inside the
    // step of the task that made it.
    ContextCell* outer = tls_context;
    TaskState* outer_task = tls_current_task;
    tls_context = t->has_context_ ? t->extra_->context.get() : nullptr;
    tls_current_task = t;
    t->stepping_ = true;
    t->resume_at_.resume();
    t->stepping_ = false;
    tls_current_task = outer_task;
    tls_context = outer;
    if (t->coro_.done()) {
        t->on_frame_done();
    }
}

void TaskState::on_frame_done() noexcept {
    std::exception_ptr e = std::exchange(promise_->exception_, nullptr);  // finish() puts it back
    Status s = Status::result;
    if (e) {
        s = Status::failed;
        try {
            std::rethrow_exception(e);
        } catch (const CancelledError&) {
            s = Status::cancelled;
        } catch (...) {
        }
    } else if (must_cancel_) {
        // Cancelled while running its last step (asyncio does the same).
        s = Status::cancelled;
        e = std::make_exception_ptr(CancelledError(cancel_message()));
    }
    must_cancel_ = false;
    waiting_on_ = nullptr;
    LoopAccess::unlink_task(*loop_, *this);
    finish(s, std::move(e));
    release();  // the loop's reference
}

bool TaskState::request_cancel(std::string_view msg) {
    if (done()) {
        return false;
    }
    ++num_cancels_requested_;
    set_cancel_message(msg);
    if (waiting_on_ != nullptr && waiting_on_->on_cancel(waiting_on_)) {
        return true;
    }
    must_cancel_ = true;
    return true;
}

namespace {

// A cancel() posted from another thread. The task may be gone by the time it
// arrives: it is looked up among the loop's pending tasks by address and id.
struct PostedCancel {
    EventLoop* loop;
    TaskState* task;
    std::uint32_t id;
    std::string msg;

    static void run(void* p, bool run) noexcept {
        std::unique_ptr<PostedCancel> self(static_cast<PostedCancel*>(p));
        if (!run) {
            return;
        }
        for (TaskState* t = LoopAccess::first_task(*self->loop); t; t = t->next_task) {
            if (t == self->task && t->id() == self->id) {
                t->request_cancel(self->msg);
                return;
            }
        }
    }
};

}  // namespace

bool cancel_elsewhere(TaskState& t, std::string_view msg) {
    EventLoop& loop = t.loop();
    if (!LoopAccess::belongs_to_other_thread(loop)) {
        return t.request_cancel(msg);
    }
    auto posted = std::make_unique<PostedCancel>(PostedCancel{&loop, &t, t.id(), std::string(msg)});
    ReadyItem item{&PostedCancel::run, posted.get()};
    if (!LoopAccess::post_threadsafe(loop, &item, 1)) {
        return false;  // the loop is closed: its tasks are gone
    }
    posted.release();
    return true;
}

ContextRef TaskState::context() {
    if (!has_context_) {
        adopt_context(ContextRef::make(nullptr));
    }
    return extra_->context;
}

void TaskState::adopt_context(ContextRef ctx) {
    extra().context = std::move(ctx);
    has_context_ = true;
}

int TaskState::uncancel() noexcept {
    if (num_cancels_requested_ > 0) {
        --num_cancels_requested_;
        if (num_cancels_requested_ == 0) {
            must_cancel_ = false;
        }
    }
    return static_cast<int>(num_cancels_requested_);
}

std::string TaskState::get_name() const {
    if (extra_ && !extra_->name.empty()) {
        return extra_->name;
    }
    return "Task-" + std::to_string(id_ & ~kNamedTaskBit);
}

void TaskState::set_name(std::string name) {
    extra().name = std::move(name);
}

std::string TaskState::task_source() const {
    if (promise_ == nullptr) {
        return {};
    }
    SourceLoc loc = promise_->location();
    return std::string(loc.func) + "() at line " + std::to_string(loc.line);
}

namespace {

// A wait whose awaiter would reach the task when destroyed (to take its timer
// out of the heap): ended before the task goes, since the frame holding the
// awaiter may outlive the task (an async generator owned elsewhere, or
// orphaned). The others unregister by themselves without the task.
void end_wait_before_task_dies(Waiter* w) noexcept {
    if (w != nullptr && (w->on_cancel == &SleepAwaiter::cancel_timer ||
                         w->on_cancel == &MultiWait::on_task_cancel)) {
        w->on_cancel(w);  // takes the timer out; the step it posts is dropped by close()
    }
}

}  // namespace

void TaskState::destroy_pending() noexcept {
    report(loop_, ExceptionContext{"Task was destroyed but it is pending!", nullptr, get_name(),
                                   source()});
    end_wait_before_task_dies(waiting_on_);
    LoopAccess::unlink_task(*loop_, *this);
    status_ = Status::cancelled;
    must_cancel_ = false;
    waiting_on_ = nullptr;
    add_ref();
    while (!waiters_.empty()) {
        CompletionNode& n = waiters_.pop_front();
        if (n.on_done == &callback_done) {
            delete static_cast<CallbackNode*>(&n);
        }
    }
    promise_ = nullptr;
    std::exchange(coro_, nullptr).destroy();
    release();  // ours
    release();  // the loop's
}

std::string describe_ready_item(const ReadyItem& item) {
    if (item.fn == &TaskState::step) {
        auto* t = static_cast<TaskState*>(item.arg);
        return "Task '" + t->get_name() + "' (" + t->task_source() + ")";
    }
    return "callback";
}

}  // namespace corio::detail
