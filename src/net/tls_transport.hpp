// src/net/tls_transport.hpp - TLS as a layer between a raw Transport and the
// user's Protocol (private), in the shape of asyncio's sslproto: a Protocol
// installed on the raw transport receives the ciphertext (RawSide), and a
// Transport handed to the user's protocol takes the plaintext
// (TlsTransport). It knows nothing of file descriptors: any transport
// carries it (socket, pipe, io_uring, another TLS transport, a test's
// memory).
//
// How a connection engine uses it:
//   auto tls = std::make_shared<TlsTransport>(user_protocol, ctx, options);
//   tls->on_handshake_done(cb);                  // optional: the outcome
//   raw.start(tls->make_raw_protocol());         // a new connection: the
//                                                // raw connection_made starts
//                                                // the handshake
//   tls->start_on(raw);                          // or an open one (start_tls)
// The raw transport must deliver data_received / eof_received /
// connection_lost / pause_writing / resume_writing to the protocol it was
// given, honour pause_reading / resume_reading, and take every write().
//
// Ownership: the raw transport owns RawSide, which refers to the
// TlsTransport weakly; the TlsTransport owns the user's protocol and holds
// the raw transport. While the connection is open the TlsTransport holds
// itself (`self_`), as the raw transports do; the raw transport's
// connection_lost drops that, so nothing cycles.
//
// States (asyncio's SSLProtocolState, with the waits spelled out):
//   unwrapped -> handshaking -> wrapped -> shutting_down -> closing -> lost
// handshaking: only handshake records flow; user writes wait in the
// backlog. wrapped: data flows both ways. shutting_down: the backlog was
// encrypted and our close_notify sent; we read (and drop) until the peer's
// close_notify or EOF, for at most the shutdown timeout. closing: the raw
// transport was told to close (or abort); its connection_lost ends it all.
// Any state may jump to closing (failure, abort) and to lost (the raw
// connection broke).
//
// The user's protocol: connection_made after the handshake when
// Options::call_connection_made; connection_lost exactly once if it was made
// (by us, or before us on the raw transport, or counted as made as
// asyncio's start_tls does), with error_ (our reason: SslError,
// TimeoutError, an exception from one of its callbacks) or else the raw
// transport's error.
#pragma once

#include <chrono>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "byte_queue.hpp"
#include "corio/event_loop.hpp"
#include "corio/net/transports.hpp"
#include "tls_engine.hpp"

namespace corio::net::detail {

class TlsTransport final : public Transport {
public:
    struct Options {
        std::string server_hostname;
        std::optional<Duration> handshake_timeout = std::chrono::seconds(60);
        std::optional<Duration> shutdown_timeout = std::chrono::seconds(30);
        /// Call the user's connection_made after the handshake. False: it
        /// counts as made already (asyncio's start_tls). A protocol taken
        /// from the raw transport (start_on) was made there either way.
        bool call_connection_made = true;
    };
    /// The handshake's outcome: null on success.
    using HandshakeDone = std::function<void(std::exception_ptr)>;

    /// A layer for `app` (null: take the raw transport's protocol in
    /// start_on) on the running loop. Always owned by a shared_ptr. Throws
    /// as TlsEngine's constructor.
    TlsTransport(std::unique_ptr<Protocol> app, std::shared_ptr<SslContext> ctx, Options options);
    ~TlsTransport() override;

    /// The protocol for the raw transport; its connection_made starts the
    /// handshake.
    std::unique_ptr<Protocol> make_raw_protocol();
    /// Installs the layer on the open transport `raw` (set_protocol) and
    /// starts the handshake. The raw transport's previous protocol becomes
    /// the user's protocol if none was given, else it is kept alive here.
    /// Throws what raw.set_protocol throws (nothing changed then).
    void start_on(Transport& raw);
    /// `cb` runs once, when the handshake succeeds or fails (or the
    /// connection is lost first). Null: nobody is told.
    void on_handshake_done(HandshakeDone cb) { handshake_cb_ = std::move(cb); }
    TlsEngine& engine() noexcept { return engine_; }

    // -- Transport (the user's side) ------------------------------------------
    void write(std::string_view data) override;
    void write_eof() override;
    bool can_write_eof() const noexcept override { return false; }
    void close() override;
    void abort() override;
    bool is_closing() const noexcept override { return state_ >= State::shutting_down; }
    void pause_reading() override;
    void resume_reading() override;
    bool is_reading() const noexcept override { return !app_read_paused_ && !is_closing(); }
    void set_write_buffer_limits(std::optional<std::size_t> high = std::nullopt,
                                 std::optional<std::size_t> low = std::nullopt) override;
    std::size_t get_write_buffer_size() const noexcept override {
        return backlog_.size() + engine_.output().size();
    }
    SocketAddress peername() const override;
    SocketAddress sockname() const override;
    std::any get_extra_info(std::string_view name) const override;
    Protocol& get_protocol() noexcept override { return *app_; }
    std::unique_ptr<Protocol> set_protocol(std::unique_ptr<Protocol> protocol) override;

private:
    class RawSide;
    enum class State : unsigned char {
        unwrapped,
        handshaking,
        wrapped,
        shutting_down,
        closing,
        lost,
    };

    // From RawSide.
    void raw_made(Transport& raw);
    void raw_data(std::string_view data);
    bool raw_eof();
    void raw_lost(std::exception_ptr e);
    void raw_pause_writing() noexcept { raw_write_paused_ = true; }
    void raw_resume_writing();

    void do_handshake();
    void do_read();
    void peer_done();
    std::size_t encrypt(std::string_view data, bool all);
    void pump_backlog();
    void flush_output();
    void begin_shutdown();
    void fail(std::exception_ptr e, bool abort_raw);
    void close_raw(bool graceful);
    void finish_handshake(std::exception_ptr e);
    void control_app_writing();
    void cancel_timers();
    template <class F>
    void guarded(F&& f, const char* what);
    std::shared_ptr<TlsTransport> self() {
        return std::static_pointer_cast<TlsTransport>(shared_from_this());
    }

    EventLoop* loop_;
    TlsEngine engine_;
    Options options_;
    std::unique_ptr<Protocol> app_;
    std::unique_ptr<Protocol> retired_;  // the raw transport's protocol before us
    std::shared_ptr<Transport> raw_;
    std::shared_ptr<TlsTransport> self_;  // while the connection is open
    State state_ = State::unwrapped;
    bool app_made_;  // it had a connection_made: connection_lost is owed
    bool app_eof_ = false;
    bool app_lost_ = false;
    bool app_read_paused_ = false;
    bool app_write_paused_ = false;
    bool raw_write_paused_ = false;
    bool pumping_ = false;
    ByteQueue backlog_;  // plaintext not encrypted yet
    std::size_t high_;
    std::size_t low_;
    std::exception_ptr error_;
    HandshakeDone handshake_cb_;
    TimerHandle handshake_timer_;
    TimerHandle shutdown_timer_;
};

}  // namespace corio::net::detail
