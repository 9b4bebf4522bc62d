// src/net/stream_conn.cpp - reading, writing, flushing, closing and TLS of
// one stream connection.
#include "stream_conn.hpp"

#include <unistd.h>

#include <cerrno>
#include <system_error>
#include <tuple>

namespace corio::net::detail {

using corio::detail::IoState;
using corio::detail::LoopAccess;
using corio::detail::wait_ready;

StreamConn::StreamConn(Socket sock, std::size_t limit, bool is_socket)
    : sock_(std::move(sock)), is_socket_(is_socket), fed_(false), limit_(limit) {
    if (is_socket_) {
        try {
            peer_ = sock_.peer_address();
        } catch (const std::system_error&) {
            // not connected (yet): leave it empty
        }
        try {
            local_ = sock_.local_address();
        } catch (const std::system_error&) {
        }
    }
}

StreamConn::StreamConn(std::size_t limit) : is_socket_(false), fed_(true), limit_(limit) {}

StreamConn::~StreamConn() = default;

// -- reading ------------------------------------------------------------------

void StreamConn::begin_read() {
    if (reading_) {
        throw RuntimeError("a read was called while another task is already waiting for data");
    }
    reading_ = true;
}

Task<void> StreamConn::fill(std::size_t hint, std::string* direct) {
    if (hint == 0 || hint > kScratchSize) {
        hint = kScratchSize;
    }
    const std::size_t had = rbuf_.size();
    for (;;) {
        if (read_error_) {
            std::rethrow_exception(read_error_);
        }
        if (eof_ || rbuf_.size() > had) {
            co_return;
        }
        if (fed_ || handshaking_) {
            corio::detail::ListWaiter w;
            struct ReadWait {
                StreamConn* c;
                corio::detail::ListWaiter* w;
                bool await_ready() const noexcept { return false; }
                void await_suspend(std::coroutine_handle<> h) {
                    corio::detail::TaskState& t = corio::detail::Waiter::current_task();
                    w->on_cancel = &corio::detail::ListWaiter::unlink_and_cancel;
                    c->read_waiters_.push_back(*w);
                    w->suspend(t, h);
                }
                void await_resume() { w->check_cancelled(); }
            };
            co_await ReadWait{this, &w};
            continue;
        }
        if (!sock_ || closed_) {
            eof_ = true;  // our side closed the connection: a pending read ends
            co_return;
        }
        IoState& io = sock_.io();
        // Straight into rbuf_ when it has the room anyway; else through the
        // thread's scratch buffer, so that idle connections keep no buffer.
        const bool in_place = rbuf_.room() >= hint;
        char* into = in_place ? rbuf_.reserve(hint) : read_scratch();
        ChannelIo r = channel_read(channel(), into, hint);
        switch (r.kind) {
            case ChannelIo::done:
                if (in_place) {
                    rbuf_.commit(r.n);
                } else if (direct != nullptr && rbuf_.empty()) {
                    direct->assign(into, r.n);
                } else {
                    rbuf_.append(std::string_view(into, r.n));
                }
                co_return;
            case ChannelIo::eof:
                eof_ = true;
                co_return;
            case ChannelIo::want_read:
                co_await wait_ready(io, false);
                break;
            case ChannelIo::want_write:  // TLS: a record must go out first
                // No other task waits to write on a stream's socket (writes
                // flush through on_writable; the handshake runs while reads
                // wait above), so the writer slot is free.
                // The edge that woke us no longer reaches the background
                // flush: hand it on (unless the socket was closed meanwhile).
                if (co_await wait_ready(io, true) >= 0 && io.on_ready != nullptr) {
                    io.on_ready(&io);
                }
                break;
            case ChannelIo::failed:
                if (r.err == EBADF && closed_) {
                    eof_ = true;
                    co_return;
                }
                lose(r.error);
                break;
        }
    }
}

bool StreamConn::at_eof() noexcept {
    // asyncio's protocol feeds EOF as soon as it arrives; corio reads only
    // when asked, so it looks now. Not while a read waits: its wake-up edge
    // must not be consumed here.
    if (!eof_ && rbuf_.empty() && !reading_ && !fed_ && !handshaking_ && sock_ && !closed_ &&
        !read_error_) {
        try {
            char* into = read_scratch();
            ChannelIo r = channel_read(channel(), into, kScratchSize);
            if (r.kind == ChannelIo::done) {
                rbuf_.append(std::string_view(into, r.n));
            } else if (r.kind == ChannelIo::eof) {
                eof_ = true;
            } else if (r.kind == ChannelIo::failed) {
                lose(r.error);  // kept for the next read, as fill() does
            }
        } catch (...) {
            lose(std::current_exception());  // bad_alloc after the read: the next read says so
        }
    }
    return eof_ && rbuf_.empty();
}

void StreamConn::wake_readers() noexcept {
    while (!read_waiters_.empty()) {
        read_waiters_.pop_front().wake();
    }
}

void StreamConn::feed_data(std::string_view data) {
    if (eof_) {
        throw RuntimeError("feed_data after feed_eof");
    }
    rbuf_.append(data);
    wake_readers();
}

void StreamConn::feed_eof() {
    eof_ = true;
    wake_readers();
}

void StreamConn::set_read_error(std::exception_ptr e) {
    read_error_ = std::move(e);
    wake_readers();
}

// -- writing ------------------------------------------------------------------

std::size_t StreamConn::send_some(std::string_view data) {
    ChannelIo r = channel_write(channel(), data);
    if (r.kind == ChannelIo::failed) {
        lose(r.error);
    }
    return r.kind == ChannelIo::done ? r.n : 0;
}

void StreamConn::write(std::string_view data) {
    if (eof_requested_) {
        throw RuntimeError("write() after write_eof()");
    }
    if (fed_) {
        throw RuntimeError("write() on a stream without a connection");
    }
    if (closing_ || lost_ || data.empty()) {
        return;  // dropped, as asyncio does after close or a lost connection
    }
    if (wbuf_.empty()) {
        std::size_t n = send_some(data);
        data.remove_prefix(n);
        if (data.empty() || lost_) {
            return;
        }
    }
    wbuf_.append(data);
    update_paused();
    if (!self_) {
        self_ = shared_from_this();
        IoState& io = sock_.io();
        io.owner = this;
        io.on_ready = &writable_hook;
        // The socket may already be writable (no edge will come): try soon.
        if (io.writable()) {
            writable_hook(&io);
        }
    }
}

void StreamConn::writable_hook(IoState* st) noexcept {
    // Runs in the loop's poll phase: only post the flush.
    auto* c = static_cast<StreamConn*>(st->owner);
    if (!st->writable() || c->wbuf_.empty()) {
        return;  // news of another kind
    }
    if (!c->flush_ref_) {
        c->flush_ref_ = c->shared_from_this();  // the posted call keeps us alive
        LoopAccess::post(*st->loop, &StreamConn::flush_ready, c);
    }
}

void StreamConn::flush_ready(void* p, bool run) noexcept {
    auto* c = static_cast<StreamConn*>(p);
    std::shared_ptr<StreamConn> keep = std::move(c->flush_ref_);
    if (!run) {
        c->self_.reset();  // the loop is closing
        return;
    }
    c->flush();
}

void StreamConn::flush() {
    while (!wbuf_.empty() && !lost_) {
        std::size_t n = send_some(wbuf_.view());
        if (n == 0) {
            if (!lost_) {
                update_paused();
                return;  // wait for the next writable edge
            }
            break;
        }
        wbuf_.consume(n);
    }
    after_flush();
}

void StreamConn::after_flush() {
    update_paused();
    wake_drainers();
    if (lost_) {
        wbuf_.clear();
    }
    if (wbuf_.empty()) {
        if (IoState* io = sock_.io_state()) {
            io->on_ready = nullptr;
        }
        if (eof_requested_ && !eof_sent_ && !lost_) {
            eof_sent_ = true;
            try {
                sock_.shutdown(SHUT_WR);
            } catch (const std::system_error& e) {
                lose(std::current_exception());
            }
        }
        if (closing_) {
            finish_close();
        }
        auto keep = std::move(self_);  // may be the last reference: destroyed at scope end
    }
}

void StreamConn::update_paused() noexcept {
    if (!paused_ && wbuf_.size() > high_) {
        paused_ = true;
    } else if (paused_ && wbuf_.size() <= low_) {
        paused_ = false;
        wake_drainers();
    }
}

void StreamConn::wake_drainers() noexcept {
    while (!drainers_.empty()) {
        drainers_.pop_front().wake();
    }
}

void StreamConn::lose(std::exception_ptr e) noexcept {
    if (!lost_) {
        lost_ = e;
    }
    if (!read_error_) {
        read_error_ = e;
    }
    wbuf_.clear();
    // asyncio closes the transport on a fatal error.
    closing_ = true;
    finish_close();
    auto keep = std::move(self_);  // nothing left to send; callers hold references
}

void StreamConn::close() {
    if (closing_) {
        return;
    }
    closing_ = true;
    if (wbuf_.empty()) {
        finish_close();
    }
}

void StreamConn::abort() {
    wbuf_.clear();
    closing_ = true;
    finish_close();
    auto keep = std::move(self_);
}

void StreamConn::finish_close() noexcept {
    if (closed_) {
        return;
    }
    closed_ = true;
    paused_ = false;  // drain() ends (and reports the lost connection)
    if (tls_ && !lost_ && sock_) {
        tls_->shutdown();  // close_notify, best effort
    }
    if (IoState* io = sock_.io_state()) {
        io->on_ready = nullptr;
    }
    sock_.close();  // a task waiting to read wakes and sees EOF
    wake_drainers();
    wake_readers();
    closed_event_.set();
    detach_from_server();
}

void StreamConn::write_eof() {
    if (tls_) {
        throw RuntimeError("write_eof() is not supported on TLS streams");
    }
    if (eof_requested_ || closing_) {
        return;
    }
    eof_requested_ = true;
    if (!is_socket_) {
        close();  // a pipe has no half-close: asyncio closes it once flushed
        return;
    }
    if (wbuf_.empty()) {
        after_flush();
    }
}

void StreamConn::set_write_buffer_limits(std::optional<std::size_t> high,
                                         std::optional<std::size_t> low) {
    std::tie(high_, low_) = write_buffer_limits(high, low);
    update_paused();
}

// -- TLS ----------------------------------------------------------------------

Task<void> StreamConn::start_tls(std::shared_ptr<SslContext> ctx, std::string server_hostname) {
    if (!rbuf_.empty()) {
        throw RuntimeError("start_tls: unread data is buffered");
    }
    if (!sock_) {
        throw RuntimeError("start_tls: the connection is closed");
    }
    if (tls_) {
        throw RuntimeError("start_tls: the connection already uses TLS");
    }
    tls_ = std::make_unique<TlsSession>(std::move(ctx), sock_.fd(), server_hostname);
    // A read waiting on the plain socket would take the handshake's bytes
    // (and its place as the socket's reader): wake it, and it waits in fill()
    // until the handshake is over, as reads started meanwhile do.
    handshaking_ = true;
    IoState& io = sock_.io();
    corio::detail::interrupt_read(io);
    struct Done {
        StreamConn* c;
        ~Done() {
            c->handshaking_ = false;
            c->wake_readers();
        }
    } done{this};
    co_await tls_handshake(*tls_, io, peer_);
}

}  // namespace corio::net::detail
