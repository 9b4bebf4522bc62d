// src/net/tls_transport.cpp - TlsTransport (asyncio's SSLProtocol and
// _SSLProtocolTransport in one object) and start_tls.
//
// Flow: ciphertext from the raw transport goes into the engine; the
// handshake, then reads, turn it into plaintext for the user's protocol,
// 64 KiB at most per data_received. User writes are encrypted straight from
// the caller's view, 64 KiB at a time, while the raw transport keeps up;
// what it cannot take yet waits as plaintext in the backlog until the raw
// transport's resume_writing. Everything the engine produces (records,
// alerts, KeyUpdate answers, close_notify) goes to raw->write() right after
// the call that produced it, so the engine's output is empty between calls.
//
// Reads never nest: the plaintext lands in one buffer per thread, and the
// paths that could re-enter from a user callback (resume_reading, close with
// input waiting) post the read instead.
#include "tls_transport.hpp"

#include <cerrno>
#include <cstdio>
#include <stdexcept>
#include <system_error>
#include <tuple>
#include <utility>

#include "channel.hpp"
#include "corio/errors.hpp"
#include "corio/future.hpp"

namespace corio::net::detail {

namespace {

using Status = TlsEngine::Status;

// Plaintext encrypted per engine call, and decrypted per data_received.
constexpr std::size_t kChunk = 64 * 1024;
// asyncio's default high-water mark for SSL transports (add_flowcontrol_defaults).
constexpr std::size_t kTlsDefaultHigh = 512 * 1024;

char* plain_scratch() {
    thread_local std::unique_ptr<char[]> buf = std::make_unique_for_overwrite<char[]>(kChunk);
    return buf.get();
}

std::exception_ptr ssl_error(const TlsEngine& engine, const char* fallback) {
    return std::make_exception_ptr(
        SslError(engine.error().empty() ? std::string(fallback) : engine.error()));
}

std::exception_ptr aborted(const char* what) {
    return std::make_exception_ptr(std::system_error(ECONNABORTED, std::generic_category(), what));
}

std::string seconds_text(Duration d) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g s", std::chrono::duration<double>(d).count());
    return buf;
}

}  // namespace

// The protocol on the raw transport: forwards to the layer while it lives.
class TlsTransport::RawSide final : public Protocol {
public:
    explicit RawSide(std::weak_ptr<TlsTransport> tls) noexcept : tls_(std::move(tls)) {}

    void connection_made(Transport& raw) override {
        if (auto t = tls_.lock()) {
            t->raw_made(raw);
        }
    }
    void data_received(std::string_view data) override {
        if (auto t = tls_.lock()) {
            t->raw_data(data);
        }
    }
    bool eof_received() override {
        auto t = tls_.lock();
        return t ? t->raw_eof() : false;
    }
    void connection_lost(std::exception_ptr e) override {
        if (auto t = tls_.lock()) {
            t->raw_lost(std::move(e));
        }
    }
    void pause_writing() override {
        if (auto t = tls_.lock()) {
            t->raw_pause_writing();
        }
    }
    void resume_writing() override {
        if (auto t = tls_.lock()) {
            t->raw_resume_writing();
        }
    }

private:
    std::weak_ptr<TlsTransport> tls_;
};

TlsTransport::TlsTransport(std::unique_ptr<Protocol> app, std::shared_ptr<SslContext> ctx,
                           Options options)
    : loop_(&get_running_loop()),
      engine_(std::move(ctx), options.server_hostname),
      options_(std::move(options)),
      app_(std::move(app)),
      app_made_(!options_.call_connection_made) {
    std::tie(high_, low_) = write_buffer_limits(std::nullopt, std::nullopt, kTlsDefaultHigh);
}

TlsTransport::~TlsTransport() {
    cancel_timers();
}

std::unique_ptr<Protocol> TlsTransport::make_raw_protocol() {
    return std::make_unique<RawSide>(self());
}

