// corio/process/process.hpp - Process and Pool: Python's multiprocessing.
//
// Process runs one registered function in a new process (start, join,
// exitcode, terminate, kill); Pool is multiprocessing.Pool (map, starmap,
// apply, apply_async, imap) on a ProcessPoolExecutor. Both start their
// processes by fork+exec of this executable (registry.hpp): main() must
// begin with corio::process::worker_main_if_child(argc, argv).
#pragma once

#include <sys/types.h>

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "corio/event_loop.hpp"
#include "corio/process/executor.hpp"
#include "corio/process/registry.hpp"

namespace corio::process {

namespace detail {
class Child;
struct ChildDeleter {
    void operator()(Child* c) const noexcept;
};
}  // namespace detail

/// A registered function running in a child process of its own. The child
/// shares nothing with this process: it inherits stdout and stderr only.
/// Not thread-safe (one owner). The destructor waits for a started child to
/// end (Python joins non-daemon processes at exit), so no zombie is left.
/// Python: `multiprocessing.Process(target=fn, args=(...))`.
class Process {
public:
    /// Binds `fn(args...)` (encoded now); nothing starts yet. Throws
    /// std::invalid_argument if fn is not registered.
    template <class R, class... P, class... A>
    explicit Process(R (*fn)(P...), A&&... args) : call_(bind(fn, std::forward<A>(args)...)) {}
    Process(Process&&) noexcept;
    Process& operator=(Process&&) noexcept;
    ~Process();

    /// Starts the child (fork+exec, never blocks on it). Throws RuntimeError
    /// if started before, std::system_error if the process cannot start.
    /// Python: `start()`.
    void start();
    /// Blocks until the child ends, or at most `timeout` (then returns with
    /// the child still running: check exitcode()). Throws RuntimeError if
    /// not started. Python: `join(timeout)`.
    void join(std::optional<Duration> timeout = std::nullopt);
    /// True from start() until the child ends. Python: `is_alive()`.
    bool is_alive();
    /// nullopt while the child runs (or before start); then its exit code:
    /// 0 if fn returned, 1 if it threw (the error is printed on stderr),
    /// -N if signal N killed it. Python: `exitcode`.
    std::optional<int> exitcode();
    /// Sends SIGTERM (Python: `terminate()`), or SIGKILL (Python: `kill()`);
    /// a no-op once the child has ended.
    void terminate();
    void kill();
    /// The child's pid; -1 before start(). Python: `pid`.
    pid_t pid() const noexcept;

private:
    Call call_;
    std::unique_ptr<detail::Child, detail::ChildDeleter> child_;
};

/// The results of Pool::imap_unordered, in the order the calls finish;
/// next() blocks until one has. A failed call's error is thrown from the
/// next() that reaches it; the calls not started are cancelled once reading
/// stops (that error, or destruction before the last result), as MapResults
/// does. Movable, not copyable.
template <class R>
class UnorderedResults {
public:
    using Value = std::conditional_t<std::is_void_v<R>, std::monostate, R>;

    explicit UnorderedResults(std::vector<ConcurrentFuture<R>> futures)
        : futures_(std::move(futures)), done_(std::make_shared<Done>()) {
        for (std::size_t i = 0; i < futures_.size(); ++i) {
            futures_[i].add_done_callback([d = done_, i](const ConcurrentFuture<R>&) {
                std::lock_guard lock(d->mu);
                d->order.push_back(i);
                d->cv.notify_one();
            });
        }
    }
    UnorderedResults(UnorderedResults&&) noexcept = default;
    UnorderedResults(const UnorderedResults&) = delete;
    ~UnorderedResults() { cancel_rest(); }

    /// The next result to finish (blocking), or nullopt after the last.
    std::optional<Value> next() {
        if (taken_ == futures_.size()) {
            return std::nullopt;
        }
        std::size_t i = 0;
        {
            std::unique_lock lock(done_->mu);
            done_->cv.wait(lock, [&] { return !done_->order.empty(); });
            i = done_->order.front();
            done_->order.pop_front();
        }
        ++taken_;
        try {
            if constexpr (std::is_void_v<R>) {
                std::move(futures_[i]).result();
                return Value{};
            } else {
                return std::move(futures_[i]).result();
            }
        } catch (...) {
            cancel_rest();
            taken_ = futures_.size();
            throw;
        }
    }
    /// Every remaining result, in completion order.
    std::vector<Value> all() {
        std::vector<Value> out;
        while (auto r = next()) {
            out.push_back(std::move(*r));
        }
        return out;
    }

private:
    struct Done {
        std::mutex mu;
        std::condition_variable cv;
        std::deque<std::size_t> order;
    };
    void cancel_rest() noexcept {
        for (auto& f : futures_) {
            f.cancel();  // a no-op for calls running or done
        }
    }

