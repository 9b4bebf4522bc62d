// corio/gather.hpp - gather and gather_settled: run awaitables concurrently
// and collect their results in argument order.
//
// Mirrors asyncio.gather (tasks.py): gather() schedules its children when it
// is called and returns a future (asyncio's _GatheringFuture) that can be
// awaited, inspected and cancelled. gather_settled is
// `gather(..., return_exceptions=True)`.
#pragma once

#include <exception>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

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
// make() names the corio function the user called in its errors.
template <class A>
struct Child;
template <class T>
struct Child<Task<T>> {
    using type = TaskHandle<T>;
    using value = T;
    static type make(Task<T>&& t, const char* what) {
        return running_loop_for(what).create_task(std::move(t));
    }
};
template <class T>
struct Child<TaskHandle<T>> {
    using type = TaskHandle<T>;
    using value = T;
    static type make(TaskHandle<T>&& t, const char* what) {
        if (!t) {
            throw std::invalid_argument(std::string(what) + ": empty TaskHandle");
        }
        return std::move(t);
    }
};
template <class T>
struct Child<Future<T>> {
    using type = Future<T>;
    using value = T;
    static type make(Future<T>&& f, const char*) { return std::move(f); }
};

// A plain corio awaitable (e.g. `event.wait()`, `queue.get()`) is awaited in
// a task of its own, as asyncio wraps a coroutine.
template <class A>
requires direct_awaiter<A>
struct Child<A> {
    using value = decltype(std::declval<A&>().await_resume());
    using type = TaskHandle<value>;
    static type make(A&& a, const char* what) {
        return running_loop_for(what).create_task(await_in_task(std::move(a)));
    }
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

// The bookkeeping of a gather record, apart from the types (gather.cpp).
// Protocol: one GatherNode per pending child is linked into that child; each
// child's completion calls child_done(). In plain mode the first child to
// fail or be cancelled finishes the record with that error at once (the
// others go on; their exceptions count as retrieved); otherwise the record
// finishes when every child is done: cancelled if cancel() was asked for
// (and cancelled a child), else with `complete` (which builds the value).
// Loop thread only.
struct GatherCore {
    FutureRecord* outer;
    FutureBase* const* children;
    std::size_t n;
    std::size_t finished = 0;
    bool settled;
    bool cancel_requested = false;
    FutureBase* last_cancelled = nullptr;
    void (*complete)(FutureRecord* outer) = nullptr;

    void child_done(FutureBase& child);
    // asyncio's _GatheringFuture.cancel(): cancels the children; true if it
    // cancelled any.
    bool cancel_children(std::string_view msg);
    void mark_children_retrieved() noexcept;
};

struct GatherNode : CompletionNode {
    GatherCore* core = nullptr;
};

// Links the nodes into the pending children and takes the done ones into
// account, in argument order (gather.cpp).
void start_gather(GatherCore& core, GatherNode* nodes);
// A GatherNode's on_done (named: graph.cpp recognises it).
void gather_child_done(CompletionNode* n, FutureBase& child);

// gather()'s record: a Future<R> that owns the children and their nodes.
template <class R, bool Settled, class Children>
class GatherState final : public FutureState<R> {
public:
    GatherState(EventLoop& loop, Children children)
        : FutureState<R>(loop, &destroy), children_(std::move(children)) {
        if constexpr (is_vector) {
            recs_.reserve(children_.size());
            for (auto& c : children_) {
                recs_.push_back(c.state());
            }
        } else {
            std::apply([this](auto&... c) { (recs_.push_back(c.state()), ...); }, children_);
        }
        nodes_ = std::make_unique<GatherNode[]>(recs_.size());
        core_.outer = this;
        core_.children = recs_.data();
        core_.n = recs_.size();
        core_.settled = Settled;
        core_.complete = &complete;
        this->cancel_hook_ = [](FutureRecord* r, std::string_view msg) {
            return static_cast<GatherState*>(r)->core_.cancel_children(msg);
        };
    }

    GatherCore core_;

private:
    static constexpr bool is_vector = requires(Children & c) { c.size(); };

    static void destroy(FutureRecord* r) noexcept { delete static_cast<GatherState*>(r); }

    // Every child is done (and none failed, in plain mode): the results.
    static void complete(FutureRecord* r) {
        auto* self = static_cast<GatherState*>(r);
        try {
            self->value.emplace(self->collect());
        } catch (...) {
            self->set_exception(std::current_exception());
            return;
        }
        self->set_result_status();
    }
    R collect() {
        if constexpr (is_vector) {
            R out;
            out.reserve(children_.size());
            for (auto& c : children_) {
                if constexpr (Settled) {
                    out.push_back(take_outcome(c));
                } else {
                    out.push_back(take_value(c));
                }
            }
            return out;
        } else {
            return std::apply(
                [](auto&... c) {
                    if constexpr (Settled) {
                        return R{take_outcome(c)...};
                    } else {
                        return R{take_value(c)...};
                    }
                },
                children_);
        }
    }

