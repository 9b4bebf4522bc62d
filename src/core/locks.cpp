// src/core/locks.cpp - Lock, Condition, Semaphore and Barrier, following
// asyncio's locks.py (3.13) step by step.
//
// A waiter stays in its primitive's list from await_suspend until it runs
// again, even once woken (asyncio removes its future in a `finally`). Only a
// cancellation before the wake-up takes it out early. So a woken waiter that
// is cancelled before it runs can still give its turn (lock, permit,
// notification) to the next one.
#include "corio/locks.hpp"

#include <stdexcept>
#include <string>

namespace corio {

// -- Lock ---------------------------------------------------------------------

LockGuard::~LockGuard() {
    if (lock_ != nullptr && lock_->locked()) {
        lock_->release();
    }
}

void LockGuard::release() {
    if (Lock* l = std::exchange(lock_, nullptr)) {
        l->release();
    }
}

Lock::~Lock() = default;

bool Lock::try_take() noexcept {
    if (!locked_ && waiters_.empty()) {
        locked_ = true;
        return true;
    }
    return false;
}

void Lock::wake_up_first() noexcept {
    if (waiters_.empty()) {
        return;
    }
    detail::ListWaiter& w = waiters_.front();
    if (!w.woken) {
        w.woken = true;
        w.wake();
    }
}

void Lock::release() {
    if (!locked_) {
        throw RuntimeError("Lock is not acquired.");
    }
    locked_ = false;
    wake_up_first();
}

void Lock::AcquireAwaiter::await_suspend(std::coroutine_handle<> h) {
    detail::TaskState& t = current_task();
    on_cancel = &unlink_and_cancel;
    lock->waiters_.push_back(*this);
    suspend(t, h);
}

bool Lock::AcquireAwaiter::await_resume() {
    if (task == nullptr) {
        return true;  // taken at once
    }
    unlink();
    if (cancel_pending()) {
        // Keep the invariant: a free lock with waiters has one of them woken.
        if (!lock->locked_) {
            lock->wake_up_first();
        }
        check_cancelled();
    }
    lock->locked_ = true;
    return true;
}

Lock::AcquireAwaiter::~AcquireAwaiter() {
    if (linked()) {  // the frame died while waiting
        unlink();
        if (woken && !lock->locked_) {
            lock->wake_up_first();
        }
    }
}

// -- Condition ----------------------------------------------------------------

struct Condition::NotifyAwaiter : detail::ListWaiter {
    Condition* cond;
    explicit NotifyAwaiter(Condition* c) noexcept : cond(c) {}
    bool await_ready() const noexcept { return false; }
    void await_suspend(std::coroutine_handle<> h) {
        detail::TaskState& t = current_task();
        on_cancel = &unlink_and_cancel;
        cond->waiters_.push_back(*this);
        suspend(t, h);
    }
    void await_resume() {
        unlink();
        check_cancelled();
    }
};

Task<bool> Condition::wait() {
    if (!locked()) {
        throw RuntimeError("cannot wait on un-acquired lock");
    }
    lock_->release();
    std::exception_ptr error;
    try {
        co_await NotifyAwaiter(this);
    } catch (...) {
        error = std::current_exception();
    }
    // Re-acquire the lock even if cancelled meanwhile.
    for (;;) {
        try {
            co_await lock_->acquire();
            break;
        } catch (const CancelledError&) {
            error = std::current_exception();
        }
    }
    if (error) {
        // We may have been notified before the error: pass it on.
        notify_unlocked(1);
        std::rethrow_exception(error);
    }
    co_return true;
}

void Condition::notify(long n) {
    if (!locked()) {
        throw RuntimeError("cannot notify on un-acquired lock");
    }
    notify_unlocked(n > 0 ? static_cast<std::size_t>(n) : 0);
}

void Condition::notify_all() {
    if (!locked()) {
        throw RuntimeError("cannot notify on un-acquired lock");
    }
    notify_unlocked(waiters_.size());
}

void Condition::notify_unlocked(std::size_t n) noexcept {
    std::size_t done = 0;
    waiters_.for_each([&](detail::ListWaiter& w) {
        if (done < n && !w.woken) {
            w.woken = true;
            w.wake();
            ++done;
        }
    });
}

// -- Semaphore ----------------------------------------------------------------

Semaphore::Semaphore(long value) : value_(value) {
    if (value < 0) {
        throw std::invalid_argument("Semaphore: value must be >= 0, got " + std::to_string(value));
    }
}

Semaphore::~Semaphore() = default;

bool Semaphore::try_take() noexcept {
    if (locked()) {
        return false;
    }
    --value_;
    return true;
}

bool Semaphore::wake_up_next() noexcept {
    bool woke = false;
    waiters_.for_each([&](detail::ListWaiter& w) {
        if (!woke && !w.woken) {
            --value_;  // the permit goes to this waiter now
            w.woken = true;
            w.wake();
            woke = true;
        }
    });
    return woke;
}

void Semaphore::wake_while_free() noexcept {
    while (value_ > 0 && wake_up_next()) {
    }
}

void Semaphore::release() {
    if (bound_ >= 0 && value_ >= bound_) {
        throw std::invalid_argument("BoundedSemaphore released too many times");
    }
    ++value_;
    wake_up_next();
}

void Semaphore::AcquireAwaiter::await_suspend(std::coroutine_handle<> h) {
    detail::TaskState& t = current_task();
    on_cancel = &unlink_and_cancel;
    sem->waiters_.push_back(*this);
    suspend(t, h);
}

bool Semaphore::AcquireAwaiter::await_resume() {
    if (task == nullptr) {
        return true;
    }
    unlink();
    if (cancel_pending()) {
        if (woken) {
            ++sem->value_;  // handed a permit we will not use
        }
        sem->wake_while_free();
        check_cancelled();
    }
    // Waiters that arrived meanwhile had to queue (FIFO): wake what is free.
    sem->wake_while_free();
    return true;
}

Semaphore::AcquireAwaiter::~AcquireAwaiter() {
    if (linked()) {
        unlink();
        if (woken) {
            ++sem->value_;
            sem->wake_while_free();
        }
    }
}

// -- Barrier ------------------------------------------------------------------

Barrier::Barrier(long parties) : parties_(static_cast<std::size_t>(parties)) {
    if (parties < 1) {
        throw std::invalid_argument("Barrier: parties must be > 0, got " + std::to_string(parties));
    }
}

void Barrier::exit_one() {
    if (count_ == 0) {
        if (state_ == State::resetting || state_ == State::draining) {
            state_ = State::filling;
        }
        cond_.notify_all();
    }
}

Task<std::size_t> Barrier::wait() {
    auto held = co_await cond_.scoped();
    // Block while the barrier drains or resets.
    co_await cond_.wait_for(
        [this] { return state_ != State::draining && state_ != State::resetting; });
    if (state_ == State::broken) {
        throw BrokenBarrierError("Barrier aborted");
    }
    std::size_t index = count_++;
    try {
        if (index + 1 == parties_) {
            state_ = State::draining;  // we release the barrier
            cond_.notify_all();
        } else {
            co_await cond_.wait_for([this] { return state_ != State::filling; });
            if (state_ == State::broken || state_ == State::resetting) {
                throw BrokenBarrierError("Abort or reset of barrier");
            }
        }
    } catch (...) {
        --count_;
        exit_one();
        throw;
    }
    --count_;
    exit_one();
    co_return index;
}

Task<void> Barrier::reset() {
    auto held = co_await cond_.scoped();
    if (count_ > 0) {
        state_ = State::resetting;
    } else {
        state_ = State::filling;
    }
    cond_.notify_all();
}

Task<void> Barrier::abort() {
    auto held = co_await cond_.scoped();
    state_ = State::broken;
    cond_.notify_all();
}

}  // namespace corio
