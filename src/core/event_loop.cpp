// src/core/event_loop.cpp - the event loop.
//
// One iteration (run_once) has asyncio's _run_once phases, in this order:
//   1. decide how long I/O may block: 0 if anything is ready or the loop is
//      stopping, else until the earliest timer, else without limit;
//   2. poll the backend (while callbacks are ready, only every kPollInterval
//      iterations, to keep a syscall off the hot path) and queue the
//      callbacks of ready file descriptors;
//   3. move callbacks that other threads sent (call_soon_threadsafe) to the
//      ready queue;
//   4. fire every timer that is due (a sleeping task is woken, a call_later
//      handle is queued);
//   5. run exactly the callbacks that are ready now, in FIFO order. Callbacks
//      they schedule wait for the next iteration: this is asyncio's fairness
//      rule, and what makes sleep(0) yield to everything already ready.
// Under virtual time, phase 2 first polls without waiting; if nothing came in
// and no executor work is outstanding, the clock jumps to the earliest timer
// instead of blocking.
#include "corio/event_loop.hpp"

#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <stdexcept>
#include <system_error>
#include <vector>

#include "backend.hpp"
#include "corio/detail/future_state.hpp"
#include "corio/detail/io_state.hpp"
#include "corio/executor.hpp"
#include "handle_impl.hpp"
#include "timer_heap.hpp"

namespace corio {
namespace detail {

namespace {

constexpr std::uint64_t kWakeToken = ~std::uint64_t{0};
constexpr std::uint32_t kPollInterval = 32;
constexpr int kMaxEvents = 256;

std::int64_t monotonic_ns() noexcept {
    timespec ts;
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return std::int64_t{ts.tv_sec} * 1000000000 + ts.tv_nsec;
}

bool env_flag(const char* name) noexcept {
    const char* v = std::getenv(name);
    return v != nullptr && v[0] != '\0' && std::strcmp(v, "0") != 0;
}

bool env_debug() noexcept {
    static const bool on = env_flag("CORIO_DEBUG");
    return on;
}

bool env_virtual_time() noexcept {
    static const bool on = env_flag("CORIO_VIRTUAL_TIME");
    return on;
}

// Loops alive on this thread, so that records outliving a loop never call it.
thread_local std::vector<EventLoop*> tls_live_loops;

}  // namespace

struct FdWatch {
    HandleImpl* reader = nullptr;
    HandleImpl* writer = nullptr;
    std::uint32_t interest = 0;
};

class LoopImpl {
public:
    TimerHeap timers;
    std::uint64_t timer_seq = 0;
    std::unique_ptr<Backend> backend;
    int wake_fd = -1;

    // The thread-safe entry. Producers push under `mu`, bump `incoming_count`,
    // then write the eventfd only if the loop is (about to be) blocked in the
    // backend and nobody has written since it last woke (`wake_pending`).
    std::mutex mu;
    std::vector<ReadyItem> incoming;  // guarded by mu; each owns its arg
    bool accepting = true;            // guarded by mu
    std::atomic<std::size_t> incoming_count{0};
    std::atomic<bool> polling{false};
    std::atomic<bool> wake_pending{false};

    std::vector<FdWatch> fds;  // indexed by fd
    std::int64_t virtual_now = 0;
    std::uint32_t external_work = 0;
    std::uint32_t iterations_since_poll = 0;
    std::size_t watched_fds = 0;
    IntrusiveList<IoState> io_states;  // registered edge-triggered fds
    bool fail_on_deadlock = false;
    TaskState* first_task = nullptr;
    TaskState* last_task = nullptr;
    // run_in_executor submissions of this iteration, per executor, handed
    // over in one batch each before the next poll.
    struct PendingWork {
        Executor* executor;
        WorkItem* first;
        WorkItem* last;
        std::size_t n;
    };
    std::vector<PendingWork> pending_work;
    std::shared_ptr<Executor> default_executor;
    IoEvent events[kMaxEvents];

