// corio/executor.hpp - thread pools and their futures: Executor,
// ThreadPoolExecutor, ConcurrentFuture.
//
// Mirrors Python's concurrent.futures (thread.py, _base.py). Usable from
// plain synchronous code exactly as Python's is (submit, map, result with a
// timeout, shutdown, RAII shutdown); threads.hpp connects them to the loop
// (run_in_executor, to_thread, wrap_future).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "corio/detail/callback.hpp"
#include "corio/errors.hpp"
#include "corio/event_loop.hpp"
#include "corio/task.hpp"

namespace corio {

namespace detail {

/// A unit of work for an Executor. Intrusive (`next`), so queueing and
/// batching never allocate. `fn(item, true)` runs it on a worker;
/// `fn(item, false)` tells it that it will never run (shutdown with
/// cancel_futures, or an executor shut down under a pending batch). Either
/// way `fn` owns the item from then on.
struct WorkItem {
    void (*fn)(WorkItem* self, bool run) = nullptr;
    WorkItem* next = nullptr;
};

/// The thread-safe state behind ConcurrentFuture<T>.
class ConcurrentStateBase : public std::enable_shared_from_this<ConcurrentStateBase> {
public:
    enum class State : std::uint8_t { pending, running, cancelled, finished };

    bool cancel();
    bool cancelled() const;
    bool running() const;
    bool done() const;
    /// Pending -> running; false if it was cancelled (then nobody must run it).
    bool set_running_or_notify_cancel();
    void set_exception(std::exception_ptr e);
    /// Waits until done (or `timeout`); throws TimeoutError, CancelledError,
    /// or the stored exception.
    void wait_result(std::optional<Duration> timeout);
    std::exception_ptr wait_exception(std::optional<Duration> timeout);
    void add_done_callback(Function<void(ConcurrentStateBase&)> fn);

protected:
    // Marks the future finished (value stored by the caller under mu_) and
    // runs the callbacks, outside the lock, in this thread.
    void finish_locked(std::unique_lock<std::mutex>& lock);
    void wait_done(std::unique_lock<std::mutex>& lock, std::optional<Duration> timeout);

    mutable std::mutex mu_;
    std::condition_variable cv_;
    State state_ = State::pending;
    std::exception_ptr exception_;
    std::vector<Function<void(ConcurrentStateBase&)>> callbacks_;
};

template <class T>
class ConcurrentState final : public ConcurrentStateBase {
public:
    template <class U>
    void set_result(U&& v) {
        std::unique_lock lock(mu_);
        if (state_ == State::cancelled || state_ == State::finished) {
            throw InvalidStateError("invalid state: the future is already done");
        }
        value_.emplace(std::forward<U>(v));
        finish_locked(lock);
    }
    T& value() { return *value_; }

private:
    std::optional<T> value_;
};

template <>
class ConcurrentState<void> final : public ConcurrentStateBase {
public:
    void set_result() {
        std::unique_lock lock(mu_);
        if (state_ == State::cancelled || state_ == State::finished) {
            throw InvalidStateError("invalid state: the future is already done");
        }
        finish_locked(lock);
    }
};

}  // namespace detail

/// The result of work running on another thread; every method is
/// thread-safe and may block. Copies share the state. Returned by
/// ThreadPoolExecutor::submit and run_coroutine_threadsafe.
/// Python: `concurrent.futures.Future`.
template <class T = void>
class ConcurrentFuture {
public:
    /// A pending future, for code that completes it itself.
    ConcurrentFuture() : s_(std::make_shared<detail::ConcurrentState<T>>()) {}

    /// Cancels the work if it has not started: true if it is (now) cancelled.
    bool cancel() { return s_->cancel(); }
    bool cancelled() const { return s_->cancelled(); }
    /// True while the work runs.
    bool running() const { return s_->running(); }
    /// True once finished or cancelled.
    bool done() const { return s_->done(); }

    /// Blocks until done (at most `timeout`; Duration::max() means no limit)
    /// and returns the value (a reference into the shared state;
    /// `std::move(f).result()` moves it out). Throws TimeoutError,
    /// CancelledError, or the work's exception.
    detail::result_ref_t<T> result(std::optional<Duration> timeout = std::nullopt) const& {
        s_->wait_result(timeout);
        if constexpr (!std::is_void_v<T>) {
            return s_->value();
        }
    }
    T result(std::optional<Duration> timeout = std::nullopt) && {
        s_->wait_result(timeout);
        if constexpr (!std::is_void_v<T>) {
            return std::move(s_->value());
        }
    }
    /// Blocks like result() and returns the exception (null on success).
    std::exception_ptr exception(std::optional<Duration> timeout = std::nullopt) const {
        return s_->wait_exception(timeout);
    }
    /// Calls `fn(future)` when the future is done: in the thread that
    /// completes it, or at once in this thread if it is done already.
    template <class F>
    void add_done_callback(F fn) {
        s_->add_done_callback([fn = std::move(fn)](detail::ConcurrentStateBase& b) mutable {
            fn(ConcurrentFuture(
                std::static_pointer_cast<detail::ConcurrentState<T>>(b.shared_from_this())));
        });
    }

