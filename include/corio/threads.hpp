// corio/threads.hpp - between the loop and other threads: run_in_executor,
// to_thread, wrap_future, run_coroutine_threadsafe.
//
// Mirrors asyncio's loop.run_in_executor, asyncio.to_thread,
// asyncio.wrap_future and asyncio.run_coroutine_threadsafe (with
// call_soon_threadsafe on EventLoop). Completions come back through the
// loop's thread-safe inbox: one lock and at most one eventfd write per batch,
// and submissions leave the loop once per iteration (W8).
#pragma once

#include <atomic>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>

#include "corio/detail/remote_task.hpp"
#include "corio/executor.hpp"
#include "corio/future.hpp"
#include "corio/task.hpp"

namespace corio {

namespace detail {

/// The loop's default executor, made on first use.
Executor& default_executor(EventLoop& loop);

// run_in_executor's work item: runs `call` on a worker, then completes the
// loop Future on the loop thread. The Future's waiter node tells a queued
// item that nobody wants its result any more (cancelled before it started).
template <class R, class Call>
struct LoopWork final : WorkItem, CompletionNode {
    enum : std::uint8_t { kQueued, kRunning, kCancelled };

    LoopWork(EventLoop& l, FutureRecord* f, Call c) : loop(&l), fut(f), call(std::move(c)) {
        WorkItem::fn = &exec;
        on_done = &on_future_done;
    }

    // Worker thread (or the loop thread, for a batch its executor refused).
    static void exec(WorkItem* w, bool go) noexcept {
        auto* self = static_cast<LoopWork*>(w);
        std::uint8_t expected = kQueued;
        if (go && self->state.compare_exchange_strong(expected, kRunning)) {
            try {
                if constexpr (std::is_void_v<R>) {
                    self->call();
                } else {
                    self->value.emplace(self->call());
                }
            } catch (...) {
                self->error = std::current_exception();
            }
            self->ran = true;
        }
        ReadyItem done{&complete, static_cast<void*>(self)};
        // Cannot fail: a loop waits for its outstanding work before closing.
        LoopAccess::post_threadsafe(*self->loop, &done, 1);
    }

    // Loop thread.
    static void complete(void* p, bool run) noexcept {
        std::unique_ptr<LoopWork> self(static_cast<LoopWork*>(p));
        LoopAccess::end_external_work(*self->loop);
        self->CompletionNode::unlink();
        FutureRecord* f = self->fut;
        if (run && !f->done()) {
            if (!self->ran) {
                f->set_exception(std::make_exception_ptr(RuntimeError(
                    "run_in_executor: the executor was shut down before the call ran")));
            } else if (self->error) {
                f->set_exception(self->error);
            } else {
                if constexpr (!std::is_void_v<R>) {
                    static_cast<FutureState<R>*>(f)->value.emplace(std::move(*self->value));
                }
                f->set_result_status();
            }
        }
        f->release();
    }

    // Loop thread: the Future finished first (it was cancelled).
    static void on_future_done(CompletionNode* n, FutureBase&) noexcept {
        auto* self = static_cast<LoopWork*>(n);
        std::uint8_t expected = kQueued;
        self->state.compare_exchange_strong(expected, kCancelled);
    }

    EventLoop* loop;
    FutureRecord* fut;  // one reference, released on the loop thread
    Call call;
    std::conditional_t<std::is_void_v<R>, bool, std::optional<R>> value{};
    std::exception_ptr error;
    std::atomic<std::uint8_t> state{kQueued};
    bool ran = false;
};

// wrap_future's bridge from a ConcurrentFuture to a loop Future.
template <class T>
struct WrapBridge final : CompletionNode {
    WrapBridge(EventLoop& l, FutureRecord* f, ConcurrentFuture<T> c)
        : loop(&l), fut(f), source(std::move(c)) {
        on_done = &on_future_done;
    }
    static void complete(void* p, bool run) noexcept {
        std::unique_ptr<WrapBridge> self(static_cast<WrapBridge*>(p));
        LoopAccess::end_external_work(*self->loop);
        self->unlink();
        FutureRecord* f = self->fut;
        if (run && !f->done()) {
            if (self->source.cancelled()) {
                f->cancel({});
            } else if (std::exception_ptr e = self->source.exception()) {
                f->set_exception(e);
            } else {
                if constexpr (!std::is_void_v<T>) {
                    static_cast<FutureState<T>*>(f)->value.emplace(
                        std::move(self->source).result());
                }
                f->set_result_status();
            }
        }
        f->release();
    }
    static void on_future_done(CompletionNode* n, FutureBase& f) noexcept {
        if (f.status() == FutureBase::Status::cancelled) {
            static_cast<WrapBridge*>(n)->source.cancel();
        }
    }
    EventLoop* loop;
    FutureRecord* fut;
    ConcurrentFuture<T> source;
};

// run_coroutine_threadsafe's sink (see remote_task.hpp): completes the
// ConcurrentFuture once; cancels it if destroyed without delivering.
template <class T>
class ConcurrentSink {
public:
    explicit ConcurrentSink(ConcurrentFuture<T> cf) : cf_(std::move(cf)) {}
    ConcurrentSink(ConcurrentSink&& o) noexcept
        : cf_(std::move(o.cf_)), armed_(std::exchange(o.armed_, false)) {}
    ConcurrentSink& operator=(ConcurrentSink&&) = delete;
    // Any thread (a dropped callback's last reference may go anywhere).
    ~ConcurrentSink() {
        if (armed_) {
            cf_.cancel();
        }
    }

