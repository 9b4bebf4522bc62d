// corio/locks.hpp - synchronisation between the tasks of one loop: Lock,
// Event, Condition, Semaphore, BoundedSemaphore, Barrier.
//
// Mirrors asyncio's locks.py (Python 3.13): FIFO fairness, and every wait is
// cancellation-safe - a waiter cancelled at any moment, even after it was
// woken, never loses, leaks or double-takes a permit or the lock. None of
// these are thread-safe: use them from tasks of one loop, as in asyncio.
// `async with lock:` becomes `auto held = co_await lock.scoped();`.
#pragma once

#include <coroutine>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>

#include "corio/detail/future_state.hpp"
#include "corio/detail/intrusive_list.hpp"
#include "corio/task.hpp"

namespace corio {

namespace detail {

/// A task parked in a primitive's FIFO wait list. `woken` is asyncio's
/// "fut.done()": the primitive has handed this waiter its turn.
struct ListWaiter : ListNode, Waiter {
    bool woken = false;

    /// on_cancel for waiters in a plain list: leave the list, wake with
    /// CancelledError.
    static bool unlink_and_cancel(Waiter* w) noexcept {
        auto* self = static_cast<ListWaiter*>(w);
        self->unlink();
        return self->cancel_and_wake();
    }
};

using WaitList = IntrusiveList<ListWaiter>;

}  // namespace detail

class Lock;

/// Holds a Lock and releases it when destroyed: `async with lock:`. Movable.
/// If the lock was released directly meanwhile and nobody holds it, the
/// destructor does nothing (asyncio's __aexit__ would raise RuntimeError; a
/// destructor cannot throw); as in asyncio, a Lock has no owner, so a lock
/// another task took since is released.
class LockGuard {
public:
    explicit LockGuard(Lock* lock) noexcept : lock_(lock) {}
    LockGuard(LockGuard&& o) noexcept : lock_(std::exchange(o.lock_, nullptr)) {}
    LockGuard& operator=(LockGuard&&) = delete;
    ~LockGuard();
    /// Releases early.
    void release();

private:
    Lock* lock_;
};

/// A mutual-exclusion lock for tasks. asyncio: `asyncio.Lock`.
class Lock {
public:
    Lock() = default;
    Lock(const Lock&) = delete;
    Lock& operator=(const Lock&) = delete;
    ~Lock();

    struct AcquireAwaiter : detail::ListWaiter {
        Lock* lock;
        explicit AcquireAwaiter(Lock* l) noexcept : lock(l) {}
        AcquireAwaiter(const AcquireAwaiter&) = delete;
        /// Before it is awaited only (wait_for(lock.acquire(), t) moves it
        /// into a task); a waiting awaiter is never moved.
        AcquireAwaiter(AcquireAwaiter&& o) noexcept : detail::ListWaiter(), lock(o.lock) {}
        ~AcquireAwaiter();
        bool await_ready() noexcept { return lock->try_take(); }
        void await_suspend(std::coroutine_handle<> h);
        bool await_resume();
    };
    struct ScopedAwaiter : AcquireAwaiter {
        using AcquireAwaiter::AcquireAwaiter;
        LockGuard await_resume() {
            AcquireAwaiter::await_resume();
            return LockGuard(lock);
        }
    };

    /// Takes the lock, suspending while another task holds it or earlier
    /// waiters are queued (FIFO). Returns true. Cancellation removes the
    /// waiter, or, if it was already woken, passes the turn to the next one;
    /// then throws CancelledError. asyncio: `Lock.acquire`.
    AcquireAwaiter acquire() noexcept { return AcquireAwaiter(this); }
    /// acquire(), then a guard that releases on destruction.
    ScopedAwaiter scoped() noexcept { return ScopedAwaiter(this); }
    /// Releases the lock and wakes the first waiter. Throws RuntimeError if
    /// the lock is not held. asyncio: `Lock.release`.
    void release();
    /// True while some task holds the lock.
    bool locked() const noexcept { return locked_; }
    /// Takes the lock if nobody holds it and nobody waits for it; never
    /// suspends. Returns whether it took it (then release() it). For code
    /// that must not make a coroutine frame on an uncontended path (an
    /// actor's turn); asyncio has no such method (`if not lock.locked():`
    /// followed by acquire() is the Python idiom).
    bool try_acquire() noexcept { return try_take(); }

private:
    bool try_take() noexcept;
    void wake_up_first() noexcept;

