// corio/detail/io_state.hpp - an fd registered with the loop, edge-triggered,
// for tasks (sockets, pipes, streams) and callback transports.
//
// The fd is registered once, for reading and writing, edge-triggered. The
// loop ORs every event into `ready`; whoever does the I/O clears a bit when
// the kernel says "would block" (EAGAIN) or a read came back short (the
// buffer was drained: on Linux every later arrival raises a new edge), and
// only then waits. So a busy socket costs no epoll_ctl and no extra syscall.
//
// Either tasks wait on it (`reader` / `writer`, one each; `on_writable` may
// flush in the background), or `on_event` is set (transports). Hooks run
// inside the loop's poll phase and must not run user code: they post their
// work to the ready queue.
#pragma once

#include <coroutine>
#include <cstdint>

#include "corio/detail/future_state.hpp"
#include "corio/detail/intrusive_list.hpp"
#include "corio/event_loop.hpp"

namespace corio::detail {

enum IoReady : std::uint32_t {
    kIoReadable = 1u << 0,
    kIoWritable = 1u << 1,
    kIoError = 1u << 2,
    kIoHangup = 1u << 3,
    // The peer shut its side down (EPOLLRDHUP). Never cleared: a short read
    // does not prove the buffer drained when EOF is pending behind the data,
    // and no new edge would announce it.
    kIoPeerClosed = 1u << 4,
};

struct IoState : ListNode {  // linked in its loop's list while registered
    int fd = -1;
    EventLoop* loop = nullptr;
    std::uint32_t ready = 0;  // IoReady bits seen and not consumed
    Waiter* reader = nullptr;
    Waiter* writer = nullptr;
    void (*on_event)(IoState* self, std::uint32_t events) = nullptr;
    // With tasks as readers: called on writability when no task waits to
    // write (a stream's background flush). Like on_event, it only posts.
    void (*on_writable)(IoState* self) = nullptr;
    void* owner = nullptr;  // for the hooks: the object the fd belongs to

    bool registered() const noexcept { return loop != nullptr; }
    bool readable() const noexcept {
        return (ready & (kIoReadable | kIoPeerClosed | kIoError | kIoHangup)) != 0;
    }
    bool writable() const noexcept { return (ready & (kIoWritable | kIoError | kIoHangup)) != 0; }
    /// The kernel said EAGAIN reading (or writing): wait for the next edge.
    /// A pending socket error would have been returned instead of EAGAIN, so
    /// the error bit goes too; else readable() would stay true and a waiter
    /// would spin.
    void read_drained() noexcept { ready &= ~(kIoReadable | kIoError); }
    void write_full() noexcept { ready &= ~(kIoWritable | kIoError); }
};

/// Suspends the current task until `st` is readable (or writable), unless
/// it already is. Cancellation withdraws the wait. Only one task may wait
/// for each direction: a second one gets RuntimeError.
struct IoWait : Waiter {
    IoState* st;
    bool write;
    IoWait(IoState& s, bool w) noexcept : st(&s), write(w) {}
    IoWait(const IoWait&) = delete;
    ~IoWait() {
        if (task != nullptr && slot() == this) {
            slot() = nullptr;
        }
    }
    Waiter*& slot() const noexcept { return write ? st->writer : st->reader; }
    bool await_ready() const noexcept { return write ? st->writable() : st->readable(); }
    void await_suspend(std::coroutine_handle<> h);
    void await_resume() {
        if (slot() == this) {
            slot() = nullptr;
        }
        check_cancelled();
    }
};

}  // namespace corio::detail
