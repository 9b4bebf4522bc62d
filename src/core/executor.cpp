// src/core/executor.cpp - ConcurrentFuture's state and ThreadPoolExecutor.
//
// Workers take a fair share of the queue per lock (ceil(queued / threads),
// at most Local::kMaxBatch): a batch of a thousand small calls costs a few lock
// round trips. What a worker took waits in its Local array; a worker with
// nothing to do steals half of another's, so (as in Python's pool, where
// each free worker takes the next item) no call waits behind a long one
// while a worker is idle.
#include "corio/executor.hpp"

#include <pthread.h>

#include <algorithm>
#include <string>

namespace corio {

namespace detail {

bool ConcurrentStateBase::cancel() {
    std::unique_lock lock(mu_);
    if (state_ == State::running || state_ == State::finished) {
        return false;
    }
    if (state_ == State::cancelled) {
        return true;
    }
    state_ = State::cancelled;
    finish_locked(lock);
    return true;
}

bool ConcurrentStateBase::cancelled() const {
    std::lock_guard lock(mu_);
    return state_ == State::cancelled;
}

bool ConcurrentStateBase::running() const {
    std::lock_guard lock(mu_);
    return state_ == State::running;
}

bool ConcurrentStateBase::done() const {
    std::lock_guard lock(mu_);
    return state_ == State::cancelled || state_ == State::finished;
}

bool ConcurrentStateBase::set_running_or_notify_cancel() {
    std::lock_guard lock(mu_);
    if (state_ == State::cancelled) {
        return false;
    }
    if (state_ != State::pending) {
        throw InvalidStateError("set_running_or_notify_cancel: the future is not pending");
    }
    state_ = State::running;
    return true;
}

void ConcurrentStateBase::set_exception(std::exception_ptr e) {
    std::unique_lock lock(mu_);
    if (state_ == State::cancelled || state_ == State::finished) {
        throw InvalidStateError("invalid state: the future is already done");
    }
    exception_ = std::move(e);
    finish_locked(lock);
}

void ConcurrentStateBase::finish_locked(std::unique_lock<std::mutex>& lock) {
    if (state_ != State::cancelled) {
        state_ = State::finished;
    }
    std::vector<Function<void(ConcurrentStateBase&)>> callbacks;
    callbacks.swap(callbacks_);
    cv_.notify_all();
    lock.unlock();
    // Keep ourselves alive while the callbacks run (they may drop the last
    // outside reference).
    auto self = shared_from_this();
    for (auto& cb : callbacks) {
        try {
            cb(*this);
        } catch (...) {
            // Python logs "exception calling callback" and goes on.
            EventLoop::default_exception_handler(
                ExceptionContext{"exception calling callback for a ConcurrentFuture",
                                 std::current_exception(),
                                 {},
                                 {}});
        }
    }
}

void ConcurrentStateBase::wait_done(std::unique_lock<std::mutex>& lock,
                                    std::optional<Duration> timeout) {
    auto is_done = [this] { return state_ == State::cancelled || state_ == State::finished; };
    // A timeout too large for the clock (Duration::max()) means no limit:
    // wait_for() would overflow `now + timeout` and give up at once.
    TimePoint deadline = TimePoint::max();
    if (timeout) {
        deadline = deadline_after(std::chrono::time_point_cast<Duration>(Clock::now()), *timeout);
    }
    if (deadline == TimePoint::max()) {
        cv_.wait(lock, is_done);
    } else if (!cv_.wait_until(lock, deadline, is_done)) {
        throw TimeoutError("ConcurrentFuture: timed out");
    }
}

void ConcurrentStateBase::wait_result(std::optional<Duration> timeout) {
    std::unique_lock lock(mu_);
    wait_done(lock, timeout);
    if (state_ == State::cancelled) {
        throw CancelledError();
    }
    if (exception_) {
        std::rethrow_exception(exception_);
    }
}

std::exception_ptr ConcurrentStateBase::wait_exception(std::optional<Duration> timeout) {
    std::unique_lock lock(mu_);
    wait_done(lock, timeout);
    if (state_ == State::cancelled) {
        throw CancelledError();
    }
    return exception_;
}

void ConcurrentStateBase::add_done_callback(Function<void(ConcurrentStateBase&)> fn) {
    std::unique_lock lock(mu_);
    if (state_ != State::cancelled && state_ != State::finished) {
        callbacks_.push_back(std::move(fn));
        return;
    }
    lock.unlock();
    fn(*this);
}

}  // namespace detail

ThreadPoolExecutor::ThreadPoolExecutor(long max_workers, std::string thread_name_prefix)
    : max_workers_(static_cast<std::size_t>(max_workers)), prefix_(std::move(thread_name_prefix)) {
    if (max_workers < 0) {
        throw std::invalid_argument(
            "ThreadPoolExecutor: max_workers must be greater than 0 (0 means the default), got " +
            std::to_string(max_workers));
    }
    if (max_workers_ == 0) {
        max_workers_ = std::min<std::size_t>(32, std::thread::hardware_concurrency() + 4);
    }
    if (prefix_.empty()) {
        prefix_ = "ThreadPool";
    }
}

ThreadPoolExecutor::~ThreadPoolExecutor() {
    shutdown(true);
}

bool ThreadPoolExecutor::is_shutdown() const {
    std::lock_guard lock(mu_);
    return shutdown_;
}

void ThreadPoolExecutor::execute_batch(detail::WorkItem* first, detail::WorkItem* last,
                                       std::size_t n) {
    std::unique_lock lock(mu_);
    if (shutdown_) {
        throw RuntimeError("cannot schedule new futures after shutdown");
    }
    last->next = nullptr;
    detail::WorkItem* old_tail = tail_;
    if (tail_) {
        tail_->next = first;
    } else {
        head_ = first;
    }
    tail_ = last;
    queued_ += n;
    // Start threads while the idle and starting ones cannot cover the queue
    // (Python starts one per submit when none is idle).
    bool started = false;
    while (nthreads_ < max_workers_ && idle_ + starting_ < queued_) {
        std::size_t index = nthreads_;
        Local* local = locals_.emplace_back(std::make_unique<Local>()).get();
        try {
            threads_.emplace_back([this, index, local] { worker_main(index, local); });
        } catch (...) {
            locals_.pop_back();
            if (nthreads_ == 0) {
                // No worker at all: take the items back (the caller still
                // owns them when this throws) and fail.
                if (old_tail != nullptr) {
                    old_tail->next = nullptr;
                } else {
                    head_ = nullptr;
                }
                tail_ = old_tail;
                queued_ -= n;
                throw;
            }
            break;  // the workers we have will do
        }
        ++nthreads_;
        ++starting_;
        started = true;
    }
    if (started) {
        // As Python's Thread.start(): return once the new workers run.
        started_cv_.wait(lock, [this] { return starting_ == 0; });
    }
    if (n == 1) {
        cv_.notify_one();
    } else {
        cv_.notify_all();
    }
}

// Fills `me` with this worker's share of the queue: ceil(queued / threads),
// at most kMaxBatch. Called with mu_ held and the queue not empty.
void ThreadPoolExecutor::take_share(Local* me) {
    std::size_t share =
        std::clamp<std::size_t>((queued_ + nthreads_ - 1) / nthreads_, 1, Local::kMaxBatch);
    std::uint32_t n = 0;
    while (n < share && head_ != nullptr) {
        me->items[n++] = head_;
        head_ = head_->next;
    }
    if (head_ == nullptr) {
        tail_ = nullptr;
    }
    queued_ -= n;
    me->end = n;
    me->next.store(0, std::memory_order_release);
}

// Fills `me` with half (rounded up) of the first other worker's unclaimed
// items: claims them with one compare-and-swap on that worker's cursor.
// Called with mu_ held, so no worker refills its list meanwhile.
bool ThreadPoolExecutor::steal(Local* me) {
    for (auto& victim : locals_) {
        if (victim.get() == me) {
            continue;
        }
        std::uint32_t from = victim->next.load(std::memory_order_acquire);
        while (from < victim->end) {
            std::uint32_t k = (victim->end - from + 1) / 2;
            if (victim->next.compare_exchange_weak(from, from + k, std::memory_order_acq_rel)) {
                std::copy_n(victim->items + from, k, me->items);
                me->end = k;
                me->next.store(0, std::memory_order_release);
                return true;
            }
        }
    }
    return false;
}

// Runs the items of `me`, claiming them one at a time while idle workers
// may steal some.
void ThreadPoolExecutor::run_local(Local* me) {
    for (;;) {
        std::uint32_t i = me->next.fetch_add(1, std::memory_order_acq_rel);
        if (i >= me->end) {
            return;
        }
        detail::WorkItem* w = me->items[i];
        // shutdown(cancel_futures) also drops what a worker took but has
        // not started.
        w->fn(w, !drop_pending_.load(std::memory_order_acquire));
    }
}

void ThreadPoolExecutor::worker_main(std::size_t index, Local* me) {
    std::string name = prefix_ + "_" + std::to_string(index);
    ::pthread_setname_np(::pthread_self(), name.substr(0, 15).c_str());
    std::unique_lock lock(mu_);
    if (--starting_ == 0) {
        started_cv_.notify_all();
    }
    for (;;) {
        for (;;) {
            if (head_ != nullptr) {
                take_share(me);
                break;
            }
            if (steal(me)) {
                break;
            }
            if (shutdown_) {
                return;  // shut down, and nothing is left anywhere
            }
            ++idle_;
            cv_.wait(lock);
            --idle_;
        }
        if (me->end > 1 && idle_ > 0) {
            cv_.notify_one();  // an idle worker may steal part of this batch
        }
        lock.unlock();
        run_local(me);
        lock.lock();
    }
}

void ThreadPoolExecutor::shutdown(bool wait, bool cancel_futures) {
    detail::WorkItem* dropped = nullptr;
    std::vector<std::thread> threads;
    {
        std::lock_guard lock(mu_);
        shutdown_ = true;
        if (cancel_futures) {
            drop_pending_.store(true, std::memory_order_release);
            dropped = head_;
            head_ = tail_ = nullptr;
            queued_ = 0;
        }
        if (wait) {
            threads.swap(threads_);
        }
    }
    cv_.notify_all();
    for (detail::WorkItem* w = dropped; w != nullptr;) {
        detail::WorkItem* next = w->next;
        w->fn(w, false);
        w = next;
    }
    for (std::thread& t : threads) {
        if (t.get_id() == std::this_thread::get_id()) {
            t.detach();  // shutdown(wait) from one of our own workers
        } else {
            t.join();
        }
    }
}

}  // namespace corio
