// corio/process/aio.hpp - coroutines in other processes: run() and
// AsyncPool, the aiomultiprocess model.
//
// Mirrors aiomultiprocess: `await Worker(target=f, args=...)` becomes
// `co_await corio::process::run(f, args...)`, and aiomultiprocess.Pool
// becomes AsyncPool: worker processes that each run their own event loop
// with up to `childconcurrency` coroutines at a time, awaited from this
// process's loop without blocking it. Functions are registered as for every
// pool (registry.hpp); a coroutine function `Task<T> f(...)` runs on the
// worker's loop, a plain function runs inline there.
#pragma once

#include <algorithm>
#include <cstddef>
#include <iterator>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "corio/async_generator.hpp"
#include "corio/future.hpp"
#include "corio/process/executor.hpp"
#include "corio/process/registry.hpp"
#include "corio/task.hpp"
#include "corio/threads.hpp"
#include "corio/wait.hpp"

namespace corio::process {

namespace detail {

/// A one-off child (Mode::once) run from a thread of its own: spawns it,
/// sends the call, reads the reply, reaps it, then calls `done` on that
/// thread with the reply (empty if the child died without one) and its wait
/// status. cancel() kills the child (SIGKILL).
class OnceRun {
public:
    using Done = corio::detail::Function<void(std::vector<Outcome>& reply, int status)>;
    static std::shared_ptr<OnceRun> start(Call call, Done done);
    void cancel() noexcept;

private:
    void main(Call call, Done done);
    std::mutex mu_;
    pid_t pid_ = -1;  // guarded by mu_; -1 once reaped
    bool cancelled_ = false;
};

std::string describe_status(int status);

}  // namespace detail

/// Runs `fn(args...)` in a new child process, the coroutine on an event loop
/// of the child's own, and returns its result. Suspends the calling
/// coroutine (never the loop) until the child is done; the child is reaped
/// before this returns. Throws RemoteError if fn threw in the child,
/// BrokenProcessPool if the child died (crash, signal), std::invalid_argument
/// if fn is not registered. Cancelling the caller kills the child (SIGKILL)
/// and throws CancelledError. aiomultiprocess: `await Worker(target=fn,
/// args=args)` / `await Process(...)`.
template <class R, class... P, class... A>
auto run(R (*fn)(P...), A&&... args) -> Task<typename detail::FnTraits<R (*)(P...)>::Result> {
    using T = typename detail::FnTraits<R (*)(P...)>::Result;
    ConcurrentFuture<T> cf;  // stays pending (cancellable) until the child is done
    auto run = detail::OnceRun::start(
        bind(fn, std::forward<A>(args)...),
        [cf](std::vector<detail::Outcome>& reply, int status) mutable {
            try {
                if (reply.empty()) {
                    throw BrokenProcessPool("corio::process::run: the child process " +
                                            detail::describe_status(status));
                }
                if constexpr (std::is_void_v<T>) {
                    detail::take_outcome<T>(reply.front());
                    cf.set_result();
                } else {
                    cf.set_result(detail::take_outcome<T>(reply.front()));
                }
            } catch (const InvalidStateError&) {  // cancelled meanwhile
            } catch (...) {
                try {
                    cf.set_exception(std::current_exception());
                } catch (...) {
                }
            }
        });
    cf.add_done_callback([run](ConcurrentFuture<T> f) {
        if (f.cancelled()) {
            run->cancel();
        }
    });
    co_return co_await corio::wrap_future(std::move(cf));
}

/// AsyncPool's settings (aiomultiprocess.Pool's constructor arguments).
struct AsyncPoolOptions {
    /// Worker processes; 0 means one per core.
    long processes = 0;
    /// Coroutines each worker runs at once on its loop.
    std::size_t childconcurrency = 16;
    /// Calls a worker serves before a fresh one replaces it; 0: no limit.
    std::size_t maxtasksperchild = 0;
    /// Work queues: the workers are split into this many groups, each
    /// serving its own queue, and calls are dealt to the queues in turn
    /// (aiomultiprocess's queuecount). 1 (the default): one queue that every
    /// worker takes from, so a slow call never holds back a free worker;
    /// more queues only help when the queue itself is the bottleneck. At
    /// most `processes`.
    std::size_t queuecount = 1;
    /// Runs first in every new worker (bind()).
    std::optional<Call> initializer;
};

/// Worker processes that each run an event loop: coroutine functions
/// submitted from this loop run there, up to childconcurrency at a time per
/// worker, and their results come back in order. Thread-safe to construct
/// and destroy anywhere; its methods are awaited from a running loop. The
/// destructor cancels work not started and waits for the workers.
/// aiomultiprocess: `Pool`.
class AsyncPool {
public:
    /// A pool with `options` (processes, childconcurrency,
    /// maxtasksperchild, initializer).
    explicit AsyncPool(AsyncPoolOptions options = {});
    ~AsyncPool() {
        for (auto& q : queues_) {  // every queue's waiting work first
            q->shutdown(false, true);
        }
        for (auto& q : queues_) {
            q->shutdown(true);
        }
    }

