// corio/timeouts.hpp - deadlines: the Timeout scope (timeout, timeout_at)
// and wait_for.
//
// Mirrors asyncio's timeouts.py and asyncio.wait_for (3.12+, which is built on
// the timeout scope). C++ has no `async with`, so the scope runs an awaitable:
//   co_await corio::timeout(2s).run(fetch());
//   auto cm = corio::timeout(std::nullopt);
//   co_await cm.run([&]() -> Task<void> { cm.reschedule(deadline); co_await work(); }());
#pragma once

#include <exception>
#include <optional>
#include <type_traits>

#include "corio/detail/multi_wait.hpp"
#include "corio/gather.hpp"
#include "corio/task.hpp"

namespace corio {

/// A deadline for the awaitable given to run(): when it passes, the running
/// task is cancelled, and run() turns the resulting CancelledError into
/// TimeoutError, unless a cancellation from elsewhere is also pending (then
/// CancelledError propagates). One Timeout runs once. asyncio: `asyncio.Timeout`.
class Timeout {
public:
    /// A scope with deadline `when` (loop time), or none.
    explicit Timeout(std::optional<TimePoint> when) noexcept : when_(when) {}
    Timeout(const Timeout&) = delete;
    Timeout& operator=(const Timeout&) = delete;
    ~Timeout();

    /// The current deadline, or none.
    std::optional<TimePoint> when() const noexcept { return when_; }
    /// Moves the deadline (none: no deadline); a deadline already passed
    /// expires on the next loop iteration. Throws RuntimeError unless the
    /// scope is running. asyncio: `Timeout.reschedule`.
    void reschedule(std::optional<TimePoint> when);
    /// True once the deadline passed and the scope cancelled its task.
    bool expired() const noexcept { return state_ == State::expiring || state_ == State::expired; }

    /// Awaits `aw` (a lazy Task runs inline in the calling task; a TaskHandle
    /// or Future is awaited) under the deadline. Returns its result or
    /// rethrows its error; throws TimeoutError if the deadline cancelled it,
    /// with the CancelledError nested in it as its cause.
    /// Throws RuntimeError if the scope was already used or outside a task.
    template <class A>
    requires detail::gatherable<A>
    auto run(A aw) -> Task<detail::child_value_t<A>> {
        enter();
        try {
            if constexpr (std::is_void_v<detail::child_value_t<A>>) {
                co_await std::move(aw);
                exit(false);
            } else {
                auto value = co_await std::move(aw);
                exit(false);
                co_return value;
            }
        } catch (const CancelledError&) {
            if (exit(true)) {
                // Python: `raise TimeoutError from exc_val`.
                std::throw_with_nested(TimeoutError("timed out"));
            }
            throw;
        } catch (...) {
            exit(false);
            throw;
        }
    }

private:
    enum class State : std::uint8_t { created, entered, expiring, expired, exited };
    struct Timer : detail::TimerNode {
        Timeout* owner = nullptr;
    };
    void enter();
    // Leaves the scope; true if a CancelledError it caused must become TimeoutError.
    bool exit(bool cancelled) noexcept;
    void arm();
    static void on_timeout(detail::TimerNode* n);

    std::optional<TimePoint> when_;
    detail::TaskState* task_ = nullptr;
    // The task's loop, kept apart: the destructor may run after the task's
    // record is gone (a scope in an async generator's frame that outlives
    // the task it ran in).
    EventLoop* loop_ = nullptr;
    Timer timer_;
    int cancelling_ = 0;
    State state_ = State::created;
};

/// A Timeout expiring `delay` from now (loop time); std::nullopt: no deadline.
/// A delay beyond the clock's range (Duration::max()) saturates: when() is
/// TimePoint::max() and the scope never expires. Throws RuntimeError when no
/// loop runs. asyncio: `asyncio.timeout`.
Timeout timeout(std::optional<Duration> delay);
/// A Timeout expiring at loop time `when`. asyncio: `asyncio.timeout_at`.
Timeout timeout_at(std::optional<TimePoint> when);

namespace detail {

// Cancels `f` and waits until it is done (asyncio's _cancel_and_wait);
// cancelling the caller interrupts the wait.
Task<void> cancel_and_wait(FutureBase* f);

template <class C>
Task<child_value_t<C>> wait_for_child(C child, std::optional<Duration> timeout) {
    if (!timeout) {
        co_return co_await std::move(child);
    }
    if (timeout->count() <= 0) {
        if (!child.done()) {
            co_await cancel_and_wait(child.state());
        }
        try {
            co_return std::move(child).result();
        } catch (const CancelledError&) {
            std::throw_with_nested(TimeoutError("timed out"));
        }
    }
    Timeout scope(deadline_after(get_running_loop().time(), *timeout));
    co_return co_await scope.run(std::move(child));
}

template <class T>
Task<T> wait_for_task(Task<T> task, std::optional<Duration> timeout) {
    if (timeout && timeout->count() <= 0) {
        // asyncio wraps the coroutine in a task, which is cancelled before
        // its first step: the coroutine never runs.
        co_return co_await wait_for_child(create_task(std::move(task)), timeout);
    }
    if (!timeout) {
        co_return co_await std::move(task);
    }
    Timeout scope(deadline_after(get_running_loop().time(), *timeout));
    co_return co_await scope.run(std::move(task));
}

}  // namespace detail

/// Waits for `aw` at most `timeout` (std::nullopt: no limit). On expiry it
/// cancels `aw`, waits for it to unwind, then throws TimeoutError, with the
/// CancelledError nested in it as its cause (see exception_cause()) (a lazy
/// Task runs inline in the caller, as asyncio 3.12's wait_for does, and is
/// cancelled at its current await). A timeout <= 0 times out at once unless
/// a TaskHandle or Future is already done; Duration::max() means no limit,
/// like std::nullopt. Cancelling the caller cancels `aw` and rethrows
/// CancelledError. asyncio: `asyncio.wait_for`.
template <class A>
requires detail::gatherable<A>
auto wait_for(A aw, std::optional<Duration> timeout) -> Task<detail::child_value_t<A>> {
    if constexpr (requires {
                      aw.release();
                      typename A::promise_type;
                  }) {
        return detail::wait_for_task(std::move(aw), timeout);
    } else if constexpr (detail::direct_awaiter<A>) {
        // Like a coroutine: awaited inline, under the deadline.
        return detail::wait_for_task(detail::await_in_task(std::move(aw)), timeout);
    } else {
        return detail::wait_for_child(std::move(aw), timeout);
    }
}

}  // namespace corio
