// src/core/event_loop.cpp - the event loop: construction, running, and one
// iteration.
//
// One iteration (iterate) has asyncio's _run_once phases, in this order:
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
//      rule, and what makes sleep(0) yield to everything already ready;
//   6. run the end-of-iteration hooks queued meanwhile (coalesced writes,
//      executor batches), so what they hand to the kernel or to other
//      threads leaves before the loop next waits.
// Under virtual time, phase 2 first polls without waiting; if nothing came in
// and no executor work is outstanding, the clock jumps to the earliest timer
// instead of blocking.
#include "corio/event_loop.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>

#include "corio/detail/future_state.hpp"
#include "loop_impl.hpp"

namespace corio {

using detail::HandleImpl;
using detail::LoopAccess;

namespace {

constexpr std::uint32_t kPollInterval = 32;

// corio's default backend where neither the options nor CORIO_BACKEND say.
constexpr BackendKind kDefaultBackend = BackendKind::epoll;

BackendKind chosen_backend(BackendKind asked) {
    if (asked != BackendKind::automatic) {
        return asked;
    }
    if (const char* env = std::getenv("CORIO_BACKEND"); env != nullptr && *env != '\0') {
        std::string_view v(env);
        if (v == "epoll") {
            return BackendKind::epoll;
        }
        if (v == "io_uring" || v == "uring") {
            return BackendKind::io_uring;
        }
        throw std::invalid_argument("CORIO_BACKEND must be epoll or io_uring, not '" +
                                    std::string(v) + "'");
    }
    return kDefaultBackend;
}

}  // namespace

EventLoop::EventLoop() : EventLoop(LoopOptions{}) {}

EventLoop::EventLoop(LoopOptions options)
    : impl_(std::make_unique<detail::LoopImpl>()),
      debug_(options.debug.value_or(detail::env_debug())),
      virtual_time_(options.virtual_time || detail::env_virtual_time()) {
    detail::LoopImpl& im = *impl_;
    std::string why_not;
    if (chosen_backend(options.backend) == BackendKind::io_uring) {
        im.backend = detail::make_uring_backend(&why_not);
    }
    if (!im.backend) {
        im.backend = detail::make_epoll_backend();
    }
    im.wake_fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (im.wake_fd < 0) {
        throw std::system_error(errno, std::generic_category(), "eventfd");
    }
    im.backend->set_wake_fd(im.wake_fd);
    detail::add_live_loop(this);
    if (!why_not.empty() && debug_) {
        call_exception_handler(ExceptionContext{
            "io_uring is unavailable (" + why_not + "): the loop uses epoll", nullptr, {}, {}});
    }
}

const char* EventLoop::backend_name() const noexcept {
    return impl_->backend ? impl_->backend->name() : "closed";
}

EventLoop::~EventLoop() {
    if (!closed_) {
        if (running_) {
            std::fputs("corio: fatal: an EventLoop was destroyed while running\n", stderr);
            std::abort();
        }
        close();
    }
    detail::remove_live_loop(this);
}

void EventLoop::check_open() const {
    if (closed_) {
        throw RuntimeError("Event loop is closed");
    }
}

TimePoint EventLoop::time() const noexcept {
    return TimePoint(Duration(LoopAccess::now_ns(*this)));
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
    impl_->running_on.store(&detail::tls_running_loop, std::memory_order_release);
    // The thread's context is not the loop's: tasks and callbacks carry their own.
    impl_->outer_context = std::exchange(detail::tls_context, impl_->loop_context.get());
    impl_->outer_context_slot = std::exchange(detail::tls_context_slot, &impl_->loop_context);
}

void EventLoop::leave_running() noexcept {
    detail::tls_context = impl_->outer_context;
    detail::tls_context_slot = impl_->outer_context_slot;
    impl_->running_on.store(nullptr, std::memory_order_release);
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
    if (!im.end_of_iteration.empty()) {
        im.run_end_of_iteration(true);  // queued outside an iteration
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
    if (timeout != 0 || ++im.iterations_since_poll >= kPollInterval ||
        im.backend->has_unsubmitted()) {
        im.iterations_since_poll = 0;
        if (virtual_time_ && timeout != 0) {
            poll_virtual_time();
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

    // 6. End-of-iteration hooks.
    if (!im.end_of_iteration.empty()) {
        im.run_end_of_iteration(true);
    }
}

// Phase 2 under virtual time: look for I/O without waiting; when there is
// none, jump to the next timer instead of sleeping, unless work is out on
// other threads (then wait for it for real).
void EventLoop::poll_virtual_time() {
    detail::LoopImpl& im = *impl_;
    if (poll_io(0) != 0 || im.incoming_count.load(std::memory_order_relaxed) != 0) {
        return;
    }
    if (im.external_work == 0 && !im.timers.empty()) {
        im.virtual_now = std::max(im.virtual_now, im.timers.next_when());
    } else if (im.fail_on_deadlock && im.external_work == 0 && im.timers.empty() &&
               im.watched_fds == 0) {
        throw RuntimeError(
            "deadlock: the loop would wait forever (nothing ready, no timer, no watched fd, no "
            "executor work)");
    } else {
        poll_io(-1);
    }
}

int EventLoop::poll_io(std::int64_t timeout) {
    detail::LoopImpl& im = *impl_;
    if (timeout != 0) {
        im.polling.store(true, std::memory_order_seq_cst);
        if (im.incoming_count.load(std::memory_order_seq_cst) != 0) {
            timeout = 0;
        }
    }
    int nevents = 0;
    int n = im.backend->wait(im.events, detail::kMaxEvents, nevents, timeout);
    im.polling.store(false, std::memory_order_relaxed);
    for (int i = 0; i < nevents; ++i) {
        const detail::IoEvent& ev = im.events[i];
        if (ev.token == detail::kWakeToken) {
            detail::drain_wake_fd(im.wake_fd);
            im.wake_pending.store(false, std::memory_order_release);
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

}  // namespace corio
