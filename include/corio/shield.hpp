// corio/shield.hpp - shield: protect an awaitable from the caller's
// cancellation.
//
// Mirrors asyncio.shield (tasks.py): the result is a future of its own that
// follows the inner one; cancelling it leaves the inner one running.
#pragma once

#include <utility>

#include "corio/future.hpp"
#include "corio/gather.hpp"
#include "corio/task.hpp"

namespace corio {

namespace detail {

// Gives `outer` what `inner` ended with (moving the value out of a record
// nobody else shares), unless `outer` is done already (cancelled): then the
// inner outcome only counts as retrieved.
template <class C, class V>
void follow_inner(C& inner, Future<V>& outer) {
    FutureBase* s = inner.state();
    if (outer.done()) {
        s->mark_retrieved();
        return;
    }
    switch (s->status()) {
        case FutureBase::Status::cancelled:
            outer.cancel();
            return;
        case FutureBase::Status::failed:
            outer.set_exception(s->error_ptr());
            return;
        default:
            if constexpr (std::is_void_v<V>) {
                std::move(inner).result();
                outer.set_result();
            } else {
                outer.set_result(std::move(inner).result());
            }
    }
}

}  // namespace detail

/// Protects `aw` from cancellation: returns at once a Future that follows
/// `aw` (a lazy Task becomes a task at once, kept alive by the loop):
/// done with `aw`'s value or error, cancelled if `aw` is cancelled. The
/// Future itself can be cancelled without touching `aw`: a task awaiting
/// `co_await shield(aw)` that is cancelled gets CancelledError at once
/// while `aw` keeps running. The Future learns `aw`'s outcome through a
/// done callback (one loop iteration later, as in asyncio). Throws
/// RuntimeError outside a running loop. asyncio: `asyncio.shield`.
template <class A>
requires detail::gatherable<A>
auto shield(A aw) -> Future<detail::child_value_t<A>> {
    using V = detail::child_value_t<A>;
    EventLoop& loop = detail::running_loop_for("shield()");
    detail::child_t<A> inner = detail::Child<A>::make(std::move(aw), "shield()");
    Future<V> outer(loop);
    if (inner.done()) {
        detail::follow_inner(inner, outer);
        return outer;
    }
    inner.add_done_callback(
        [outer](detail::child_t<A> done) mutable { detail::follow_inner(done, outer); });
    return outer;
}

}  // namespace corio
