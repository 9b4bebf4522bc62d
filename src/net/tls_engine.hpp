// src/net/tls_engine.hpp - one TLS connection as a sans-I/O state machine
// (private): ciphertext in, plaintext out, plaintext in, ciphertext out. It
// knows nothing of sockets, loops or transports, so any transport (epoll,
// io_uring, a pipe, another TLS connection, a test's memory) can carry it.
// Python: `ssl.SSLObject` over two `ssl.MemoryBIO`s, as asyncio's sslproto
// drives it; Asio: the engine behind `ssl::stream`.
//
// How a caller drives it (the protocol that makes deadlock impossible):
// - Every call does all it can at once and returns what it needs next. The
//   only thing an operation ever waits for is more ciphertext from the
//   network (Status::want_input): output never blocks, the engine buffers
//   every byte it produces until the caller takes it.
// - After EVERY call (handshake, read, write, shutdown, even a failed one:
//   it may hold an alert for the peer), the caller sends output() and
//   consumes it. A read may produce output (a TLS 1.3 KeyUpdate answer, the
//   server's session tickets); a write may be preceded by a KeyUpdate.
// - When want_input comes back, the caller feeds what the network brings
//   (feed, or feed_eof at the end) and calls again.
// - Plaintext is read straight into the caller's buffer and written straight
//   from the caller's view; ciphertext leaves through output() without a
//   copy (send from that view, then consume_output) or is copied once into
//   the caller's send buffer (take_output).
//
// Ends: shutdown() queues close_notify. The peer's close_notify makes read()
// return Status::closed; so does a network EOF at a record boundary without
// one (a "ragged" EOF, ragged_eof() true: Python's suppress_ragged_eofs and
// today's SSL_OP_IGNORE_UNEXPECTED_EOF). An EOF in the middle of a record is
// a truncation and fails.
//
// Invariants: the engine is not movable (OpenSSL's BIO points at it); after
// `failed` every call returns `failed` again and error() keeps the first
// reason. One thread at a time.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "byte_queue.hpp"
#include "corio/net/tls.hpp"

typedef struct bio_st BIO;

namespace corio::net {

/// OpenSSL's error queue as text, prefixed by `what`; empties the queue.
std::string ssl_error_text(const char* what);

}  // namespace corio::net

namespace corio::net::detail {

class TlsEngine {
public:
    /// What a call did, or what it needs next.
    enum class Status : unsigned char {
        ok,          // done: handshake complete, or `n` bytes moved
        want_input,  // nothing more until more ciphertext is fed (or feed_eof)
        closed,      // the peer ended the stream (close_notify or a ragged EOF)
        failed,      // a fatal TLS error: error() says why; the engine is dead
    };
    struct Result {
        Status status;
        std::size_t n;
    };

    /// A client or server session per `ctx` (its side, verification mode,
    /// ALPN and SNI callback). A client sends `server_hostname` as SNI
    /// unless it is an IP literal, and checks the certificate against it
    /// when the context checks host names. Throws std::invalid_argument if a
    /// checking client has no server_hostname, SslError if OpenSSL fails.
    TlsEngine(std::shared_ptr<SslContext> ctx, std::string_view server_hostname);
    TlsEngine(const TlsEngine&) = delete;
    TlsEngine& operator=(const TlsEngine&) = delete;
    ~TlsEngine();

    // -- Network side ---------------------------------------------------------

    /// Ciphertext that arrived from the network (copied: the view may die).
    void feed(std::string_view ciphertext);
    /// The network reached EOF: once the fed bytes are used up, the next
    /// read sees the end.
    void feed_eof() noexcept { in_eof_ = true; }
    bool eof_fed() const noexcept { return in_eof_; }
    /// Ciphertext fed and not yet taken by OpenSSL (a flow-control measure).
    std::size_t input_pending() const noexcept { return in_.size(); }

    /// Ciphertext to send, in order. Valid until the next non-const call.
    std::string_view output() const noexcept { return out_.view(); }
    /// Drops the first `n` bytes of output() (they were sent).
    void consume_output(std::size_t n) noexcept { out_.consume(n); }
    /// Copies up to `len` bytes of output into `dst` (a send buffer) and
    /// consumes them; returns how many.
    std::size_t take_output(char* dst, std::size_t len) noexcept;

    // -- Operations -----------------------------------------------------------

    /// Advances the handshake: ok once it is complete (also on later calls),
    /// want_input, or failed (verification failures included; an EOF before
    /// the end fails too).
    Status handshake();
    /// Decrypts up to `len` bytes into `buf`: {ok, n > 0}, {want_input, 0},
    /// {closed, 0} (again on every later call) or {failed, 0}. Before the
    /// handshake is complete it advances the handshake first.
    Result read(char* buf, std::size_t len);
    /// Encrypts all of `data` into output(): {ok, data.size()}; {want_input,
    /// 0} only before the handshake is complete; {closed, 0} after
    /// shutdown(); {failed, 0}. Empty data: {ok, 0}.
    Result write(std::string_view data);
    /// Queues close_notify (once; later calls do nothing): ok, or failed
    /// (e.g. before the handshake is complete). Reading goes on until the
    /// peer's close_notify (read() -> closed).
    Status shutdown();

    bool handshake_done() const noexcept;
    bool failed() const noexcept { return failed_; }
    /// Why the engine failed: OpenSSL's reasons, with the certificate
    /// verification result when that failed ("certificate verify failed:
    /// hostname mismatch").
    const std::string& error() const noexcept { return error_; }
    bool shutdown_sent() const noexcept { return shutdown_sent_; }
    /// read() returned closed because of a bare EOF, not a close_notify.
    bool ragged_eof() const noexcept { return ragged_; }

    // -- What was negotiated (empty strings until known) ----------------------

    std::string alpn_protocol() const;
    /// The SNI name: what a client sent, what a server received.
    std::string server_name() const;
    /// "TLSv1.3", "TLSv1.2", ...
    std::string version() const;
    std::string cipher() const;
    /// The peer certificate's subject, one line ("/CN=localhost").
    std::string peercert_subject() const;
    SSL* native_handle() const noexcept { return ssl_; }
    const std::shared_ptr<SslContext>& context() const noexcept { return ctx_; }

private:
    friend struct TlsEngineBio;

    Status fail(const char* what);
    Status outcome(int rc, const char* what);

    std::shared_ptr<SslContext> ctx_;
    SSL* ssl_ = nullptr;
    ByteQueue in_;   // fed ciphertext, read by OpenSSL through the BIO
    ByteQueue out_;  // ciphertext OpenSSL wrote through the BIO
    bool in_eof_ = false;
    bool eof_hit_ = false;  // OpenSSL read the EOF
    bool ragged_ = false;
    bool failed_ = false;
    bool shutdown_sent_ = false;
    std::string error_;
};

}  // namespace corio::net::detail
