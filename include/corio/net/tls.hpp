// corio/net/tls.hpp - TLS contexts (OpenSSL 3) for streams and servers.
//
// Mirrors Python's ssl.SSLContext as asyncio uses it: a client context
// verifies the server's certificate and host name by default
// (ssl.create_default_context()); a server context is given its certificate
// chain. Streams use it through open_connection/start_server's `ssl` option
// and StreamWriter::start_tls.
#pragma once

#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

typedef struct ssl_ctx_st SSL_CTX;
typedef struct ssl_st SSL;

namespace corio::net {

/// A TLS failure: handshake, verification or protocol error, with OpenSSL's
/// reason. Python: `ssl.SSLError` (and SSLCertVerificationError).
class SslError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// Certificate checking. Python: `ssl.CERT_NONE`, `CERT_OPTIONAL`, `CERT_REQUIRED`.
enum class VerifyMode { none, optional, required };

/// Shared TLS settings. Create with client() or server() (always owned by a
/// shared_ptr: connections keep a reference). Not thread-safe to modify
/// while in use.
class SslContext : public std::enable_shared_from_this<SslContext> {
public:
    /// A client context: TLS 1.2+, the system's trusted CAs, certificate and
    /// host-name verification on. Python: `ssl.create_default_context()`.
    static std::shared_ptr<SslContext> client();
    /// A server context: TLS 1.2+, no client certificate requested; call
    /// load_cert_chain(). Python: `SSLContext(PROTOCOL_TLS_SERVER)`.
    static std::shared_ptr<SslContext> server();

    explicit SslContext(SSL_CTX* ctx, bool is_server);
    SslContext(const SslContext&) = delete;
    SslContext& operator=(const SslContext&) = delete;
    ~SslContext();

    /// Loads a PEM certificate chain and its private key. Throws SslError.
    void load_cert_chain(const std::string& certfile, const std::string& keyfile = {});
    /// Trusts the CA certificates in `cafile` (PEM) and/or directory `capath`.
    void load_verify_locations(const std::string& cafile, const std::string& capath = {});
    /// Trusts the CA certificates given as PEM text.
    void load_verify_data(std::string_view pem);
    /// Trusts the system's CA store.
    void set_default_verify_paths();
    /// Peer certificate checking (servers: CERT_REQUIRED asks for client certificates).
    void set_verify_mode(VerifyMode mode);
    VerifyMode verify_mode() const noexcept { return verify_; }
    /// Client side: check that the certificate matches server_hostname (default on).
    void set_check_hostname(bool on) noexcept { check_hostname_ = on; }
    bool check_hostname() const noexcept { return check_hostname_; }
    /// ALPN protocols, most preferred first (e.g. {"h2", "http/1.1"}).
    void set_alpn_protocols(std::vector<std::string> protocols);
    /// OpenSSL cipher list for TLS 1.2 and below. Throws SslError.
    void set_ciphers(const std::string& ciphers);
    /// Server side: called with the client's SNI name during the handshake;
    /// may return another context (with another certificate) to use, or null
    /// to keep this one. The contexts it returns must outlive the handshakes
    /// (keep them, e.g. in a map by name). Python: `SSLContext.sni_callback`.
    void set_sni_callback(std::function<std::shared_ptr<SslContext>(std::string_view)> fn);

    bool is_server() const noexcept { return is_server_; }
    SSL_CTX* native_handle() const noexcept { return ctx_; }

private:
    friend struct SslAccess;
    SSL_CTX* ctx_;
    bool is_server_;
    bool check_hostname_ = false;
    VerifyMode verify_ = VerifyMode::none;
    std::vector<unsigned char> alpn_wire_;
    std::function<std::shared_ptr<SslContext>(std::string_view)> sni_;
};

}  // namespace corio::net
