// corio/wait.hpp - wait and as_completed: watch several tasks or futures
// without owning their outcome.
//
// Mirrors asyncio.wait and asyncio.as_completed (tasks.py, Python 3.13).
#pragma once

#include <concepts>
#include <coroutine>
#include <deque>
#include <iterator>
#include <memory>
#include <optional>
#include <stdexcept>
#include <vector>

#include "corio/detail/multi_wait.hpp"
#include "corio/future.hpp"
#include "corio/gather.hpp"
#include "corio/task.hpp"

namespace corio {

/// When wait() returns. asyncio's constants, also exported as
/// corio::FIRST_COMPLETED, corio::FIRST_EXCEPTION and corio::ALL_COMPLETED.
enum class ReturnWhen : std::uint8_t { FIRST_COMPLETED, FIRST_EXCEPTION, ALL_COMPLETED };
inline constexpr ReturnWhen FIRST_COMPLETED = ReturnWhen::FIRST_COMPLETED;
inline constexpr ReturnWhen FIRST_EXCEPTION = ReturnWhen::FIRST_EXCEPTION;
inline constexpr ReturnWhen ALL_COMPLETED = ReturnWhen::ALL_COMPLETED;

/// Options of wait(): `{.timeout = 2s, .return_when = FIRST_COMPLETED}`.
struct WaitOptions {
    std::optional<Duration> timeout;  // none (or Duration::max()): no limit
    ReturnWhen return_when = ALL_COMPLETED;
};

/// wait()'s result: the tasks or futures that are done and those still
/// pending, each in the order they were given (asyncio returns two sets).
template <class F>
struct WaitResult {
    std::vector<F> done;
    std::vector<F> pending;
};

namespace detail {

template <class F>
concept waitable = requires(const F& f) {
    { f.state() } -> std::convertible_to<FutureBase*>;
    f.done();
};

template <class F>
Task<WaitResult<F>> wait_impl(std::vector<F> fs, WaitOptions opts) {
    std::vector<FutureBase*> recs;
    recs.reserve(fs.size());
    for (const F& f : fs) {
        recs.push_back(f.state());
    }
    MultiWait::Until until = opts.return_when == FIRST_COMPLETED ? MultiWait::Until::first_done
                             : opts.return_when == FIRST_EXCEPTION
                                 ? MultiWait::Until::first_exception
                                 : MultiWait::Until::all_done;
    {
        MultiWait mw(recs.data(), recs.size(), until);
        if (opts.timeout) {
            EventLoop& loop = get_running_loop();
            mw.set_deadline(deadline_after(loop.time(), *opts.timeout).time_since_epoch().count());
        }
        co_await mw;
    }
    WaitResult<F> out;
    for (F& f : fs) {
        (f.done() ? out.done : out.pending).push_back(std::move(f));
    }
    co_return out;
}

}  // namespace detail

/// Waits until the tasks/futures in `fs` meet `opts.return_when` or
/// `opts.timeout` passes, and returns them split into done and pending. Never
/// cancels anything, not even on timeout (asyncio's rule), and never raises a
/// child's error. Cancelling the awaiting task interrupts the wait only.
/// Throws std::invalid_argument if `fs` is empty or holds an empty handle.
/// asyncio: `asyncio.wait(fs, timeout=, return_when=)`.
template <detail::waitable F>
Task<WaitResult<F>> wait(std::vector<F> fs, WaitOptions opts = {}) {
    if (fs.empty()) {
        throw std::invalid_argument("wait: fs (the set of tasks/futures) is empty");
    }
    for (const F& f : fs) {
        if (!f.state()) {
            throw std::invalid_argument("wait: fs holds an empty handle");
        }
    }
    return detail::wait_impl(std::move(fs), opts);
}

namespace detail {

template <class R>
concept waitable_range = requires(const R& r) {
    std::begin(r);
    std::end(r);
    requires waitable<std::remove_cvref_t<decltype(*std::begin(r))>>;
};
template <class R>
inline constexpr bool is_std_vector = false;
template <class T, class A>
inline constexpr bool is_std_vector<std::vector<T, A>> = true;

}  // namespace detail

/// wait() over any other range of tasks/futures (std::array, std::span,
/// std::deque, ...); the handles are copied.
template <class R>
requires(detail::waitable_range<R> &&
         !detail::is_std_vector<std::remove_cvref_t<R>>) auto wait(const R& fs,
                                                                   WaitOptions opts = {}) {
    using F = std::remove_cvref_t<decltype(*std::begin(fs))>;
    return wait(std::vector<F>(std::begin(fs), std::end(fs)), opts);
}

/// wait(t1, t2, ...): the tasks/futures given as arguments (all of one type),
/// with the default options (ALL_COMPLETED, no timeout). This is the spelling
/// to use inside a coroutine under GCC 12, which rejects any braced list in a
/// co_await expression, `co_await wait(std::vector{t1, t2})` included ("array
/// used as initializer"; see docs/pitfalls.md).
template <detail::waitable F, class... Fs>
requires(std::same_as<F, Fs>&&...) Task<WaitResult<F>> wait(F first, Fs... rest) {
    std::vector<F> fs;
    fs.reserve(1 + sizeof...(Fs));
    fs.push_back(std::move(first));
    (fs.push_back(std::move(rest)), ...);
    return wait(std::move(fs), WaitOptions{});
}

/// Yields tasks/futures in the order they finish: `co_await ac.next()` gives
/// the next finished one (await it for its result), or nullopt once all were
/// given. Made by as_completed(); not copyable or movable (the children point
/// back at it).
template <class F>
class AsCompleted {
public:
    AsCompleted(std::vector<F> children, std::optional<Duration> timeout)
        : children_(std::move(children)), nodes_(std::make_unique<Node[]>(children_.size())) {
        for (std::size_t i = 0; i < children_.size(); ++i) {
            detail::FutureBase* s = children_[i].state();
            if (s->done()) {
                finished_.push_back(i);
            } else {
                nodes_[i].owner = this;
                nodes_[i].index = i;
                nodes_[i].on_done = &on_child_done;
                s->add_waiter(nodes_[i]);
            }
        }
        if (timeout) {
            loop_ = &detail::running_loop_for("as_completed()");
            deadline_.owner = this;
            deadline_.when =
                detail::deadline_after(loop_->time(), *timeout).time_since_epoch().count();
            deadline_.fire = &on_deadline;
            detail::LoopAccess::add_timer(*loop_, deadline_);
        }
    }
    AsCompleted(const AsCompleted&) = delete;
    AsCompleted& operator=(const AsCompleted&) = delete;
    ~AsCompleted() {
        if (deadline_.queued()) {
            detail::LoopAccess::remove_timer(*loop_, deadline_);
        }
    }

