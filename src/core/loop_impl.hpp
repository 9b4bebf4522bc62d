// src/core/loop_impl.hpp - the event loop's private state (LoopImpl) and the
// helpers its pieces share (private).
//
// The loop is split by concern: event_loop.cpp (construction, running, one
// iteration), handles.cpp (Handle, call_soon/call_later/call_at),
// loop_access.cpp (the internal entry points of LoopAccess), loop_close.cpp
// (close), fd_watch.cpp (add_reader/add_writer), exception_handler.cpp.
// Everything here is touched on the loop's thread only, except the
// thread-safe entry (`mu`, `incoming`, the atomics), whose protocol is
// described at post_threadsafe().
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "backend.hpp"
#include "corio/event_loop.hpp"
#include "handle_impl.hpp"
#include "timer_heap.hpp"

namespace corio::detail {

inline constexpr std::uint64_t kWakeToken = ~std::uint64_t{0};
inline constexpr int kMaxEvents = 256;

std::int64_t monotonic_ns() noexcept;
bool env_debug() noexcept;
bool env_virtual_time() noexcept;
/// Reads the eventfd empty.
void drain_wake_fd(int fd) noexcept;
/// Registers / forgets a loop alive on this thread (see loop_alive()), and in
/// the process-wide registry (loop_registry()).
void add_live_loop(EventLoop* loop);
void remove_live_loop(EventLoop* loop) noexcept;
/// Every live loop of the process, for capture_tasks(). Hold `mu` while
/// using `loops` or a loop taken from it (a loop unregisters under it).
struct LoopRegistry {
    std::mutex mu;
    std::vector<EventLoop*> loops;
};
LoopRegistry& loop_registry() noexcept;
/// True if `loop` is alive on this thread: records that outlive their loop
/// (a handle, a task record) never call into a dead one.
bool loop_alive(const EventLoop* loop) noexcept;
/// Shuts `executor` down without waiting (defined with the executors, so the
/// loop needs no executor header).
void shutdown_executor(Executor& executor) noexcept;
/// At close: destroys the frames of dropped generators the loop still holds
/// and forgets the others (defined with the async generators).
void drop_asyncgens(EventLoop& loop) noexcept;

/// An fd watched with add_reader / add_writer (level-triggered).
struct FdWatch {
    HandleImpl* reader = nullptr;
    HandleImpl* writer = nullptr;
    std::uint32_t interest = 0;
};

class LoopImpl {
public:
    TimerHeap timers;
    std::uint64_t timer_seq = 0;
    std::unique_ptr<Backend> backend;
    int wake_fd = -1;

    // The thread-safe entry. Producers push under `mu`, bump `incoming_count`,
    // then write the eventfd only if the loop is (about to be) blocked in the
    // backend and nobody has written since it last woke (`wake_pending`).
    std::mutex mu;
    std::vector<ReadyItem> incoming;  // guarded by mu; each owns its arg
    bool accepting = true;            // guarded by mu
    std::atomic<std::size_t> incoming_count{0};
    // The thread running the loop, as the address of that thread's
    // tls_running_loop (null while it does not run); read by other threads.
    std::atomic<const void*> running_on{nullptr};
    std::atomic<bool> polling{false};
    std::atomic<bool> wake_pending{false};

    std::vector<FdWatch> fds;  // indexed by fd
    std::int64_t virtual_now = 0;
    std::uint32_t external_work = 0;
    std::uint32_t iterations_since_poll = 0;
    std::size_t watched_fds = 0;
    IntrusiveList<IoState> io_states;  // registered edge-triggered fds
    bool fail_on_deadlock = false;
    TaskState* first_task = nullptr;
    TaskState* last_task = nullptr;
    // Hooks to run once at the end of this iteration (IterationHook).
    IntrusiveList<IterationHook> end_of_iteration;
    std::shared_ptr<Executor> default_executor;
    IntrusiveList<AsyncGenNode> asyncgens;  // started, unfinished async generators
    // The context of code the loop runs outside any task or callback (made
    // real by a set() there), and the thread's context saved while it runs.
    ContextRef loop_context;
    ContextCell* outer_context = nullptr;
    ContextRef* outer_context_slot = nullptr;
    IoEvent events[kMaxEvents];

    /// Queues thread-safe items; false if the loop no longer accepts them.
    /// Everything happens under `mu`, the eventfd write included: once a
    /// producer lets go of the lock it never touches the loop again, so the
    /// loop may close (taking the lock) and be freed at once.
    bool post_threadsafe(const ReadyItem* items, std::size_t n);
    /// Runs the end-of-iteration hooks queued so far (and those they queue).
    /// `run` = false tells them the loop is closing.
    void run_end_of_iteration(bool run) noexcept;
};

}  // namespace corio::detail
