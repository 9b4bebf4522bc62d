// corio/locks.hpp - synchronisation between tasks of one loop: Event (more
// primitives follow in the same header).
//
// Mirrors asyncio's locks.py. None of these are thread-safe: use them from
// tasks of one loop, as in asyncio.
#pragma once

#include <coroutine>

#include "corio/detail/future_state.hpp"
#include "corio/detail/intrusive_list.hpp"

namespace corio {

namespace detail {

/// A task parked in a primitive's FIFO wait list.
struct ListWaiter : ListNode, Waiter {
    /// on_cancel for waiters in a plain list: leave the list, wake with
    /// CancelledError.
    static bool unlink_and_cancel(Waiter* w) noexcept {
        auto* self = static_cast<ListWaiter*>(w);
        self->unlink();
        return self->cancel_and_wake();
    }
};

}  // namespace detail

/// An event flag tasks can wait for. asyncio: `asyncio.Event`.
class Event {
public:
    Event() = default;
    Event(const Event&) = delete;
    Event& operator=(const Event&) = delete;

    /// True once set() was called (until clear()).
    bool is_set() const noexcept { return flag_; }
    /// Sets the flag and wakes every waiting task (in the order they came).
    void set() noexcept {
        if (flag_) {
            return;
        }
        flag_ = true;
        while (!waiters_.empty()) {
            detail::ListWaiter& w = waiters_.pop_front();
            if (w.task != nullptr) {  // else: made by wait() but not awaited yet
                w.wake();
            }
        }
    }
    /// Resets the flag; later wait() calls suspend again.
    void clear() noexcept { flag_ = false; }

    // Joins the wait list when made (if the flag is clear), so it needs no
    // pointer back to the Event: one word less in every waiting frame.
    struct WaitAwaiter : detail::ListWaiter {
        explicit WaitAwaiter(Event* e) noexcept {
            if (!e->flag_) {
                e->waiters_.push_back(*this);
            }
        }
        WaitAwaiter(const WaitAwaiter&) = delete;
        bool await_ready() const noexcept { return !linked(); }
        void await_suspend(std::coroutine_handle<> h) {
            detail::TaskState& t = current_task();
            on_cancel = &unlink_and_cancel;
            suspend(t, h);
        }
        bool await_resume() {
            check_cancelled();
            return true;
        }
    };

    /// Suspends until the flag is set; returns true (at once if already set).
    /// Cancellation removes the waiter and throws CancelledError.
    /// asyncio: `Event.wait`.
    WaitAwaiter wait() noexcept { return WaitAwaiter(this); }

private:
    detail::IntrusiveList<detail::ListWaiter> waiters_;
    bool flag_ = false;
};

}  // namespace corio
