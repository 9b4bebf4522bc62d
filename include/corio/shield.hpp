// corio/shield.hpp - shield: protect an awaitable from the caller's
// cancellation.
//
// Mirrors asyncio.shield (tasks.py).
#pragma once

#include <coroutine>

#include "corio/gather.hpp"
#include "corio/task.hpp"

namespace corio {

namespace detail {

template <class C>
class Shielded : CompletionNode, Waiter {
public:
    explicit Shielded(C child) noexcept : child_(std::move(child)) {}
    Shielded(Shielded&& o) noexcept : CompletionNode(), Waiter(), child_(std::move(o.child_)) {}

    bool await_ready() const noexcept { return child_.done(); }
    void await_suspend(std::coroutine_handle<> h) {
        TaskState& t = current_task();
        on_done = [](CompletionNode* n, FutureBase&) { static_cast<Shielded*>(n)->wake(); };
        on_cancel = [](Waiter* w) {
            auto* self = static_cast<Shielded*>(w);
            self->unlink();
            // Nobody will look at the inner outcome now (asyncio's shield
            // marks it retrieved too).
            self->child_.state()->mark_retrieved();
            return self->cancel_and_wake();
        };
        child_.state()->add_waiter(*this);
        suspend(t, h);
    }
    child_value_t<C> await_resume() {
        check_cancelled();
        return std::move(child_).result();
    }

private:
    C child_;
};

}  // namespace detail

/// Awaits `aw` while protecting it from cancellation: if the awaiting task is
/// cancelled, the caller gets CancelledError at once but `aw` keeps running (a
/// lazy Task becomes a task at once, kept alive by the loop). If `aw` itself
/// is cancelled, the caller gets CancelledError too. Returns `aw`'s result or
/// rethrows its error. asyncio: `asyncio.shield`.
template <class A>
requires detail::gatherable<A> detail::Shielded<detail::child_t<A>> shield(A aw) {
    return detail::Shielded<detail::child_t<A>>(detail::Child<A>::make(std::move(aw)));
}

}  // namespace corio