    detail::WaitList waiters_;
    bool locked_ = false;
};

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
    // pointer back to the Event: one word less in every waiting frame (W1).
    struct WaitAwaiter : detail::ListWaiter {
        explicit WaitAwaiter(Event* e) noexcept {
            if (!e->flag_) {
                e->waiters_.push_back(*this);
            }
        }
        // Moving (before it is awaited, e.g. into wait_for) takes the other's
        // place in the wait list.
        WaitAwaiter(WaitAwaiter&& o) noexcept : ListWaiter() {
            if (o.linked()) {
                prev = o.prev;
                next = o.next;
                prev->next = this;
                next->prev = this;
                o.prev = o.next = &o;
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
    /// Cancellation removes the waiter and throws CancelledError. Unlike
    /// asyncio, the wait starts when wait() is called, not when it is first
    /// awaited: a set() in between counts even if clear() follows (so
    /// `auto w = ev.wait(); ev.set(); ev.clear(); co_await w;` returns).
    /// asyncio: `Event.wait`.
    WaitAwaiter wait() noexcept { return WaitAwaiter(this); }

private:
    detail::WaitList waiters_;
    bool flag_ = false;
};

/// A condition variable for tasks, bound to a Lock (its own, or one given).
/// asyncio: `asyncio.Condition`.
class Condition {
public:
    /// A condition with its own lock.
    Condition() : own_(std::make_unique<Lock>()), lock_(own_.get()) {}
    /// A condition sharing `lock` (which must outlive it).
    explicit Condition(Lock& lock) noexcept : lock_(&lock) {}
    Condition(const Condition&) = delete;
    Condition& operator=(const Condition&) = delete;

    /// The underlying lock's acquire(), scoped(), release(), locked().
    Lock::AcquireAwaiter acquire() noexcept { return lock_->acquire(); }
    Lock::ScopedAwaiter scoped() noexcept { return lock_->scoped(); }
    void release() { lock_->release(); }
    bool locked() const noexcept { return lock_->locked(); }

    /// Releases the lock, suspends until notified, re-acquires the lock (even
    /// when cancelled: the lock is held again when this throws), returns true.
    /// A waiter cancelled after being notified passes the notification on.
    /// Throws RuntimeError if the lock is not held. asyncio: `Condition.wait`.
    Task<bool> wait();
    /// Waits until `predicate()` is truthy (checked first, with the lock held,
    /// then after each notification) and returns its last value, of the type
    /// the predicate returns (a count, a pointer, an optional, ...). Suspends
    /// in wait(); cancellation behaves as wait()'s (the lock is held again
    /// when CancelledError propagates). Throws RuntimeError if the lock is not
    /// held, and what the predicate throws. asyncio: `Condition.wait_for`.
    template <class Predicate>
    auto wait_for(Predicate predicate)
        -> Task<std::remove_cvref_t<std::invoke_result_t<Predicate&>>> {
        std::optional<std::remove_cvref_t<std::invoke_result_t<Predicate&>>> result;
        result.emplace(predicate());
        while (!*result) {
            co_await wait();
            result.emplace(predicate());
        }
        co_return std::move(*result);
    }
    /// Wakes up to `n` waiting tasks (none for n <= 0, as in asyncio). Throws
    /// RuntimeError if the lock is not held. asyncio: `Condition.notify`.
    void notify(long n = 1);
    /// Wakes every waiting task. asyncio: `Condition.notify_all`.
    void notify_all();

private:
    struct NotifyAwaiter;
    void notify_unlocked(std::size_t n) noexcept;

    std::unique_ptr<Lock> own_;
    Lock* lock_;
    detail::WaitList waiters_;
};

/// A counter of permits; acquire() takes one, suspending at zero, release()
/// gives one back. FIFO: a task does not overtake earlier waiters even when
/// a permit is free. asyncio: `asyncio.Semaphore`.
class Semaphore {
public:
    /// Throws std::invalid_argument if `value` is negative.
    explicit Semaphore(long value = 1);
    Semaphore(const Semaphore&) = delete;
    Semaphore& operator=(const Semaphore&) = delete;
    ~Semaphore();

    struct AcquireAwaiter : detail::ListWaiter {
        Semaphore* sem;
        explicit AcquireAwaiter(Semaphore* s) noexcept : sem(s) {}
        AcquireAwaiter(const AcquireAwaiter&) = delete;
        /// Before it is awaited only, as Lock's.
        AcquireAwaiter(AcquireAwaiter&& o) noexcept : detail::ListWaiter(), sem(o.sem) {}
        ~AcquireAwaiter();
        bool await_ready() noexcept { return sem->try_take(); }
        void await_suspend(std::coroutine_handle<> h);
        bool await_resume();
    };

    class Guard {
    public:
        explicit Guard(Semaphore* s) noexcept : sem_(s) {}
        Guard(Guard&& o) noexcept : sem_(std::exchange(o.sem_, nullptr)) {}
        Guard& operator=(Guard&&) = delete;
        ~Guard() {
            if (sem_) {
                sem_->release();
            }
        }

    private:
        Semaphore* sem_;
    };
    struct ScopedAwaiter : AcquireAwaiter {
        using AcquireAwaiter::AcquireAwaiter;
        Guard await_resume() {
            AcquireAwaiter::await_resume();
            return Guard(sem);
        }
    };

    /// Takes a permit, suspending while none is free. Returns true.
    /// Cancellation never loses a permit: one handed to a waiter that is
    /// cancelled before it runs goes to the next waiter. asyncio:
    /// `Semaphore.acquire`.
    AcquireAwaiter acquire() noexcept { return AcquireAwaiter(this); }
    /// acquire(), then a guard that releases on destruction (`async with sem:`).
    ScopedAwaiter scoped() noexcept { return ScopedAwaiter(this); }
    /// Gives a permit back, waking the first waiter. For a BoundedSemaphore,
    /// throws std::invalid_argument (asyncio's ValueError) when every permit
    /// is already free. asyncio: `Semaphore.release`.
    void release();
    /// True when acquire() would suspend. asyncio: `Semaphore.locked`.
    bool locked() const noexcept { return value_ == 0 || !waiters_.empty(); }
    /// Free permits.
    long value() const noexcept { return value_; }

protected:
    long value_;
    long bound_ = -1;  // BoundedSemaphore's limit; -1: none

private:
    bool try_take() noexcept;
    bool wake_up_next() noexcept;
    void wake_while_free() noexcept;

    detail::WaitList waiters_;
};

/// A Semaphore that refuses to be released above its initial value.
/// asyncio: `asyncio.BoundedSemaphore`.
class BoundedSemaphore : public Semaphore {
public:
    explicit BoundedSemaphore(long value = 1) : Semaphore(value) { bound_ = value; }
};

/// Lets `parties` tasks meet: each wait() suspends until all have arrived,
/// then all go on. Reusable. asyncio: `asyncio.Barrier` (3.11).
class Barrier {
public:
    /// Throws std::invalid_argument if `parties` < 1 (asyncio's ValueError).
    explicit Barrier(long parties);
    Barrier(const Barrier&) = delete;
    Barrier& operator=(const Barrier&) = delete;

    /// Waits for the other parties; returns this task's arrival index
    /// (0 .. parties-1). Throws BrokenBarrierError if the barrier is broken,
    /// or is aborted or reset while waiting. asyncio: `Barrier.wait`.
    Task<std::size_t> wait();
    /// Returns the barrier to the empty state; tasks waiting get
    /// BrokenBarrierError. asyncio: `Barrier.reset`.
    Task<void> reset();
    /// Breaks the barrier: current and future wait() calls throw
    /// BrokenBarrierError. asyncio: `Barrier.abort`.
    Task<void> abort();

    std::size_t parties() const noexcept { return parties_; }
    /// Tasks waiting in the filling phase.
    std::size_t n_waiting() const noexcept { return state_ == State::filling ? count_ : 0; }
    bool broken() const noexcept { return state_ == State::broken; }

private:
    enum class State : std::uint8_t { filling, draining, resetting, broken };
    void exit_one();

    Condition cond_;
    std::size_t parties_;
    std::size_t count_ = 0;
    State state_ = State::filling;
};

}  // namespace corio
