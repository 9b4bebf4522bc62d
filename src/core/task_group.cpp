// src/core/task_group.cpp - TaskGroup, following asyncio's taskgroups.py.
#include "corio/task_group.hpp"

#include <algorithm>

namespace corio {

// A child's membership: linked into the child's waiter list, so the group
// hears when it finishes; `index` is its slot in live_. As in asyncio, the
// group handles a finished child one loop trip later (a done callback), so
// children finishing in the same iteration are all seen before the group
// aborts. While that trip is pending (`delivering`), the node belongs to the
// ready queue: a group dying meanwhile only detaches it (group = null).
struct TaskGroup::ChildNode : detail::CompletionNode {
    TaskGroup* group = nullptr;
    detail::TaskState* task = nullptr;  // one reference held
    std::size_t index = 0;
    bool delivering = false;
};

namespace {

detail::TaskState& parent_task() {
    if (detail::TaskState* t = detail::tls_current_task) {
        return *t;
    }
    // asyncio: "TaskGroup cannot determine the parent task"
    throw RuntimeError("TaskGroup(): cannot determine the parent task (create it inside a task)");
}

}  // namespace

TaskGroup::TaskGroup() : parent_(&parent_task()) {}

detail::TaskState* TaskGroup::parent_of_child(detail::CompletionNode& n) noexcept {
    TaskGroup* g = static_cast<ChildNode&>(n).group;
    return g != nullptr ? g->parent_ : nullptr;
}

TaskGroup::~TaskGroup() {
    if (live_.empty()) {
        return;
    }
    std::size_t n = live_.size();
    for (ChildNode* c : live_) {
        c->task->cancel({});
        if (c->delivering) {
            c->group = nullptr;  // deliver() frees it
            continue;
        }
        c->unlink();
        c->task->release();
        delete c;
    }
    live_.clear();
    detail::report(&parent_->loop(),
                   ExceptionContext{"TaskGroup destroyed before join() finished; cancelled its " +
                                        std::to_string(n) + " running task(s)",
                                    nullptr, parent_->get_name(), parent_->task_source()});
}

void TaskGroup::check_can_create() {
    if (finished_ || (exiting_ && live_.empty())) {
        throw RuntimeError("TaskGroup is finished");
    }
    if (aborting_) {
        throw RuntimeError("TaskGroup is shutting down");
    }
}

void TaskGroup::adopt(detail::TaskState* child) {
    auto* node = new ChildNode;
    node->group = this;
    node->task = child;
    node->index = live_.size();
    node->on_done = &on_child_done;
    child->add_ref();
    live_.push_back(node);
    child->add_waiter(*node);
}

void TaskGroup::abort() noexcept {
    aborting_ = true;
    for (ChildNode* c : live_) {
        c->task->cancel({});
    }
}

void TaskGroup::on_child_done(detail::CompletionNode* n, detail::FutureBase& f) {
    auto* node = static_cast<ChildNode*>(n);
    node->delivering = true;
    detail::LoopAccess::post(f.loop(), &TaskGroup::deliver, node);
}

void TaskGroup::deliver(void* p, bool run) noexcept {
    auto* node = static_cast<ChildNode*>(p);
    if (node->group == nullptr || !run) {
        if (node->group != nullptr) {
            node->delivering = false;  // the loop is closing: just leave the group
            TaskGroup* g = node->group;
            ChildNode* last = g->live_.back();
            last->index = node->index;
            g->live_[node->index] = last;
            g->live_.pop_back();
        }
        node->task->release();
        delete node;
        return;
    }
    node->group->child_finished(node);
}

void TaskGroup::child_finished(ChildNode* node) {
    detail::TaskState* child = node->task;
    ChildNode* last = live_.back();
    last->index = node->index;
    live_[node->index] = last;
    live_.pop_back();
    delete node;
    TaskHandle<void> keep(child);  // adopts our reference; released at the end

    TaskGroup* g = this;
    detail::FutureBase& f = *child;
    if (g->live_.empty() && g->joiner_ != nullptr) {
        std::exchange(g->joiner_, nullptr)->wake();
    }
    if (f.status() != detail::FutureBase::Status::failed) {
        return;
    }
    g->errors_.push_back(f.error_ptr());
    if (g->parent_->done()) {
        detail::report(&f.loop(), ExceptionContext{"Task has errored out but its parent task is "
                                                   "already done",
                                                   g->errors_.back(), f.describe(), f.source()});
        return;
    }
    if (!g->aborting_ && !g->parent_cancel_requested_) {
        // Stop whatever the parent is doing inside the group; join() takes
        // this cancellation back.
        g->abort();
        g->parent_cancel_requested_ = true;
        g->parent_->request_cancel({});
    }
}

void TaskGroup::JoinAwaiter::await_suspend(std::coroutine_handle<> h) {
    detail::TaskState& t = current_task();
    on_cancel = &cancel_fn;
    group->joiner_ = this;
    suspend(t, h);
}

bool TaskGroup::JoinAwaiter::cancel_fn(detail::Waiter* w) {
    auto* self = static_cast<JoinAwaiter*>(w);
    self->group->joiner_ = nullptr;
    return self->cancel_and_wake();
}

namespace {

bool is_cancelled_error(const std::exception_ptr& e) {
    try {
        std::rethrow_exception(e);
    } catch (const CancelledError&) {
        return true;
    } catch (...) {
        return false;
    }
}

}  // namespace

Task<void> TaskGroup::join(std::exception_ptr body_error) {
    if (exiting_) {
        throw RuntimeError("TaskGroup::join() called twice");
    }
    exiting_ = true;
    bool body_cancelled = body_error && is_cancelled_error(body_error);
    std::exception_ptr propagate = body_cancelled ? body_error : nullptr;
    if (body_error && !aborting_) {
        abort();
    }
    while (!live_.empty()) {
        try {
            co_await JoinAwaiter{{}, this};
        } catch (const CancelledError&) {
            if (!aborting_) {
                propagate = std::current_exception();
                abort();
            }
        }
    }
    finished_ = true;
    if (parent_cancel_requested_ && parent_->uncancel() == 0) {
        propagate = nullptr;
    }
    if (propagate && errors_.empty()) {
        std::rethrow_exception(propagate);
    }
    if (body_error && !body_cancelled) {
        errors_.push_back(body_error);
    }
    if (!errors_.empty()) {
        // The errors win over a cancellation of the parent from outside the
        // group, but that request stays: un-cancel and cancel again, so the
        // parent's next await raises CancelledError (Python 3.13).
        if (parent_->cancelling() > 0) {
            parent_->uncancel();
            parent_->request_cancel({});
        }
        throw ExceptionGroup("unhandled errors in a TaskGroup", std::move(errors_));
    }
}

}  // namespace corio