    // For code that produces the result (executors, bridges).
    bool set_running_or_notify_cancel() { return s_->set_running_or_notify_cancel(); }
    template <class U = T, class = std::enable_if_t<!std::is_void_v<U>>>
    void set_result(U value) {
        s_->set_result(std::move(value));
    }
    template <class U = T, class = std::enable_if_t<std::is_void_v<U>>>
    void set_result() {
        s_->set_result();
    }
    void set_exception(std::exception_ptr e) { s_->set_exception(std::move(e)); }

    friend bool operator==(const ConcurrentFuture& a, const ConcurrentFuture& b) noexcept {
        return a.s_ == b.s_;
    }

    /// The shared state (internal).
    const std::shared_ptr<detail::ConcurrentState<T>>& state() const noexcept { return s_; }

private:
    explicit ConcurrentFuture(std::shared_ptr<detail::ConcurrentState<T>> s) : s_(std::move(s)) {}
    std::shared_ptr<detail::ConcurrentState<T>> s_;
};

/// Something that runs work on other threads; what run_in_executor accepts.
/// Python: `concurrent.futures.Executor`.
class Executor {
public:
    virtual ~Executor() = default;
    /// Queues `n` linked items (first ... last) in one hand-off. Thread-safe.
    /// Throws RuntimeError after shutdown (the items are then not taken).
    virtual void execute_batch(detail::WorkItem* first, detail::WorkItem* last, std::size_t n) = 0;
    /// Stops accepting work; with `wait`, blocks until queued work is done and
    /// the threads exited; with `cancel_futures`, drops work not started yet
    /// (its futures are cancelled). Idempotent. Python: `Executor.shutdown`.
    virtual void shutdown(bool wait = true, bool cancel_futures = false) = 0;
    /// True once shutdown() was called.
    virtual bool is_shutdown() const = 0;
};

namespace detail {

template <class F, class... Args>
using call_result_t = std::invoke_result_t<std::decay_t<F>, std::decay_t<Args>...>;

// submit()'s work item: runs the call and completes a ConcurrentFuture.
template <class R, class Call>
struct SubmitItem final : WorkItem {
    SubmitItem(std::shared_ptr<ConcurrentState<R>> f, Call c)
        : future(std::move(f)), call(std::move(c)) {
        fn = &run;
    }
    static void run(WorkItem* w, bool go) {
        std::unique_ptr<SubmitItem> self(static_cast<SubmitItem*>(w));
        if (!go) {
            self->future->cancel();
            return;
        }
        if (!self->future->set_running_or_notify_cancel()) {
            return;
        }
        try {
            if constexpr (std::is_void_v<R>) {
                self->call();
                self->future->set_result();
            } else {
                self->future->set_result(self->call());
            }
        } catch (...) {
            self->future->set_exception(std::current_exception());
        }
    }
    std::shared_ptr<ConcurrentState<R>> future;
    Call call;
};

template <class F, class... Args>
auto bind_call(F&& f, Args&&... args) {
    return
        [f = std::forward<F>(f), ... args = std::forward<Args>(args)]() mutable -> decltype(auto) {
            return std::invoke(std::move(f), std::move(args)...);
        };
}

}  // namespace detail

/// A pool of up to max_workers threads, started on demand. Usable from any
/// thread, with or without an event loop. The destructor calls shutdown(true).
/// Python: `concurrent.futures.ThreadPoolExecutor`.
class ThreadPoolExecutor final : public Executor {
public:
    /// max_workers 0 means Python's default, min(32, hardware threads + 4)
    /// (Python spells it None); a negative count throws std::invalid_argument
    /// (Python's ValueError). `thread_name_prefix` names the threads (e.g.
    /// "worker_0").
    explicit ThreadPoolExecutor(long max_workers = 0, std::string thread_name_prefix = {});
    ThreadPoolExecutor(const ThreadPoolExecutor&) = delete;
    ThreadPoolExecutor& operator=(const ThreadPoolExecutor&) = delete;
    ~ThreadPoolExecutor() override;

    /// Schedules `f(args...)` (arguments are copied or moved in) and returns
    /// its future at once. Exceptions thrown by `f` are stored in the future.
    /// Throws RuntimeError after shutdown. Python: `Executor.submit`.
    template <class F, class... Args>
    ConcurrentFuture<detail::call_result_t<F, Args...>> submit(F&& f, Args&&... args) {
        using R = detail::call_result_t<F, Args...>;
        ConcurrentFuture<R> fut;
        auto* item =
            new detail::SubmitItem<R, decltype(detail::bind_call(std::forward<F>(f),
                                                                 std::forward<Args>(args)...))>(
                fut.state(), detail::bind_call(std::forward<F>(f), std::forward<Args>(args)...));
        try {
            execute_batch(item, item, 1);
        } catch (...) {
            delete item;
            throw;
        }
        return fut;
    }