    /// `fn(args...)` in a worker. Suspends until it is done. Throws
    /// RemoteError / BrokenProcessPool as ProcessPoolExecutor does.
    /// Cancelling the caller cancels the call if it has not started; a
    /// started one runs to its end in the worker (its result is dropped),
    /// and the loop counts it as outstanding work until then, as it does a
    /// run_in_executor call. aiomultiprocess: `Pool.apply`.
    template <class R, class... P, class... A>
    auto apply(R (*fn)(P...), A&&... args) -> Task<typename detail::FnTraits<R (*)(P...)>::Result> {
        using T = typename detail::FnTraits<R (*)(P...)>::Result;
        std::vector<std::string> one;
        one.push_back(detail::encode_args(fn, std::forward<A>(args)...));
        auto results = co_await collect(submit<T>(fn, std::move(one)));
        if constexpr (!std::is_void_v<T>) {
            co_return std::move(results.front());
        }
    }

    /// `fn(item)` for every item, spread over the workers in chunks that
    /// each worker runs concurrently on its loop; the results come back in
    /// the items' order. Suspends until all are done. The first failure is
    /// rethrown and the calls not started are cancelled; cancelling the
    /// caller does the same (a cancelled map stops scheduling more work).
    /// aiomultiprocess: `Pool.map`.
    template <class R, class P, class Range>
    auto map(R (*fn)(P), const Range& items)
        -> Task<std::vector<detail::carried_t<typename detail::FnTraits<R (*)(P)>::Result>>> {
        std::vector<std::string> args;
        for (const auto& item : items) {
            args.push_back(detail::encode_args(fn, item));
        }
        co_return co_await collect(
            submit<typename detail::FnTraits<R (*)(P)>::Result>(fn, std::move(args)));
    }

    /// map() for functions of several parameters: each item is a tuple of
    /// arguments. aiomultiprocess: `Pool.starmap`.
    template <class R, class... P, class Range>
    auto starmap(R (*fn)(P...), const Range& items)
        -> Task<std::vector<detail::carried_t<typename detail::FnTraits<R (*)(P...)>::Result>>> {
        std::vector<std::string> args;
        for (const auto& item : items) {
            args.push_back(
                std::apply([&](const auto&... a) { return detail::encode_args(fn, a...); }, item));
        }
        co_return co_await collect(
            submit<typename detail::FnTraits<R (*)(P...)>::Result>(fn, std::move(args)));
    }

    /// map(), but the results come as the calls finish (completion order),
    /// from an async generator:
    ///   auto gen = pool.map_unordered(fetch, urls);
    ///   while (auto page = co_await gen.next()) { ... }
    /// The unit of completion is a batch: a worker runs the calls of one
    /// batch (up to childconcurrency of them) at once on its loop and sends
    /// their results back together when the last one ends, in the items'
    /// order; batches come back as they finish. With childconcurrency 1
    /// every call is its own batch. Suspends in next() until a batch ends. A failed call's error is
    /// thrown from next() and the calls not started are cancelled; so are
    /// they when the generator is closed, destroyed or cancelled before the
    /// end. aiomultiprocess: `async for` over `Pool.map` gives its results
    /// in order; this is multiprocessing's `imap_unordered` for coroutines.
    template <class R, class P, class Range>
    auto map_unordered(R (*fn)(P), const Range& items)
        -> AsyncGenerator<detail::carried_t<typename detail::FnTraits<R (*)(P)>::Result>> {
        using T = typename detail::FnTraits<R (*)(P)>::Result;
        std::vector<std::string> args;
        for (const auto& item : items) {
            args.push_back(detail::encode_args(fn, item));
        }
        return unordered<T>(UnorderedCalls<T>(submit<T>(fn, std::move(args))));
    }

