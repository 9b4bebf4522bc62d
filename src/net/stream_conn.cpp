// src/net/stream_conn.cpp - the protocol side of streams: filling the read
// buffer, flow control both ways, closing.
#include "stream_conn.hpp"

#include <algorithm>
#include <memory>
#include <vector>

#include "buffer_pool.hpp"
#include "channel.hpp"

namespace corio::net::detail {

// -- ByteBuffer ---------------------------------------------------------------

char* ByteBuffer::reserve(std::size_t n) {
    return reserve_some(n, n);
}

char* ByteBuffer::reserve_some(std::size_t min, std::size_t want) {
    if (cap_ - tail_ >= std::max<std::size_t>(std::min(min, want), 1)) {
        return buf_ + tail_;
    }
    std::size_t size = tail_ - head_;
    if (cap_ - size >= min && head_ > 0) {
        std::memmove(buf_, buf_ + head_, size);
    } else {
        std::size_t cap = cap_ ? cap_ * 2 : kInitialSize;
        while (cap - size < want) {
            cap *= 2;
        }
        char* nb = take_buffer(cap);  // a power of two from 64 KiB: pooled
        if (size > 0) {
            std::memcpy(nb, buf_ + head_, size);
        }
        drop_storage();
        buf_ = nb;
        cap_ = cap;
    }
    head_ = 0;
    tail_ = size;
    return buf_ + tail_;
}

void ByteBuffer::drop_storage() noexcept {
    give_buffer(buf_, cap_);
    buf_ = nullptr;
    cap_ = head_ = tail_ = 0;
}

// -- the protocol on the transport ----------------------------------------------

// Forwards the transport's calls to the StreamConn while it lives. After
// it is gone (the last reader and writer dropped, the transport closing and
// still flushing) what arrives is dropped.
class StreamConn::Adapter final : public BufferedProtocol {
public:
    explicit Adapter(StreamConn* c) : c_(c) { c->adapter_ = this; }
    ~Adapter() override {
        if (c_ != nullptr) {
            c_->adapter_ = nullptr;
        }
    }
    void detach() noexcept { c_ = nullptr; }