    Children children_;
    std::vector<FutureBase*> recs_;
    std::unique_ptr<GatherNode[]> nodes_;

    template <class R2, bool S2, class C2>
    friend Future<R2> make_gather(C2 children);
};

template <class R, bool Settled, class Children>
Future<R> make_gather(Children children) {
    EventLoop& loop = get_running_loop();
    auto* state = new GatherState<R, Settled, Children>(loop, std::move(children));
    Future<R> fut = Future<R>::adopt(state);
    start_gather(state->core_, state->nodes_.get());
    return fut;
}

template <bool Settled, class... Cs>
using gather_tuple_t =
    std::conditional_t<Settled, std::tuple<Outcome<unit_if_void_t<child_value_t<Cs>>>...>,
                       std::tuple<unit_if_void_t<child_value_t<Cs>>...>>;
template <bool Settled, class C>
using gather_vector_t =
    std::vector<std::conditional_t<Settled, Outcome<unit_if_void_t<child_value_t<C>>>,
                                   unit_if_void_t<child_value_t<C>>>>;

template <bool Settled, class... As>
auto gather_args(const char* what, As... aws) {
    // The running loop first, so that nothing starts when there is none.
    running_loop_for(what);
    std::tuple<child_t<As>...> children{Child<As>::make(std::move(aws), what)...};
    return make_gather<gather_tuple_t<Settled, child_t<As>...>, Settled>(std::move(children));
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
auto children_of(R&& range, const char* what) {
    using A = std::remove_cvref_t<decltype(*std::begin(range))>;
    std::vector<child_t<A>> children;
    for (auto&& a : range) {
        if constexpr (std::is_lvalue_reference_v<R> && std::is_copy_constructible_v<A>) {
            children.push_back(Child<A>::make(A(a), what));
        } else {
            children.push_back(Child<A>::make(A(std::move(a)), what));
        }
    }
    return children;
}

template <bool Settled, class R>
auto gather_range(R&& range, const char* what) {
    running_loop_for(what);
    using C = child_t<std::remove_cvref_t<decltype(*std::begin(range))>>;
    return make_gather<gather_vector_t<Settled, C>, Settled>(
        children_of(std::forward<R>(range), what));
}

}  // namespace detail

/// Runs the awaitables concurrently and returns at once a Future of their
/// results, a tuple in argument order (a void child gives Unit): asyncio's
/// gathering future. Lazy Tasks become tasks at once, in argument order, as
/// asyncio's gather wraps coroutines; TaskHandles and Futures are watched as
/// they are. The Future is done when every child succeeded, or, with the
/// first failure (in completion order), failed with it while the other
/// children keep running (asyncio's default); a child cancelled elsewhere
/// counts as a failure with CancelledError. It can be awaited (any number of
/// times), inspected with done()/result()/exception(), and cancelled:
/// cancel() cancels every child still running (and returns whether any
/// was); the Future then ends with CancelledError. Awaiting it suspends until
/// it is done; cancelling the awaiting task cancels it, so the children.
/// Throws RuntimeError outside a running loop (nothing starts then).
/// asyncio: `asyncio.gather(*aws)`.
template <class... As>
requires(detail::gatherable<As>&&...) auto gather(As... aws) {
    return detail::gather_args<false>("gather()", std::move(aws)...);
}

/// gather() over a range (e.g. std::vector<Task<T>>): a Future of a vector in
/// the range's order. Lazy Tasks are moved out of the range; handles are
/// copied.
template <class R>
requires(detail::gatherable_range<R> && !detail::gatherable<R>) auto gather(R&& range) {
    return detail::gather_range<false>(std::forward<R>(range), "gather()");
}

/// Like gather(), but the Future waits for every child and holds one Outcome
/// per child, its value or its exception (CancelledError for a cancelled
/// child); it never fails with a child's error. cancel() cancels the
/// children, and the Future ends with CancelledError once they are all done.
/// asyncio: `asyncio.gather(*aws, return_exceptions=True)`.
template <class... As>
requires(detail::gatherable<As>&&...) auto gather_settled(As... aws) {
    return detail::gather_args<true>("gather_settled()", std::move(aws)...);
}

/// gather_settled() over a range: a Future of a vector of Outcome.
template <class R>
requires(detail::gatherable_range<R> && !detail::gatherable<R>) auto gather_settled(R&& range) {
    return detail::gather_range<true>(std::forward<R>(range), "gather_settled()");
}

}  // namespace corio
