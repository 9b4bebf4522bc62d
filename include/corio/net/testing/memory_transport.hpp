// corio/net/testing/memory_transport.hpp - a transport in memory, with faults on
// demand, for testing protocols without sockets.
//
//   auto t = std::make_shared<corio::testing::MemoryTransport>(
//       std::make_unique<MyProtocol>(), corio::testing::MemoryFaults{.read_chunk = 1});
//   t->start();                       // connection_made
//   t->feed("GET / HTTP/1.1\r\n\r\n"); // arrives one byte per loop iteration
//   co_await t->settle();             // until everything fed was delivered
//   EXPECT_EQ(t->take_written(), "HTTP/1.1 200 OK\r\n...");
//   t->reset();                       // connection_lost(ECONNRESET)
//
// The test plays the peer: what it feeds reaches the protocol through the
// loop, as a socket's bytes would - split into chunks, each chunk after a
// number of empty loop iterations (a storm of EAGAIN), never inside the
// call that fed it. What the protocol writes reaches the peer side a chunk
// per iteration, so the write buffer fills, pause_writing() and
// resume_writing() come as they would against a slow reader, and close()
// waits for the buffer. A BufferedProtocol gets its bytes through
// get_buffer()/buffer_updated(), at most as many as its buffer holds at a
// time. Single-threaded: use it on its loop's thread.
#pragma once

#include <algorithm>
#include <any>
#include <cerrno>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

#include "corio/errors.hpp"
#include "corio/event_loop.hpp"
#include "corio/net/socket.hpp"
#include "corio/net/transports.hpp"
#include "corio/task.hpp"

namespace corio::testing {

/// The faults a MemoryTransport injects. The defaults make a perfect peer.
struct MemoryFaults {
    /// Bytes fed arrive at most this many at a time (0: each feed() whole).
    std::size_t read_chunk = 0;
    /// Before each chunk arrives, this many loop iterations pass with nothing
    /// (the reads that would have failed with EAGAIN).
    int stall_iterations = 0;
    /// The peer takes at most this many written bytes per iteration (0: all).
    std::size_t write_chunk = 0;
    /// False: the peer reads nothing until drain_peer(true): the write buffer
    /// only grows, as against a peer that stopped reading.
    bool peer_reads = true;
};

/// A net::Transport whose other end is the test. Create it with
/// std::make_shared (it schedules callbacks that hold a weak reference).
class MemoryTransport final : public net::Transport {
public:
    explicit MemoryTransport(std::unique_ptr<net::Protocol> protocol, MemoryFaults faults = {})
        : loop_(&get_running_loop()), protocol_(std::move(protocol)), faults_(faults) {
        if (!protocol_) {
            throw std::invalid_argument("MemoryTransport: protocol must not be null");
        }
    }

    // -- the test's side (the peer) ------------------------------------------

    /// Calls the protocol's connection_made(*this), now.
    void start() { protocol_->connection_made(*this); }

    /// Bytes from the peer: delivered on later iterations, per the faults.
    /// Ignored once the transport is closing.
    void feed(std::string_view bytes) {
        if (closing_ || bytes.empty()) {
            return;
        }
        inbox_.append(bytes);
        schedule_read();
    }
    /// The peer half-closes: eof_received() once every fed byte arrived.
    void feed_eof() {
        peer_eof_ = true;
        schedule_read();
    }
    /// The peer resets the connection: what was fed and not delivered, and
    /// what was written and not taken, are lost; connection_lost() gets a
    /// std::system_error with ECONNRESET (asyncio: ConnectionResetError).
    void reset() {
        lose(std::make_exception_ptr(std::system_error(
            ECONNRESET, std::generic_category(), "connection reset by peer (MemoryTransport)")));
    }
    /// What the peer received since the last call (and only that).
    std::string take_written() { return std::exchange(received_, {}); }
    /// The protocol called write_eof() and everything before it reached the peer.
    bool peer_saw_eof() const noexcept { return eof_sent_; }
    /// True once connection_lost() was called.
    bool lost() const noexcept { return lost_; }
    /// Starts or stops the peer's reading (MemoryFaults::peer_reads).
    void drain_peer(bool reading) {
        faults_.peer_reads = reading;
        if (reading) {
            schedule_write();
        }
    }
    /// Suspends until every byte fed so far was delivered (or the transport
    /// closed) and the loop ran the callbacks that followed.
    Task<void> settle() {
        while (!closing_ &&
               (!inbox_.empty() || read_scheduled_ || (peer_eof_ && !eof_delivered_)) &&
               !paused_reading_) {
            co_await sleep(std::chrono::nanoseconds(0));
        }
        co_await sleep(std::chrono::nanoseconds(0));
    }

    // -- net::Transport ------------------------------------------------------