    void connection_made(Transport& t) override {
        if (c_ != nullptr) {
            c_->connection_made(t);
        }
    }
    std::span<char> get_buffer(std::size_t sizehint) override {
        if (c_ != nullptr) {
            return c_->get_buffer(sizehint);
        }
        return {read_scratch(), kScratchSize};
    }
    void buffer_updated(std::size_t n) override {
        if (c_ != nullptr) {
            c_->buffer_updated(n);
        }
    }
    bool eof_received() override { return c_ != nullptr && c_->eof_received(); }
    void connection_lost(std::exception_ptr e) override {
        if (c_ != nullptr) {
            c_->connection_lost(std::move(e));
        }
    }
    void pause_writing() override {
        if (c_ != nullptr) {
            c_->pause_writing();
        }
    }
    void resume_writing() override {
        if (c_ != nullptr) {
            c_->resume_writing();
        }
    }

private:
    StreamConn* c_;
};

StreamConn::StreamConn(std::size_t limit, bool fed) : fed_(fed), limit_(limit) {}

StreamConn::~StreamConn() {
    if (adapter_ != nullptr) {
        adapter_->detach();
    }
    if (transport_ && !closed_) {
        transport_->close();  // it stays alive to send what is buffered
    }
}

std::unique_ptr<Protocol> StreamConn::make_protocol() {
    return std::make_unique<Adapter>(this);
}

void StreamConn::connection_made(Transport& t) {
    transport_ = t.shared_from_this();
}

// -- reading ----------------------------------------------------------------------

void StreamConn::begin_read() {
    if (reading_) {
        throw RuntimeError("a read was called while another task is already waiting for data");
    }
    reading_ = true;
}

Task<void> StreamConn::fill() {
    const std::size_t had = rbuf_.size();
    for (;;) {
        if (read_error_) {
            std::rethrow_exception(read_error_);
        }
        if (eof_ || rbuf_.size() > had) {
            co_return;
        }
        if (read_paused_ && transport_) {
            // The reader wants more than the buffer may hold (asyncio).
            read_paused_ = false;
            transport_->resume_reading();
        }
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
    }
}

std::string StreamConn::take(std::size_t n) {
    std::string out = rbuf_.take(n);
    maybe_resume_reading();
    return out;
}

void StreamConn::consume(std::size_t n) {
    rbuf_.consume(n);
    maybe_resume_reading();
}

void StreamConn::maybe_resume_reading() {
    rbuf_.release_if_empty();
    if (read_paused_ && rbuf_.size() <= limit_ && transport_) {
        read_paused_ = false;
        transport_->resume_reading();
    }
}

std::span<char> StreamConn::get_buffer(std::size_t sizehint) {
    constexpr std::size_t kMinRoom = 4 * 1024;
    if (rbuf_.capacity() > 0 && rbuf_.capacity() - rbuf_.size() < kMinRoom) {
        // Full. A read that exactly filled it leaves the socket "maybe
        // readable", and most often nothing more is there: growing now would
        // allocate (and fault in) a bigger buffer for nothing. The read lands
        // in a scratch area instead, copied in only if something arrived.
        spilled_ = true;
        return {spill_area(), kSpillSize};
    }
    // (A spill area handed out before and left unused - the read found
    // nothing - is forgotten: buffer_updated() refers to this buffer.)
    spilled_ = false;
    // The room there is first (at least kMinRoom of it), then compacting.
    char* p = rbuf_.reserve_some(kMinRoom, std::min<std::size_t>(sizehint, 16 * 1024));
    return {p, rbuf_.room()};
}

char* StreamConn::spill_area() {
    thread_local std::unique_ptr<char[]> area(new char[kSpillSize]);
    return area.get();
}

void StreamConn::buffer_updated(std::size_t n) {
    if (spilled_) {
        spilled_ = false;
        rbuf_.append(std::string_view(spill_area(), n));
    } else {
        rbuf_.commit(n);
    }
    after_fill();
}

void StreamConn::data_received(std::string_view data) {
    rbuf_.append(data);
    after_fill();
}

void StreamConn::after_fill() {
    wake_readers();
    if (!read_paused_ && rbuf_.size() > 2 * limit_ && transport_) {
        read_paused_ = true;  // asyncio: more than twice the limit waits
        transport_->pause_reading();
    }
}

bool StreamConn::eof_received() {
    eof_ = true;
    wake_readers();
    // As asyncio: a plain socket stays open for writing (half-close); TLS
    // closes.
    return transport_ && !transport_->get_extra_info("ssl_object").has_value();
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

void StreamConn::write(std::string_view data) {
    if (fed_) {
        throw RuntimeError("write() on a stream without a connection");
    }
    if (transport_) {
        transport_->write(data);
    }
}

void StreamConn::writelines(std::span<const std::string_view> pieces) {
    if (fed_) {
        throw RuntimeError("writelines() on a stream without a connection");
    }
    if (transport_) {
        transport_->writelines(pieces);
    }
}

void StreamConn::resume_writing() noexcept {
    write_paused_ = false;
    wake_drainers();
}

void StreamConn::wake_drainers() noexcept {
    while (!drainers_.empty()) {
        drainers_.pop_front().wake();
    }
}

void StreamConn::close() {
    if (transport_) {
        transport_->close();
    }
}

void StreamConn::abort() {
    if (transport_) {
        transport_->abort();
    }
}

void StreamConn::write_eof() {
    if (transport_) {
        if (!transport_->can_write_eof() && transport_->get_extra_info("ssl_object").has_value()) {
            throw RuntimeError("write_eof() is not supported on TLS streams");
        }
        transport_->write_eof();
    }
}

void StreamConn::set_write_buffer_limits(std::optional<std::size_t> high,
                                         std::optional<std::size_t> low) {
    if (transport_) {
        transport_->set_write_buffer_limits(high, low);
    } else {
        write_buffer_limits(high, low);  // the same argument checks
    }
}

void StreamConn::connection_lost(std::exception_ptr e) {
    closed_ = true;
    write_paused_ = false;  // drain() ends (and reports the lost connection)
    if (e) {
        lost_ = e;
        if (!read_error_) {
            read_error_ = e;
        }
    } else {
        eof_ = true;
    }
    wake_readers();
    wake_drainers();
    closed_event_.set();
}

std::any StreamConn::get_extra_info(std::string_view name) const {
    return transport_ ? transport_->get_extra_info(name) : std::any();
}

}  // namespace corio::net::detail
