// corio/detail/remote_task.hpp - running a coroutine as a task on a loop in
// another thread and getting its outcome back: the one bridge behind
// run_coroutine_threadsafe (threads.hpp) and submit_to (loop_group.hpp).
//
// Protocol. The caller wraps the coroutine in run_remote(coro, sink), a lazy
// Task made on the caller's thread, and posts it to the target loop with
// call_soon_threadsafe; there it becomes a task. run_remote awaits the
// coroutine, catches its outcome (value, exception or cancellation) into a
// RemoteOutcome, destroys the coroutine, and hands the outcome to the sink,
// which carries it to the caller (a ConcurrentFuture, or the caller's loop).
// The sink lives in run_remote's frame: when the frame is destroyed before
// it delivered - the posted callback dropped by a closing loop, the task
// cancelled before its first step or destroyed pending - the sink's
// destructor delivers "cancelled". So the caller hears exactly once, however
// the remote side ends.
//
// Why the outcome is caught inside the task: the task record then never
// holds the exception, so nothing on the target thread still refers to the
// exception object once it is handed over. (libstdc++ counts exception_ptr
// references in code ThreadSanitizer does not see; an exception object
// released last on one thread after another thread read it is reported as a
// race, and would be one in any program whose allocator is not thread-safe.)
//
// Cancellation: cancel_threadsafe() posts a cancel request to the target
// loop; ThreadsafeBridge::task, touched on the target loop's thread only, is
// the running task.
#pragma once

#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>

#include "corio/errors.hpp"
#include "corio/event_loop.hpp"
#include "corio/task.hpp"

namespace corio::detail {

/// How a remote coroutine ended: exactly one of value, error, cancelled.
template <class T>
struct RemoteOutcome {
    std::optional<std::conditional_t<std::is_void_v<T>, std::monostate, T>> value;
    std::exception_ptr error;
    bool cancelled = false;
    std::string cancel_message;
};

/// The task that runs `coro` on the target loop and delivers its outcome to
/// `sink` (see the protocol above). A Sink is movable (a moved-from one
/// delivers nothing), has deliver(RemoteOutcome<T>&&), and delivers
/// "cancelled" from its destructor if it never delivered.
template <class T, class Sink>
Task<void> run_remote(Task<T> coro, Sink sink) {
    RemoteOutcome<T> out;
    {
        Task<T> inner = std::move(coro);
        try {
            if constexpr (std::is_void_v<T>) {
                co_await std::move(inner);
                out.value.emplace();
            } else {
                T v = co_await std::move(inner);
                out.value.emplace(std::move(v));
            }
        } catch (const CancelledError& e) {
            out.cancelled = true;
            out.cancel_message = e.message();
        } catch (...) {
            out.error = std::current_exception();
        }
    }  // the coroutine's frame, and its reference to the exception, end here
    sink.deliver(std::move(out));
}

/// The remote task, shared by the caller's side and the target loop.
/// `task` and `cancel_requested` are touched on the target loop's thread
/// only: `task` is set when the task starts and cleared when it finishes.
/// (A loop that closes with the task pending runs no callback of this
/// bridge afterwards.)
struct ThreadsafeBridge {
    TaskState* task = nullptr;
    bool cancel_requested = false;  // a cancel arrived before the task started
};

/// Any thread: starts run_remote(coro, sink) as a task on `loop`. Throws
/// RuntimeError if the loop is closed (the sink, dropped, has then
/// delivered "cancelled").
template <class T, class Sink>
std::shared_ptr<ThreadsafeBridge> start_threadsafe(Task<T> coro, EventLoop& loop, Sink sink) {
    auto bridge = std::make_shared<ThreadsafeBridge>();
    loop.call_soon_threadsafe(
        [remote = run_remote(std::move(coro), std::move(sink)), bridge, &loop]() mutable {
            if (bridge->cancel_requested) {
                return;  // `remote` is dropped unstarted: its sink delivers "cancelled"
            }
            TaskHandle<void> task = loop.create_task(std::move(remote));
            bridge->task = task.state();
            task.add_done_callback([bridge](TaskHandle<void>) { bridge->task = nullptr; });
        });
    return bridge;
}

/// Any thread: asks the remote task to cancel, on its loop (one that has
/// not started will not start). A closed loop has nothing left to cancel.
inline void cancel_threadsafe(const std::shared_ptr<ThreadsafeBridge>& bridge, EventLoop& loop,
                              std::string msg) {
    try {
        loop.call_soon_threadsafe([bridge, msg = std::move(msg)] {
            if (bridge->task != nullptr) {
                bridge->task->request_cancel(msg);
            } else {
                bridge->cancel_requested = true;
            }
        });
    } catch (const RuntimeError&) {
        // The loop is closed: the task is gone and its outcome delivered.
    }
}

}  // namespace corio::detail
