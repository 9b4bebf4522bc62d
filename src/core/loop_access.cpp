// src/core/loop_access.cpp - the loop's internal entry points (LoopAccess)
// for corio's own awaitables, the thread-safe entry, end-of-iteration
// hooks, and the helpers the loop's pieces share.
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "corio/detail/future_state.hpp"
#include "corio/event_loop.hpp"
#include "loop_impl.hpp"

namespace corio {
namespace detail {

namespace {

bool env_flag(const char* name) noexcept {
    const char* v = std::getenv(name);
    return v != nullptr && v[0] != '\0' && std::strcmp(v, "0") != 0;
}

// Loops alive on this thread, so that records outliving a loop never call it.
thread_local std::vector<EventLoop*> tls_live_loops;

}  // namespace

std::int64_t monotonic_ns() noexcept {
    timespec ts;
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return std::int64_t{ts.tv_sec} * 1000000000 + ts.tv_nsec;
}

bool env_debug() noexcept {
    static const bool on = env_flag("CORIO_DEBUG");
    return on;
}

bool env_virtual_time() noexcept {
    static const bool on = env_flag("CORIO_VIRTUAL_TIME");
    return on;
}

void drain_wake_fd(int fd) noexcept {
    std::uint64_t value;
    while (::read(fd, &value, sizeof value) > 0) {
    }
}

LoopRegistry& loop_registry() noexcept {
    static LoopRegistry* r = new LoopRegistry;  // never destroyed: threads may outlive main
    return *r;
}

void add_live_loop(EventLoop* loop) {
    tls_live_loops.push_back(loop);
    LoopRegistry& r = loop_registry();
    std::lock_guard lock(r.mu);
    r.loops.push_back(loop);
}

void remove_live_loop(EventLoop* loop) noexcept {
    auto& live = tls_live_loops;
    live.erase(std::remove(live.begin(), live.end(), loop), live.end());
    LoopRegistry& r = loop_registry();
    std::lock_guard lock(r.mu);
    r.loops.erase(std::remove(r.loops.begin(), r.loops.end(), loop), r.loops.end());
}

bool loop_alive(const EventLoop* loop) noexcept {
    return std::find(tls_live_loops.begin(), tls_live_loops.end(), loop) != tls_live_loops.end();
}

bool debug_enabled() noexcept {
    if (EventLoop* loop = tls_running_loop) {
        return loop->get_debug();
    }
    return env_debug();
}

void report(EventLoop* loop, const ExceptionContext& ctx) noexcept {
    if (loop != nullptr && loop_alive(loop)) {
        loop->call_exception_handler(ctx);
    } else {
        EventLoop::default_exception_handler(ctx);
    }
}

bool LoopImpl::post_threadsafe(const ReadyItem* items, std::size_t n) {
    std::lock_guard lock(mu);
    if (!accepting) {
        return false;
    }
    incoming.insert(incoming.end(), items, items + n);
    incoming_count.fetch_add(n, std::memory_order_seq_cst);
    if (polling.load(std::memory_order_seq_cst) &&
        !wake_pending.exchange(true, std::memory_order_acq_rel)) {
        std::uint64_t one = 1;
        [[maybe_unused]] ssize_t r = ::write(wake_fd, &one, sizeof one);
    }
    return true;
}

void LoopImpl::run_end_of_iteration(bool run) noexcept {
    while (!end_of_iteration.empty()) {
        IterationHook& hook = end_of_iteration.pop_front();
        hook.run(&hook, run);
    }
}

std::int64_t LoopAccess::now_ns(const EventLoop& loop) noexcept {
    return loop.virtual_time_ ? loop.impl_->virtual_now : monotonic_ns();
}

void LoopAccess::add_timer(EventLoop& loop, TimerNode& node) {
    if (node.when == TimerNode::kNever) {
        return;  // never due: not queued (virtual time would jump to it)
    }
    node.seq = ++loop.impl_->timer_seq;
    loop.impl_->timers.push(node);
}

void LoopAccess::remove_timer(EventLoop& loop, TimerNode& node) noexcept {
    if (node.queued()) {
        loop.impl_->timers.remove(node);
    }
}

bool LoopAccess::belongs_to_other_thread(const EventLoop& loop) noexcept {
    const void* on = loop.impl_->running_on.load(std::memory_order_acquire);
    if (on != nullptr) {
        return on != &tls_running_loop;
    }
    return !loop_alive(&loop);
}

bool LoopAccess::running_anywhere(const EventLoop& loop) noexcept {
    return loop.impl_->running_on.load(std::memory_order_acquire) != nullptr;
}

void LoopAccess::link_task(EventLoop& loop, TaskState& task) noexcept {
    LoopImpl& im = *loop.impl_;
    task.prev_task = im.last_task;
    task.next_task = nullptr;
    if (im.last_task) {
        im.last_task->next_task = &task;
    } else {
        im.first_task = &task;
    }
    im.last_task = &task;
}

void LoopAccess::unlink_task(EventLoop& loop, TaskState& task) noexcept {
    LoopImpl& im = *loop.impl_;
    (task.prev_task ? task.prev_task->next_task : im.first_task) = task.next_task;
    (task.next_task ? task.next_task->prev_task : im.last_task) = task.prev_task;
    task.prev_task = task.next_task = nullptr;
}

TaskState* LoopAccess::first_task(EventLoop& loop) noexcept {
    return loop.impl_->first_task;
}

void LoopAccess::io_register(EventLoop& loop, IoState& st) {
    loop.check_open();
    loop.impl_->backend->attach(st);
    st.loop = &loop;
    loop.impl_->io_states.push_back(st);
    ++loop.impl_->watched_fds;
}

void LoopAccess::io_unregister(IoState& st) noexcept {
    if (st.loop == nullptr) {
        return;
    }
    LoopImpl& im = *st.loop->impl_;
    im.backend->detach(st);
    st.drop_given_back();
    st.unlink();
    --im.watched_fds;
    st.loop = nullptr;
}

LoopAccess::Census LoopAccess::census(const EventLoop& loop) noexcept {
    const LoopImpl& im = *loop.impl_;
    Census c{0, im.timers.size(), loop.ready_.size(), 0};
    for (TaskState* t = im.first_task; t; t = t->next_task) {
        ++c.tasks;
    }
    c.watched_fds = im.watched_fds;
    return c;
}

bool LoopAccess::post_threadsafe(EventLoop& loop, const ReadyItem* items, std::size_t n) {
    return loop.impl_->post_threadsafe(items, n);
}

void LoopAccess::at_end_of_iteration(EventLoop& loop, IterationHook& hook) noexcept {
    if (!hook.linked()) {
        loop.impl_->end_of_iteration.push_back(hook);
    }
}

Backend& LoopAccess::backend(EventLoop& loop) noexcept {
    return *loop.impl_->backend;
}

IntrusiveList<AsyncGenNode>& LoopAccess::asyncgens(EventLoop& loop) noexcept {
    return loop.impl_->asyncgens;
}

std::shared_ptr<Executor>& LoopAccess::default_executor(EventLoop& loop) noexcept {
    return loop.impl_->default_executor;
}

void LoopAccess::fail_on_deadlock(EventLoop& loop, bool on) noexcept {
    loop.impl_->fail_on_deadlock = on;
}

void LoopAccess::advance_virtual_time(EventLoop& loop, Duration d) {
    if (!loop.virtual_time_) {
        throw RuntimeError("advance_virtual_time: the loop does not use virtual time");
    }
    loop.impl_->virtual_now += checked_delay(d, "advance_virtual_time").count();
}

void LoopAccess::begin_external_work(EventLoop& loop) noexcept {
    ++loop.impl_->external_work;
}
void LoopAccess::end_external_work(EventLoop& loop) noexcept {
    --loop.impl_->external_work;
}

EventLoop& running_loop_for(const char* what) {
    if (EventLoop* loop = tls_running_loop) {
        return *loop;
    }
    throw RuntimeError(std::string(what) + ": no running event loop");
}

}  // namespace detail

EventLoop& get_running_loop() {
    return detail::running_loop_for("get_running_loop()");
}

}  // namespace corio
