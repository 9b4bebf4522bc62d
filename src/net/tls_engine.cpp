// src/net/tls_engine.cpp - TlsEngine: an OpenSSL session over a BIO of our
// own whose reads come from the fed queue and whose writes land in the
// output queue. A BIO of our own (rather than a memory BIO or a BIO pair)
// lets output() be a view OpenSSL's records are sent from, lets the output
// grow as needed (so no call ever waits to write) and tells EOF apart from
// "no data yet".
#include "tls_engine.hpp"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <cstring>
#include <stdexcept>

namespace corio::net::detail {

namespace {

bool is_ip_literal(const std::string& host) {
    in6_addr a6;
    in_addr a4;
    return ::inet_pton(AF_INET, host.c_str(), &a4) == 1 ||
           ::inet_pton(AF_INET6, host.c_str(), &a6) == 1;
}

[[noreturn]] void throw_ssl(const char* what) {
    throw SslError(ssl_error_text(what));
}

}  // namespace

// The BIO's callbacks. OpenSSL reads ciphertext through bread (the fed
// queue: "retry" while it is empty and no EOF was fed; 0 without retry at
// EOF, which SSL_OP_IGNORE_UNEXPECTED_EOF turns into a clean end) and
// writes records through bwrite (always accepted).
struct TlsEngineBio {
    static TlsEngine& engine(BIO* b) { return *static_cast<TlsEngine*>(::BIO_get_data(b)); }

    static int bwrite(BIO* b, const char* data, std::size_t len, std::size_t* written) {
        ::BIO_clear_retry_flags(b);
        engine(b).out_.append(std::string_view(data, len));
        *written = len;
        return 1;
    }

    static int bread(BIO* b, char* out, std::size_t len, std::size_t* got) {
        ::BIO_clear_retry_flags(b);
        TlsEngine& e = engine(b);
        if (e.in_.empty()) {
            *got = 0;
            if (e.in_eof_) {
                e.eof_hit_ = true;
            } else {
                ::BIO_set_retry_read(b);
            }
            return 0;
        }
        std::string_view v = e.in_.view();
        std::size_t n = len < v.size() ? len : v.size();
        std::memcpy(out, v.data(), n);
        e.in_.consume(n);
        *got = n;
        return 1;
    }

    static long ctrl(BIO* b, int cmd, long, void*) {
        TlsEngine& e = engine(b);
        switch (cmd) {
            case BIO_CTRL_FLUSH:
                return 1;
            case BIO_CTRL_EOF:
                return e.in_eof_ && e.in_.empty() ? 1 : 0;
            case BIO_CTRL_PENDING:
                return static_cast<long>(e.in_.size());
            case BIO_CTRL_WPENDING:
                return static_cast<long>(e.out_.size());
            default:
                return 0;
        }
    }

    static int create(BIO* b) {
        ::BIO_set_init(b, 1);
        return 1;
    }

