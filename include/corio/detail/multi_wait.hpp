// corio/detail/multi_wait.hpp - one task waiting on many records at once:
// the engine behind wait() (and timeouts' cancel_and_wait).
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
        all_done,         // wait(ALL_COMPLETED)
        first_done,       // wait(FIRST_COMPLETED)
        first_exception,  // wait(FIRST_EXCEPTION): first child failing, else all
    };

    /// Cancelling the waiting task interrupts the wait alone; the children
    /// are left alone (asyncio's wait).
    MultiWait(FutureBase* const* children, std::size_t n, Until until);
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
    /// Throws CancelledError if the waiting task was cancelled.
    void await_resume() { check_cancelled(); }

    /// Its on_cancel (named: graph.cpp and TaskState::destroy_pending know it).
    static bool on_task_cancel(Waiter* w);

private:
    friend struct GraphAccess;
    struct Node : CompletionNode {
        MultiWait* owner = nullptr;
    };
    static void on_child_done(CompletionNode* n, FutureBase& child);
    static void on_deadline(TimerNode* t);
    bool satisfied_by(FutureBase& child) noexcept;
    void stop_watching() noexcept;

    FutureBase* const* children_;
    std::size_t n_;
    std::size_t remaining_ = 0;
    std::unique_ptr<Node[]> nodes_;
    Until until_;
    bool has_deadline_ = false;
    bool woken_ = false;
};

}  // namespace corio::detail
