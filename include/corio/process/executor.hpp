// corio/process/executor.hpp - ProcessPoolExecutor: registered functions run
// in a pool of worker processes.
//
// Mirrors Python's concurrent.futures.ProcessPoolExecutor. submit() returns
// the same ConcurrentFuture as ThreadPoolExecutor's (result(), cancel(),
// add_done_callback), usable from plain code; in a coroutine,
// `co_await corio::wrap_future(f)` or `co_await
// corio::process::run_in_executor(pool, fn, args...)` awaits it without
// blocking the loop.
//
// How it works. Each worker process has one thread in the parent that feeds
// it: the thread takes jobs from the queue (its share of what is queued, at
// most kMaxBatch), writes them to the worker's socket as one frame, and
// blocks reading the reply (plain blocking I/O, no event loop, so the pool
// works with or without one). A job is one call, or one chunk of map();
// taking several at once makes many small calls cost one round trip per
// batch, as a chunksize does, without the caller choosing one. Workers start on demand, up to
// max_workers, by fork+exec of this executable (see registry.hpp: main() must call
// worker_main_if_child first).
//
// When a worker dies (crash, SIGKILL, exit) the jobs it held fail with
// BrokenProcessPool, naming the pid and the signal or exit code; its thread
// reaps it and starts a fresh worker for the next job, so the pool recovers.
// (Python instead marks the whole pool broken; corio keeps serving, which
// is what a long-running server wants.) Only a failing initializer breaks
// the pool for good, as in Python: every queued and later submission then
// fails with BrokenProcessPool.
#pragma once

#include <sys/types.h>

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include "corio/executor.hpp"
#include "corio/process/errors.hpp"
#include "corio/process/registry.hpp"
#include "corio/threads.hpp"

namespace corio::process {

/// A registered function bound to its arguments, to run in a worker: the
/// pools' `initializer`. Build it with bind(). Python: `initializer=f,
/// initargs=(...)`.
struct Call {
    std::string name;
    std::string args;  // the encoded argument tuple
};

/// Binds registered function `fn` to `args` (converted to fn's parameter
/// types and encoded now). Throws std::invalid_argument if fn is not
/// registered.
template <class R, class... P, class... A>
Call bind(R (*fn)(P...), A&&... args) {
    return Call{detail::registered_name(detail::key_of(fn)),
                detail::encode_args(fn, std::forward<A>(args)...)};
}

/// ProcessPoolExecutor's settings (Python's constructor arguments).
struct ProcessPoolOptions {
    /// At most this many worker processes; 0 means the machine's hardware
    /// threads (Python: os.process_cpu_count()). Negative throws
    /// std::invalid_argument.
    long max_workers = 0;
    /// Runs first in every new worker. If it throws, the pool is broken.
    std::optional<Call> initializer;
    /// A worker exits after this many calls and a fresh one replaces it;
    /// 0 means never (Python: None).
    std::size_t max_tasks_per_child = 0;
};

namespace detail {

/// A unit of work for one worker: one Request and the futures it settles.
/// Owned by the queue, then by the thread that runs it.
class Job {
public:
    virtual ~Job() = default;
    /// Marks the futures running and drops the cancelled calls; false if
    /// none is left (then the job is dropped).
    virtual bool start() = 0;
    /// Settles the futures from the worker's reply, in order.
    virtual void finish(std::vector<Outcome>& outcomes) noexcept = 0;
    /// Fails every future with `e`.
    virtual void fail(std::exception_ptr e) noexcept = 0;
    /// Cancels every future (the job never ran).
    virtual void cancel() noexcept = 0;
    Request request;
};

template <class R>
class FutureJob final : public Job {
public:
    std::vector<ConcurrentFuture<R>> futures;  // one per request.args entry