    // Queues thread-safe items; false if the loop no longer accepts them.
    // Everything happens under `mu`, the eventfd write included: once a
    // producer lets go of the lock it never touches the loop again, so the
    // loop may close (taking the lock) and be freed at once.
    bool post_threadsafe(const ReadyItem* items, std::size_t n) {
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
};

bool debug_enabled() noexcept {
    if (EventLoop* loop = tls_running_loop) {
        return loop->get_debug();
    }
    return env_debug();
}

bool loop_alive(const EventLoop* loop) noexcept {
    return std::find(tls_live_loops.begin(), tls_live_loops.end(), loop) != tls_live_loops.end();
}

void report(EventLoop* loop, const ExceptionContext& ctx) noexcept {
    if (loop != nullptr && loop_alive(loop)) {
        loop->call_exception_handler(ctx);
    } else {
        EventLoop::default_exception_handler(ctx);
    }
}

void HandleImpl::run(void* self, bool run) noexcept {
    auto* h = static_cast<HandleImpl*>(self);
    if (run && !h->cancelled.load(std::memory_order_acquire)) {
        try {
            h->cb();
        } catch (...) {
            h->loop->call_exception_handler(
                ExceptionContext{"Exception in callback", std::current_exception(), {}, {}});
        }
    }
    h->release();
}

void HandleImpl::fire(TimerNode* node) noexcept {
    HandleImpl* h = static_cast<HandleTimer*>(node)->owner;
    // The heap's reference moves to the ready queue.
    LoopAccess::post(*h->loop, &HandleImpl::run, h);
}

std::int64_t LoopAccess::now_ns(const EventLoop& loop) noexcept {
    return loop.virtual_time_ ? loop.impl_->virtual_now : monotonic_ns();
}

void LoopAccess::add_timer(EventLoop& loop, TimerNode& node) {
    node.seq = ++loop.impl_->timer_seq;
    loop.impl_->timers.push(node);
}

void LoopAccess::remove_timer(EventLoop& loop, TimerNode& node) noexcept {
    if (node.queued()) {
        loop.impl_->timers.remove(node);
    }
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

void dispatch_io(IoState* st, std::uint32_t events) noexcept {
    st->ready |= events;
    if (st->on_event != nullptr) {
        st->on_event(st, events);
        return;
    }
    if (st->reader != nullptr && (events & (kReadable | kError | kHangup))) {
        std::exchange(st->reader, nullptr)->wake();
    }
    if (events & (kWritable | kError | kHangup)) {
        if (st->writer != nullptr) {
            std::exchange(st->writer, nullptr)->wake();
        } else if (st->on_writable != nullptr) {
            st->on_writable(st);
        }
    }
}

void LoopAccess::io_register(EventLoop& loop, IoState& st) {
    loop.check_open();
    loop.impl_->backend->watch_edge(st.fd, reinterpret_cast<std::uint64_t>(&st) | 1);
    st.loop = &loop;
    loop.impl_->io_states.push_back(st);
    ++loop.impl_->watched_fds;
}

void LoopAccess::io_unregister(IoState& st) noexcept {
    if (st.loop == nullptr) {
        return;
    }
    LoopImpl& im = *st.loop->impl_;
    im.backend->unwatch(st.fd);
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

void LoopAccess::queue_work(EventLoop& loop, Executor& executor, WorkItem& item) {
    auto& pending = loop.impl_->pending_work;
    item.next = nullptr;
    for (auto& p : pending) {
        if (p.executor == &executor) {
            p.last->next = &item;
            p.last = &item;
            ++p.n;
            return;
        }
    }
    pending.push_back({&executor, &item, &item, 1});
}

void flush_pending_work(LoopImpl& im) noexcept {
    std::vector<LoopImpl::PendingWork> batch;
    batch.swap(im.pending_work);
    for (auto& p : batch) {
        try {
            p.executor->execute_batch(p.first, p.last, p.n);
        } catch (...) {
            // The executor was shut down since the call: the work is
            // cancelled (each item reports it to its own loop future).
            for (WorkItem* w = p.first; w != nullptr;) {
                WorkItem* next = w->next;
                w->fn(w, false);
                w = next;
            }
        }
    }
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

using detail::HandleImpl;
using detail::LoopAccess;

// -- Handle -------------------------------------------------------------------

Handle::Handle(const Handle& other) noexcept : impl_(other.impl_) {
    if (impl_) {
        impl_->add_ref();
    }
}

Handle::~Handle() {
    if (impl_) {
        impl_->release();
    }
}

void Handle::cancel() {
    if (!impl_ || impl_->cancelled.exchange(true, std::memory_order_acq_rel)) {
        return;
    }
    if (impl_->is_timer && impl_->timer.queued()) {
        LoopAccess::remove_timer(*impl_->loop, impl_->timer);
        impl_->cb.reset();
        impl_->release();  // the heap's reference
    }
}

bool Handle::cancelled() const noexcept {
    return impl_ && impl_->cancelled.load(std::memory_order_acquire);
}

TimePoint TimerHandle::when() const noexcept {
    return TimePoint(Duration(impl_ ? impl_->timer.when : 0));
}

// -- EventLoop ----------------------------------------------------------------

EventLoop::EventLoop() : EventLoop(LoopOptions{}) {}

EventLoop::EventLoop(LoopOptions options)
    : impl_(std::make_unique<detail::LoopImpl>()),
      debug_(options.debug.value_or(detail::env_debug())),
      virtual_time_(options.virtual_time || detail::env_virtual_time()) {
    detail::LoopImpl& im = *impl_;
    im.backend = detail::make_epoll_backend();
    im.wake_fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (im.wake_fd < 0) {
        throw std::system_error(errno, std::generic_category(), "eventfd");
    }
    im.backend->watch(im.wake_fd, detail::kReadable, 0, detail::kWakeToken);
    detail::tls_live_loops.push_back(this);
}

EventLoop::~EventLoop() {
    if (!closed_) {
        if (running_) {
            std::fputs("corio: fatal: an EventLoop was destroyed while running\n", stderr);
            std::abort();
        }
        close();
    }
    auto& live = detail::tls_live_loops;
    live.erase(std::remove(live.begin(), live.end(), this), live.end());
}

void EventLoop::check_open() const {
    if (closed_) {
        throw RuntimeError("Event loop is closed");
    }
}

TimePoint EventLoop::time() const noexcept {
    return TimePoint(Duration(LoopAccess::now_ns(*this)));
}

Handle EventLoop::call_soon(detail::Callback cb) {
    check_open();
    auto* h = new HandleImpl(*this, std::move(cb), false);
    h->add_ref();  // the ready queue's
    ready_.push(&HandleImpl::run, h);
    return Handle(h);
}

Handle EventLoop::call_soon_threadsafe(detail::Callback cb) {
    auto* h = new HandleImpl(*this, std::move(cb), false);
    h->add_ref();  // the incoming queue's
    detail::ReadyItem item{&HandleImpl::run, h};
    if (!impl_->post_threadsafe(&item, 1)) {
        delete h;
        throw RuntimeError("Event loop is closed");
    }
    return Handle(h);
}

TimerHandle EventLoop::call_later_ns(Duration delay, detail::Callback cb) {
    detail::checked_delay(delay, "call_later");
    return call_at(time() + delay, std::move(cb));
}

TimerHandle EventLoop::call_at(TimePoint when, detail::Callback cb) {
    check_open();
    auto* h = new HandleImpl(*this, std::move(cb), true);
    h->timer.when = when.time_since_epoch().count();
    h->timer.fire = &HandleImpl::fire;
    LoopAccess::add_timer(*this, h->timer);
    h->add_ref();  // the heap's
    return TimerHandle(h);
}

void EventLoop::stop() noexcept {
    stopping_ = true;
}

void EventLoop::check_can_run() {
    check_open();
    if (running_) {
        throw RuntimeError("This event loop is already running");
    }
    if (detail::tls_running_loop != nullptr) {
        throw RuntimeError("Cannot run the event loop while another loop is running");
    }
}

void EventLoop::enter_running() {
    check_can_run();
    running_ = true;
    detail::tls_running_loop = this;
}

void EventLoop::leave_running() noexcept {
    running_ = false;
    stopping_ = false;
    detail::tls_running_loop = nullptr;
}

void EventLoop::run_until_done(detail::FutureBase& s) {
    std::uint64_t id = s.add_done_callback([this](detail::FutureBase&) { stop(); });
    try {
        run_forever();
    } catch (...) {
        s.remove_done_callback(id);
        throw;
    }
    s.remove_done_callback(id);
    if (!s.done()) {
        throw RuntimeError("Event loop stopped before Future completed.");
    }
}

void EventLoop::run_forever() {
    enter_running();
    struct Leave {
        EventLoop* loop;
        ~Leave() { loop->leave_running(); }
    } leave{this};
    for (;;) {
        iterate(true);
        if (stopping_) {
            break;
        }
    }
}

namespace {

void drain_wake_fd(int fd) {
    std::uint64_t value;
    while (::read(fd, &value, sizeof value) > 0) {
    }
}

}  // namespace

void EventLoop::run_once(bool block) {
    if (running_) {
        iterate(block);
        return;
    }
    enter_running();
    struct Leave {
        EventLoop* loop;
        ~Leave() { loop->leave_running(); }
    } leave{this};
    iterate(block);
}

void EventLoop::iterate(bool block) {
    detail::LoopImpl& im = *impl_;
    if (!im.pending_work.empty()) {
        flush_pending_work(im);
    }

    // 1. How long may the backend block?
    std::int64_t timeout;
    if (!ready_.empty() || stopping_ || !block) {
        timeout = 0;
    } else if (!im.timers.empty()) {
        timeout = std::max<std::int64_t>(0, im.timers.next_when() - LoopAccess::now_ns(*this));
    } else {
        timeout = -1;
    }

    // 2. Poll I/O.
    if (timeout != 0 || ++im.iterations_since_poll >= detail::kPollInterval) {
        im.iterations_since_poll = 0;
        if (virtual_time_ && timeout != 0) {
            if (poll_io(0) == 0 && im.incoming_count.load(std::memory_order_relaxed) == 0) {
                if (im.external_work == 0 && !im.timers.empty()) {
                    im.virtual_now = std::max(im.virtual_now, im.timers.next_when());
                } else if (im.fail_on_deadlock && im.external_work == 0 && im.timers.empty() &&
                           im.watched_fds == 0) {
                    throw RuntimeError(
                        "deadlock: the loop would wait forever (nothing ready, no timer, no "
                        "watched fd, no executor work)");
                } else {
                    poll_io(-1);
                }
            }
        } else {
            poll_io(timeout);
        }
    }

    // 3. Callbacks from other threads.
    if (im.incoming_count.load(std::memory_order_relaxed) != 0) {
        drain_incoming();
    }

    // 4. Due timers.
    if (!im.timers.empty()) {
        std::int64_t now = LoopAccess::now_ns(*this);
        while (!im.timers.empty() && im.timers.next_when() <= now) {
            detail::TimerNode& node = im.timers.top();
            im.timers.pop();
            node.fire(&node);
        }
    }

    // 5. Run what is ready now.
    dispatch_ready();
}

int EventLoop::poll_io(std::int64_t timeout) {
    detail::LoopImpl& im = *impl_;
    if (timeout != 0) {
        im.polling.store(true, std::memory_order_seq_cst);
        if (im.incoming_count.load(std::memory_order_seq_cst) != 0) {
            timeout = 0;
        }
    }
    int n = im.backend->wait(im.events, detail::kMaxEvents, timeout);
    im.polling.store(false, std::memory_order_relaxed);
    for (int i = 0; i < n; ++i) {
        const detail::IoEvent& ev = im.events[i];
        if (ev.token == detail::kWakeToken) {
            drain_wake_fd(im.wake_fd);
            im.wake_pending.store(false, std::memory_order_release);
            continue;
        }
        if (ev.token & 1) {  // an edge-triggered IoState (pointer | 1)
            detail::dispatch_io(reinterpret_cast<detail::IoState*>(ev.token & ~std::uint64_t{1}),
                                ev.events);
            continue;
        }
        auto fd = static_cast<std::size_t>(ev.token >> 1);
        if (fd >= im.fds.size()) {
            continue;
        }
        detail::FdWatch& w = im.fds[fd];
        constexpr std::uint32_t kFailed = detail::kError | detail::kHangup;
        if (w.reader && (ev.events & (detail::kReadable | kFailed))) {
            w.reader->add_ref();
            ready_.push(&HandleImpl::run, w.reader);
        }
        if (w.writer && (ev.events & (detail::kWritable | kFailed))) {
            w.writer->add_ref();
            ready_.push(&HandleImpl::run, w.writer);
        }
    }
    return n;
}

void EventLoop::drain_incoming() {
    detail::LoopImpl& im = *impl_;
    std::vector<detail::ReadyItem> batch;
    {
        std::lock_guard lock(im.mu);
        batch.swap(im.incoming);
        im.incoming_count.store(0, std::memory_order_relaxed);
    }
    for (const detail::ReadyItem& item : batch) {
        ready_.push(item.fn, item.arg);
    }
}

void EventLoop::dispatch_ready() {
    std::size_t n = ready_.size();
    if (!debug_) {
        while (n-- > 0) {
            detail::ReadyItem item = ready_.pop();
            item.fn(item.arg, true);
        }
        return;
    }
    while (n-- > 0) {
        detail::ReadyItem item = ready_.pop();
        std::string what = detail::describe_ready_item(item);
        std::int64_t t0 = detail::monotonic_ns();
        item.fn(item.arg, true);
        std::int64_t took = detail::monotonic_ns() - t0;
        if (took > slow_callback_duration.count()) {
            char buf[64];
            std::snprintf(buf, sizeof buf, " took %.3f seconds", static_cast<double>(took) / 1e9);
            call_exception_handler(ExceptionContext{"Executing " + what + buf, nullptr, {}, {}});
        }
    }
}

void EventLoop::close() {
    if (running_) {
        throw RuntimeError("Cannot close a running event loop");
    }
    if (closed_) {
        return;
    }
    detail::LoopImpl& im = *impl_;
    remove_all_signal_handlers();

    // Tasks that will never finish: destroy their frames (reporting each).
    while (detail::TaskState* t = im.first_task) {
        t->destroy_pending();
    }
    // Callbacks that will never run.
    while (!ready_.empty()) {
        detail::ReadyItem item = ready_.pop();
        item.fn(item.arg, false);
    }
    while (!im.timers.empty()) {
        detail::TimerNode& node = im.timers.top();
        im.timers.pop();
        if (node.fire == &HandleImpl::fire) {
            static_cast<detail::HandleTimer&>(node).owner->release();
        }
    }
    for (detail::FdWatch& w : im.fds) {
        if (w.reader) {
            w.reader->cancelled = true;
            w.reader->release();
        }
        if (w.writer) {
            w.writer->cancelled = true;
            w.writer->release();
        }
    }
    im.fds.clear();
    // Sockets that outlive the loop must not reach it any more.
    while (!im.io_states.empty()) {
        detail::IoState& st = im.io_states.pop_front();
        st.loop = nullptr;
        st.reader = st.writer = nullptr;
    }
    im.watched_fds = 0;
    // Executor work still running will post its completion here: wait for
    // it (run() shuts the default executor down first, so this is only for
    // work on executors the program still runs), dropping each on arrival.
    if (!im.pending_work.empty()) {
        flush_pending_work(im);
    }
    while (im.external_work > 0) {
        std::vector<detail::ReadyItem> batch;
        {
            std::lock_guard lock(im.mu);
            batch.swap(im.incoming);
            im.incoming_count.store(0, std::memory_order_relaxed);
        }
        for (const detail::ReadyItem& item : batch) {
            item.fn(item.arg, false);
        }
        if (batch.empty()) {
            im.polling.store(true, std::memory_order_seq_cst);
            if (im.incoming_count.load(std::memory_order_seq_cst) == 0) {
                im.backend->wait(im.events, detail::kMaxEvents, -1);
            }
            im.polling.store(false, std::memory_order_relaxed);
            drain_wake_fd(im.wake_fd);
            im.wake_pending.store(false, std::memory_order_release);
        }
    }
    if (auto ex = std::move(im.default_executor)) {
        ex->shutdown(
            true);  // asyncio's close() does shutdown(wait=False); nothing is left to wait for
    }
    {
        std::lock_guard lock(im.mu);
        im.accepting = false;
        for (const detail::ReadyItem& item : im.incoming) {
            item.fn(item.arg, false);
        }
        im.incoming.clear();
        im.incoming_count.store(0);
    }
    im.backend.reset();
    ::close(im.wake_fd);
    im.wake_fd = -1;
    closed_ = true;
}

// -- File descriptors ---------------------------------------------------------

void EventLoop::set_fd_callback(int fd, bool writer, detail::Callback* cb) {
    check_open();
    if (fd < 0) {
        throw std::invalid_argument("fd must be >= 0, got " + std::to_string(fd));
    }
    detail::LoopImpl& im = *impl_;
    if (static_cast<std::size_t>(fd) >= im.fds.size()) {
        if (cb == nullptr) {
            return;
        }
        im.fds.resize(static_cast<std::size_t>(fd) + 1);
    }
    detail::FdWatch& w = im.fds[static_cast<std::size_t>(fd)];
    HandleImpl*& slot = writer ? w.writer : w.reader;
    std::uint32_t bit = writer ? detail::kWritable : detail::kReadable;
    std::uint32_t interest = cb ? (w.interest | bit) : (w.interest & ~bit);
    if (interest != w.interest) {
        im.backend->watch(fd, interest, w.interest, static_cast<std::uint64_t>(fd) << 1);
        im.watched_fds += (interest != 0) - (w.interest != 0);
        w.interest = interest;
    }
    HandleImpl* old = slot;
    slot = cb ? new HandleImpl(*this, std::move(*cb), false) : nullptr;
    if (old) {
        old->cancelled = true;
        old->release();
    }
}

void EventLoop::add_reader(int fd, detail::Callback cb) {
    set_fd_callback(fd, false, &cb);
}
void EventLoop::add_writer(int fd, detail::Callback cb) {
    set_fd_callback(fd, true, &cb);
}

bool EventLoop::remove_reader(int fd) {
    if (closed_ || fd < 0 || static_cast<std::size_t>(fd) >= impl_->fds.size() ||
        impl_->fds[static_cast<std::size_t>(fd)].reader == nullptr) {
        return false;
    }
    set_fd_callback(fd, false, nullptr);
    return true;
}

bool EventLoop::remove_writer(int fd) {
    if (closed_ || fd < 0 || static_cast<std::size_t>(fd) >= impl_->fds.size() ||
        impl_->fds[static_cast<std::size_t>(fd)].writer == nullptr) {
        return false;
    }
    set_fd_callback(fd, true, nullptr);
    return true;
}

// -- Errors -------------------------------------------------------------------

void EventLoop::set_exception_handler(ExceptionHandler handler) {
    handler_ = std::move(handler);
}

void EventLoop::call_exception_handler(const ExceptionContext& ctx) noexcept {
    if (!handler_) {
        default_exception_handler(ctx);
        return;
    }
    try {
        handler_(*this, ctx);
    } catch (...) {
        default_exception_handler(ExceptionContext{
            "Unhandled error in exception handler", std::current_exception(), {}, {}});
        default_exception_handler(ctx);
    }
}

void EventLoop::default_exception_handler(const ExceptionContext& ctx) noexcept {
    try {
        std::string text = "corio: " + ctx.message + "\n";
        if (!ctx.task.empty()) {
            text += "  task: " + ctx.task;
            if (!ctx.source.empty()) {
                text += " (created by " + ctx.source + ")";
            }
            text += "\n";
        } else if (!ctx.source.empty()) {
            text += "  source: " + ctx.source + "\n";
        }
        if (ctx.exception) {
            text += "  exception: " + describe_exception(ctx.exception) + "\n";
        }
        std::fputs(text.c_str(), stderr);
    } catch (...) {
        std::fputs("corio: (out of memory while reporting an error)\n", stderr);
    }
}

void EventLoop::set_default_executor(std::shared_ptr<Executor> executor) {
    impl_->default_executor = std::move(executor);
}

EventLoop& get_running_loop() {
    return detail::running_loop_for("get_running_loop()");
}

}  // namespace corio