    std::vector<ConcurrentFuture<R>> futures_;
    std::shared_ptr<Done> done_;
    std::size_t taken_ = 0;
};

/// A pool of worker processes with multiprocessing.Pool's blocking API, on
/// a ProcessPoolExecutor. Thread-safe. The destructor cancels the work not
/// started and waits for the workers (Python's `with Pool()` terminates
/// them instead). Python: `multiprocessing.Pool`.
class Pool {
public:
    /// `processes` 0: one per core. `initializer` runs in every new worker;
    /// `maxtasksperchild` 0: workers live as long as the pool.
    explicit Pool(long processes = 0, std::optional<Call> initializer = std::nullopt,
                  std::size_t maxtasksperchild = 0)
        : pool_(ProcessPoolOptions{processes, std::move(initializer), maxtasksperchild}) {}
    ~Pool() { pool_.shutdown(true, true); }

    /// `fn(item)` for every item, `chunksize` items per round trip; blocks
    /// and returns the results in order (a void fn gives std::monostate).
    /// Throws the first failed call's error (RemoteError, BrokenProcessPool).
    /// Python: `Pool.map`.
    template <class R, class P, class Range>
    auto map(R (*fn)(P), const Range& items, std::size_t chunksize = 1) {
        return pool_.map(fn, items, chunksize).all();
    }
    /// map() for functions of several parameters; each item is a tuple of
    /// arguments. Python: `Pool.starmap`.
    template <class R, class... P, class Range>
    auto starmap(R (*fn)(P...), const Range& items, std::size_t chunksize = 1) {
        return pool_.starmap(fn, items, chunksize).all();
    }
    /// The results of map() one at a time, as they are read (blocking per
    /// result). Python: `Pool.imap`.
    template <class R, class P, class Range>
    auto imap(R (*fn)(P), const Range& items, std::size_t chunksize = 1) {
        return pool_.map(fn, items, chunksize);
    }
    /// The results of map() in the order they come back. They come back as
    /// the pool's round trips end: a worker takes up to 64 queued jobs of
    /// `chunksize` calls at a time (docs/process.md, "Inside") and answers
    /// them together, so with many items results arrive in groups, each
    /// group when its slowest call ends. chunksize 0 throws
    /// std::invalid_argument. Python: `Pool.imap_unordered`.
    template <class R, class P, class Range>
    auto imap_unordered(R (*fn)(P), const Range& items, std::size_t chunksize = 1) {
        using T = typename detail::FnTraits<R (*)(P)>::Result;
        std::vector<std::string> args;
        for (const auto& item : items) {
            args.push_back(detail::encode_args(fn, item));
        }
        return UnorderedResults<T>(
            pool_.submit_calls<T>(detail::registered_name(detail::key_of(fn)), std::move(args),
                                  detail::Request::call, chunksize));
    }
    /// `fn(args...)` in a worker; blocks for the result. Python: `Pool.apply`.
    template <class R, class... P, class... A>
    auto apply(R (*fn)(P...), A&&... args) {
        return pool_.submit(fn, std::forward<A>(args)...).result();
    }
    /// The same, returning the future at once. Python: `Pool.apply_async`.
    template <class R, class... P, class... A>
    auto apply_async(R (*fn)(P...), A&&... args) {
        return pool_.submit(fn, std::forward<A>(args)...);
    }
    /// No more work may be submitted. Python: `Pool.close`.
    void close() { pool_.shutdown(false); }
    /// Waits for the submitted work and the workers' exit; call close()
    /// first. Python: `Pool.join`.
    void join() { pool_.shutdown(true); }
    /// The executor underneath (pids(), run_in_executor).
    ProcessPoolExecutor& executor() noexcept { return pool_; }

private:
    ProcessPoolExecutor pool_;
};

}  // namespace corio::process
