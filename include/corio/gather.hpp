// corio/gather.hpp - gather and gather_settled: run awaitables concurrently
// and collect their results in argument order.
//
// Mirrors asyncio.gather (tasks.py). gather_settled is
// `gather(..., return_exceptions=True)`.
#pragma once

#include <array>
#include <exception>
#include <optional>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "corio/detail/multi_wait.hpp"
#include "corio/future.hpp"
#include "corio/task.hpp"

namespace corio {

/// What `co_await gather(...)` yields for a child returning void.
using Unit = std::monostate;

/// One child's outcome in gather_settled(): a value or an exception (a
/// CancelledError for a cancelled child). asyncio returns the exception object
/// in place of the result; C++ needs a type that holds either.
template <class T>
class Outcome {
public:
    explicit Outcome(T value) : value_(std::move(value)) {}
    explicit Outcome(std::exception_ptr error, bool cancelled = false)
        : error_(std::move(error)), cancelled_(cancelled) {}

    bool has_value() const noexcept { return value_.has_value(); }
    explicit operator bool() const noexcept { return has_value(); }
    /// True when the child was cancelled (error() holds a CancelledError).
    bool cancelled() const noexcept { return cancelled_; }
    /// The value; rethrows the child's exception if it failed.
    T& value() & {
        rethrow_if_error();
        return *value_;
    }
    T&& value() && {
        rethrow_if_error();
        return std::move(*value_);
    }
    /// The exception (null when there is a value).
    const std::exception_ptr& error() const noexcept { return error_; }

private:
    void rethrow_if_error() const {
        if (error_) {
            std::rethrow_exception(error_);
        }
    }
    std::optional<T> value_;
    std::exception_ptr error_;
    bool cancelled_ = false;
};

namespace detail {

// What gather accepts: a lazy Task (wrapped in a new task), a TaskHandle or a
// Future; `type` is what it holds while gathered, `value` what it yields.
template <class A>
struct Child;
template <class T>
struct Child<Task<T>> {
    using type = TaskHandle<T>;
    using value = T;
    static type make(Task<T>&& t) { return create_task(std::move(t)); }
};
template <class T>
struct Child<TaskHandle<T>> {
    using type = TaskHandle<T>;
    using value = T;
    static type make(TaskHandle<T>&& t) {
        if (!t) {
            throw std::invalid_argument("gather: empty TaskHandle");
        }
        return std::move(t);
    }
};
template <class T>
struct Child<Future<T>> {
    using type = Future<T>;
    using value = T;
    static type make(Future<T>&& f) { return std::move(f); }
};

// A plain corio awaitable (e.g. `event.wait()`, `queue.get()`) is awaited in
// a task of its own, as asyncio wraps a coroutine.
template <class A>
requires direct_awaiter<A>
struct Child<A> {
    using value = decltype(std::declval<A&>().await_resume());
    using type = TaskHandle<value>;
    static type make(A&& a) { return create_task(await_in_task(std::move(a))); }
};

template <class A>
concept gatherable = requires {
    typename Child<std::remove_cvref_t<A>>::type;
};

template <class A>
using child_t = typename Child<std::remove_cvref_t<A>>::type;
template <class A>
using child_value_t = typename Child<std::remove_cvref_t<A>>::value;
template <class T>
using unit_if_void_t = std::conditional_t<std::is_void_v<T>, Unit, T>;

template <class C>
auto take_value(C& child) {
    if constexpr (std::is_void_v<decltype(std::move(child).result())>) {
        std::move(child).result();
        return Unit{};
    } else {
        return std::move(child).result();
    }
}

template <class C>
auto take_outcome(C& child) {
    using V = unit_if_void_t<child_value_t<C>>;
    FutureBase* s = child.state();
    if (s->status() == FutureBase::Status::result) {
        return Outcome<V>(take_value(child));
    }
    bool cancelled = s->status() == FutureBase::Status::cancelled;
    return Outcome<V>(s->error_ptr(), cancelled);
}

// gather's end: every child's exception counts as retrieved, and the ones
// still running will not report theirs (asyncio's gather does the same).
template <class Recs>
void release_children(const Recs& recs) noexcept {
    for (FutureBase* r : recs) {
        r->mark_retrieved();
    }
}

// Waits per `Settled`; for plain gather, rethrows the first failure (in
// completion order, as asyncio does).
template <bool Settled, class Recs>
Task<void> wait_children(const Recs& recs) {
    MultiWait mw(recs.data(), recs.size(),
                 Settled ? MultiWait::Until::all_done : MultiWait::Until::first_failure, true);
    try {
        co_await mw;
    } catch (...) {
        release_children(recs);
        throw;
    }
    if (FutureBase* failed = mw.first_failure()) {
        release_children(recs);
        failed->check_result();
    }
}

template <bool Settled, class... Cs>
auto gather_tuple(std::tuple<Cs...> children)
    -> Task<std::conditional_t<Settled, std::tuple<Outcome<unit_if_void_t<child_value_t<Cs>>>...>,
                               std::tuple<unit_if_void_t<child_value_t<Cs>>...>>> {
    std::array<FutureBase*, sizeof...(Cs)> recs = std::apply(
        [](auto&... c) { return std::array<FutureBase*, sizeof...(Cs)>{c.state()...}; }, children);
    co_await wait_children<Settled>(recs);
    release_children(recs);
    if constexpr (Settled) {
        co_return std::apply(
            [](auto&... c) {
                return std::tuple<Outcome<unit_if_void_t<child_value_t<Cs>>>...>{
                    take_outcome(c)...};
            },
            children);
    } else {
        co_return std::apply(
            [](auto&... c) {
                return std::tuple<unit_if_void_t<child_value_t<Cs>>...>{take_value(c)...};
            },
            children);
    }
}

template <bool Settled, class C>
auto gather_vector(std::vector<C> children)
    -> Task<std::vector<std::conditional_t<Settled, Outcome<unit_if_void_t<child_value_t<C>>>,
                                           unit_if_void_t<child_value_t<C>>>>> {
    std::vector<FutureBase*> recs;
    recs.reserve(children.size());
    for (auto& c : children) {
        recs.push_back(c.state());
    }
    co_await wait_children<Settled>(recs);
    release_children(recs);
    std::vector<std::conditional_t<Settled, Outcome<unit_if_void_t<child_value_t<C>>>,
                                   unit_if_void_t<child_value_t<C>>>>
        out;
    out.reserve(children.size());
    for (auto& c : children) {
        if constexpr (Settled) {
            out.push_back(take_outcome(c));
        } else {
            out.push_back(take_value(c));
        }
    }
    co_return out;
}

template <class R>
concept gatherable_range = requires(R& r) {
    std::begin(r);
    std::end(r);
    requires gatherable<decltype(*std::begin(r))>;
};

// The children of a range: elements of an lvalue range are copied when they
// can be (handles), else moved from (lazy Tasks).
template <class R>
auto children_of(R&& range) {
    using A = std::remove_cvref_t<decltype(*std::begin(range))>;
    std::vector<child_t<A>> children;
    for (auto&& a : range) {
        if constexpr (std::is_lvalue_reference_v<R> && std::is_copy_constructible_v<A>) {
            children.push_back(Child<A>::make(A(a)));
        } else {
            children.push_back(Child<A>::make(A(std::move(a))));
        }
    }
    return children;
}

template <bool Settled, class R>
auto gather_range(R&& range) {
    return gather_vector<Settled>(children_of(std::forward<R>(range)));
}

}  // namespace detail

/// Runs the awaitables concurrently and returns their results as a tuple, in
/// argument order (a void child gives Unit). Lazy Tasks become tasks at once,
/// in argument order, as asyncio's gather wraps coroutines; TaskHandles and
/// Futures are awaited as they are. The returned Task suspends until every
/// child succeeded, or rethrows the first failure (in completion order) while
/// the other children keep running (asyncio's default). Cancelling the
/// awaiting task cancels every child still running, then raises
/// CancelledError. Throws RuntimeError outside a running loop.
/// asyncio: `asyncio.gather(*aws)`.
template <class... As>
requires(detail::gatherable<As>&&...) auto gather(As... aws) {
    return detail::gather_tuple<false>(
        std::tuple<detail::child_t<As>...>{detail::Child<As>::make(std::move(aws))...});
}

/// gather() over a range (e.g. std::vector<Task<T>>): returns a vector in the
/// range's order. Lazy Tasks are moved out of the range; handles are copied.
template <class R>
requires(detail::gatherable_range<R> && !detail::gatherable<R>) auto gather(R&& range) {
    return detail::gather_range<false>(std::forward<R>(range));
}

/// Like gather(), but waits for every child and returns one Outcome per child,
/// holding its value or its exception (CancelledError for a cancelled child);
/// never throws a child's error. Cancelling the awaiting task cancels the
/// children, waits for them, then raises CancelledError.
/// asyncio: `asyncio.gather(*aws, return_exceptions=True)`.
template <class... As>
requires(detail::gatherable<As>&&...) auto gather_settled(As... aws) {
    return detail::gather_tuple<true>(
        std::tuple<detail::child_t<As>...>{detail::Child<As>::make(std::move(aws))...});
}

/// gather_settled() over a range; returns a vector of Outcome.
template <class R>
requires(detail::gatherable_range<R> && !detail::gatherable<R>) auto gather_settled(R&& range) {
    return detail::gather_range<true>(std::forward<R>(range));
}

}  // namespace corio
