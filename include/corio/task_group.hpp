// corio/task_group.hpp - TaskGroup: structured concurrency.
//
// Mirrors asyncio.TaskGroup (taskgroups.py, Python 3.13). C++ has no
// `async with`, so the usual form is the scoped helper:
//   co_await corio::task_group([&](corio::TaskGroup& tg) -> corio::Task<void> {
//       tg.create_task(fetch(1));
//       tg.create_task(fetch(2));
//       co_return;
//   });
// which waits for every child, like leaving the `async with` block.
#pragma once

#include <exception>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "corio/task.hpp"

namespace corio {

/// A group of child tasks that finish together. The first child to fail
/// cancels the others and the task that owns the group; join() waits for
/// every child and raises an ExceptionGroup with every error (the body's own
/// error included, last). Children that are cancelled are not errors.
/// Construct it inside a task (that task is the group's parent); it must not
/// outlive the parent's frame. asyncio: `asyncio.TaskGroup`.
class TaskGroup {
public:
    /// Enters the group in the running task. Throws RuntimeError outside a task.
    TaskGroup();
    TaskGroup(const TaskGroup&) = delete;
    TaskGroup& operator=(const TaskGroup&) = delete;
    /// A group destroyed with children still running (join() never ran to the
    /// end) cancels them and reports it through the exception handler.
    ~TaskGroup();

    /// Starts `coro` as a child task. Throws RuntimeError once the group is
    /// shutting down (a child failed) or finished; `coro` is then destroyed
    /// without running. asyncio: `TaskGroup.create_task`.
    template <class T>
    TaskHandle<T> create_task(Task<T> coro, std::string name = {}) {
        check_can_create();
        TaskHandle<T> h = parent_->loop().create_task(std::move(coro), std::move(name));
        adopt(h.state());
        return h;
    }

    /// Leaves the group (asyncio's __aexit__): `body_error` is what the body
    /// threw, or null. Suspends until every child is done; cancelling the
    /// caller meanwhile cancels the children. Throws ExceptionGroup when a
    /// child or the body failed (if the parent was also cancelled from
    /// outside, that cancellation stays requested: its next await raises
    /// CancelledError); else rethrows a CancelledError of the body or of the
    /// wait unless it came from the group's own abort.
    Task<void> join(std::exception_ptr body_error = nullptr);

    /// How many children are still running.
    std::size_t size() const noexcept { return live_.size(); }

private:
    friend struct detail::GraphAccess;
    struct ChildNode;
    void check_can_create();
    void adopt(detail::TaskState* child);
    void abort() noexcept;
    void child_finished(ChildNode* node);
    static void on_child_done(detail::CompletionNode* n, detail::FutureBase& f);
    // The parent task of the group a ChildNode belongs to (null if the group
    // is gone): the task that waits for that child.
    static detail::TaskState* parent_of_child(detail::CompletionNode& n) noexcept;
    static void deliver(void* node, bool run) noexcept;

    struct JoinAwaiter : detail::Waiter {
        TaskGroup* group;
        bool await_ready() const noexcept { return group->live_.empty(); }
        void await_suspend(std::coroutine_handle<> h);
        void await_resume() { check_cancelled(); }
        static bool cancel_fn(detail::Waiter* w);  // its on_cancel (graph.cpp knows it)
    };

    detail::TaskState* parent_;
    std::vector<ChildNode*> live_;
    std::vector<std::exception_ptr> errors_;
    detail::Waiter* joiner_ = nullptr;
    bool exiting_ = false;
    bool aborting_ = false;
    bool parent_cancel_requested_ = false;
    bool finished_ = false;
};

/// Runs `body(tg)` (a callable returning a Task) with a new TaskGroup, then
/// joins the group, like `async with asyncio.TaskGroup() as tg:`. Returns the
/// body's result; throws what TaskGroup::join() throws.
template <class Body>
auto task_group(Body body) -> Task<typename std::invoke_result_t<Body&, TaskGroup&>::value_type> {
    using R = typename std::invoke_result_t<Body&, TaskGroup&>::value_type;
    TaskGroup tg;
    std::exception_ptr error;
    if constexpr (std::is_void_v<R>) {
        try {
            co_await body(tg);
        } catch (...) {
            error = std::current_exception();
        }
        co_await tg.join(error);
        if (error) {
            std::rethrow_exception(error);
        }
    } else {
        std::optional<R> result;
        try {
            result.emplace(co_await body(tg));
        } catch (...) {
            error = std::current_exception();
        }
        co_await tg.join(error);
        if (error) {
            std::rethrow_exception(error);
        }
        co_return std::move(*result);
    }
}

}  // namespace corio