    // Made once per process; never freed (OpenSSL keeps a pointer per BIO).
    static const BIO_METHOD* method() {
        static BIO_METHOD* m = [] {
            BIO_METHOD* bm =
                ::BIO_meth_new(::BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "corio TLS engine");
            if (bm == nullptr || ::BIO_meth_set_write_ex(bm, &bwrite) != 1 ||
                ::BIO_meth_set_read_ex(bm, &bread) != 1 || ::BIO_meth_set_ctrl(bm, &ctrl) != 1 ||
                ::BIO_meth_set_create(bm, &create) != 1) {
                throw_ssl("TLS engine: BIO_meth_new");
            }
            return bm;
        }();
        return m;
    }
};

TlsEngine::TlsEngine(std::shared_ptr<SslContext> ctx, std::string_view server_hostname)
    : ctx_(std::move(ctx)) {
    if (!ctx_) {
        throw std::invalid_argument("TLS: the SslContext is null");
    }
    const std::string host(server_hostname);
    const bool client = !ctx_->is_server();
    if (client && host.empty() && ctx_->check_hostname()) {
        throw std::invalid_argument(
            "TLS: server_hostname is required when the context checks host names");
    }
    ::ERR_clear_error();
    ssl_ = ::SSL_new(ctx_->native_handle());
    if (ssl_ == nullptr) {
        throw_ssl("SSL_new");
    }
    BIO* bio = ::BIO_new(TlsEngineBio::method());
    if (bio == nullptr) {
        ::SSL_free(ssl_);
        throw_ssl("TLS engine: BIO_new");
    }
    ::BIO_set_data(bio, this);
    ::SSL_set_bio(ssl_, bio, bio);  // one reference, owned by the SSL from now on
    // Per session, so that a context built elsewhere behaves the same: a
    // bare EOF ends the stream (Python's suppress_ragged_eofs); a retried
    // write may come from another address (our buffers move).
    ::SSL_set_options(ssl_, SSL_OP_IGNORE_UNEXPECTED_EOF | SSL_OP_NO_RENEGOTIATION);
    ::SSL_set_mode(ssl_, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    // A write encrypts all it is given (the output never fills up): no
    // return after each record.
    ::SSL_clear_mode(ssl_, SSL_MODE_ENABLE_PARTIAL_WRITE);
    if (!client) {
        ::SSL_set_accept_state(ssl_);
        return;
    }
    ::SSL_set_connect_state(ssl_);
    if (host.empty()) {
        return;
    }
    // RFC 6066: SNI carries host names only; an address is still checked
    // against the certificate's IP entries, as Python does.
    if (!is_ip_literal(host) && ::SSL_set_tlsext_host_name(ssl_, host.c_str()) != 1) {
        ::SSL_free(ssl_);
        throw_ssl("TLS: server_hostname");
    }
    if (ctx_->check_hostname()) {
        ::SSL_set_hostflags(ssl_, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
        if (::SSL_set1_host(ssl_, host.c_str()) != 1) {
            ::SSL_free(ssl_);
            throw_ssl("TLS: server_hostname");
        }
    }
}

TlsEngine::~TlsEngine() {
    ::SSL_free(ssl_);  // frees the BIO
}

void TlsEngine::feed(std::string_view ciphertext) {
    in_.append(ciphertext);
}

std::size_t TlsEngine::take_output(char* dst, std::size_t len) noexcept {
    std::string_view v = out_.view();
    std::size_t n = len < v.size() ? len : v.size();
    if (n > 0) {
        std::memcpy(dst, v.data(), n);
        out_.consume(n);
    }
    return n;
}

bool TlsEngine::handshake_done() const noexcept {
    return ::SSL_is_init_finished(ssl_) == 1;
}

TlsEngine::Status TlsEngine::fail(const char* what) {
    std::string text = ssl_error_text(what);
    long verify = ::SSL_get_verify_result(ssl_);
    if (verify != X509_V_OK) {
        text += " (certificate verify failed: ";
        text += ::X509_verify_cert_error_string(verify);
        text += ")";
    }
    if (!failed_) {
        failed_ = true;
        error_ = std::move(text);
    }
    return Status::failed;
}

// The Status of an OpenSSL call that returned `rc` <= 0.
TlsEngine::Status TlsEngine::outcome(int rc, const char* what) {
    switch (::SSL_get_error(ssl_, rc)) {
        case SSL_ERROR_WANT_READ:
            return Status::want_input;
        case SSL_ERROR_ZERO_RETURN:
            // With SSL_OP_IGNORE_UNEXPECTED_EOF a bare EOF reads as a
            // close_notify; only the BIO knows it was the EOF, and only
            // OpenSSL's buffer knows whether it cut a record short.
            if (eof_hit_ && ::SSL_has_pending(ssl_) == 1) {
                ::ERR_clear_error();
                return fail(
                    "TLS read: the connection was closed in the middle of a record "
                    "(truncated)");
            }
            ragged_ = eof_hit_;
            return Status::closed;
        default:
            return fail(what);
    }
}

TlsEngine::Status TlsEngine::handshake() {
    if (failed_) {
        return Status::failed;
    }
    ::ERR_clear_error();
    int rc = ::SSL_do_handshake(ssl_);
    if (rc == 1) {
        return Status::ok;
    }
    Status s = outcome(rc, "TLS handshake");
    if (s == Status::closed) {
        ::ERR_clear_error();
        return fail("TLS handshake: the peer closed the connection");
    }
    return s;
}

TlsEngine::Result TlsEngine::read(char* buf, std::size_t len) {
    if (failed_) {
        return {Status::failed, 0};
    }
    ::ERR_clear_error();
    std::size_t got = 0;
    if (::SSL_read_ex(ssl_, buf, len, &got) == 1) {
        return {Status::ok, got};
    }
    Status s = outcome(0, handshake_done() ? "TLS read" : "TLS handshake");
    if (s == Status::closed && !handshake_done()) {
        ::ERR_clear_error();
        s = fail("TLS handshake: the peer closed the connection");
    }
    return {s, 0};
}

TlsEngine::Result TlsEngine::write(std::string_view data) {
    if (failed_) {
        return {Status::failed, 0};
    }
    if (shutdown_sent_) {
        return {Status::closed, 0};
    }
    if (data.empty()) {
        return {Status::ok, 0};
    }
    ::ERR_clear_error();
    std::size_t put = 0;
    if (::SSL_write_ex(ssl_, data.data(), data.size(), &put) == 1) {
        return {Status::ok, put};
    }
    Status s = outcome(0, handshake_done() ? "TLS write" : "TLS handshake");
    if (s == Status::closed) {
        // Only a handshake cut short by the peer gets here.
        ::ERR_clear_error();
        s = fail("TLS handshake: the peer closed the connection");
    }
    return {s, 0};
}

TlsEngine::Status TlsEngine::shutdown() {
    if (failed_) {
        return Status::failed;
    }
    if (shutdown_sent_) {
        return Status::ok;
    }
    if (!handshake_done()) {
        failed_ = true;
        error_ = "TLS shutdown: the handshake is not complete";
        return Status::failed;
    }
    ::ERR_clear_error();
    int rc = ::SSL_shutdown(ssl_);
    if (rc < 0) {
        return fail("TLS shutdown");
    }
    shutdown_sent_ = true;
    return Status::ok;
}

std::string TlsEngine::alpn_protocol() const {
    const unsigned char* p = nullptr;
    unsigned int len = 0;
    ::SSL_get0_alpn_selected(ssl_, &p, &len);
    return p != nullptr ? std::string(reinterpret_cast<const char*>(p), len) : std::string();
}

std::string TlsEngine::server_name() const {
    const char* n = ::SSL_get_servername(ssl_, TLSEXT_NAMETYPE_host_name);
    return n != nullptr ? std::string(n) : std::string();
}

std::string TlsEngine::version() const {
    return handshake_done() ? std::string(::SSL_get_version(ssl_)) : std::string();
}

std::string TlsEngine::cipher() const {
    const char* c = ::SSL_get_cipher_name(ssl_);
    return c != nullptr && handshake_done() ? std::string(c) : std::string();
}

std::string TlsEngine::peercert_subject() const {
    X509* cert = ::SSL_get1_peer_certificate(ssl_);
    if (cert == nullptr) {
        return {};
    }
    char buf[512];
    ::X509_NAME_oneline(::X509_get_subject_name(cert), buf, sizeof buf);
    ::X509_free(cert);
    return buf;
}

}  // namespace corio::net::detail
