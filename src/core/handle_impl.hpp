// src/core/handle_impl.hpp - the record behind Handle and TimerHandle (private).
//
// Reference counted atomically: call_soon_threadsafe() creates handles on
// other threads, and user code may keep or drop a Handle anywhere. References:
// the user's Handle objects, plus one while the handle sits in the ready queue,
// the thread-safe queue, the timer heap or an fd watch.
#pragma once

#include <atomic>
#include <cstdint>

#include "corio/detail/callback.hpp"
#include "corio/detail/frame_allocator.hpp"
#include "corio/event_loop.hpp"

namespace corio::detail {

class HandleImpl;

/// The timer of a TimerHandle, pointing back at its handle.
struct HandleTimer : TimerNode {
    HandleImpl* owner = nullptr;
};

class HandleImpl : public FrameAllocated {
public:
    HandleImpl(EventLoop& loop, Callback cb, bool is_timer) noexcept
        : loop(&loop), cb(std::move(cb)), is_timer(is_timer) {
        timer.owner = this;
    }

    void add_ref() noexcept { refs.fetch_add(1, std::memory_order_relaxed); }
    void release() noexcept {
        if (refs.fetch_sub(1, std::memory_order_acq_rel) == 1) {
            delete this;
        }
    }

    /// The ready-queue function: runs the callback unless cancelled, reports
    /// its exception, then drops the queue's reference.
    static void run(void* self, bool run) noexcept;
    static void fire(TimerNode* node) noexcept;

    std::atomic<std::uint32_t> refs{1};
    std::atomic<bool> cancelled{false};
    EventLoop* loop;
    Callback cb;
    // The context `cb` runs in; null: an empty one, made real (and kept
    // here, for the next run of a reader callback) by a set() inside.
    ContextRef context;
    HandleTimer timer;  // used by timer handles only
    bool is_timer;
};

}  // namespace corio::detail