    /// Applies `f` to every element of `items` concurrently and returns the
    /// results in order. Like Python's map it submits everything at once; the
    /// results are collected as they are read (blocking), and `timeout`
    /// (from this call) bounds the whole: TimeoutError when it passes. The
    /// first exception of a call is rethrown when its result is reached;
    /// reading ends there and the calls not started are cancelled (see
    /// MapResults). Python: `Executor.map`.
    template <class F, class Range>
    auto map(F f, const Range& items, std::optional<Duration> timeout = std::nullopt);

    void execute_batch(detail::WorkItem* first, detail::WorkItem* last, std::size_t n) override;
    void shutdown(bool wait = true, bool cancel_futures = false) override;
    bool is_shutdown() const override;
    std::size_t max_workers() const noexcept { return max_workers_; }

private:
    // The items a worker took from the queue: it claims them one at a time
    // by advancing `next`; an idle worker steals half of the unclaimed ones
    // with a compare-and-swap on `next`, so no item waits behind a long call
    // while a worker is free. `items` and `end` change only under mu_ (when
    // the owner refills), which thieves hold.
    struct Local {
        static constexpr std::size_t kMaxBatch = 64;
        std::atomic<std::uint32_t> next{0};
        std::uint32_t end = 0;
        detail::WorkItem* items[kMaxBatch];
    };
    void worker_main(std::size_t index, Local* me);
    void take_share(Local* me);
    bool steal(Local* me);
    void run_local(Local* me);

    mutable std::mutex mu_;
    std::condition_variable cv_;
    std::condition_variable started_cv_;  // a new worker has entered its loop
    // All guarded by mu_.
    detail::WorkItem* head_ = nullptr;
    detail::WorkItem* tail_ = nullptr;
    std::size_t queued_ = 0;
    std::size_t nthreads_ = 0;  // threads started
    std::size_t idle_ = 0;      // threads waiting for work
    std::size_t starting_ = 0;  // threads started but not yet in their loop
    bool shutdown_ = false;
    std::atomic<bool> drop_pending_{false};  // shutdown(cancel_futures) was called
    std::vector<std::thread> threads_;
    std::vector<std::unique_ptr<Local>> locals_;  // one per thread started
    std::size_t max_workers_;
    std::string prefix_;
};

/// The results of ThreadPoolExecutor::map, read in order; reading one blocks
/// until it is ready. Call next() or all(). As Python's map iterator, it
/// cancels the calls not started yet once reading stops: when a result
/// raises (the call's exception, or TimeoutError) and when it is destroyed
/// before the last result was read. Movable, not copyable. A void call
/// gives std::monostate (corio::Unit), as Python's map gives None.
template <class R>
class MapResults {
public:
    using Value = std::conditional_t<std::is_void_v<R>, std::monostate, R>;

    MapResults(std::vector<ConcurrentFuture<R>> futures, std::optional<TimePoint> deadline)
        : futures_(std::move(futures)), deadline_(deadline) {}
    MapResults(MapResults&&) noexcept = default;
    MapResults(const MapResults&) = delete;
    ~MapResults() { cancel_from(pos_); }

    /// The next result (blocking), or nullopt after the last.
    std::optional<Value> next() {
        if (pos_ >= futures_.size()) {
            return std::nullopt;
        }
        ConcurrentFuture<R>& f = futures_[pos_++];
        std::optional<Duration> left;
        if (deadline_ && *deadline_ != TimePoint::max()) {
            left = std::max(Duration(0),
                            *deadline_ - std::chrono::time_point_cast<Duration>(Clock::now()));
        }
        try {
            if constexpr (std::is_void_v<R>) {
                std::move(f).result(left);
                return Value{};
            } else {
                return std::move(f).result(left);
            }
        } catch (...) {
            cancel_from(pos_ - 1);  // this one too, if it timed out before it started
            pos_ = futures_.size();
            throw;
        }
    }
    /// Every remaining result.
    std::vector<Value> all() {
        std::vector<Value> out;
        while (auto r = next()) {
            out.push_back(std::move(*r));
        }
        return out;
    }
    std::size_t size() const noexcept { return futures_.size(); }

private:
    void cancel_from(std::size_t i) noexcept {
        for (; i < futures_.size(); ++i) {
            try {
                futures_[i].cancel();  // a no-op for calls running or done
            } catch (...) {
                // a done callback failed: nothing to report to from here
            }
        }
    }

    std::vector<ConcurrentFuture<R>> futures_;
    std::optional<TimePoint> deadline_;
    std::size_t pos_ = 0;
};

template <class F, class Range>
auto ThreadPoolExecutor::map(F f, const Range& items, std::optional<Duration> timeout) {
    using Item = std::decay_t<decltype(*std::begin(items))>;
    using R = detail::call_result_t<F&, Item>;
    std::optional<TimePoint> deadline;
    if (timeout) {
        deadline =
            detail::deadline_after(std::chrono::time_point_cast<Duration>(Clock::now()), *timeout);
    }
    std::vector<ConcurrentFuture<R>> futures;
    for (const auto& item : items) {
        futures.push_back(submit(f, item));
    }
    return MapResults<R>(std::move(futures), deadline);
}

}  // namespace corio
