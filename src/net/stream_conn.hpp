// src/net/stream_conn.hpp - the connection behind a StreamReader/StreamWriter
// pair (private).
//
// Ownership: readers and writers hold shared_ptrs. While buffered data waits
// to be sent, the connection also holds itself (`self_`), like a transport
// the loop keeps alive, so dropping the writer never loses written data; the
// self-reference goes when the buffer is sent or the connection is lost or
// closed.
//
// Channel: a socket or pipe fd (IoState inside Socket), optionally with a
// TlsSession on top. A "fed" connection has no channel: data arrives through
// feed_data/feed_eof.
#pragma once

#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "channel.hpp"
#include "corio/locks.hpp"
#include "corio/net/socket.hpp"
#include "corio/net/streams.hpp"
#include "server_state.hpp"
#include "tls_session.hpp"

namespace corio::net::detail {

/// A byte buffer consumed from the front. Raw storage: reserving room for a
/// read never zero-fills it (a std::string would, 64 KiB per read).
class ByteBuffer {
public:
    std::size_t size() const noexcept { return tail_ - head_; }
    bool empty() const noexcept { return head_ == tail_; }
    std::string_view view() const noexcept { return {buf_.get() + head_, tail_ - head_}; }
    void append(std::string_view s) {
        if (s.empty()) {
            return;  // memcpy from/to null is undefined even for 0 bytes
        }
        std::memcpy(reserve(s.size()), s.data(), s.size());
        tail_ += s.size();
    }
    /// Room for `n` more bytes at the end; commit() what was written there.
    char* reserve(std::size_t n) {
        if (cap_ - tail_ < n) {
            std::size_t size = tail_ - head_;
            if (cap_ - size >= n && head_ > 0) {
                std::memmove(buf_.get(), buf_.get() + head_, size);
            } else {
                std::size_t cap = cap_ ? cap_ : 4096;
                while (cap - size < n) {
                    cap *= 2;
                }
                auto nb = std::make_unique_for_overwrite<char[]>(cap);
                if (size > 0) {
                    std::memcpy(nb.get(), buf_.get() + head_, size);
                }
                buf_ = std::move(nb);
                cap_ = cap;
            }
            head_ = 0;
            tail_ = size;
        }
        return buf_.get() + tail_;
    }
    void commit(std::size_t n) noexcept { tail_ += n; }
    std::string take(std::size_t n) {
        std::string out(view().substr(0, n));
        consume(n);
        return out;
    }
    void consume(std::size_t n) noexcept {
        head_ += n;
        if (head_ == tail_) {
            head_ = tail_ = 0;
        }
    }
    void clear() noexcept { head_ = tail_ = 0; }
    /// Free room at the end, without moving or growing.
    std::size_t room() const noexcept { return cap_ - tail_; }

private:
    std::unique_ptr<char[]> buf_;
    std::size_t cap_ = 0;
    std::size_t head_ = 0;
    std::size_t tail_ = 0;
};

class StreamConn : public ServerClient, public std::enable_shared_from_this<StreamConn> {
public:
    /// A connection over `sock` (a socket, or a pipe end with is_socket = false).
    StreamConn(Socket sock, std::size_t limit, bool is_socket = true);
    /// A fed reader.
    explicit StreamConn(std::size_t limit);
    StreamConn(const StreamConn&) = delete;
    StreamConn& operator=(const StreamConn&) = delete;
    ~StreamConn();

    // -- reading (one task at a time) --
    /// Reads more into rbuf_: returns once at least one byte was added or EOF
    /// was seen. `hint`: how much to ask the kernel for (0: 64 KiB). With
    /// `direct` and rbuf_ empty, what the channel gives goes to *direct
    /// instead (read(n) with nothing buffered: one copy, no buffer kept).
    Task<void> fill(std::size_t hint, std::string* direct = nullptr);
    void begin_read();  // throws RuntimeError if another task is reading
    void end_read() noexcept { reading_ = false; }
    ByteBuffer& rbuf() noexcept { return rbuf_; }
    bool eof() const noexcept { return eof_; }
    /// StreamReader::at_eof: with nothing buffered and no read in progress,
    /// reads once without waiting, so that EOF is seen as soon as it came.
    bool at_eof() noexcept;
    std::size_t limit() const noexcept { return limit_; }
    void feed_data(std::string_view data);
    void feed_eof();
    void set_read_error(std::exception_ptr e);
    std::exception_ptr read_error() const noexcept { return read_error_; }

    // -- writing --
    void write(std::string_view data);
    bool paused() const noexcept { return paused_; }
    std::exception_ptr lost() const noexcept { return lost_; }
    void add_drainer(corio::detail::ListWaiter& w) { drainers_.push_back(w); }
    void close() override;
    void abort() override;
    bool closing() const noexcept { return closing_; }
    bool closed() const noexcept { return closed_; }
    Event& closed_event() noexcept { return closed_event_; }
    void write_eof();
    void set_write_buffer_limits(std::optional<std::size_t> high, std::optional<std::size_t> low);
    std::size_t pending() const noexcept { return wbuf_.size(); }

    // -- TLS --
    /// Handshakes (client or server, per the context). Throws SslError. A
    /// read waiting on the socket steps aside and waits for the handshake
    /// to end, as do reads started meanwhile.
    Task<void> start_tls(std::shared_ptr<SslContext> ctx, std::string server_hostname);
    TlsSession* tls() const noexcept { return tls_.get(); }

    Socket& socket() noexcept { return sock_; }
    const SocketAddress& peername() const noexcept { return peer_; }
    const SocketAddress& sockname() const noexcept { return local_; }

private:
    static void writable_hook(corio::detail::IoState* st) noexcept;
    static void flush_ready(void* self, bool run) noexcept;
    // Sends what it can; false when the socket would block (hook stays set).
    void flush();
    // Writes directly; returns bytes sent (0: would block); on error loses
    // the connection and returns 0.
    std::size_t send_some(std::string_view data);
    Channel channel() { return {sock_.io(), tls_.get(), is_socket_, peer_}; }
    void lose(std::exception_ptr e) noexcept;
    void wake_drainers() noexcept;
    void after_flush();
    void finish_close() noexcept;
    void update_paused() noexcept;
    void wake_readers() noexcept;

    Socket sock_;
    bool is_socket_;
    bool fed_;
    std::unique_ptr<TlsSession> tls_;
    SocketAddress peer_;
    SocketAddress local_;

    ByteBuffer rbuf_;
    std::size_t limit_;
    bool eof_ = false;
    bool reading_ = false;
    std::exception_ptr read_error_;
    bool handshaking_ = false;  // start_tls in progress: reads wait for it
    // Reads waiting for feed_data/feed_eof (a stream without a connection)
    // or for the end of a TLS handshake.
    corio::detail::WaitList read_waiters_;

    ByteBuffer wbuf_;
    std::size_t high_ = 64 * 1024;
    std::size_t low_ = 16 * 1024;
    bool paused_ = false;
    bool eof_requested_ = false;
    bool eof_sent_ = false;
    bool closing_ = false;
    bool closed_ = false;
    std::exception_ptr lost_;
    corio::detail::WaitList drainers_;
    Event closed_event_;
    std::shared_ptr<StreamConn> self_;       // held while data waits to be sent
    std::shared_ptr<StreamConn> flush_ref_;  // held while a flush is posted
};

}  // namespace corio::net::detail
