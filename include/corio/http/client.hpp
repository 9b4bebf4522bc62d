// corio/http/client.hpp - the HTTP/1.1 client: ClientSession with a
// keep-alive connection pool per host, ClientResponse, timeouts.
//
// Mirrors aiohttp's client: `aiohttp.ClientSession` (request/get/post/put/
// patch/delete, close), `ClientResponse` (status, reason, headers, read(),
// text(), json(), content, history, raise_for_status()), `ClientTimeout`,
// redirects (`allow_redirects`, `max_redirects`), request bodies streamed
// from an async generator, and the errors `ClientError`,
// `ClientResponseError`, `TooManyRedirects`, `ServerDisconnectedError`,
// `ClientPayloadError`. URLs are http:// or https:// (TLS with certificate
// and host-name verification on by default). By default a response's body
// is read completely before request() returns (bounded by
// ClientSessionOptions::max_body_size); with RequestOptions::stream it is
// read on demand through ClientResponse::content() (client_reader.hpp).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "corio/async_generator.hpp"
#include "corio/event_loop.hpp"
#include "corio/http/client_reader.hpp"
#include "corio/http/cookies.hpp"
#include "corio/http/message.hpp"
#include "corio/task.hpp"

namespace corio::net {
class SslContext;
}  // namespace corio::net

namespace corio::http {

/// Time limits of a request (null: no limit); each throws TimeoutError when
/// it passes. `total` covers the whole request: waiting for a place under
/// the connection limits, connecting, sending, redirects, and reading the
/// whole response, a streamed body (RequestOptions::stream) included: a
/// read of content(), read(), text() or json() of a streamed response whose
/// body has not ended by then throws TimeoutError (even if bytes are
/// buffered), and its connection is closed, not reused; a body read to its
/// end before the deadline is no longer bound by it. `connect` covers
/// taking a connection: waiting for a place under
/// ClientSessionOptions::limit / limit_per_host, then reusing an idle one or
/// opening a new one (TLS handshake included). `sock_read` bounds each wait
/// for bytes from the server, a streamed body's reads included.
/// aiohttp: `aiohttp.ClientTimeout` (total 5 min).
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
    std::size_t max_idle_per_host = 16;
    /// Connections open at once over all hosts, in use or idle (0: no
    /// limit). A request that would open one more waits (see
    /// limit_per_host) until one is given back or closed; when the limit is
    /// reached and another host's connection is idle, the oldest idle one is
    /// closed to make room instead. aiohttp: `TCPConnector(limit=100)`.
    std::size_t limit = 100;
    /// Connections open at once to one scheme, host and port, in use or
    /// idle (0: no limit). Requests over a limit wait in one queue, first
    /// come first served (a request whose host is full does not hold up one
    /// to another host). A connection is held from the moment its request
    /// takes it until its response is read to the end (then it is idle,
    /// still counted, and the next waiter of its host gets it), or released,
    /// dropped or failed (then it is closed and its place freed). The wait
    /// counts against ClientTimeout::connect and total; cancelling a waiting
    /// request takes no place. aiohttp: `TCPConnector(limit_per_host=0)`.
    std::size_t limit_per_host = 0;
    /// Response body bytes; larger is a ClientPayloadError.
    std::uint64_t max_body_size = std::uint64_t{1} << 30;
    /// TLS context for https:// (null: SslContext::client(), which checks
    /// the certificate and the host name against the system's CAs).
    std::shared_ptr<net::SslContext> ssl;
    /// Whether requests follow redirects (301, 302, 303, 307, 308), unless
    /// a request says otherwise. aiohttp: `allow_redirects=True`.
    bool allow_redirects = true;
    /// The redirect responses a request may meet: the one that makes
    /// history() this long throws TooManyRedirects, as in aiohttp (so at
    /// most max_redirects - 1 are followed); 0: no limit. aiohttp:
    /// `max_redirects=10`.
    int max_redirects = 10;
    /// The socket reader's limit for streamed bodies: reading from the
    /// connection pauses while more than twice this many received bytes are
    /// waiting to be read (asyncio's StreamReader rule), and content()
    /// takes at most this many bytes from the socket per read.
    /// aiohttp: `read_bufsize=2**16`.
    std::size_t read_bufsize = 64 * 1024;
};

