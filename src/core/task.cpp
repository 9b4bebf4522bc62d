// src/core/task.cpp - awaiting tasks and futures, sleep, current_task,
// all_tasks, and the never-awaited warning.
#include "corio/task.hpp"

#include <limits>
#include <stdexcept>
#include <string>

namespace corio {
namespace detail {

TaskState& Waiter::current_task() {
    if (TaskState* t = tls_current_task) {
        return *t;
    }
    throw RuntimeError("a corio awaitable was awaited outside a corio task");
}

void FutureAwaiter::await_suspend(std::coroutine_handle<> h) {
    TaskState& t = current_task();
    if (&fut->loop() != &t.loop()) {
        throw RuntimeError("Task '" + t.get_name() + "' awaited " + fut->describe() +
                           ", which is attached to a different loop");
    }
    if (fut == &t) {
        throw RuntimeError("Task '" + t.get_name() + "' cannot await itself");
    }
    on_done = &done_fn;
    on_cancel = &cancel_fn;
    fut->add_waiter(*this);
    suspend(t, h);
}

bool FutureAwaiter::cancel_fn(Waiter* w) {
    auto* self = static_cast<FutureAwaiter*>(w);
    return self->fut->cancel(self->task->cancel_message());
}

void FutureAwaiter::done_fn(CompletionNode* n, FutureBase&) {
    static_cast<FutureAwaiter*>(n)->wake();
}

Duration checked_delay(Duration d, const char* what) {
    if (d.count() < 0) {
        throw std::invalid_argument(std::string(what) + ": delay must be >= 0, got " +
                                    std::to_string(d.count()) + " ns");
    }
    return d;
}

namespace {

std::int64_t saturating_add(std::int64_t a, std::int64_t b) noexcept {
    if (b > 0 && a > std::numeric_limits<std::int64_t>::max() - b) {
        return std::numeric_limits<std::int64_t>::max();
    }
    return a + b;
}

}  // namespace

SleepAwaiter::~SleepAwaiter() {
    if (queued()) {
        LoopAccess::remove_timer(task->loop(), *this);
    }
}

void SleepAwaiter::await_suspend(std::coroutine_handle<> h) {
    TaskState& t = current_task();
    if (delay.count() == 0) {
        // A bare yield: the step is queued at once and cannot be recalled, so a
        // cancellation lands as must_cancel and is thrown at await_resume.
        on_cancel = &cancel_yield;
        suspend(t, h);
        wake();
        return;
    }
    EventLoop& loop = t.loop();
    when = saturating_add(LoopAccess::now_ns(loop), delay.count());
    fire = [](TimerNode* n) { static_cast<SleepAwaiter*>(n)->wake(); };
    on_cancel = &cancel_timer;
    LoopAccess::add_timer(loop, *this);
    suspend(t, h);
}

bool SleepAwaiter::cancel_yield(Waiter*) {
    return false;
}

bool SleepAwaiter::cancel_timer(Waiter* w) {
    auto* self = static_cast<SleepAwaiter*>(w);
    LoopAccess::remove_timer(self->task->loop(), *self);
    return self->cancel_and_wake();
}

void throw_reused_coroutine(const char* what) {
    throw RuntimeError(std::string("cannot reuse already awaited coroutine (") + what +
                       ": the Task is empty or was already awaited)");
}

void throw_empty_handle(const char* what) {
    throw InvalidStateError(std::string(what) +
                            " on an empty TaskHandle (default-constructed or moved from)");
}

void report_never_awaited(const SourceLoc& where) noexcept {
    report(tls_running_loop,
           ExceptionContext{std::string("coroutine '") + where.func + "' was never awaited",
                            nullptr,
                            {},
                            std::string(where.func) + "() at line " + std::to_string(where.line)});
}

}  // namespace detail

TaskHandle<void> current_task() {
    detail::running_loop_for("current_task()");
    detail::TaskState* t = detail::tls_current_task;
    if (t == nullptr) {
        return {};
    }
    t->add_ref();
    return TaskHandle<void>(t);
}

std::vector<TaskHandle<void>> all_tasks() {
    EventLoop& loop = detail::running_loop_for("all_tasks()");
    std::vector<TaskHandle<void>> out;
    for (detail::TaskState* t = detail::LoopAccess::first_task(loop); t; t = t->next_task) {
        t->add_ref();
        out.emplace_back(t);
    }
    return out;
}

}  // namespace corio