void TlsTransport::start_on(Transport& raw) {
    std::unique_ptr<Protocol> previous = raw.set_protocol(make_raw_protocol());
    if (app_) {
        retired_ = std::move(previous);
    } else {
        app_ = std::move(previous);
        app_made_ = true;  // by the raw transport: connection_lost is owed to it
    }
    raw_made(raw);
    if (state_ == State::handshaking) {
        raw.resume_reading();  // the previous protocol may have paused it
    }
}

// -- The raw transport's events ------------------------------------------------

void TlsTransport::raw_made(Transport& raw) {
    if (state_ != State::unwrapped) {
        return;
    }
    raw_ = raw.shared_from_this();
    self_ = self();
    state_ = State::handshaking;
    if (options_.handshake_timeout) {
        std::weak_ptr<TlsTransport> weak = self_;
        Duration limit = *options_.handshake_timeout;
        handshake_timer_ = loop_->call_later(limit, [weak, limit] {
            auto t = weak.lock();
            if (t && t->state_ == State::handshaking) {
                t->fail(std::make_exception_ptr(
                            TimeoutError("TLS handshake is taking longer than " +
                                         seconds_text(limit) + ": aborting the connection")),
                        true);
            }
        });
    }
    do_handshake();
}

void TlsTransport::raw_data(std::string_view data) {
    if (state_ != State::handshaking && state_ != State::wrapped &&
        state_ != State::shutting_down) {
        return;
    }
    engine_.feed(data);
    if (state_ == State::handshaking) {
        do_handshake();
    } else {
        do_read();
    }
}

// The layer closes the raw transport itself (after close_notify, or at
// once when the handshake cannot finish): always keep it open here.
bool TlsTransport::raw_eof() {
    engine_.feed_eof();
    if (state_ == State::handshaking) {
        do_handshake();
    } else if (state_ == State::shutting_down || (state_ == State::wrapped && !app_read_paused_)) {
        do_read();
    }  // paused: resume_reading reads what is left, then the end
    return true;
}

void TlsTransport::raw_lost(std::exception_ptr e) {
    if (state_ == State::lost) {
        return;
    }
    state_ = State::lost;
    cancel_timers();
    backlog_.clear();
    std::exception_ptr why = error_ ? error_ : std::move(e);
    finish_handshake(why ? why : aborted("TLS handshake: the connection was closed"));
    if (app_made_ && !app_lost_) {
        app_lost_ = true;
        try {
            app_->connection_lost(why);
        } catch (...) {
            loop_->call_exception_handler(ExceptionContext{
                "protocol.connection_lost() call failed", std::current_exception(), {}, {}});
        }
    }
    auto keep = std::move(self_);  // may be the last reference
}

void TlsTransport::raw_resume_writing() {
    raw_write_paused_ = false;
    pump_backlog();
}

// -- Handshake and reading ------------------------------------------------------

void TlsTransport::do_handshake() {
    Status st = engine_.handshake();
    flush_output();
    if (st == Status::want_input) {
        return;
    }
    if (st != Status::ok) {
        fail(ssl_error(engine_, "TLS handshake failed"), false);
        return;
    }
    handshake_timer_.cancel();
    state_ = State::wrapped;
    if (app_read_paused_) {
        raw_->pause_reading();
    }
    if (options_.call_connection_made) {
        app_made_ = true;
        guarded([&] { app_->connection_made(*this); }, "protocol.connection_made() failed");
    }
    finish_handshake(nullptr);  // a no-op if connection_made failed it
    pump_backlog();             // what was written meanwhile
    do_read();                  // data that came with the last handshake flight
}

void TlsTransport::do_read() {
    char* buf = plain_scratch();
    while (state_ == State::shutting_down || (state_ == State::wrapped && !app_read_paused_)) {
        // As many records as are ready, up to one buffer, then one call.
        std::size_t n = 0;
        Status st = Status::ok;
        while (n < kChunk) {
            TlsEngine::Result r = engine_.read(buf + n, kChunk - n);
            if (r.status != Status::ok) {
                st = r.status;
                break;
            }
            n += r.n;
        }
        flush_output();                           // KeyUpdate answers, alerts
        if (n > 0 && state_ == State::wrapped) {  // after close(), arriving data is dropped
            guarded([&] { app_->data_received(std::string_view(buf, n)); },
                    "protocol.data_received() call failed");
        }
        if (st == Status::want_input) {
            return;
        }
        if (st == Status::closed) {
            peer_done();
            return;
        }
        if (st == Status::failed) {
            fail(ssl_error(engine_, "TLS read failed"), false);
            return;
        }
    }
}

