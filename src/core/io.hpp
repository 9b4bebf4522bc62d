// src/core/io.hpp - file descriptors registered with a loop, and the I/O
// operations its backend runs on them (private to corio).
//
// An IoState is one fd the loop knows: a socket, a pipe end, a pidfd. It is
// registered once (LoopAccess::io_register) and stays until io_unregister,
// which must come before the fd is closed. Operations (IoOp) run on it:
// recv, send, sendmsg, recvmsg, read, write, accept, connect, and waits for
// readiness. The backend decides how: epoll tries the syscall at once and,
// when the kernel says "would block", parks the operation until the next
// edge; io_uring submits it to the ring. Either way an operation that does
// not finish in start() finishes later through op.complete, called in the
// loop's poll phase, which must only post work to the ready queue.
//
// One operation per direction at a time: `reading` / `writing` hold the one
// in progress, from start() until its owner took the result (for a task:
// until it resumed), and a second one is refused with RuntimeError. While
// an operation holds its slot, the fd's state outlives it: unregistering
// the fd detaches the operation (op.io becomes null) instead of leaving it
// a dangling pointer.
//
// Tasks use OpAwait (below). Transports use callback mode: `on_ready` is
// called in the poll phase whenever the fd has news (readiness under epoll,
// a completion under io_uring); the transport posts itself and pulls.
#pragma once

#include <sys/socket.h>
#include <sys/uio.h>

#include <coroutine>
#include <cstdint>
#include <string>
#include <vector>

#include "corio/detail/future_state.hpp"
#include "corio/detail/intrusive_list.hpp"
#include "corio/event_loop.hpp"

namespace corio::detail {

struct IoState;

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

enum class OpKind : std::uint8_t {
    recv,      // recv(fd, buf, len, flags)
    recvmsg,   // recvmsg(fd, msg, flags): datagrams with their sender
    read,      // read(fd, buf, len): pipes
    accept,    // accept4: res is the new fd; addr/addrlen get the peer
    poll_in,   // wait until readable: res is the IoReady bits seen
    poll,      // wait until readable or writable as op.flags asks (kIoReadable |
               // kIoWritable); res: the IoReady bits seen. Holds the read slot.
    send,      // send(fd, buf, len, flags | MSG_NOSIGNAL)
    sendmsg,   // sendmsg(fd, msg, flags | MSG_NOSIGNAL): gather, or datagrams to an address
    write,     // write(fd, buf, len): pipes
    connect,   // connect(fd, addr, addrlen), then SO_ERROR
    poll_out,  // wait until writable
};

inline bool is_read_kind(OpKind k) noexcept {
    return k <= OpKind::poll;
}

/// The msghdr of a recvmsg/sendmsg over one buffer: with the peer's address
/// (a sendto's destination, or the storage a recvfrom fills) or without.
inline msghdr one_buffer_msg(iovec& iov, void* name = nullptr, socklen_t namelen = 0) noexcept {
    msghdr m{};
    m.msg_name = name;
    m.msg_namelen = namelen;
    m.msg_iov = &iov;
    m.msg_iovlen = 1;
    return m;
}

/// One operation on an IoState. Lives with whoever waits for it (a task's
/// awaiter, a transport) and must stay put until it finished: start()
/// returned true, op.complete ran, or cancel() returned true.
struct IoOp {
    OpKind kind = OpKind::recv;
    IoState* io = nullptr;
    void* buf = nullptr;  // recv/read/send/write
    std::size_t len = 0;
    msghdr* msg = nullptr;     // recvmsg/sendmsg
    sockaddr* addr = nullptr;  // connect: the target; accept: gets the peer
    socklen_t addrlen = 0;     // in/out as the syscall's
    int flags = 0;
    /// The outcome: >= 0 as the syscall returns it (bytes, the accepted fd,
    /// 0 for connect, IoReady bits for the polls), else -errno. An operation
    /// cut short by io_unregister (the fd is being closed) ends with -EBADF;
    /// one withdrawn by cancel() with -ECANCELED.
    int res = 0;
    /// Called in the poll phase when an operation left pending by start()
    /// finishes, successfully, with an error, or cancelled. Only posts.
    void (*complete)(IoOp* op) noexcept = nullptr;
    enum State : std::uint8_t { idle, pending, done };
    State state = idle;
    // The backend's bookkeeping (io_uring: the fd's state, which outlives
    // `io` while the operation is in the kernel).
    void* backend_ref = nullptr;
};

struct IoState : ListNode {  // linked in its loop's list while registered
    int fd = -1;
    bool is_socket = true;  // recv/send (else read/write: pipes) for transports
    EventLoop* loop = nullptr;
    /// Readiness seen and not consumed (epoll's edges; io_uring's polls).
    std::uint32_t ready = 0;
    IoOp* reading = nullptr;  // the read-side operation in progress
    IoOp* writing = nullptr;  // the write-side operation in progress
    /// Callback mode: news on the fd (see the file comment). Only posts.
    void (*on_ready)(IoState* self) noexcept = nullptr;
    void* owner = nullptr;  // for on_ready: the object the fd belongs to
    /// What an operation got although its task was cancelled meanwhile (the
    /// task was woken with the result but cancelled before it resumed; or,
    /// under io_uring, the kernel finished before the cancellation reached
    /// it): the bytes of a recv/read, the connection of an accept. The next
    /// operation of that kind gets them first: nothing is lost.
    std::string stash;
    struct Accepted {
        int fd;
        socklen_t addrlen;
        sockaddr_storage addr;
    };
    std::vector<Accepted> accepted;
    /// The backend's own state for this fd (io_uring: multishot operations,
    /// completed accepts and receives waiting to be taken).
    void* backend_state = nullptr;

