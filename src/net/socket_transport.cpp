// src/net/socket_transport.cpp - the connection engine, following asyncio's
// selector_events._SelectorSocketTransport and unix_events' pipe
// transports, on corio's backend operations (see socket_transport.hpp).
#include "socket_transport.hpp"

#include <sys/sendfile.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <system_error>
#include <tuple>

#include "core/backend.hpp"

namespace corio::net {

void BufferedProtocol::data_received(std::string_view data) {
    while (!data.empty()) {
        std::span<char> buf = get_buffer(data.size());
        if (buf.empty()) {
            throw RuntimeError("BufferedProtocol.get_buffer() returned an empty buffer");
        }
        std::size_t n = std::min(buf.size(), data.size());
        std::memcpy(buf.data(), data.data(), n);
        buffer_updated(n);
        data.remove_prefix(n);
    }
}

namespace detail {

using corio::detail::Backend;
using corio::detail::IoState;
using corio::detail::LoopAccess;
using corio::detail::StreamRead;
using corio::detail::StreamWrite;

namespace {

constexpr int kReadsPerTurn = 4;

Backend& backend_of(EventLoop& loop) {
    return LoopAccess::backend(loop);
}

}  // namespace

SocketTransport::SocketTransport(Socket sock, bool is_socket)
    : sock_(std::move(sock)), is_socket_(is_socket) {
    if (is_socket_) {
        try {
            peer_ = sock_.peer_address();
        } catch (const std::system_error&) {
        }
        try {
            local_ = sock_.local_address();
        } catch (const std::system_error&) {
        }
    }
    flush_hook_.owner = this;
    flush_hook_.run = &run_flush;
}

SocketTransport::~SocketTransport() = default;

void SocketTransport::start(std::unique_ptr<Protocol> proto, bool reading) {
    proto_ = std::move(proto);
    buffered_ = dynamic_cast<BufferedProtocol*>(proto_.get());
    IoState& st = sock_.io();  // registers with the running loop
    st.is_socket = is_socket_;
    st.owner = this;
    st.on_ready = &on_io;
    loop_ = st.loop;
    self_ = std::static_pointer_cast<SocketTransport>(shared_from_this());
    reading_ = reading;
    if (reading_) {
        backend_of(*loop_).read_start(st);
    }
    guarded([&] { proto_->connection_made(*this); }, "protocol.connection_made() failed");
    if (reading_ && !closing_ && backend_of(*loop_).has_read_data(st)) {
        post();  // it came before us (while connecting): no new edge will announce it
    }
}

// -- writing ------------------------------------------------------------------

void SocketTransport::write(std::string_view data) {
    if (eof_requested_) {
        throw RuntimeError("Cannot call write() after write_eof()");
    }
    if (closing_ || lost_ || data.empty()) {
        return;  // dropped, as after a lost connection
    }
    if (data.size() >= WriteQueue::kBlockSize && wq_.empty() && !write_failed_ && sock_) {
        // A big write with nothing queued: straight from the caller's buffer
        // where the backend finishes writes at once; only what the kernel
        // did not take is copied.
        Backend& be = backend_of(*loop_);
        if (be.writes_complete_at_once()) {
            iovec iov{const_cast<char*>(data.data()), data.size()};
            StreamWrite r = be.write_some(io(), &iov, 1);
            if (r.kind == StreamWrite::error) {
                write_failed(r.err);
                return;
            }
            if (r.kind == StreamWrite::done) {
                data.remove_prefix(r.n);
                if (data.empty()) {
                    return;
                }
            }
        }
    }
    wq_.append(data);
    queued();
}

void SocketTransport::writelines(std::span<const std::string_view> pieces) {
    if (eof_requested_) {
        throw RuntimeError("Cannot call writelines() after write_eof()");
    }
    if (closing_ || lost_) {
        return;
    }
    for (std::string_view p : pieces) {
        wq_.append(p);
    }
    if (!wq_.empty()) {
        queued();
    }
}

// New bytes are queued: send them at the end of the iteration, or now if
// there are many.
void SocketTransport::queued() {
    if (wq_.size() - inflight_ >= kFlushThreshold) {
        flush();
    } else if (!flush_hook_.linked()) {
        flush_hook_.keep = self_;
        LoopAccess::at_end_of_iteration(*loop_, flush_hook_);
    }
    maybe_pause_protocol();
}

void SocketTransport::run_flush(corio::detail::IterationHook* hook, bool run) noexcept {
    auto* h = static_cast<FlushHook*>(hook);
    std::shared_ptr<SocketTransport> keep = std::move(h->keep);
    if (run && keep && !keep->lost_) {
        keep->flush();
    }
}

// Sends what is queued, as far as the kernel takes it, in gathered writes.
// At most one write is in flight (io_uring); epoll writes complete at once.
void SocketTransport::flush() {
    if (write_failed_ || inflight_ > 0 || !sock_) {
        return;
    }
    Backend& be = backend_of(*loop_);
    while (!wq_.empty()) {
        iovec iov[WriteQueue::kMaxIov];
        int n = wq_.gather(iov);
        StreamWrite r = be.write_some(io(), iov, n);
        if (r.kind == StreamWrite::done) {
            wq_.consume(r.n);
            continue;
        }
        if (r.kind == StreamWrite::pending) {
            for (int i = 0; i < n; ++i) {
                inflight_ += iov[i].iov_len;
            }
            return;  // on_ready brings the outcome
        }
        if (r.kind == StreamWrite::error) {
            write_failed(r.err);
            return;
        }
        break;  // would_block: on_ready comes when writable
    }
    after_write();
}

// A write failed: nothing more goes out, and the connection is lost with the
// error (unless it already is).
void SocketTransport::write_failed(int err) {
    write_failed_ = true;
    if (!lost_) {
        fatal(os_error(err, is_socket_ ? "send to" : "write to pipe", peer_), nullptr);
    }
}

// What follows sending: backpressure, the half-close and close that waited
// for the queue to empty.
void SocketTransport::after_write() {
    maybe_resume_protocol();
    if (!wq_.empty() || inflight_ > 0 || lost_ || sendfile_active_) {
        return;
    }
    if (eof_requested_) {
        shutdown_write();
    }
    if (closing_) {
        schedule_connection_lost(nullptr);
    }
}

void SocketTransport::shutdown_write() {
    if (eof_sent_) {
        return;
    }
    eof_sent_ = true;
    if (::shutdown(sock_.fd(), SHUT_WR) < 0 && errno != ENOTCONN) {
        fatal(os_error(errno, "shutdown", peer_), nullptr);
    }
}

void SocketTransport::write_eof() {
    if (closing_ || eof_requested_) {
        return;
    }
    if (!is_socket_) {
        close();  // a pipe has no half-close: asyncio closes it once flushed
        return;
    }
    eof_requested_ = true;
    if (wq_.empty() && inflight_ == 0) {
        shutdown_write();
    }
}

void SocketTransport::set_write_buffer_limits(std::optional<std::size_t> high,
                                              std::optional<std::size_t> low) {
    std::tie(high_, low_) = write_buffer_limits(high, low);
    maybe_pause_protocol();
}

void SocketTransport::maybe_pause_protocol() {
    if (!protocol_paused_ && wq_.size() > high_) {
        protocol_paused_ = true;
        guarded([&] { proto_->pause_writing(); }, "protocol.pause_writing() failed");
    }
}

void SocketTransport::maybe_resume_protocol() {
    if (protocol_paused_ && wq_.size() <= low_) {
        protocol_paused_ = false;
        guarded([&] { proto_->resume_writing(); }, "protocol.resume_writing() failed");
    }
}

// -- sendfile -----------------------------------------------------------------

bool SocketTransport::can_sendfile() const noexcept {
    return is_socket_ && sock_ && loop_ != nullptr && !lost_ &&
           backend_of(*loop_).writes_complete_at_once();
}

Task<void> SocketTransport::wait_writable() {
    sendfile_wake_.clear();
    co_await sendfile_wake_.wait();
}

Task<void> SocketTransport::sendfile(int fd, std::uint64_t offset, std::uint64_t count) {
    if (!can_sendfile()) {
        throw RuntimeError("sendfile() is not supported by this transport");
    }
    if (eof_requested_) {
        throw RuntimeError("Cannot call sendfile() after write_eof()");
    }
    if (sendfile_active_) {
        throw RuntimeError("sendfile() is already running on this transport");
    }
    std::shared_ptr<SocketTransport> keep = self_;
    sendfile_active_ = true;
    struct Done {
        SocketTransport* t;
        ~Done() {
            t->sendfile_active_ = false;
            if (!t->lost_) {
                t->after_write();  // a close() that waited for it
            }
        }
    } done{this};
    // Sends this much at most before letting the loop run other callbacks,
    // so that a fast reader does not keep the loop in here.
    constexpr std::uint64_t kTurn = 1024 * 1024;
    std::uint64_t this_turn = 0;
    for (;;) {
        if (lost_ || write_failed_ || !sock_) {
            throw std::system_error(ECONNRESET, std::generic_category(),
                                    "sendfile: connection lost");
        }
        if (!wq_.empty()) {  // write()'s bytes first
            flush();
            if (!wq_.empty()) {
                co_await wait_writable();
                continue;
            }
        }
        if (count == 0) {
            co_return;
        }
        if (this_turn >= kTurn) {
            this_turn = 0;
            co_await sleep(Duration::zero());
            continue;
        }
        if (!io().writable()) {
            co_await wait_writable();
            continue;
        }
        off_t off = static_cast<off_t>(offset);
        const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(count, kTurn));
        const ssize_t n = ::sendfile(sock_.fd(), fd, &off, want);
        if (n > 0) {
            offset += static_cast<std::uint64_t>(n);
            count -= static_cast<std::uint64_t>(n);
            this_turn += static_cast<std::uint64_t>(n);
            continue;
        }
        if (n == 0) {
            throw std::system_error(EIO, std::generic_category(),
                                    "sendfile: the file ended before the count");
        }
        const int err = errno;
        if (err == EINTR) {
            continue;
        }
        if (err == EAGAIN) {
            io().write_full();
            co_await wait_writable();
            continue;
        }
        if (err == EPIPE || err == ECONNRESET) {
            write_failed(err);
        }
        throw std::system_error(err, std::generic_category(), "sendfile");
    }
}

// -- reading and events ---------------------------------------------------------

// A burst of news, posted by PostedIo (the transport is open).
void SocketTransport::io_ready() {
    if (sendfile_active_) {
        sendfile_wake_.set();
    }
    if (inflight_ > 0) {
        StreamWrite r = backend_of(*loop_).write_result(io());
        if (r.kind != StreamWrite::pending) {
            inflight_ = 0;
            if (r.kind == StreamWrite::done) {
                wq_.consume(r.n);
            } else {
                write_failed(r.err);
            }
            flush();
        }
    } else if (!wq_.empty() && !write_failed_) {
        flush();
    }
    if (reading_ && !closing_ && !eof_kept_ && sock_) {
        read_some_buffers();
    }
}

void SocketTransport::read_some_buffers() {
    Backend& be = backend_of(*loop_);
    for (int i = 0; i < kReadsPerTurn; ++i) {
        if (!reading_ || closing_ || eof_kept_) {
            return;
        }
        // Ask for a buffer only when something will land in it: a stream's
        // buffer that is full would otherwise grow for nothing.
        if (!be.has_read_data(io())) {
            return;
        }
        char* into;
        std::size_t len;
        if (buffered_ != nullptr) {
            std::span<char> buf;
            guarded([&] { buf = buffered_->get_buffer(kScratchSize); },
                    "protocol.get_buffer() call failed");
            if (closing_) {
                return;
            }
            if (buf.empty()) {
                fatal(std::make_exception_ptr(
                          RuntimeError("BufferedProtocol.get_buffer() returned an empty buffer")),
                      "protocol.get_buffer() call failed");
                return;
            }
            into = buf.data();
            len = buf.size();
        } else {
            into = read_scratch();
            len = kScratchSize;
        }
        StreamRead r = be.read_some(io(), into, len);
        switch (r.kind) {
            case StreamRead::empty:
                return;
            case StreamRead::eof:
                on_eof();
                return;
            case StreamRead::error:
                fatal(os_error(r.err, is_socket_ ? "recv from" : "read from pipe", peer_), nullptr);
                return;
            case StreamRead::got:
                break;
        }
        if (buffered_ != nullptr) {
            std::size_t n = r.n;
            if (r.borrowed) {
                n = std::min(r.n, len);
                std::memcpy(into, r.data, n);
                be.release_read(&io(), r, n);
            }
            guarded([&] { buffered_->buffer_updated(n); }, "protocol.buffer_updated() call failed");
        } else {
            guarded([&] { proto_->data_received(std::string_view(r.data, r.n)); },
                    "protocol.data_received() call failed");
            if (r.borrowed) {
                be.release_read(nullptr, r, r.n);
            }
        }
    }
    if (reading_ && !closing_ && !eof_kept_ && sock_ && be.has_read_data(io())) {
        post();  // more to read: after the other ready callbacks
    }
}

void SocketTransport::on_eof() {
    bool keep_open = false;
    guarded([&] { keep_open = proto_->eof_received(); }, "protocol.eof_received() call failed");
    if (!keep_open) {
        close();
    } else {
        eof_kept_ = true;  // no more reads; is_reading() stays true (asyncio)
    }
}

void SocketTransport::pause_reading() {
    if (closing_ || !reading_) {
        return;
    }
    reading_ = false;
    if (sock_) {
        backend_of(*loop_).read_stop(io());
    }
}

// As asyncio's resume_reading, this watches the socket again even after a
// kept-open EOF (which stopped the reading without pausing). What is
// already there is delivered from a posted call, never from inside this one.
void SocketTransport::resume_reading() {
    if (closing_ || reading_ || !sock_) {
        return;
    }
    reading_ = true;
    eof_kept_ = false;
    Backend& be = backend_of(*loop_);
    be.read_start(io());
    if (be.has_read_data(io())) {
        post();
    }
}

// -- closing --------------------------------------------------------------------

void SocketTransport::close() {
    if (closing_) {
        return;
    }
    closing_ = true;
    if (reading_ && sock_) {
        backend_of(*loop_).read_stop(io());
    }
    reading_ = false;
    if (wq_.empty() && inflight_ == 0 && !sendfile_active_) {
        schedule_connection_lost(nullptr);
    }
}

void SocketTransport::abort() {
    force_close(nullptr);
}

void SocketTransport::close_client() {
    face_->close();
}

void SocketTransport::abort_client() {
    face_->abort();
}

template <class F>
void SocketTransport::guarded(F&& f, const char* what) {
    try {
        f();
    } catch (...) {
        fatal(std::current_exception(), what);
    }
}

// asyncio's _fatal_error: report (unless it is a plain connection error)
// and close at once with the error.
void SocketTransport::fatal(std::exception_ptr e, const char* what) {
    if (what != nullptr && loop_ != nullptr) {
        loop_->call_exception_handler(
            ExceptionContext{std::string("Fatal error: ") + what, e, {}, {}});
    }
    force_close(e);
}

void SocketTransport::force_close(std::exception_ptr e) {
    if (lost_) {
        return;
    }
    write_failed_ = true;
    if (inflight_ == 0) {
        wq_.clear();  // else the kernel still reads it: cleared once the write ended
    }
    closing_ = true;
    reading_ = false;
    schedule_connection_lost(e);
}

void SocketTransport::schedule_connection_lost(std::exception_ptr e) {
    if (lost_) {
        return;
    }
    lost_ = true;
    if (loop_ == nullptr || loop_->is_closed()) {
        call_connection_lost(e);
        return;
    }
    std::shared_ptr<SocketTransport> self = self_;
    loop_->call_soon([self, e]() { self->call_connection_lost(e); });
}

void SocketTransport::call_connection_lost(std::exception_ptr e) {
    sendfile_wake_.set();
    // Closing the socket detaches it from the backend, which first ends any
    // write in flight (io_uring cancels it and waits for the kernel to let go
    // of the queue's front), so the queue can go right after.
    if (IoState* st = sock_.io_state()) {
        st->on_ready = nullptr;
    }
    sock_.close();
    wq_.clear();
    inflight_ = 0;
    detach_from_server();
    if (proto_) {
        try {
            proto_->connection_lost(e);
        } catch (...) {
            if (loop_ != nullptr) {
                loop_->call_exception_handler(ExceptionContext{
                    "protocol.connection_lost() call failed", std::current_exception(), {}, {}});
            }
        }
    }
    flush_hook_.unlink();
    flush_hook_.keep.reset();
    auto keep = std::move(self_);  // may be the last reference
}

std::unique_ptr<Protocol> SocketTransport::set_protocol(std::unique_ptr<Protocol> protocol) {
    if (!protocol) {
        throw std::invalid_argument("set_protocol: protocol is null");
    }
    std::swap(proto_, protocol);
    buffered_ = dynamic_cast<BufferedProtocol*>(proto_.get());
    return protocol;
}

std::any SocketTransport::get_extra_info(std::string_view name) const {
    if (name == "peername" && is_socket_) {
        return peer_;
    }
    if (name == "sockname" && is_socket_) {
        return local_;
    }
    if (name == (is_socket_ ? "socket" : "pipe")) {
        return sock_.fd();
    }
    return {};
}

}  // namespace detail
}  // namespace corio::net
