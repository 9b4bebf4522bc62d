// src/net/stream_conn.hpp - what a StreamReader/StreamWriter pair shares
// (private): asyncio's StreamReaderProtocol and StreamReader buffer, as a
// protocol on a Transport.
//
// The transport (SocketTransport, or the TLS layer over one) calls the
// protocol, which fills the read buffer (lending it to the transport:
// BufferedProtocol, so epoll reads land in it directly) and wakes the one
// task reading; a buffer over twice the limit pauses the transport's
// reading until a read takes it back down (asyncio's rule). Writes go
// straight to the transport; drain() waits while it is paused.
//
// Ownership: readers and writers hold shared_ptrs to the StreamConn, which
// holds the transport; the transport owns a small protocol object that
// forwards to the StreamConn while it lives. The last reader or writer
// gone closes the transport (after its buffered data, which the transport
// keeps itself alive to send), as dropping an asyncio writer lets the
// connection go. A "fed" StreamConn has no transport: data comes through
// feed_data/feed_eof (asyncio's StreamReader()).
#pragma once

#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "corio/locks.hpp"
#include "corio/net/streams.hpp"
#include "corio/net/transports.hpp"

namespace corio::net::detail {

/// A byte buffer consumed from the front. Raw storage: reserving room for a
/// read never zero-fills it (a std::string would, 64 KiB per read). Storage
/// (64 KiB, doubled as it grows) comes from the per-thread buffer pool
/// (buffer_pool.hpp) and goes back when the buffer empties
/// (release_if_empty), so an idle connection holds none.
class ByteBuffer {
public:
    static constexpr std::size_t kInitialSize = 64 * 1024;

    ByteBuffer() = default;
    ByteBuffer(const ByteBuffer&) = delete;
    ByteBuffer& operator=(const ByteBuffer&) = delete;
    ~ByteBuffer() { drop_storage(); }

    std::size_t size() const noexcept { return tail_ - head_; }
    std::size_t capacity() const noexcept { return cap_; }
    bool empty() const noexcept { return head_ == tail_; }
    std::string_view view() const noexcept { return {buf_ + head_, tail_ - head_}; }
    void append(std::string_view s) {
        if (s.empty()) {
            return;  // memcpy from/to null is undefined even for 0 bytes
        }
        std::memcpy(reserve(s.size()), s.data(), s.size());
        tail_ += s.size();
    }
    /// Room for `n` more bytes at the end; commit() what was written there.
    char* reserve(std::size_t n);
    /// Room at the end: `want` bytes if there are, else whatever there is if
    /// that is at least `min` (compacting first when that frees `min`), else
    /// a bigger buffer with room for `want`.
    char* reserve_some(std::size_t min, std::size_t want);
    /// Room at the end: at least `min`, all the free space there is.
    std::size_t room() const noexcept { return cap_ - tail_; }
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
    /// Gives the storage back when nothing is buffered.
    void release_if_empty() noexcept {
        if (empty()) {
            drop_storage();
        }
    }

private:
    void drop_storage() noexcept;

    char* buf_ = nullptr;
    std::size_t cap_ = 0;
    std::size_t head_ = 0;
    std::size_t tail_ = 0;
};

class StreamConn : public std::enable_shared_from_this<StreamConn> {
public:
    /// A connection without a transport yet (or ever: a fed reader).
    explicit StreamConn(std::size_t limit, bool fed = false);
    StreamConn(const StreamConn&) = delete;
    StreamConn& operator=(const StreamConn&) = delete;
    ~StreamConn();

    /// The protocol to give a transport: forwards to this connection while
    /// it lives. Its connection_made sets the transport.
    std::unique_ptr<Protocol> make_protocol();

    // -- reading (one task at a time) --
    /// Suspends until more was buffered, EOF was seen, or the connection
    /// failed (then throws its error). Resumes a paused transport first.
    Task<void> fill();
    void begin_read();  // throws RuntimeError if another task is reading
    void end_read() noexcept { reading_ = false; }
    std::string_view view() const noexcept { return rbuf_.view(); }
    std::size_t buffered() const noexcept { return rbuf_.size(); }
    /// Takes / drops bytes from the front (resuming a paused transport).
    std::string take(std::size_t n);
    void consume(std::size_t n);
    bool eof() const noexcept { return eof_; }
    /// asyncio's at_eof(): EOF was fed and nothing is left.
    bool at_eof() const noexcept { return eof_ && rbuf_.empty(); }
    std::size_t limit() const noexcept { return limit_; }
    void feed_data(std::string_view data);
    void feed_eof();
    void set_read_error(std::exception_ptr e);
    std::exception_ptr read_error() const noexcept { return read_error_; }

    // -- writing --
    void write(std::string_view data);
    void writelines(std::span<const std::string_view> pieces);
    bool paused() const noexcept { return write_paused_; }
    std::exception_ptr lost() const noexcept { return lost_; }
    void add_drainer(corio::detail::ListWaiter& w) { drainers_.push_back(w); }
    void close();
    void abort();
    bool closing() const noexcept { return transport_ == nullptr || transport_->is_closing(); }
    bool closed() const noexcept { return closed_; }
    Event& closed_event() noexcept { return closed_event_; }
    void write_eof();
    bool can_write_eof() const noexcept { return transport_ && transport_->can_write_eof(); }
    void set_write_buffer_limits(std::optional<std::size_t> high, std::optional<std::size_t> low);
    std::size_t pending() const noexcept {
        return transport_ ? transport_->get_write_buffer_size() : 0;
    }

    /// The transport (null for a fed reader); replaced by start_tls.
    const std::shared_ptr<Transport>& transport() const noexcept { return transport_; }
    void set_transport(std::shared_ptr<Transport> t) noexcept { transport_ = std::move(t); }
    std::any get_extra_info(std::string_view name) const;

private:
    class Adapter;
    friend class Adapter;

    // From the transport (through Adapter).
    void connection_made(Transport& t);
    std::span<char> get_buffer(std::size_t sizehint);
    void buffer_updated(std::size_t n);
    static constexpr std::size_t kSpillSize = 16 * 1024;
    static char* spill_area();
    void data_received(std::string_view data);
    bool eof_received();
    void connection_lost(std::exception_ptr e);
    void pause_writing() noexcept { write_paused_ = true; }
    void resume_writing() noexcept;

    void after_fill();
    void maybe_resume_reading();
    void wake_readers() noexcept;
    void wake_drainers() noexcept;

    bool fed_;
    std::shared_ptr<Transport> transport_;
    Adapter* adapter_ = nullptr;  // the protocol on the transport, while both live

    ByteBuffer rbuf_;
    std::size_t limit_;
    bool eof_ = false;
    bool reading_ = false;
    bool read_paused_ = false;  // we paused the transport's reading
    bool spilled_ = false;      // get_buffer() handed out the spill area
    std::exception_ptr read_error_;
    corio::detail::WaitList read_waiters_;

    bool write_paused_ = false;
    bool closed_ = false;
    std::exception_ptr lost_;
    corio::detail::WaitList drainers_;
    Event closed_event_;
};

}  // namespace corio::net::detail
