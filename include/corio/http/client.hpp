// corio/http/client.hpp - the HTTP/1.1 client: ClientSession with a
// keep-alive connection pool per host, ClientResponse, timeouts.
//
// Mirrors aiohttp's client: `aiohttp.ClientSession` (request/get/post/put/
// patch/delete, close), `ClientResponse` (status, reason, headers, read(),
// text(), raise_for_status()), `ClientTimeout` and the errors
// `ClientResponseError`, `ServerDisconnectedError`. URLs are http:// or
// https:// (TLS with certificate and host-name verification on by default).
// A response's body is read completely before request() returns (bounded
// by ClientSessionOptions::max_body_size); there is no streaming body yet.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "corio/event_loop.hpp"
#include "corio/http/cookies.hpp"
#include "corio/http/message.hpp"
#include "corio/task.hpp"

namespace corio::net {
class SslContext;
}  // namespace corio::net

namespace corio::http {

/// Time limits of a request (null: no limit). `total` covers the whole
/// request (connecting, sending, reading the whole response); `connect`
/// taking a connection (from the pool or new); `sock_read` each wait for
/// bytes from the server. aiohttp: `aiohttp.ClientTimeout` (total 5 min).
struct ClientTimeout {
    std::optional<Duration> total = std::chrono::minutes(5);
    std::optional<Duration> connect;
    std::optional<Duration> sock_read;
};

/// Settings of a ClientSession.
struct ClientSessionOptions {
    ClientTimeout timeout;
    /// How long an idle pooled connection may be reused.
    /// aiohttp: `TCPConnector(keepalive_timeout=15)`.
    Duration keepalive_timeout = std::chrono::seconds(15);
    /// Idle connections kept per host:port (more are closed).
    /// aiohttp: `TCPConnector(limit_per_host=...)` bounds open ones instead.
    std::size_t max_idle_per_host = 16;
    /// Response body bytes; larger is a ClientPayloadError.
    std::uint64_t max_body_size = std::uint64_t{1} << 30;
    /// TLS context for https:// (null: SslContext::client(), which checks
    /// the certificate and the host name against the system's CAs).
    std::shared_ptr<net::SslContext> ssl;
};

/// The server answered with an error status (raise_for_status()).
/// aiohttp: `aiohttp.ClientResponseError`.
class ClientResponseError : public std::runtime_error {
public:
    ClientResponseError(int status, const std::string& message)
        : std::runtime_error(message), status_(status) {}
    int status() const noexcept { return status_; }

private:
    int status_;
};

/// The server closed the connection before the response was complete.
/// aiohttp: `aiohttp.ServerDisconnectedError`.
class ServerDisconnectedError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// The response could not be parsed (or its body was too large).
/// aiohttp: `aiohttp.ClientPayloadError` / `ClientResponseError` of the parser.
class ClientPayloadError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// The response's Content-Type is not what json() expects.
/// aiohttp: `aiohttp.ContentTypeError`.
class ContentTypeError : public ClientResponseError {
public:
    using ClientResponseError::ClientResponseError;
};

/// A received response, body included. aiohttp: `aiohttp.ClientResponse`.
class ClientResponse {
public:
    /// aiohttp: `response.status`, `response.reason`, `response.headers`,
    /// `response.version`, `response.url`, `response.method`.
    int status() const noexcept { return status_; }
    const std::string& reason() const noexcept { return reason_; }
    const Headers& headers() const noexcept { return headers_; }
    HttpVersion version() const noexcept { return version_; }
    const std::string& url() const noexcept { return url_; }
    const std::string& method() const noexcept { return method_; }
    /// The body. Never suspends in this version (the body is already read).
    /// aiohttp: `await response.read()`.
    Task<std::string> read() const;
    /// The body as text (bytes as sent). aiohttp: `await response.text()`.
    Task<std::string> text() const;
    /// The body parsed as JSON (nlohmann-json). Never suspends in this
    /// version. Throws ContentTypeError (with the status) when
    /// `content_type` is not empty and the response's Content-Type, without
    /// parameters, differs from it (ASCII case ignored); ClientPayloadError
    /// naming the parse error for a body that is not JSON.
    /// aiohttp: `await response.json(content_type="application/json")`.
    Task<nlohmann::json> json(std::string_view content_type = "application/json") const;
    /// The body without a coroutine.
    const std::string& body() const noexcept { return body_; }
    /// Whether the status is below 400. aiohttp: `response.ok`.
    bool ok() const noexcept { return status_ < 400; }
    /// Throws ClientResponseError for a status of 400 or more.
    /// aiohttp: `response.raise_for_status()`.
    void raise_for_status() const;

private:
    friend class ClientSession;
    int status_ = 0;
    std::string reason_;
    Headers headers_;
    HttpVersion version_;
    std::string url_;
    std::string method_;
    std::string body_;
};

/// A client with a connection pool: connections to the same scheme, host
/// and port are kept open after a complete keep-alive response and reused
/// (one request at a time on each; no pipelining). A connection is never
/// reused after an error, a timeout, a cancelled request or a response
/// that ends with the connection. If a reused connection turns out to have
/// been closed by the server before it answered, the request is retried
/// once on a new connection (only for methods that are safe to repeat:
/// GET, HEAD, OPTIONS, PUT, DELETE). Use it from one loop. Call close()
/// when done: destroying an open session that still holds connections
/// reports "Unclosed client session" to the loop's exception handler and
/// aborts them. aiohttp: `aiohttp.ClientSession`.
class ClientSession {
public:
    /// A session with no connections yet; `options` apply to every request.
    explicit ClientSession(ClientSessionOptions options = {});
    ClientSession(const ClientSession&) = delete;
    ClientSession& operator=(const ClientSession&) = delete;
    ~ClientSession();