    void deliver(RemoteOutcome<T>&& out) {
        armed_ = false;
        if (out.cancelled) {
            cf_.cancel();
            return;
        }
        if (!cf_.set_running_or_notify_cancel()) {
            return;
        }
        if (out.error) {
            cf_.set_exception(std::move(out.error));
        } else if constexpr (std::is_void_v<T>) {
            cf_.set_result();
        } else {
            cf_.set_result(std::move(*out.value));
        }
    }

private:
    ConcurrentFuture<T> cf_;
    bool armed_ = true;
};

}  // namespace detail

template <class F, class... Args>
auto EventLoop::run_in_executor(Executor* executor, F&& f, Args&&... args) {
    using R = detail::call_result_t<F, Args...>;
    check_open();
    Executor& ex = executor != nullptr ? *executor : detail::default_executor(*this);
    if (ex.is_shutdown()) {
        throw RuntimeError("run_in_executor: the executor is shut down");
    }
    Future<R> fut(*this);
    auto call = detail::bind_call(std::forward<F>(f), std::forward<Args>(args)...);
    auto* rec = static_cast<detail::FutureRecord*>(fut.state());
    rec->add_ref();
    auto* work = new detail::LoopWork<R, decltype(call)>(*this, rec, std::move(call));
    rec->add_waiter(*work);
    detail::LoopAccess::begin_external_work(*this);
    detail::LoopAccess::queue_work(*this, ex, *work);
    return fut;
}

/// Runs `f(args...)` in the running loop's default executor and returns a
/// Future for its result; `co_await corio::to_thread(f, x)`. `f` runs in a
/// copy of the caller's context (ContextVar::get() in the worker sees the
/// caller's values; what it sets stays in that copy), as asyncio's to_thread
/// does and run_in_executor does not. Cancellation is run_in_executor's.
/// Throws RuntimeError outside a running loop. Under GCC 12, a lambda with
/// captures written inside the co_await is destroyed twice by the compiler:
/// pass the arguments beside a capture-less lambda, or name the lambda first
/// (see docs/pitfalls.md). asyncio: `asyncio.to_thread`.
template <class F, class... Args>
auto to_thread(F&& f, Args&&... args) {
    EventLoop& loop = detail::running_loop_for("to_thread()");
    return loop.run_in_executor(
        nullptr,
        [context = detail::capture_context(),
         call = detail::bind_call(std::forward<F>(f),
                                  std::forward<Args>(args)...)]() mutable -> decltype(auto) {
            // functools.partial(ctx.run, func): an empty context is made real
            // into `context` (this call's own) by a set() in `f`.
            detail::ContextScope scope(context.get(), &context);
            return call();
        });
}

/// A loop Future (on the running loop) that mirrors `source`: done when it
/// is, with its value, exception or cancellation; cancelling the Future
/// cancels `source`. The value is moved out of `source`. Throws RuntimeError
/// outside a running loop. asyncio: `asyncio.wrap_future`.
template <class T>
Future<T> wrap_future(ConcurrentFuture<T> source) {
    EventLoop& loop = detail::running_loop_for("wrap_future()");
    Future<T> fut(loop);
    auto* rec = static_cast<detail::FutureRecord*>(fut.state());
    rec->add_ref();
    auto* bridge = new detail::WrapBridge<T>(loop, rec, source);
    rec->add_waiter(*bridge);
    detail::LoopAccess::begin_external_work(loop);
    source.add_done_callback([bridge](ConcurrentFuture<T>) {
        detail::ReadyItem done{&detail::WrapBridge<T>::complete, static_cast<void*>(bridge)};
        detail::LoopAccess::post_threadsafe(*bridge->loop, &done, 1);
    });
    return fut;
}

/// Submits `coro` to `loop` (running in another thread) from any thread, and
/// returns a ConcurrentFuture for its result, to block on with result(timeout).
/// Cancelling the ConcurrentFuture cancels the task on its loop. The future
/// always completes: if the loop closes before the task starts or while it
/// is pending, it is cancelled. Throws RuntimeError if the loop is closed.
/// `loop` must outlive the future's completion. asyncio:
/// `asyncio.run_coroutine_threadsafe`.
template <class T>
ConcurrentFuture<T> run_coroutine_threadsafe(Task<T> coro, EventLoop& loop) {
    ConcurrentFuture<T> cf;
    auto bridge = detail::start_threadsafe(std::move(coro), loop, detail::ConcurrentSink<T>(cf));
    cf.add_done_callback([bridge, &loop](ConcurrentFuture<T> f) {
        if (f.cancelled()) {
            detail::cancel_threadsafe(bridge, loop, {});
        }
    });
    return cf;
}

}  // namespace corio
