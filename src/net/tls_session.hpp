// src/net/tls_session.hpp - one TLS connection over a non-blocking fd
// (private). Every call does what it can without blocking and says what it
// needs next: the stream code waits for that readiness and calls again.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "corio/net/tls.hpp"

namespace corio::net {

struct TlsResult {
    enum Kind { ok, want_read, want_write, eof, os_error, ssl_error } kind;
    std::size_t n;  // bytes for ok; errno for os_error
};

/// OpenSSL's error queue as text, prefixed by `what`; clears the queue.
std::string ssl_error_text(const char* what);

class TlsSession {
public:
    TlsSession(std::shared_ptr<SslContext> ctx, int fd, const std::string& server_hostname);
    TlsSession(const TlsSession&) = delete;
    TlsSession& operator=(const TlsSession&) = delete;
    ~TlsSession();

    TlsResult handshake();
    TlsResult read(char* buf, std::size_t n);
    TlsResult write(const char* buf, std::size_t n);
    /// Sends close_notify (does not wait for the peer's).
    TlsResult shutdown();

    /// Why the last call failed with ssl_error (verification details included).
    const std::string& last_error() const noexcept { return last_error_; }
    SSL* native_handle() const noexcept { return ssl_; }
    const std::shared_ptr<SslContext>& context() const noexcept { return ctx_; }
    std::string alpn_protocol() const;
    std::string server_name() const;
    std::string version() const;
    std::string cipher() const;
    std::string peer_subject() const;

private:
    TlsResult classify(int rc, const char* what);

    std::shared_ptr<SslContext> ctx_;
    SSL* ssl_ = nullptr;
    std::string last_error_;
};

}  // namespace corio::net