    bool start() override {
        std::vector<std::string> args;
        std::vector<ConcurrentFuture<R>> running;
        for (std::size_t i = 0; i < futures.size(); ++i) {
            if (futures[i].set_running_or_notify_cancel()) {
                args.push_back(std::move(request.args[i]));
                running.push_back(std::move(futures[i]));
            }
        }
        request.args = std::move(args);
        futures = std::move(running);
        return !futures.empty();
    }
    void finish(std::vector<Outcome>& outcomes) noexcept override {
        for (std::size_t i = 0; i < futures.size(); ++i) {
            try {
                if (i >= outcomes.size()) {
                    throw BrokenProcessPool(
                        "corio::process: a worker sent fewer results than calls");
                }
                if constexpr (std::is_void_v<R>) {
                    take_outcome<R>(outcomes[i]);
                    futures[i].set_result();
                } else {
                    futures[i].set_result(take_outcome<R>(outcomes[i]));
                }
            } catch (...) {
                settle_error(futures[i], std::current_exception());
            }
        }
    }
    void fail(std::exception_ptr e) noexcept override {
        for (auto& f : futures) {
            settle_error(f, e);
        }
    }
    void cancel() noexcept override {
        for (auto& f : futures) {
            try {
                f.cancel();
            } catch (...) {  // a done callback threw: nobody to tell
            }
        }
    }

private:
    static void settle_error(ConcurrentFuture<R>& f, std::exception_ptr e) noexcept {
        try {
            f.set_exception(std::move(e));
        } catch (...) {  // already settled
        }
    }
};

}  // namespace detail

/// A pool of worker processes running registered functions. Thread-safe;
/// usable from plain code and from coroutines. The destructor calls
/// shutdown(true). Python: `concurrent.futures.ProcessPoolExecutor`.
class ProcessPoolExecutor {
public:
    /// At most `max_workers` worker processes (0: one per CPU; negative
    /// throws std::invalid_argument). Python: `ProcessPoolExecutor(max_workers)`.
    explicit ProcessPoolExecutor(long max_workers = 0)
        : ProcessPoolExecutor(ProcessPoolOptions{max_workers, std::nullopt, 0}) {}
    /// With every option (initializer, max_tasks_per_child, ...).
    explicit ProcessPoolExecutor(ProcessPoolOptions options);
    ProcessPoolExecutor(const ProcessPoolExecutor&) = delete;
    ProcessPoolExecutor& operator=(const ProcessPoolExecutor&) = delete;
    ~ProcessPoolExecutor();

    /// Schedules `fn(args...)` in a worker and returns its future at once
    /// (never blocks). `fn` must be registered (CORIO_PROCESS_REGISTER);
    /// the arguments are converted to its parameter types and encoded now.
    /// The future holds the result; RemoteError if fn threw in the worker;
    /// BrokenProcessPool if the worker died; CodecError if the reply could
    /// not be decoded. cancel() works until a worker takes the call (a
    /// worker takes its share of the queued calls at once, up to
    /// kMaxBatch; from then on they count as running, as the calls Python
    /// has already queued to a worker do).
    /// Throws std::invalid_argument (fn not registered), RuntimeError
    /// (after shutdown) or BrokenProcessPool (initializer failed).
    /// Python: `Executor.submit`.
    template <class R, class... P, class... A>
    auto submit(R (*fn)(P...), A&&... args) {
        using T = typename detail::FnTraits<R (*)(P...)>::Result;
        std::vector<std::string> one;
        one.push_back(detail::encode_args(fn, std::forward<A>(args)...));
        auto futures = submit_calls<T>(detail::registered_name(detail::key_of(fn)), std::move(one),
                                       detail::Request::call, 1);
        return std::move(futures.front());
    }

    /// Calls `fn(item)` for every item, sending `chunksize` items to a
    /// worker at a time (fewer round trips for many small calls), and
    /// returns the results in order, read (blocking) as they come; `timeout`
    /// bounds the whole read. Reading stops at the first failed call,
    /// rethrowing its error, and the calls not started are cancelled (see
    /// corio::MapResults). chunksize 0 throws std::invalid_argument.
    /// Python: `Executor.map`.
    template <class R, class P, class Range>
    auto map(R (*fn)(P), const Range& items, std::size_t chunksize = 1,
             std::optional<Duration> timeout = std::nullopt) {
        using T = typename detail::FnTraits<R (*)(P)>::Result;
        std::vector<std::string> args;
        for (const auto& item : items) {
            args.push_back(detail::encode_args(fn, item));
        }
        return results(submit_calls<T>(detail::registered_name(detail::key_of(fn)), std::move(args),
                                       detail::Request::call, chunksize),
                       timeout);
    }

    /// map() for functions of several parameters: each item is a tuple (or
    /// pair) of arguments. Python: `multiprocessing.Pool.starmap`.
    template <class R, class... P, class Range>
    auto starmap(R (*fn)(P...), const Range& items, std::size_t chunksize = 1,
                 std::optional<Duration> timeout = std::nullopt) {
        using T = typename detail::FnTraits<R (*)(P...)>::Result;
        std::vector<std::string> args;
        for (const auto& item : items) {
            args.push_back(
                std::apply([&](const auto&... a) { return detail::encode_args(fn, a...); }, item));
        }
        return results(submit_calls<T>(detail::registered_name(detail::key_of(fn)), std::move(args),
                                       detail::Request::call, chunksize),
                       timeout);
    }

