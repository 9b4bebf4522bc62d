// src/core/timeouts.cpp - the Timeout scope and cancel_and_wait.
#include "corio/timeouts.hpp"

namespace corio {

using detail::LoopAccess;

Timeout::~Timeout() {
    if (timer_.queued()) {
        LoopAccess::remove_timer(*loop_, timer_);
    }
}

void Timeout::enter() {
    if (state_ != State::created) {
        throw RuntimeError("Timeout has already been entered");
    }
    detail::TaskState* t = detail::tls_current_task;
    if (t == nullptr) {
        throw RuntimeError("Timeout should be used inside a task");
    }
    task_ = t;
    loop_ = &t->loop();
    cancelling_ = t->cancelling();
    state_ = State::entered;
    arm();
}

void Timeout::reschedule(std::optional<TimePoint> when) {
    if (state_ != State::entered) {
        throw RuntimeError(state_ == State::created
                               ? "Timeout has not been entered"
                               : "Cannot change the state of a finished Timeout");
    }
    when_ = when;
    arm();
}

void Timeout::arm() {
    EventLoop& loop = *loop_;
    if (timer_.queued()) {
        LoopAccess::remove_timer(loop, timer_);
    }
    if (when_) {
        timer_.owner = this;
        timer_.when = when_->time_since_epoch().count();
        timer_.fire = &on_timeout;
        LoopAccess::add_timer(loop, timer_);
    }
}

void Timeout::on_timeout(detail::TimerNode* n) {
    Timeout* self = static_cast<Timer*>(n)->owner;
    self->task_->request_cancel({});
    self->state_ = State::expiring;
}

bool Timeout::exit(bool cancelled) noexcept {
    if (timer_.queued()) {
        LoopAccess::remove_timer(*loop_, timer_);
    }
    if (state_ == State::expiring) {
        state_ = State::expired;
        // No newer cancellation request than ours: the CancelledError is ours.
        return task_->uncancel() <= cancelling_ && cancelled;
    }
    if (state_ == State::entered) {
        state_ = State::exited;
    }
    return false;
}

Timeout timeout(std::optional<Duration> delay) {
    EventLoop& loop = detail::running_loop_for("timeout()");
    if (!delay) {
        return Timeout(std::nullopt);
    }
    return Timeout(detail::deadline_after(loop.time(), *delay));
}

Timeout timeout_at(std::optional<TimePoint> when) {
    return Timeout(when);
}

namespace detail {

Task<void> cancel_and_wait(FutureBase* f) {
    f->cancel({});
    MultiWait mw(&f, 1, MultiWait::Until::all_done);
    co_await mw;
}

}  // namespace detail
}  // namespace corio