// The peer's close_notify, or its EOF, was read.
void TlsTransport::peer_done() {
    if (state_ == State::wrapped) {
        if (app_made_ && !app_eof_) {
            app_eof_ = true;
            // Its answer does not matter: a TLS connection closes both
            // ways here, as asyncio's does.
            guarded([&] { (void)app_->eof_received(); }, "protocol.eof_received() call failed");
        }
        if (state_ == State::wrapped) {
            begin_shutdown();
        }
    }
    if (state_ == State::shutting_down) {
        close_raw(true);
    }
}

// -- Writing ----------------------------------------------------------------------

void TlsTransport::write(std::string_view data) {
    if (data.empty() || state_ >= State::shutting_down) {
        return;  // after close(), as asyncio (which only logs it)
    }
    if (state_ == State::wrapped && backlog_.empty() && !pumping_) {
        data.remove_prefix(encrypt(data, false));
    }
    if (!data.empty() && state_ <= State::wrapped) {
        backlog_.append(data);
    }
    control_app_writing();
}

// Encrypts `data` a chunk at a time, each sent on at once, while the raw
// transport takes more (`all`: regardless). Returns the bytes encrypted.
std::size_t TlsTransport::encrypt(std::string_view data, bool all) {
    std::size_t done = 0;
    while (done < data.size() && (all || !raw_write_paused_) &&
           (state_ == State::wrapped || state_ == State::shutting_down)) {
        std::string_view chunk = data.substr(done, kChunk);
        if (engine_.write(chunk).status != Status::ok) {
            fail(ssl_error(engine_, "TLS write failed"), false);
            break;
        }
        done += chunk.size();
        flush_output();
    }
    return done;
}

void TlsTransport::pump_backlog() {
    if (pumping_ || state_ != State::wrapped) {
        return;
    }
    pumping_ = true;
    while (!backlog_.empty() && !raw_write_paused_ && state_ == State::wrapped) {
        std::string_view chunk = backlog_.view().substr(0, kChunk);
        std::size_t n = encrypt(chunk, false);
        backlog_.consume(n);
        if (n < chunk.size()) {
            break;
        }
    }
    pumping_ = false;
    control_app_writing();
}

void TlsTransport::flush_output() {
    std::string_view out = engine_.output();
    if (out.empty()) {
        return;
    }
    if (raw_ && state_ != State::lost) {
        raw_->write(out);  // sent at once, or copied into the raw transport's buffer
    }
    engine_.consume_output(out.size());
}

void TlsTransport::control_app_writing() {
    if (!app_made_ || state_ >= State::shutting_down) {
        return;
    }
    std::size_t size = get_write_buffer_size();
    if (!app_write_paused_ && size > high_) {
        app_write_paused_ = true;
        guarded([&] { app_->pause_writing(); }, "protocol.pause_writing() failed");
    } else if (app_write_paused_ && size <= low_) {
        app_write_paused_ = false;
        guarded([&] { app_->resume_writing(); }, "protocol.resume_writing() failed");
    }
}

// -- Closing ----------------------------------------------------------------------

void TlsTransport::close() {
    if (state_ >= State::shutting_down) {
        return;
    }
    if (state_ != State::wrapped) {
        abort();  // as asyncio: a handshake is not finished, it is dropped
        return;
    }
    begin_shutdown();
    if (state_ != State::shutting_down) {
        return;
    }
    if (options_.shutdown_timeout) {
        std::weak_ptr<TlsTransport> weak = self();
        shutdown_timer_ = loop_->call_later(*options_.shutdown_timeout, [weak] {
            auto t = weak.lock();
            if (t && t->state_ == State::shutting_down) {
                t->fail(std::make_exception_ptr(TimeoutError(
                            "TLS shutdown timed out: the peer did not answer close_notify")),
                        true);
            }
        });
    }
    if (engine_.input_pending() > 0) {
        // The peer's close_notify may be here already, unread while reading
        // was paused; read it on the next iteration (close() may be called
        // from data_received, and reads do not nest).
        loop_->call_soon([t = self()] { t->do_read(); });
    }
}

