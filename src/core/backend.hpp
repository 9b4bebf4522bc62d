// src/core/backend.hpp - the loop's I/O backend (private): operations on
// registered fds, level-triggered watches for add_reader/add_writer, the
// cross-thread wake-up, and waiting.
//
// Two implementations: epoll (readiness: try the syscall now, wait for an
// edge when it would block) and io_uring (completions: operations go to a
// submission ring that the loop flushes once per iteration, in the same
// io_uring_enter that waits). The loop owns one backend and calls it from
// its own thread only; everything the backend calls back (op.complete,
// IoState::on_ready, watch events) runs in the loop's poll phase and only
// posts work to the ready queue.
#pragma once

#include <sys/uio.h>

#include <cstdint>
#include <memory>
#include <string_view>

#include "io.hpp"

namespace corio::detail {

// Event bits: the same as the IoReady bits.
inline constexpr std::uint32_t kReadable = kIoReadable;
inline constexpr std::uint32_t kWritable = kIoWritable;
inline constexpr std::uint32_t kError = kIoError;
inline constexpr std::uint32_t kHangup = kIoHangup;
inline constexpr std::uint32_t kPeerClosed = kIoPeerClosed;

/// An event of a level-triggered watch (add_reader/add_writer), or the
/// wake-up (token kWakeToken).
struct IoEvent {
    std::uint64_t token;
    std::uint32_t events;  // IoReady bits
};

/// What a transport's pull from its fd gave (Backend::stream_read).
struct StreamRead {
    enum Kind : std::uint8_t { got, empty, eof, error } kind = empty;
    const char* data = nullptr;  // the bytes (in the caller's buffer, or the backend's)
    std::size_t n = 0;
    int err = 0;              // for error: the errno
    std::uint32_t token = 0;  // for release_read: the backend's buffer, if any
    bool borrowed = false;    // data is the backend's: release_read() when done with it
};

/// What a transport's write gave (Backend::stream_write / write_result).
struct StreamWrite {
    enum Kind : std::uint8_t { done, pending, would_block, error } kind = done;
    std::size_t n = 0;  // for done: bytes written
    int err = 0;        // for error: the errno
};

class Backend {
public:
    virtual ~Backend() = default;
    virtual const char* name() const noexcept = 0;

    // -- registered fds ------------------------------------------------------

    /// Starts knowing `io.fd`. Throws std::system_error.
    virtual void attach(IoState& io) = 0;
    /// Stops knowing `io.fd` (before it is closed): operations still in
    /// progress end with -EBADF (at once or, under io_uring, when the kernel
    /// confirms).
    virtual void detach(IoState& io) noexcept = 0;

    // -- operations ----------------------------------------------------------

    /// Starts `op`; true if it finished at once (op.res set), false if
    /// op.complete will be called later. The caller has checked that no
    /// other operation of the same direction is in progress.
    virtual bool start(IoOp& op) = 0;
    /// Withdraws a started operation: true if it is over now (op.complete
    /// will not be called), false if the kernel was asked to cancel it and
    /// op.complete will report how it ended (-ECANCELED, or its result if it
    /// finished first).
    virtual bool cancel(IoOp& op) noexcept = 0;

    // -- transports (callback mode: IoState::on_ready) -----------------------

    /// Reading for a transport: the backend calls io.on_ready when there is
    /// something to pull (io_uring: arms a multishot receive into the ring's
    /// provided buffers, so an idle connection holds no buffer).
    virtual void read_start(IoState& io) = 0;
    /// Stops reading: what the kernel already delivered stays to be pulled.
    virtual void read_stop(IoState& io) noexcept = 0;
    /// The next bytes, EOF or error, or `empty` (then on_ready comes when
    /// there is more). `into`/`len`: where the caller would like the bytes;
    /// a backend with its own buffers hands a view of them instead
    /// (`borrowed`), to give back with release_read().
    virtual StreamRead read_some(IoState& io, char* into, std::size_t len) = 0;
    /// Gives back a borrowed buffer after `used` of its bytes were taken.
    /// If `used` < r.n the rest stays first in line for the next read_some
    /// of `io` (which must then be alive); else `io` is not touched (it
    /// may have been closed meanwhile) and may be null.
    virtual void release_read(IoState* io, const StreamRead& r, std::size_t used) noexcept = 0;
    /// True if read_some would give something now (a transport that pulled
    /// its share of a turn posts itself again only then).
    virtual bool has_read_data(const IoState& io) const noexcept = 0;
    /// Writes the gathered buffers (at most IOV_MAX) - sendmsg on a socket,
    /// writev on a pipe (io.is_socket): done (bytes written, maybe fewer
    /// than offered), would_block (on_ready comes when writable), pending
    /// (io_uring: in flight; the buffers must stay untouched until
    /// write_result() says otherwise after an on_ready, or until the fd is
    /// detached, which ends the write first), or error.
    virtual StreamWrite write_some(IoState& io, const iovec* iov, int n) = 0;
    /// True if write_some never leaves a write pending (epoll): the caller's
    /// buffer is free when it returns, so a transport may write from it
    /// directly instead of copying first.
    virtual bool writes_complete_at_once() const noexcept { return false; }
    /// After on_ready, for a write that was pending: its outcome, or pending
    /// if it still is.
    virtual StreamWrite write_result(IoState& io) noexcept = 0;

    // -- add_reader / add_writer ----------------------------------------------

    /// Starts or changes watching `fd` for `interest` (kReadable |
    /// kWritable), level-triggered: while the fd stays ready, every wait()
    /// reports it again (io_uring re-arms a one-shot poll as it reports
    /// one, so the callback has run by the time it is next evaluated);
    /// events carry `token`. interest == 0 stops watching. Throws
    /// std::system_error (e.g. EPERM for a regular file).
    virtual void watch(int fd, std::uint32_t interest, std::uint32_t old_interest,
                       std::uint64_t token) = 0;

    // -- waiting ---------------------------------------------------------------

    /// The loop's eventfd: readable means "woken" (IoEvent with kWakeToken).
    virtual void set_wake_fd(int fd) = 0;
    /// Submits what is queued, waits at most `timeout_ns` (-1: no limit, 0:
    /// just look) and handles what came: operations complete, on_ready is
    /// called, and watch events (and the wake-up) are stored in `out` (at
    /// most `max`; their count in `nevents`). Returns how many events and
    /// completions there were in all. EINTR counts as nothing.
    virtual int wait(IoEvent* out, int max, int& nevents, std::int64_t timeout_ns) = 0;
    /// True if operations are queued but not yet handed to the kernel: the
    /// loop then polls (without waiting) even in a busy iteration.
    virtual bool has_unsubmitted() const noexcept { return false; }
    /// Loop close: ends every operation still in progress (their
    /// completions run now, with -ECANCELED or their result) so that no
    /// kernel work refers to memory about to be freed.
    virtual void shutdown() noexcept {}
};

std::unique_ptr<Backend> make_epoll_backend();
/// The io_uring backend, or null (with the reason in `why`) where io_uring
/// is unavailable or refused (kernel too old, io_uring_disabled, seccomp,
/// RLIMIT_MEMLOCK) or corio was built without liburing.
std::unique_ptr<Backend> make_uring_backend(std::string* why);

}  // namespace corio::detail