    bool registered() const noexcept { return loop != nullptr; }
    /// Drops what cancelled operations gave back (closing accepted fds).
    void drop_given_back() noexcept;
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

/// Starts `op` on the backend of `op.io`'s loop (see Backend::start).
/// Throws RuntimeError if the fd is closed, belongs to another loop than
/// the running one, or another operation of the same direction is in
/// progress. Returns true if it finished at once (op.res is set; the slot
/// was never taken); else the operation holds its direction's slot until
/// finish_op().
bool start_op(IoOp& op);
/// Withdraws a pending operation (see Backend::cancel): true if it is over
/// now (res -ECANCELED), false if its completion is still to come.
bool cancel_op(IoOp& op) noexcept;
/// The owner took the result of a started operation: frees the slot.
void finish_op(IoOp& op) noexcept;
/// Called by backends when a pending operation ends: records `res` and
/// calls op.complete.
void complete_op(IoOp& op, int res) noexcept;
/// io_unregister: operations holding a slot of `io` let go of it; pending
/// ones end with -EBADF (through complete_op) unless the backend still has
/// to confirm, in which case it does so itself later (the op's io is null).
void detach_ops(IoState& io, bool backend_confirms) noexcept;

/// Runs one operation as a task's await: suspends only if the operation
/// cannot finish at once. `co_await OpAwait(op)` returns op.res (never
/// throws an OS error: the caller decides). Cancellation withdraws the
/// operation; if the backend can only ask the kernel to cancel, the task
/// waits for the operation to end first (its buffer stays in use until
/// then), and a receive that completed anyway leaves its bytes in the fd's
/// stash for the next one: nothing the kernel delivered is lost.
struct OpAwait : Waiter, IoOp {
    explicit OpAwait(const IoOp& o) noexcept : IoOp(o) {}
    OpAwait(const OpAwait&) = delete;
    ~OpAwait();
    bool await_ready();
    void await_suspend(std::coroutine_handle<> h);
    int await_resume();

private:
    void give_back() noexcept;

    bool cancel_asked_ = false;
    static void on_complete(IoOp* op) noexcept;
    static bool on_cancel_fn(Waiter* w);
};

/// Waits until `io` is readable (or writable), unless it already is.
OpAwait wait_ready(IoState& io, bool write);
/// Ends a wait_ready(io, false) in progress as if the fd had become
/// readable (res 0): its task wakes and looks again.
void interrupt_read(IoState& io) noexcept;

}  // namespace corio::detail