    /// Stops accepting work. With `wait`, blocks until the queued work is
    /// done and every worker has exited and been reaped; with
    /// `cancel_futures`, cancels the work not started yet. Idempotent.
    /// Python: `Executor.shutdown`.
    void shutdown(bool wait = true, bool cancel_futures = false);
    /// Whether shutdown() was called.
    bool is_shutdown() const;
    /// How many worker processes the pool runs at most.
    std::size_t max_workers() const noexcept { return max_workers_; }
    /// The pids of the worker processes alive now (for monitoring and
    /// tests).
    std::vector<pid_t> pids() const;

    /// Queues `args.size()` calls of the function registered as `name`, in
    /// jobs of `chunksize` calls (internal: map, AsyncPool).
    template <class T>
    std::vector<ConcurrentFuture<T>> submit_calls(const std::string& name,
                                                  std::vector<std::string> args, std::uint8_t kind,
                                                  std::size_t chunksize);

private:
    template <class T>
    static MapResults<T> results(std::vector<ConcurrentFuture<T>> futures,
                                 std::optional<Duration> timeout) {
        std::optional<TimePoint> deadline;
        if (timeout) {
            deadline = corio::detail::deadline_after(
                std::chrono::time_point_cast<Duration>(Clock::now()), *timeout);
        }
        return MapResults<T>(std::move(futures), deadline);
    }
    void enqueue(std::vector<std::unique_ptr<detail::Job>> jobs);
    void worker_main(std::size_t slot);
    /// Most jobs a worker takes in one round trip.
    static constexpr std::size_t kMaxBatch = 64;
    std::vector<std::unique_ptr<detail::Job>> take(std::size_t limit);
    void set_pid(std::size_t slot, pid_t pid);
    void break_pool(const std::string& reason);

    ProcessPoolOptions options_;
    std::size_t max_workers_;
    mutable std::mutex mu_;
    std::condition_variable cv_;
    // Guarded by mu_.
    std::deque<std::unique_ptr<detail::Job>> queue_;
    std::vector<std::thread> threads_;  // one per worker slot started
    std::vector<pid_t> pids_;           // per slot, 0 when it has no process
    std::size_t idle_ = 0;              // threads waiting in take()
    bool shutdown_ = false;
    std::optional<std::string> broken_;  // why the initializer broke the pool
    std::mutex join_mu_;                 // one joiner at a time
};

template <class T>
std::vector<ConcurrentFuture<T>> ProcessPoolExecutor::submit_calls(const std::string& name,
                                                                   std::vector<std::string> args,
                                                                   std::uint8_t kind,
                                                                   std::size_t chunksize) {
    if (chunksize == 0) {
        throw std::invalid_argument("corio::process: chunksize must be at least 1");
    }
    std::vector<ConcurrentFuture<T>> futures(args.size());
    std::vector<std::unique_ptr<detail::Job>> jobs;
    for (std::size_t i = 0; i < args.size(); i += chunksize) {
        auto job = std::make_unique<detail::FutureJob<T>>();
        job->request.kind = kind;
        job->request.name = name;
        for (std::size_t j = i; j < std::min(args.size(), i + chunksize); ++j) {
            job->request.args.push_back(std::move(args[j]));
            job->futures.push_back(futures[j]);
        }
        jobs.push_back(std::move(job));
    }
    enqueue(std::move(jobs));
    return futures;
}

/// Runs `fn(args...)` in `pool` and returns a Future on the running loop:
/// `co_await` it. Suspends the awaiting coroutine only, never the loop.
/// Cancelling the Future cancels the call if no worker has taken it yet (a
/// call already running in a worker runs to its end; its result is
/// dropped). Throws what submit() throws, and RuntimeError outside a running
/// loop. asyncio: `loop.run_in_executor(process_pool, fn, *args)`.
template <class R, class... P, class... A>
auto run_in_executor(ProcessPoolExecutor& pool, R (*fn)(P...), A&&... args) {
    return corio::wrap_future(pool.submit(fn, std::forward<A>(args)...));
}

}  // namespace corio::process
