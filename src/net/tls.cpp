// src/net/tls.cpp - SslContext and the TLS session behind TLS streams.
#include "corio/net/tls.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <cstring>

#include "tls_engine.hpp"

namespace corio::net {

std::string ssl_error_text(const char* what) {
    std::string text(what);
    unsigned long e;
    bool first = true;
    while ((e = ::ERR_get_error()) != 0) {
        char buf[256];
        ::ERR_error_string_n(e, buf, sizeof buf);
        text += first ? ": " : "; ";
        text += buf;
        first = false;
    }
    return text;
}

namespace {

[[noreturn]] void throw_ssl(const char* what) {
    throw SslError(ssl_error_text(what));
}

SSL_CTX* new_ctx(bool server) {
    SSL_CTX* ctx = ::SSL_CTX_new(server ? ::TLS_server_method() : ::TLS_client_method());
    if (ctx == nullptr) {
        throw_ssl("SSL_CTX_new");
    }
    ::SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    // Peers that close without close_notify end the stream like a plain EOF
    // (Python's suppress_ragged_eofs).
    ::SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF | SSL_OP_NO_RENEGOTIATION);
    ::SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    return ctx;
}

}  // namespace

struct SslAccess {
    static int alpn_select(SSL*, const unsigned char** out, unsigned char* outlen,
                           const unsigned char* in, unsigned int inlen, void* arg) {
        auto* self = static_cast<SslContext*>(arg);
        unsigned char* sel = nullptr;
        unsigned char sel_len = 0;
        if (::SSL_select_next_proto(&sel, &sel_len, self->alpn_wire_.data(),
                                    static_cast<unsigned>(self->alpn_wire_.size()), in,
                                    inlen) != OPENSSL_NPN_NEGOTIATED) {
            return SSL_TLSEXT_ERR_NOACK;
        }
        *out = sel;
        *outlen = sel_len;
        return SSL_TLSEXT_ERR_OK;
    }

    static int servername(SSL* ssl, int*, void* arg) {
        auto* self = static_cast<SslContext*>(arg);
        const char* name = ::SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
        if (name == nullptr || !self->sni_) {
            return SSL_TLSEXT_ERR_OK;
        }
        try {
            std::shared_ptr<SslContext> other = self->sni_(name);
            if (other && other.get() != self) {
                ::SSL_set_SSL_CTX(ssl, other->ctx_);  // takes its own reference
            }
        } catch (...) {
            return SSL_TLSEXT_ERR_ALERT_FATAL;
        }
        return SSL_TLSEXT_ERR_OK;
    }
};

SslContext::SslContext(SSL_CTX* ctx, bool is_server) : ctx_(ctx), is_server_(is_server) {}

SslContext::~SslContext() {
    ::SSL_CTX_free(ctx_);
}

std::shared_ptr<SslContext> SslContext::client() {
    auto c = std::make_shared<SslContext>(new_ctx(false), false);
    c->set_default_verify_paths();
    c->set_verify_mode(VerifyMode::required);
    c->check_hostname_ = true;
    return c;
}

std::shared_ptr<SslContext> SslContext::server() {
    return std::make_shared<SslContext>(new_ctx(true), true);
}

void SslContext::load_cert_chain(const std::string& certfile, const std::string& keyfile) {
    if (::SSL_CTX_use_certificate_chain_file(ctx_, certfile.c_str()) != 1) {
        throw_ssl(("load_cert_chain: certificate " + certfile).c_str());
    }
    const std::string& key = keyfile.empty() ? certfile : keyfile;
    if (::SSL_CTX_use_PrivateKey_file(ctx_, key.c_str(), SSL_FILETYPE_PEM) != 1) {
        throw_ssl(("load_cert_chain: private key " + key).c_str());
    }
    if (::SSL_CTX_check_private_key(ctx_) != 1) {
        throw_ssl("load_cert_chain: the private key does not match the certificate");
    }
}

void SslContext::load_verify_locations(const std::string& cafile, const std::string& capath) {
    if (::SSL_CTX_load_verify_locations(ctx_, cafile.empty() ? nullptr : cafile.c_str(),
                                        capath.empty() ? nullptr : capath.c_str()) != 1) {
        throw_ssl(("load_verify_locations " + cafile + " " + capath).c_str());
    }
}

void SslContext::load_verify_data(std::string_view pem) {
    BIO* bio = ::BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
    if (bio == nullptr) {
        throw_ssl("load_verify_data");
    }
    X509_STORE* store = ::SSL_CTX_get_cert_store(ctx_);
    int added = 0;
    while (X509* cert = ::PEM_read_bio_X509(bio, nullptr, nullptr, nullptr)) {
        ::X509_STORE_add_cert(store, cert);
        ::X509_free(cert);
        ++added;
    }
    ::BIO_free(bio);
    ::ERR_clear_error();  // the read that ended the loop
    if (added == 0) {
        throw SslError("load_verify_data: no PEM certificate found");
    }
}

void SslContext::set_default_verify_paths() {
    if (::SSL_CTX_set_default_verify_paths(ctx_) != 1) {
        throw_ssl("set_default_verify_paths");
    }
}

void SslContext::set_verify_mode(VerifyMode mode) {
    int flags = SSL_VERIFY_NONE;
    if (mode == VerifyMode::optional) {
        flags = SSL_VERIFY_PEER;
    } else if (mode == VerifyMode::required) {
        flags = SSL_VERIFY_PEER | (is_server_ ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0);
    }
    ::SSL_CTX_set_verify(ctx_, flags, nullptr);
    verify_ = mode;
}

void SslContext::set_alpn_protocols(std::vector<std::string> protocols) {
    alpn_wire_.clear();
    for (const auto& p : protocols) {
        if (p.empty() || p.size() > 255) {
            throw std::invalid_argument("set_alpn_protocols: each protocol needs 1 to 255 bytes");
        }
        alpn_wire_.push_back(static_cast<unsigned char>(p.size()));
        alpn_wire_.insert(alpn_wire_.end(), p.begin(), p.end());
    }
    if (is_server_) {
        ::SSL_CTX_set_alpn_select_cb(ctx_, &SslAccess::alpn_select, this);
    } else if (::SSL_CTX_set_alpn_protos(ctx_, alpn_wire_.data(),
                                         static_cast<unsigned>(alpn_wire_.size())) != 0) {
        throw_ssl("set_alpn_protocols");
    }
}

void SslContext::set_ciphers(const std::string& ciphers) {
    if (::SSL_CTX_set_cipher_list(ctx_, ciphers.c_str()) != 1) {
        throw_ssl(("set_ciphers " + ciphers).c_str());
    }
}

void SslContext::set_sni_callback(std::function<std::shared_ptr<SslContext>(std::string_view)> fn) {
    sni_ = std::move(fn);
    ::SSL_CTX_set_tlsext_servername_callback(ctx_, &SslAccess::servername);
    ::SSL_CTX_set_tlsext_servername_arg(ctx_, this);
}

}  // namespace corio::net
