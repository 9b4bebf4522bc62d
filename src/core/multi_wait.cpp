// src/core/multi_wait.cpp - the engine behind wait.
#include "corio/detail/multi_wait.hpp"

namespace corio::detail {

namespace {

bool failed_with_exception(const FutureBase& f) noexcept {
    return f.status() == FutureBase::Status::failed;
}

}  // namespace

MultiWait::MultiWait(FutureBase* const* children, std::size_t n, Until until)
    : children_(children), n_(n), until_(until) {}

MultiWait::~MultiWait() {
    stop_watching();
}

void MultiWait::stop_watching() noexcept {
    if (nodes_) {
        for (std::size_t i = 0; i < n_; ++i) {
            nodes_[i].unlink();
        }
    }
    if (queued()) {
        LoopAccess::remove_timer(task->loop(), *this);
    }
}

bool MultiWait::satisfied_by(FutureBase& child) noexcept {
    switch (until_) {
        case Until::all_done:
            return remaining_ == 0;
        case Until::first_done:
            return true;
        case Until::first_exception:
            return failed_with_exception(child) || remaining_ == 0;
    }
    return false;
}

bool MultiWait::await_ready() noexcept {
    std::size_t pending = 0;
    for (std::size_t i = 0; i < n_; ++i) {
        FutureBase& c = *children_[i];
        if (!c.done()) {
            ++pending;
            continue;
        }
        switch (until_) {
            case Until::first_done:
                return true;
            case Until::first_exception:
                if (failed_with_exception(c)) {
                    return true;
                }
                break;
            case Until::all_done:
                break;
        }
    }
    return pending == 0;
}

void MultiWait::await_suspend(std::coroutine_handle<> h) {
    TaskState& t = current_task();
    nodes_ = std::make_unique<Node[]>(n_);
    for (std::size_t i = 0; i < n_; ++i) {
        if (!children_[i]->done()) {
            nodes_[i].owner = this;
            nodes_[i].on_done = &on_child_done;
            children_[i]->add_waiter(nodes_[i]);
            ++remaining_;
        }
    }
    on_cancel = &on_task_cancel;
    if (has_deadline_) {
        fire = &on_deadline;
        LoopAccess::add_timer(t.loop(), *this);
    }
    suspend(t, h);
}

void MultiWait::on_child_done(CompletionNode* n, FutureBase& child) {
    MultiWait* self = static_cast<Node*>(n)->owner;
    --self->remaining_;
    if (self->woken_) {
        return;
    }
    if (self->satisfied_by(child)) {
        self->woken_ = true;
        self->stop_watching();
        self->wake();
    }
}

void MultiWait::on_deadline(TimerNode* t) {
    auto* self = static_cast<MultiWait*>(t);
    self->woken_ = true;
    self->stop_watching();
    self->wake();
}

bool MultiWait::on_task_cancel(Waiter* w) {
    auto* self = static_cast<MultiWait*>(w);
    if (self->woken_) {
        return false;
    }
    self->woken_ = true;
    self->stop_watching();
    return self->cancel_and_wake();
}

}  // namespace corio::detail
