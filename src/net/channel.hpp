// src/net/channel.hpp - what the networking layer's connection objects
// share (private): the per-thread read buffer, SIGPIPE, OS errors with the
// peer named, write-buffer limits, and PostedIo (one posted call per burst
// of events).
#pragma once

#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <stdexcept>
#include <utility>

#include "core/io.hpp"
#include "corio/net/socket.hpp"

namespace corio::net::detail {

/// Reads that have no buffer of their own land here (kScratchSize bytes),
/// so an idle connection holds no read buffer: a protocol gets a view of
/// it. Valid until the next read on this thread; reads never nest
/// (resume_reading only posts).
inline constexpr std::size_t kScratchSize = 64 * 1024;
char* read_scratch();

/// Sets SIGPIPE to SIG_IGN if it is at its default, once per process, as
/// Python does at start-up: pipes to children (write(), not send with
/// MSG_NOSIGNAL) would otherwise kill the process when the peer is gone,
/// instead of failing with EPIPE. A handler the program installed itself
/// is left alone. Children get SIGPIPE back at its default.
void ignore_sigpipe();

/// A std::system_error for `err` during `op` ("recv from") with the peer.
std::exception_ptr os_error(int err, const char* op, const SocketAddress& peer);

/// asyncio's _set_write_buffer_limits: high defaults to `default_high`
/// (64 KiB; asyncio's SSL transports use 512 KiB), or 4 x low when only low
/// is given; low to high / 4. Returns {high, low}; throws
/// std::invalid_argument unless high >= low.
inline std::pair<std::size_t, std::size_t> write_buffer_limits(std::optional<std::size_t> high,
                                                               std::optional<std::size_t> low,
                                                               std::size_t default_high = 64 *
                                                                                          1024) {
    std::size_t h = high ? *high : low ? 4 * *low : default_high;
    std::size_t l = low ? *low : h / 4;
    if (l > h) {
        throw std::invalid_argument("set_write_buffer_limits: high must be >= low");
    }
    return {h, l};
}

/// The event handling shared by the callback transports (stream and
/// datagram). The backend calls on_io() in the poll phase (IoState's
/// on_ready), which posts one Impl::io_ready() per burst of events. The
/// transport holds itself (`self_`) while open, as asyncio's loop holds a
/// transport, and the posted call holds a reference of its own:
/// connection_lost may run first and drop `self_`. Impl sets `loop_` and
/// `self_` when it starts, and befriends this class for io_ready().
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
