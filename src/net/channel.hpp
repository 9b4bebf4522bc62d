// src/net/channel.hpp - one non-blocking read or write on a connection's
// channel: a socket or pipe fd, with or without TLS on top (private). Streams
// (StreamConn) and transports (TransportImpl) both move their bytes through
// here and differ only in what they do with the outcome: a stream task waits
// and retries, a transport returns to the loop until the next edge.
#pragma once

#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string_view>
#include <utility>

#include "core/io.hpp"
#include "corio/net/socket.hpp"
#include "corio/task.hpp"
#include "tls_session.hpp"

namespace corio::net::detail {

/// What one channel_read/channel_write did. `want_read`/`want_write`: nothing
/// moved, the channel needs that readiness first (its `ready` bit is already
/// cleared when the kernel said so). `failed`: the connection is broken;
/// `error` says why (`err` is the errno, 0 for TLS protocol errors).
struct ChannelIo {
    enum Kind : unsigned char { done, want_read, want_write, eof, failed } kind;
    std::size_t n = 0;
    std::exception_ptr error;
    int err = 0;
};

/// The channel: the fd's readiness, the TLS session (or null), whether the fd
/// is a socket (recv/send) or a pipe (read/write), and the peer for messages.
struct Channel {
    corio::detail::IoState& io;
    TlsSession* tls;
    bool is_socket;
    const SocketAddress& peer;
};

/// Reads up to `len` bytes into `buf`. A short plain read clears the
/// readable bit (the next arrival raises a new edge).
ChannelIo channel_read(const Channel& ch, char* buf, std::size_t len);
/// Writes what it can of `data` without blocking.
ChannelIo channel_write(const Channel& ch, std::string_view data);
/// Runs the TLS handshake to its end, waiting for readiness as it asks.
/// Throws SslError (including a peer that closed mid-handshake) or
/// std::system_error.
Task<void> tls_handshake(TlsSession& tls, corio::detail::IoState& io, SocketAddress peer);

/// Every read on this thread lands here first (kScratchSize bytes), so an
/// idle connection holds no read buffer: a stream copies out what arrived, a
/// transport hands data_received a view of it. Valid until the next read on
/// this thread; reads never nest (resume_reading only posts).
inline constexpr std::size_t kScratchSize = 64 * 1024;
char* read_scratch();

/// Sets SIGPIPE to SIG_IGN if it is at its default, once per process, as
/// Python does at start-up: TLS (OpenSSL writes with write(), not send with
/// MSG_NOSIGNAL) and pipes to children would otherwise kill the process when
/// the peer is gone, instead of failing with EPIPE. A handler the program
/// installed itself is left alone. Children get SIGPIPE back at its default.
void ignore_sigpipe();

/// A std::system_error for `err` during `op` ("recv from") with the peer.
std::exception_ptr os_error(int err, const char* op, const SocketAddress& peer);

/// asyncio's _set_write_buffer_limits: high defaults to 64 KiB (4 x low
/// when only low is given), low to high / 4. Returns {high, low}; throws
/// std::invalid_argument unless high >= low.
inline std::pair<std::size_t, std::size_t> write_buffer_limits(std::optional<std::size_t> high,
                                                               std::optional<std::size_t> low) {
    std::size_t h = high ? *high : low ? 4 * *low : 64 * 1024;
    std::size_t l = low ? *low : h / 4;
    if (l > h) {
        throw std::invalid_argument("set_write_buffer_limits: high must be >= low");
    }
    return {h, l};
}

/// The event handling shared by the callback transports (stream and
/// datagram). The loop's poll phase calls on_io(), which posts one
/// Impl::io_ready() per burst of events. The transport holds itself
/// (`self_`) while open, as asyncio's loop holds a transport, and the posted
/// call holds a reference of its own: connection_lost may run first and
/// drop `self_`. Impl sets `loop_` and `self_` when it starts, and befriends
/// this class for io_ready().
template <class Impl>
class PostedIo {
protected:
    static void on_io(corio::detail::IoState* st) noexcept {
        static_cast<Impl*>(st->owner)->post();
    }
    void post() noexcept {
        if (!posted_ && loop_ != nullptr && self_) {
            posted_ = self_;
            corio::detail::LoopAccess::post(*loop_, &run_posted, static_cast<Impl*>(this));
        }
    }

    EventLoop* loop_ = nullptr;
    std::shared_ptr<Impl> self_;

private:
    static void run_posted(void* p, bool run) noexcept {
        auto* t = static_cast<Impl*>(p);
        PostedIo& b = *t;
        std::shared_ptr<Impl> keep = std::move(b.posted_);
        if (!run) {
            b.self_.reset();  // the loop is closing
            return;
        }
        if (b.self_) {  // else connection_lost already ran
            t->io_ready();
        }
    }

    std::shared_ptr<Impl> posted_;  // while a call is posted
};

}  // namespace corio::net::detail