// Everything written so far is encrypted and sent (even past the raw
// transport's high-water mark, as asyncio), then close_notify.
void TlsTransport::begin_shutdown() {
    state_ = State::shutting_down;
    if (app_read_paused_) {
        raw_->resume_reading();  // the peer's close_notify must get in
    }
    backlog_.consume(encrypt(backlog_.view(), true));
    if (state_ != State::shutting_down) {
        return;
    }
    backlog_.clear();
    if (engine_.shutdown() != Status::ok) {
        fail(ssl_error(engine_, "TLS shutdown failed"), false);
        return;
    }
    flush_output();
}

void TlsTransport::abort() {
    if (state_ >= State::closing) {
        return;
    }
    backlog_.clear();
    finish_handshake(aborted("TLS handshake: the connection was aborted"));
    if (!raw_) {
        state_ = State::lost;  // never attached: nothing to tell
        return;
    }
    close_raw(false);
}

// A TLS failure (graceful = false for timeouts and protocol callbacks that
// threw): error_ goes to connection_lost and to the handshake's waiter.
void TlsTransport::fail(std::exception_ptr e, bool abort_raw) {
    if (state_ >= State::closing) {
        return;
    }
    if (!error_) {
        error_ = e;
    }
    finish_handshake(std::move(e));
    if (!raw_) {
        state_ = State::lost;
        return;
    }
    // An alert the engine left for the peer goes out first, unless the raw
    // transport is backed up anyway (its queue holds this iteration's
    // writes until the end of the iteration: only a paused one is backed up).
    close_raw(!abort_raw && !raw_write_paused_);
}

void TlsTransport::close_raw(bool graceful) {
    if (state_ >= State::closing) {
        return;
    }
    if (graceful) {
        flush_output();
    }
    state_ = State::closing;
    cancel_timers();
    backlog_.clear();
    if (graceful) {
        raw_->close();  // sends what it holds first; connection_lost follows
    } else {
        raw_->abort();
    }
}

void TlsTransport::finish_handshake(std::exception_ptr e) {
    if (!handshake_cb_) {
        return;
    }
    HandshakeDone cb = std::move(handshake_cb_);
    handshake_cb_ = nullptr;
    cb(std::move(e));
}

void TlsTransport::cancel_timers() {
    handshake_timer_.cancel();
    shutdown_timer_.cancel();
}

template <class F>
void TlsTransport::guarded(F&& f, const char* what) {
    try {
        f();
    } catch (...) {
        std::exception_ptr e = std::current_exception();
        loop_->call_exception_handler(
            ExceptionContext{std::string("Fatal error: ") + what, e, {}, {}});
        fail(e, true);
    }
}

// -- The rest of the user's Transport --------------------------------------------

void TlsTransport::write_eof() {
    throw RuntimeError("write_eof() is not supported on TLS transports");
}

void TlsTransport::pause_reading() {
    if (app_read_paused_) {
        return;
    }
    app_read_paused_ = true;
    if (state_ == State::wrapped) {
        raw_->pause_reading();
    }
}

void TlsTransport::resume_reading() {
    if (!app_read_paused_) {
        return;
    }
    app_read_paused_ = false;
    if (state_ == State::wrapped) {
        raw_->resume_reading();
        loop_->call_soon([t = self()] { t->do_read(); });  // what is buffered already
    }
}

void TlsTransport::set_write_buffer_limits(std::optional<std::size_t> high,
                                           std::optional<std::size_t> low) {
    std::tie(high_, low_) = write_buffer_limits(high, low, kTlsDefaultHigh);
    control_app_writing();
}

SocketAddress TlsTransport::peername() const {
    return raw_ ? raw_->peername() : SocketAddress();
}

SocketAddress TlsTransport::sockname() const {
    return raw_ ? raw_->sockname() : SocketAddress();
}