    /// How many have not been given out yet.
    std::size_t remaining() const noexcept { return children_.size() - given_; }

    struct NextAwaiter : detail::Waiter {
        AsCompleted* self;
        bool await_ready() const noexcept { return self->has_next(); }
        void await_suspend(std::coroutine_handle<> h) {
            detail::TaskState& t = current_task();
            on_cancel = [](detail::Waiter* w) {
                auto* me = static_cast<NextAwaiter*>(w);
                me->self->waiter_ = nullptr;
                return me->cancel_and_wake();
            };
            self->waiter_ = this;
            suspend(t, h);
        }
        std::optional<F> await_resume() {
            check_cancelled();
            return self->take_next();
        }
    };

    /// The next finished task/future, or nullopt when every one was given.
    /// Suspends until one finishes. Once the timeout has passed it gives out
    /// the ones that finished before it, then throws TimeoutError on every
    /// call (the children keep running; those finishing later are not given
    /// out). Cancelling the caller interrupts the wait only.
    NextAwaiter next() noexcept { return NextAwaiter{{}, this}; }

private:
    struct Node : detail::CompletionNode {
        AsCompleted* owner = nullptr;
        std::size_t index = 0;
    };
    struct Deadline : detail::TimerNode {
        AsCompleted* owner = nullptr;
    };

    bool has_next() const noexcept {
        return !finished_.empty() || given_ == children_.size() || timed_out_;
    }
    std::optional<F> take_next() {
        if (!finished_.empty()) {
            std::size_t i = finished_.front();
            finished_.pop_front();
            ++given_;
            return children_[i];
        }
        if (given_ == children_.size()) {
            return std::nullopt;
        }
        throw TimeoutError("as_completed: timed out");
    }
    void wake_waiter() {
        if (detail::Waiter* w = std::exchange(waiter_, nullptr)) {
            w->wake();
        }
    }
    static void on_child_done(detail::CompletionNode* n, detail::FutureBase&) {
        auto* node = static_cast<Node*>(n);
        if (node->owner->timed_out_) {
            return;  // finished after the timeout: never given out (asyncio)
        }
        node->owner->finished_.push_back(node->index);
        node->owner->wake_waiter();
    }
    static void on_deadline(detail::TimerNode* t) {
        AsCompleted* self = static_cast<Deadline*>(t)->owner;
        self->timed_out_ = true;
        self->wake_waiter();
    }

    std::vector<F> children_;
    std::unique_ptr<Node[]> nodes_;
    std::deque<std::size_t> finished_;
    std::size_t given_ = 0;
    detail::Waiter* waiter_ = nullptr;
    EventLoop* loop_ = nullptr;
    Deadline deadline_;
    bool timed_out_ = false;
};

/// Watches `aws` (lazy Tasks become tasks at once; TaskHandles and Futures are
/// used as they are) and hands them out in completion order:
///   auto ac = as_completed(std::move(tasks), 5s);
///   while (auto t = co_await ac.next()) { auto r = co_await *t; }
/// `timeout` bounds the whole iteration. asyncio: `asyncio.as_completed`.
template <class R>
requires detail::gatherable_range<R>
auto as_completed(R&& aws, std::optional<Duration> timeout = std::nullopt) {
    using A = std::remove_cvref_t<decltype(*std::begin(aws))>;
    detail::running_loop_for("as_completed()");
    return AsCompleted<detail::child_t<A>>(
        detail::children_of(std::forward<R>(aws), "as_completed()"), timeout);
}

}  // namespace corio