/// Per-request settings; unset ones take the session's.
/// aiohttp: the keyword arguments of `session.request(...)`.
struct RequestOptions {
    /// aiohttp: `allow_redirects=`.
    std::optional<bool> allow_redirects;
    /// aiohttp: `max_redirects=`.
    std::optional<int> max_redirects;
    /// Return as soon as the head is in: the body is read later, through
    /// content() or read()/text()/json(); the connection stays with the
    /// response until its body is read to the end (then it goes back to the
    /// pool) or the response is released or dropped (then it is closed):
    /// until then it counts against ClientSessionOptions::limit and
    /// limit_per_host, and ClientTimeout::total still runs.
    /// Off: request() reads the whole body first (what aiohttp users get
    /// from `await resp.read()` inside the `async with`).
    bool stream = false;
};

/// The base of the client's errors. aiohttp: `aiohttp.ClientError`.
class ClientError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// The server answered with an error status (raise_for_status()).
/// aiohttp: `aiohttp.ClientResponseError`.
class ClientResponseError : public ClientError {
public:
    ClientResponseError(int status, const std::string& message)
        : ClientError(message), status_(status) {}
    int status() const noexcept { return status_; }

private:
    int status_;
};

/// The server closed the connection before the response was complete.
/// aiohttp: `aiohttp.ServerDisconnectedError`.
class ServerDisconnectedError : public ClientError {
public:
    using ClientError::ClientError;
};

/// The response could not be parsed (or its body was too large).
/// aiohttp: `aiohttp.ClientPayloadError` / `ClientResponseError` of the parser.
class ClientPayloadError : public ClientError {
public:
    using ClientError::ClientError;
};

/// The response's Content-Type is not what json() expects.
/// aiohttp: `aiohttp.ContentTypeError`.
class ContentTypeError : public ClientResponseError {
public:
    using ClientResponseError::ClientResponseError;
};

/// A received response. Its body is either read already (the default) or
/// read on demand (RequestOptions::stream). Copies share the body and the
/// connection. aiohttp: `aiohttp.ClientResponse`.
class ClientResponse {
public:
    /// An empty response (status 0), to assign to.
    ClientResponse();

    /// aiohttp: `response.status`, `response.reason`, `response.headers`,
    /// `response.version`, `response.url`, `response.method`.
    int status() const noexcept { return status_; }
    const std::string& reason() const noexcept { return reason_; }
    const Headers& headers() const noexcept { return headers_; }
    HttpVersion version() const noexcept { return version_; }
    /// The URL that answered (after redirects: the last one).
    const std::string& url() const noexcept { return url_; }
    const std::string& method() const noexcept { return method_; }
    /// The redirect responses that led here, oldest first, each with its
    /// body read and its connection released. aiohttp: `response.history`.
    const std::vector<ClientResponse>& history() const noexcept { return history_; }
    /// The body, as a stream (see ContentReader). For a response read
    /// whole (before request() returned, or by read()) it serves the stored
    /// body; read() after content() returns what content() left.
    /// aiohttp: `response.content`.
    ContentReader content() const;
    /// The body: what content() has not consumed, read to the end (then
    /// the connection goes back to the pool) and kept, so later calls and
    /// body() return it. Suspends while reading a streamed body; never for
    /// one read already. Throws what reading throws (ServerDisconnectedError,
    /// ClientPayloadError, TimeoutError, std::system_error). Cancelling it
    /// closes the connection (the body is lost). aiohttp: `await
    /// response.read()`.
    Task<std::string> read() const;
    /// The body as text (bytes as sent), as read(). aiohttp: `await response.text()`.
    Task<std::string> text() const;
    /// The body parsed as JSON (nlohmann-json), reading it as read() does.
    /// Throws ContentTypeError (with the status) when `content_type` is not
    /// empty and the response's Content-Type, without parameters, differs
    /// from it (ASCII case ignored); ClientPayloadError naming the parse
    /// error for a body that is not JSON.
    /// aiohttp: `await response.json(content_type="application/json")`.
    Task<nlohmann::json> json(std::string_view content_type = "application/json") const;
    /// The body read so far by read() (or before request() returned);
    /// empty for a streamed response not read yet.
    const std::string& body() const noexcept;
    /// Gives the connection up: back to the pool if the body was read to
    /// the end, else it is closed (an unread rest of a body makes it
    /// unusable). Never suspends. Dropping the last copy does the same.
    /// aiohttp: `response.release()`.
    void release() noexcept;
    /// Whether the status is below 400. aiohttp: `response.ok`.
    bool ok() const noexcept { return status_ < 400; }
    /// Throws ClientResponseError for a status of 400 or more.
    /// aiohttp: `response.raise_for_status()`.
    void raise_for_status() const;

private:
    friend class ClientSession;
    explicit ClientResponse(std::shared_ptr<detail::ResponseBody> body) noexcept
        : body_(std::move(body)) {}
    int status_ = 0;
    std::string reason_;
    Headers headers_;
    HttpVersion version_;
    std::string url_;
    std::string method_;
    std::vector<ClientResponse> history_;
    std::shared_ptr<detail::ResponseBody> body_;
};