    /// Sends `method` to `url` (http:// or https://, host, optional port,
    /// path and query) with `data` as the body (Content-Length; no body
    /// and no length when empty, except for POST/PUT/PATCH) and `headers`
    /// added to Host, User-Agent and Accept, and returns the response with
    /// its body. Suspends while connecting, sending and reading. Throws
    /// std::invalid_argument for a URL it cannot use (naming it),
    /// RuntimeError when the session is closed, std::system_error for
    /// connection failures (ECONNREFUSED), GaiError, SslError,
    /// TimeoutError when a ClientTimeout limit passes,
    /// ServerDisconnectedError, ClientPayloadError. Cancelling it closes
    /// the connection it was using. aiohttp: `session.request(...)`.
    Task<ClientResponse> request(std::string method, std::string url, std::string data = {},
                                 Headers headers = {});
    /// aiohttp: `session.get(url)`.
    Task<ClientResponse> get(std::string url, Headers headers = {});
    /// aiohttp: `session.post(url, data=...)`.
    Task<ClientResponse> post(std::string url, std::string data, Headers headers = {});
    /// aiohttp: `session.put(url, data=...)`.
    Task<ClientResponse> put(std::string url, std::string data, Headers headers = {});
    /// aiohttp: `session.patch(url, data=...)`.
    Task<ClientResponse> patch(std::string url, std::string data, Headers headers = {});
    /// aiohttp: `session.delete(url)` (`delete` is a C++ keyword).
    Task<ClientResponse> delete_(std::string url, Headers headers = {});

    /// Closes the pooled connections and refuses later requests. Suspends
    /// until they are closed. Idempotent. aiohttp: `await session.close()`.
    Task<void> close();
    /// aiohttp: `session.closed`.
    bool closed() const noexcept { return closed_; }
    /// Idle pooled connections now, over all hosts.
    std::size_t idle_connections() const noexcept;
    /// Connections opened so far (to observe reuse).
    std::uint64_t connections_opened() const noexcept { return opened_; }
    /// The session's cookies: every response's Set-Cookie fields are
    /// stored, and each request carries the matching ones in a Cookie field
    /// (unless the request's headers set Cookie themselves). Add or clear
    /// cookies through it. aiohttp: `session.cookie_jar`.
    CookieJar& cookie_jar() noexcept { return cookie_jar_; }

private:
    struct Conn;
    struct Target;
    Task<ClientResponse> send(const Target& t, std::string method, std::string data,
                              const Headers& headers);
    Task<ClientResponse> attempt(const Target& t, std::unique_ptr<Conn>& conn,
                                 std::string_view head, std::string_view data, std::string method,
                                 bool& nothing_received);
    Task<std::unique_ptr<Conn>> connect(const Target& t);
    std::unique_ptr<Conn> take_idle(const std::string& key);
    void give_back(const std::string& key, std::unique_ptr<Conn> conn);

    ClientSessionOptions options_;
    std::map<std::string, std::vector<std::unique_ptr<Conn>>> idle_;
    bool closed_ = false;
    std::uint64_t opened_ = 0;
    CookieJar cookie_jar_;
};

}  // namespace corio::http
