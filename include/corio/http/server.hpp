// corio/http/server.hpp - serving an Application over HTTP/1.1: serve()
// returns a running server, run_app() serves until SIGINT/SIGTERM.
//
// Mirrors aiohttp's `web.AppRunner` + `web.TCPSite` (serve) and
// `web.run_app`. Each connection is a BufferedProtocol on corio's socket
// transport: requests are parsed straight from the transport's buffer
// (llhttp, strict), handled one at a time in order (pipelined requests are
// answered in the order they came), and each response leaves as one write
// that the transport gathers with the others of the loop iteration.
// HTTP/1.0 and 1.1, keep-alive, request bodies streamed to the handler
// with backpressure (chunked or not; `Expect: 100-continue` answered when
// the handler first reads), HEAD without a body; malformed requests and exceeded
// limits are answered 400/413/414/431/501/505 and the connection closed.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>

#include "corio/event_loop.hpp"
#include "corio/http/web.hpp"
#include "corio/task.hpp"

namespace corio {
class LoopGroup;
}  // namespace corio

namespace corio::net {
class SslContext;
}  // namespace corio::net

namespace corio::http::web {

/// Limits and timeouts of a server (aiohttp's names where it has them).
/// Every member is trivially destructible (see net::ConnectOptions).
struct ServerOptions {
    /// Request-target bytes; longer answers 414. aiohttp: max_line_size.
    std::size_t max_uri_size = 8190;
    /// Bytes of a request head; larger answers 431. aiohttp: max_field_size.
    std::size_t max_head_size = 16384;
    /// Header fields per request; more answers 431. aiohttp: max_headers.
    std::size_t max_headers = 100;
    /// Body bytes per request; more answers 413. aiohttp: client_max_size.
    std::uint64_t max_body_size = 1024 * 1024;
    /// Bytes of a request body buffered ahead of the handler
    /// (Request::content()): past it the server stops reading the
    /// connection until the handler reads. aiohttp: read_bufsize.
    std::size_t body_buffer_limit = 64 * 1024;
    /// Body bytes the server still reads and drops after a handler returned
    /// without reading its request's body, to keep the connection; a longer
    /// rest (or an `Expect: 100-continue` body never asked for) closes it.
    std::uint64_t discard_limit = 256 * 1024;
    /// Requests parsed ahead of the one being handled before the server stops
    /// reading from the connection (pipelining backpressure).
    std::size_t max_pipelined = 16;
    /// How long an idle keep-alive connection stays open. aiohttp: keepalive_timeout.
    Duration keepalive_timeout = std::chrono::seconds(75);
    /// SO_REUSEPORT on the listening socket (several loops on one port).
    bool reuse_port = false;
    /// Connections served at once (0: no limit). A connection accepted
    /// beyond it is not handled: its first request is answered 503 Service
    /// Unavailable with `Retry-After: 1` and `Connection: close`, then it is
    /// closed (the listener keeps accepting, so the client gets an answer
    /// instead of a stalled connect). WebSocket connections count too.
    /// nginx: `limit_conn` (503); aiohttp has none.
    std::size_t max_connections = 0;
    /// Where to write one access-log line per response, in the Combined Log
    /// Format (`127.0.0.1 - - [07/Dec/2026:03:04:05 +0000] "GET / HTTP/1.1"
    /// 200 14 "-" "curl/8.0"`: peer, time in UTC, request line, status,
    /// body bytes sent, Referer, User-Agent), flushed per line; null (the
    /// default) logs nothing. Requests refused before they parsed log "-"
    /// as the request line. The stream must outlive the server.
    /// aiohttp: `access_log` with `AccessLogger`'s default format.
    std::FILE* access_log = nullptr;
    /// Serve HTTPS with this server context (SslContext::server() with a
    /// certificate loaded); it must outlive the server. aiohttp: `ssl_context`.
    net::SslContext* ssl = nullptr;
};

/// A running HTTP server. Not copyable; destroying it while serving aborts
/// the listener and the connections (prefer `co_await shutdown()`).
/// aiohttp: `AppRunner` with a `TCPSite`.
class AppServer {
public:
    struct State;
    explicit AppServer(std::shared_ptr<State> state) noexcept;
    AppServer(AppServer&&) noexcept;
    AppServer& operator=(AppServer&&) noexcept;
    ~AppServer();

    /// The port it listens on (the real one when 0 was asked for).
    std::uint16_t port() const noexcept;
    /// Open connections now.
    std::size_t connections() const noexcept;
    /// Requests answered so far.
    std::uint64_t requests_served() const noexcept;
    /// Stops gracefully: stops listening, closes idle keep-alive
    /// connections, lets requests in flight finish and be answered (their
    /// connections then close) for up to `timeout`, then aborts what is
    /// left. Suspends until every connection is gone. Idempotent.
    /// Cancelling it aborts the remaining connections at once and rethrows.
    /// aiohttp: `await runner.cleanup()` (shutdown_timeout).
    Task<void> shutdown(Duration timeout = std::chrono::seconds(60));

private:
    std::shared_ptr<State> state_;
};

/// Starts serving `app` on host:port (port 0: any free port; read it back
/// with port()). `app` must outlive the server. Suspends until the socket
/// listens; throws std::system_error (EADDRINUSE, ...) or GaiError.
/// Cancellation before it returns leaves nothing open.
/// aiohttp: `AppRunner(app).setup()` + `TCPSite(runner, host, port).start()`.
Task<AppServer> serve(const Application& app, std::string host, std::uint16_t port,
                      ServerOptions options = {});

/// Serves `app` until SIGINT or SIGTERM arrives (or the calling task is
/// cancelled), then shuts down gracefully (see AppServer::shutdown with
/// `shutdown_timeout`) and returns. Prints nothing. Suspends for the
/// server's whole life; throws what serve() throws. Run it from
/// corio::run(). aiohttp: `web.run_app(app, host=..., port=...)`.
Task<void> run_app(const Application& app, std::string host = "127.0.0.1",
                   std::uint16_t port = 8080, ServerOptions options = {},
                   Duration shutdown_timeout = std::chrono::seconds(60));

/// Serves `app` from every loop of `group` on one port until SIGINT or
/// SIGTERM arrives, then shuts every loop's server down gracefully (as
/// AppServer::shutdown with `shutdown_timeout`) and returns. Each loop
/// listens with SO_REUSEPORT (options.reuse_port is forced on) and the
/// kernel spreads the connections over the loops; a connection is served
/// entirely by the loop that accepted it. `app` is shared by the loops: its
/// handlers and middlewares run on several threads at once, so state they
/// share needs its own locking. Blocks the calling thread, which must not
/// run an event loop (it is LoopGroup::run: RuntimeError otherwise).
/// Signals reach the group through LoopGroup's own handling
/// (LoopGroupOptions::handle_signals, on by default); LoopGroup::stop()
/// stops it the same way. Throws std::invalid_argument for port 0 (the
/// loops could not agree on a port), and what serve() throws on any loop
/// (the others are then stopped). aiohttp has no counterpart: it is
/// `web.run_app(app, reuse_port=True)` in N processes (gunicorn).
void run_app(LoopGroup& group, const Application& app, std::string host, std::uint16_t port,
             ServerOptions options = {}, Duration shutdown_timeout = std::chrono::seconds(60));

}  // namespace corio::http::web