    void write(std::string_view data) override {
        if (eof_written_) {
            throw RuntimeError("write() after write_eof()");
        }
        if (closing_ || data.empty()) {
            return;  // asyncio drops writes to a closing transport
        }
        outbox_.append(data);
        check_high();
        schedule_write();
    }
    void write_eof() override {
        if (closing_ || eof_written_) {
            return;
        }
        eof_written_ = true;
        schedule_write();
    }
    bool can_write_eof() const noexcept override { return true; }
    void close() override {
        if (closing_) {
            return;
        }
        closing_ = true;
        inbox_.clear();
        if (outbox_.empty()) {
            lose(nullptr);
        } else {
            schedule_write();  // connection_lost once the buffer reached the peer
        }
    }
    void abort() override { lose(nullptr); }
    bool is_closing() const noexcept override { return closing_; }
    void pause_reading() override { paused_reading_ = true; }
    void resume_reading() override {
        if (paused_reading_) {
            paused_reading_ = false;
            schedule_read();
        }
    }
    bool is_reading() const noexcept override { return !paused_reading_ && !closing_; }
    void set_write_buffer_limits(std::optional<std::size_t> high,
                                 std::optional<std::size_t> low) override {
        std::size_t h = high ? *high : low ? 4 * *low : 64 * 1024;
        std::size_t l = low ? *low : h / 4;
        if (l > h) {
            throw std::invalid_argument("set_write_buffer_limits: low must not exceed high");
        }
        high_ = h;
        low_ = l;
        check_high();
    }
    std::size_t get_write_buffer_size() const noexcept override { return outbox_.size(); }
    net::SocketAddress peername() const override { return net::SocketAddress::ip("127.0.0.1", 2); }
    net::SocketAddress sockname() const override { return net::SocketAddress::ip("127.0.0.1", 1); }
    std::any get_extra_info(std::string_view name) const override {
        if (name == "peername") {
            return peername();
        }
        if (name == "sockname") {
            return sockname();
        }
        return {};
    }
    net::Protocol& get_protocol() noexcept override { return *protocol_; }
    std::unique_ptr<net::Protocol> set_protocol(std::unique_ptr<net::Protocol> p) override {
        if (!p) {
            throw std::invalid_argument("set_protocol: protocol must not be null");
        }
        std::swap(p, protocol_);
        return p;
    }

private:
    template <class F>
    void soon(F f) {
        loop_->call_soon([w = std::weak_ptr<net::Transport>(weak_from_this()), f]() mutable {
            if (auto self = w.lock()) {
                f(static_cast<MemoryTransport&>(*self));
            }
        });
    }

    void schedule_read() {
        if (read_scheduled_ || paused_reading_ || lost_) {
            return;
        }
        read_scheduled_ = true;
        stall_ = faults_.stall_iterations;
        soon([](MemoryTransport& t) { t.read_step(); });
    }

    void read_step() {
        read_scheduled_ = false;
        if (lost_ || closing_ || paused_reading_) {
            return;
        }
        if (stall_ > 0) {  // an empty iteration: EAGAIN
            --stall_;
            read_scheduled_ = true;
            soon([](MemoryTransport& t) { t.read_step(); });
            return;
        }
        if (!inbox_.empty()) {
            std::size_t n =
                faults_.read_chunk ? std::min(faults_.read_chunk, inbox_.size()) : inbox_.size();
            std::string chunk = inbox_.substr(0, n);
            inbox_.erase(0, n);
            deliver(chunk);
            if (!inbox_.empty() || peer_eof_) {
                schedule_read();
            }
            return;
        }
        if (peer_eof_ && !eof_delivered_) {
            eof_delivered_ = true;
            if (!protocol_->eof_received()) {
                close();
            }
        }
    }

    void deliver(std::string_view chunk) {
        if (auto* bp = dynamic_cast<net::BufferedProtocol*>(protocol_.get())) {
            while (!chunk.empty() && !lost_) {
                std::span<char> buf = bp->get_buffer(chunk.size());
                if (buf.empty()) {
                    lose(std::make_exception_ptr(
                        RuntimeError("BufferedProtocol.get_buffer() returned an empty buffer")));
                    return;
                }
                std::size_t n = std::min(buf.size(), chunk.size());
                std::memcpy(buf.data(), chunk.data(), n);
                bp->buffer_updated(n);
                chunk.remove_prefix(n);
            }
        } else {
            protocol_->data_received(chunk);
        }
    }

    void schedule_write() {
        if (write_scheduled_ || lost_) {
            return;
        }
        write_scheduled_ = true;
        soon([](MemoryTransport& t) { t.write_step(); });
    }

    void write_step() {
        write_scheduled_ = false;
        if (lost_) {
            return;
        }
        if (faults_.peer_reads && !outbox_.empty()) {
            std::size_t n = faults_.write_chunk ? std::min(faults_.write_chunk, outbox_.size())
                                                : outbox_.size();
            received_.append(outbox_, 0, n);
            outbox_.erase(0, n);
            if (paused_writing_ && outbox_.size() <= low_) {
                paused_writing_ = false;
                protocol_->resume_writing();
            }
        }
        if (!outbox_.empty()) {
            if (faults_.peer_reads) {
                schedule_write();
            }
            return;
        }
        if (eof_written_) {
            eof_sent_ = true;
        }
        if (closing_) {
            lose(nullptr);
        }
    }

    void check_high() {
        if (!paused_writing_ && outbox_.size() > high_ && !lost_) {
            paused_writing_ = true;
            protocol_->pause_writing();
        }
    }

    // connection_lost(exc) on the next iteration; the buffers are dropped now.
    void lose(std::exception_ptr exc) {
        if (lost_) {
            return;
        }
        lost_ = true;
        closing_ = true;
        inbox_.clear();
        outbox_.clear();
        soon([exc](MemoryTransport& t) { t.protocol_->connection_lost(exc); });
    }

    EventLoop* loop_;
    std::unique_ptr<net::Protocol> protocol_;
    MemoryFaults faults_;
    std::string inbox_;     // fed, not yet delivered
    std::string outbox_;    // written, not yet taken by the peer
    std::string received_;  // taken by the peer, not yet take_written()
    std::size_t high_ = 64 * 1024;
    std::size_t low_ = 16 * 1024;
    int stall_ = 0;
    bool read_scheduled_ = false;
    bool write_scheduled_ = false;
    bool paused_reading_ = false;
    bool paused_writing_ = false;
    bool peer_eof_ = false;
    bool eof_delivered_ = false;
    bool eof_written_ = false;
    bool eof_sent_ = false;
    bool closing_ = false;
    bool lost_ = false;
};

}  // namespace corio::testing