    /// No more work; the workers exit once the submitted work is done.
    /// aiomultiprocess: `Pool.close`.
    void close() {
        for (auto& q : queues_) {
            q->shutdown(false);
        }
    }
    /// Waits (in a thread, without blocking the loop) for the workers to
    /// exit; call close() first. aiomultiprocess: `Pool.join`.
    Task<> join();
    /// The pids of the worker processes alive now, every queue's.
    std::vector<pid_t> pids() const;
    /// Worker processes in all.
    std::size_t processes() const noexcept { return workers_; }
    /// Work queues (AsyncPoolOptions::queuecount).
    std::size_t queuecount() const noexcept { return queues_.size(); }

private:
    template <class T, class F>
    std::vector<ConcurrentFuture<T>> submit(F* fn, std::vector<std::string> args) {
        // Spread small batches over every worker; never more than
        // childconcurrency calls per chunk.
        std::size_t per = (args.size() + workers_ - 1) / std::max<std::size_t>(workers_, 1);
        std::size_t chunk = std::clamp<std::size_t>(per, 1, childconcurrency_);
        const std::string& name = detail::registered_name(detail::key_of(fn));
        if (queues_.size() == 1) {
            return queues_.front()->submit_calls<T>(name, std::move(args),
                                                    detail::Request::call_async, chunk);
        }
        // Deal chunks to the queues in turn, keeping the items' order in
        // the futures.
        std::vector<ConcurrentFuture<T>> out;
        out.reserve(args.size());
        for (std::size_t at = 0; at < args.size(); at += chunk) {
            std::size_t end = std::min(args.size(), at + chunk);
            std::vector<std::string> part(std::make_move_iterator(args.begin() + at),
                                          std::make_move_iterator(args.begin() + end));
            auto fs = queues_[next_queue_]->submit_calls<T>(name, std::move(part),
                                                            detail::Request::call_async, chunk);
            next_queue_ = (next_queue_ + 1) % queues_.size();
            for (auto& f : fs) {
                out.push_back(std::move(f));
            }
        }
        return out;
    }

    // Whatever ends an unordered iteration early - a failure, cancellation,
    // aclose(), or the generator dropped even before its first next() (a
    // coroutine's parameters are destroyed with its frame, run or not) -
    // cancels the calls not started, and marks the results it will never
    // hand out as retrieved (a later failure among them is not reported).
    template <class T>
    struct UnorderedCalls {
        std::vector<ConcurrentFuture<T>> calls;
        std::vector<Future<T>> watched;  // the loop's side of each call
        explicit UnorderedCalls(std::vector<ConcurrentFuture<T>> fs) : calls(std::move(fs)) {}
        UnorderedCalls(UnorderedCalls&&) noexcept = default;
        ~UnorderedCalls() {
            for (auto& f : calls) {
                f.cancel();  // a no-op for calls running or done
            }
            for (auto& f : watched) {
                f.state()->mark_retrieved();
            }
        }
    };

    template <class T>
    static AsyncGenerator<detail::carried_t<T>> unordered(UnorderedCalls<T> c) {
        c.watched.reserve(c.calls.size());
        for (auto& f : c.calls) {
            c.watched.push_back(corio::wrap_future(f));
        }
        auto done = corio::as_completed(c.watched);
        while (auto f = co_await done.next()) {
            if constexpr (std::is_void_v<T>) {
                co_await *f;
                co_yield detail::carried_t<T>{};
            } else {
                co_yield co_await *f;
            }
        }
    }

    template <class T>
    static Task<std::vector<detail::carried_t<T>>> collect(std::vector<ConcurrentFuture<T>> fs) {
        std::vector<detail::carried_t<T>> out;
        out.reserve(fs.size());
        try {
            for (auto& f : fs) {
                if constexpr (std::is_void_v<T>) {
                    co_await corio::wrap_future(f);
                    out.emplace_back();
                } else {
                    out.push_back(co_await corio::wrap_future(f));
                }
            }
        } catch (...) {
            for (auto& f : fs) {
                f.cancel();  // a no-op for calls running or done
            }
            throw;
        }
        co_return out;
    }

    std::size_t workers_;
    std::size_t childconcurrency_;
    std::vector<std::unique_ptr<ProcessPoolExecutor>> queues_;
    std::size_t next_queue_ = 0;
};

}  // namespace corio::process