std::any TlsTransport::get_extra_info(std::string_view name) const {
    if (name == "ssl_object") {
        return engine_.native_handle();
    }
    if (name == "sslcontext") {
        return engine_.context();
    }
    if (name == "alpn_protocol") {
        return engine_.alpn_protocol();
    }
    if (name == "server_hostname") {
        return engine_.server_name();
    }
    if (name == "cipher") {
        return engine_.cipher();
    }
    if (name == "version") {
        return engine_.version();
    }
    if (name == "peercert_subject") {
        return engine_.peercert_subject();
    }
    return raw_ ? raw_->get_extra_info(name) : std::any();
}

std::unique_ptr<Protocol> TlsTransport::set_protocol(std::unique_ptr<Protocol> protocol) {
    if (!protocol) {
        throw std::invalid_argument("set_protocol: protocol is null");
    }
    std::swap(app_, protocol);
    return protocol;
}

}  // namespace corio::net::detail

// -- start_tls -----------------------------------------------------------------------

namespace corio::net {

namespace {

Task<std::shared_ptr<Transport>> run_start_tls(std::shared_ptr<Transport> raw,
                                               std::unique_ptr<Protocol> app,
                                               std::shared_ptr<SslContext> ctx,
                                               detail::TlsTransport::Options options) {
    if (raw->is_closing()) {
        throw RuntimeError("start_tls: the transport is closing");
    }
    auto tls =
        std::make_shared<detail::TlsTransport>(std::move(app), std::move(ctx), std::move(options));
    Future<void> done;
    tls->on_handshake_done([done](std::exception_ptr e) mutable {
        if (done.done()) {
            return;
        }
        if (e) {
            done.set_exception(std::move(e));
        } else {
            done.set_result();
        }
    });
    tls->start_on(*raw);
    std::exception_ptr cancelled;
    try {
        co_await done;
    } catch (const CancelledError&) {
        cancelled = std::current_exception();
    }
    if (cancelled) {
        tls->on_handshake_done(nullptr);
        tls->abort();
        std::rethrow_exception(cancelled);
    }
    co_return tls;
}

void check_timeout(const std::optional<Duration>& t, const char* name) {
    if (t && *t <= Duration::zero()) {
        throw std::invalid_argument(std::string("start_tls: ") + name + " must be positive");
    }
}

}  // namespace

Task<std::shared_ptr<Transport>> start_tls(std::shared_ptr<Transport> transport,
                                           std::shared_ptr<SslContext> sslcontext,
                                           StartTlsOptions options) {
    return start_tls(std::move(transport), nullptr, std::move(sslcontext), options);
}

Task<std::shared_ptr<Transport>> start_tls(std::shared_ptr<Transport> transport,
                                           std::unique_ptr<Protocol> protocol,
                                           std::shared_ptr<SslContext> sslcontext,
                                           StartTlsOptions options) {
    if (!transport) {
        throw std::invalid_argument("start_tls: transport is null");
    }
    if (!sslcontext) {
        throw std::invalid_argument("start_tls: sslcontext is null");
    }
    if (options.server_side && *options.server_side != sslcontext->is_server()) {
        throw std::invalid_argument(*options.server_side
                                        ? "start_tls: server_side needs a SslContext::server()"
                                        : "start_tls: a client needs a SslContext::client()");
    }
    check_timeout(options.ssl_handshake_timeout, "ssl_handshake_timeout");
    check_timeout(options.ssl_shutdown_timeout, "ssl_shutdown_timeout");
    if (!sslcontext->is_server() && options.server_hostname.empty() &&
        sslcontext->check_hostname()) {
        throw std::invalid_argument(
            "start_tls: server_hostname is required when the context checks host names");
    }
    detail::TlsTransport::Options o;
    o.server_hostname = std::string(options.server_hostname);
    o.handshake_timeout = options.ssl_handshake_timeout;
    o.shutdown_timeout = options.ssl_shutdown_timeout;
    o.call_connection_made = options.call_connection_made;
    return run_start_tls(std::move(transport), std::move(protocol), std::move(sslcontext),
                         std::move(o));
}

}  // namespace corio::net
