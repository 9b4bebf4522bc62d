// corio/detail/multi_wait.hpp - one task waiting on many records at once:
// the engine behind gather, gather_settled and wait.
//
// One CompletionNode per child is linked into each pending child; the first
// node that makes the condition true wakes the task and unlinks the others.
// An optional deadline (wait's timeout) is a timer on the same object.
#pragma once

#include <coroutine>
#include <cstddef>
#include <memory>

#include "corio/detail/future_state.hpp"

namespace corio::detail {

class MultiWait : public Waiter, public TimerNode {
public:
    enum class Until : std::uint8_t {
        first_failure,    // gather: the first child that fails or is cancelled
        all_done,         // gather_settled, wait(ALL_COMPLETED)
        first_done,       // wait(FIRST_COMPLETED)
        first_exception,  // wait(FIRST_EXCEPTION): first child failing, else all
    };

    /// `forward_cancel`: cancelling the waiting task cancels the children and
    /// keeps waiting for them (gather); otherwise the wait alone is
    /// interrupted and the children are left alone (wait).
    MultiWait(FutureBase* const* children, std::size_t n, Until until, bool forward_cancel);
    MultiWait(const MultiWait&) = delete;
    MultiWait& operator=(const MultiWait&) = delete;
    ~MultiWait();

    /// Gives up after `deadline_ns` of loop time (wait's timeout).
    void set_deadline(std::int64_t deadline_ns) noexcept {
        when = deadline_ns;
        has_deadline_ = true;
    }

    bool await_ready() noexcept;
    void await_suspend(std::coroutine_handle<> h);
    /// Throws CancelledError if the waiting task was cancelled (for
    /// forward_cancel: once every child is done, if it was requested).
    void await_resume();

    /// The child that ended the wait by failing or being cancelled
    /// (Until::first_failure), or null.
    FutureBase* first_failure() const noexcept { return first_failure_; }

private:
    struct Node : CompletionNode {
        MultiWait* owner = nullptr;
    };
    static void on_child_done(CompletionNode* n, FutureBase& child);
    static bool on_task_cancel(Waiter* w);
    static void on_deadline(TimerNode* t);
    bool satisfied_by(FutureBase& child) noexcept;
    void stop_watching() noexcept;

    FutureBase* const* children_;
    std::size_t n_;
    std::size_t remaining_ = 0;
    std::unique_ptr<Node[]> nodes_;
    FutureBase* first_failure_ = nullptr;
    Until until_;
    bool forward_cancel_;
    bool cancel_requested_ = false;
    bool has_deadline_ = false;
    bool woken_ = false;
};

}  // namespace corio::detail