/// More redirects than max_redirects: carries the redirect responses met
/// (bodies read, connections released), the last one included.
/// aiohttp: `aiohttp.TooManyRedirects` (a ClientResponseError).
class TooManyRedirects : public ClientResponseError {
public:
    TooManyRedirects(std::vector<ClientResponse> history, const std::string& message);
    const std::vector<ClientResponse>& history() const noexcept { return history_; }

private:
    std::vector<ClientResponse> history_;
};

/// A client with a connection pool: connections to the same scheme, host
/// and port are kept open after a complete keep-alive response and reused
/// (one request at a time on each; no pipelining). A connection is never
/// reused after an error, a timeout, a cancelled request, a response whose
/// body was not read to the end, or a response that ends with the
/// connection. If a reused connection turns out to have been closed by the
/// server before it answered, the request is retried once on a new
/// connection (only for methods that are safe to repeat: GET, HEAD,
/// OPTIONS, PUT, DELETE; never with a streamed request body).
///
/// Connection limits (ClientSessionOptions::limit, limit_per_host, as
/// aiohttp's TCPConnector): a request that finds no idle connection to its
/// host and no free place suspends in a first-come-first-served queue until
/// a connection is given back or closed (a streamed response holds its
/// connection until read to the end or released); ClientTimeout::connect
/// and total bound that wait (TimeoutError); cancelling it leaves no place
/// taken; close() fails the waiting requests with RuntimeError.
///
/// Redirects (301, 302, 303, 307, 308 with a Location) are followed unless
/// allow_redirects is off: 301/302/303 become a GET without a body (a HEAD
/// stays a HEAD), 307/308 repeat the method and the body; a relative
/// Location is resolved against the request's URL; another host is reached
/// through its own pool entry; a redirect to another origin (scheme, host,
/// port) drops the Authorization, Proxy-Authorization and Cookie fields the
/// caller gave; every hop's Set-Cookie fields are stored. A 307/308 after a
/// streamed request body (which cannot be sent twice) is returned as is.
///
/// Use it from one loop. Call close() when done, or use with_session():
/// destroying a session that is not closed reports "Unclosed client
/// session" (to the running loop's exception handler, else to stderr) and
/// aborts its pooled connections. aiohttp: `aiohttp.ClientSession`.
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
    /// added to Host, User-Agent and Accept, follows redirects (see the
    /// class), and returns the response, with its body unless
    /// `options.stream`. Suspends while waiting for a place under the
    /// connection limits, connecting, sending and reading. Throws
    /// std::invalid_argument for a URL it cannot use (naming it, a
    /// redirect's Location too), RuntimeError when the session is closed
    /// (also while waiting for a place), std::system_error for connection
    /// failures (ECONNREFUSED), GaiError, SslError, TimeoutError when a
    /// ClientTimeout limit passes (`total` covers the redirects and the
    /// body; for a streamed one, its reads after return), TooManyRedirects,
    /// ServerDisconnectedError, ClientPayloadError. Cancelling it closes the
    /// connection it was using, or leaves the queue for a place without
    /// taking one.
    /// aiohttp: `session.request(...)`.
    Task<ClientResponse> request(std::string method, std::string url, std::string data = {},
                                 Headers headers = {}, RequestOptions options = {});
    /// The same with the body produced by `body`, an async generator of
    /// chunks, sent as they come with `Transfer-Encoding: chunked`, or as
    /// they are when `headers` has a Content-Length (then the chunks must
    /// add up to it: else std::invalid_argument, and the connection is
    /// closed). Empty chunks are skipped. The generator runs inside this
    /// call; what it throws is thrown here (the connection closed). Never
    /// retried. aiohttp: `session.request(..., data=async_generator)`.
    Task<ClientResponse> request(std::string method, std::string url,
                                 AsyncGenerator<std::string> body, Headers headers = {},
                                 RequestOptions options = {});
    /// aiohttp: `session.get(url)`.
    Task<ClientResponse> get(std::string url, Headers headers = {}, RequestOptions options = {});
    /// aiohttp: `session.post(url, data=...)`.
    Task<ClientResponse> post(std::string url, std::string data, Headers headers = {},
                              RequestOptions options = {});
    /// aiohttp: `session.post(url, data=async_generator)`.
    Task<ClientResponse> post(std::string url, AsyncGenerator<std::string> body,
                              Headers headers = {}, RequestOptions options = {});
    /// aiohttp: `session.put(url, data=...)`.
    Task<ClientResponse> put(std::string url, std::string data, Headers headers = {},
                             RequestOptions options = {});
    /// aiohttp: `session.patch(url, data=...)`.
    Task<ClientResponse> patch(std::string url, std::string data, Headers headers = {},
                               RequestOptions options = {});
    /// aiohttp: `session.delete(url)` (`delete` is a C++ keyword).
    Task<ClientResponse> delete_(std::string url, Headers headers = {},
                                 RequestOptions options = {});

    /// Closes the pooled connections and refuses later requests; requests
    /// waiting for a place under the limits throw RuntimeError. Suspends
    /// until they are closed. Idempotent. Connections held by streamed
    /// responses are closed when those are released. aiohttp: `await
    /// session.close()`.
    Task<void> close();
    /// aiohttp: `session.closed`.
    bool closed() const noexcept { return closed_; }
    /// Idle pooled connections now, over all hosts.
    std::size_t idle_connections() const noexcept;
    /// Connections open now, in use or idle, and being opened: what
    /// ClientSessionOptions::limit bounds. Never suspends.
    std::size_t open_connections() const noexcept;
    /// Connections opened so far (to observe reuse).
    std::uint64_t connections_opened() const noexcept { return opened_; }
    /// The session's cookies: every response's Set-Cookie fields are
    /// stored, and each request carries the matching ones in a Cookie field
    /// (unless the request's headers set Cookie themselves). Add or clear
    /// cookies through it. aiohttp: `session.cookie_jar`.
    CookieJar& cookie_jar() noexcept { return cookie_jar_; }

private:
    struct Target;
    struct Payload;
    Task<ClientResponse> follow(std::string method, std::string url, Payload& payload,
                                Headers headers, RequestOptions options);
    Task<ClientResponse> send(const Target& t, std::string method, Payload& payload,
                              const Headers& headers, bool stream);
    Task<void> write_body(detail::ClientConn& conn, Payload& payload,
                          std::optional<std::uint64_t> length);
    static Target make_target(std::string url);
    Task<std::unique_ptr<detail::ClientConn>> connection(const Target& t);

    ClientSessionOptions options_;
    std::shared_ptr<detail::ClientPool> pool_;
    bool closed_ = false;
    std::uint64_t opened_ = 0;
    CookieJar cookie_jar_;
};

/// Runs `body` with a new session and closes it after, also when `body`
/// throws (what it throws is rethrown) or is cancelled: the session as a
/// scoped guard, never reported unclosed. Suspends while `body` runs and
/// the session closes. aiohttp: `async with aiohttp.ClientSession() as s:`.
Task<void> with_session(std::function<Task<void>(ClientSession&)> body,
                        ClientSessionOptions options = {});

}  // namespace corio::http
