// corio/net/streams.hpp - StreamReader, StreamWriter, open_connection,
// start_server (TCP, Unix sockets, TLS).
//
// Mirrors asyncio's streams.py, and is built the same way: a protocol on a
// transport. The transport reads whenever data comes and the reader's
// buffer takes it; once it holds more than twice the limit, reading pauses
// until a read brings it back under the limit (asyncio's backpressure).
// Writes are queued and leave together at the end of the loop iteration
// (one gathered syscall for everything written in it), and drain() waits
// while the transport's buffer is above its high-water mark (64 KiB) until
// it is below the low one (16 KiB). Reader and writer of one connection
// share it; either keeps it alive, and when both are gone the connection
// closes once what was written has been sent.
#pragma once

#include <sys/socket.h>

#include <any>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "corio/event_loop.hpp"
#include "corio/net/socket.hpp"
#include "corio/net/tls.hpp"
#include "corio/task.hpp"

namespace corio::net {

namespace detail {
class StreamConn;
class ServerState;
}  // namespace detail

/// asyncio's default stream limit: 64 KiB.
inline constexpr std::size_t kDefaultLimit = 64 * 1024;

/// Reads from a connection (or from data fed to it). asyncio: `StreamReader`.
/// Copies share the stream. Only one task may read at a time.
class StreamReader {
public:
    /// A reader fed by feed_data()/feed_eof() (asyncio's `StreamReader()`),
    /// e.g. for tests or custom protocols.
    explicit StreamReader(std::size_t limit = kDefaultLimit);
    explicit StreamReader(std::shared_ptr<detail::StreamConn> conn) noexcept;

    /// Up to `n` bytes (suspending until at least one is available), or, for
    /// n = -1, everything until EOF. An empty string means EOF. Throws the
    /// connection's error (std::system_error, SslError). Cancellation loses
    /// nothing: bytes read but not returned stay buffered. asyncio: `read`.
    Task<std::string> read(long n = -1);
    /// One line, including its "\n" (the last line may lack it; "" at EOF).
    /// Throws std::invalid_argument (asyncio's ValueError) when a line
    /// exceeds the limit, after dropping it. asyncio: `readline`.
    Task<std::string> readline();
    /// Exactly `n` bytes; throws IncompleteReadError (with the partial data)
    /// if EOF comes first. asyncio: `readexactly`.
    Task<std::string> readexactly(std::size_t n);
    /// Data up to and including `separator`. Throws IncompleteReadError at
    /// EOF without it, LimitOverrunError if it is not found within the limit
    /// (the data stays buffered). asyncio: `readuntil`.
    Task<std::string> readuntil(std::string separator = "\n");
    /// True when the buffer is empty and EOF was seen. Never suspends; with
    /// nothing buffered and no read in progress it reads once without
    /// waiting (what arrives is buffered), so EOF shows as soon as the peer
    /// closed, as in asyncio. asyncio: `at_eof`.
    bool at_eof() const noexcept;

    /// For fed readers: appends data / marks EOF / fails pending and later
    /// reads. asyncio: `feed_data`, `feed_eof`, `set_exception`.
    void feed_data(std::string_view data);
    void feed_eof();
    void set_exception(std::exception_ptr e);
    /// The stored error, if any. asyncio: `exception`.
    std::exception_ptr exception() const;
    /// The buffer limit for readline/readuntil.
    std::size_t limit() const noexcept;

    /// The shared connection (internal).
    const std::shared_ptr<detail::StreamConn>& conn() const noexcept { return conn_; }

private:
    std::shared_ptr<detail::StreamConn> conn_;
};

/// Writes to a connection. asyncio: `StreamWriter`. Copies share the stream.
class StreamWriter {
public:
    explicit StreamWriter(std::shared_ptr<detail::StreamConn> conn) noexcept;

    /// Queues `data` (copied) to be sent at the end of this loop iteration,
    /// with everything else written in it, or at once past 64 KiB queued.
    /// Never suspends. After close() or a lost connection the data is
    /// dropped (drain() reports the error); after write_eof() it is a
    /// RuntimeError. asyncio: `write`.
    void write(std::string_view data);
    /// Buffers every element, as write() of each; they leave together, in
    /// one gathered write. asyncio: `writelines`.
    template <class Range>
    void writelines(const Range& lines) {
        std::vector<std::string_view> pieces;
        for (const auto& l : lines) {
            pieces.emplace_back(l);
        }
        writelines_views(pieces);
    }
    /// Suspends while the write buffer is above its high-water mark, until
    /// it is below the low one. Throws the connection's error (e.g.
    /// std::system_error ECONNRESET/EPIPE) once the connection is lost, and
    /// std::system_error ECONNRESET "Connection lost" once it is closed
    /// (after close() or abort(), as asyncio's ConnectionResetError) - also
    /// for a drain already waiting then, where asyncio returns normally: the
    /// data it waited for was not all sent. Cancellation only stops waiting.
    /// asyncio: `drain`.
    Task<void> drain();
    /// Closes after the buffered data is sent (TLS: with close_notify); a
    /// task blocked reading this connection sees EOF. asyncio: `close`.
    void close();
    /// Closes at once, dropping buffered data. asyncio: `transport.abort`.
    void abort();
    /// Suspends until the connection is closed. asyncio: `wait_closed`.
    Task<void> wait_closed();
    bool is_closing() const noexcept;
    /// True for TCP and Unix sockets, false for TLS. asyncio: `can_write_eof`.
    bool can_write_eof() const noexcept;
    /// Half-closes (shutdown(SHUT_WR)) once the buffer is sent; on a pipe
    /// (a child's stdin) closes it once flushed, as asyncio. A no-op after
    /// close(). Throws RuntimeError on TLS streams. asyncio: `write_eof`.
    void write_eof();

    /// Upgrades the connection to TLS (STARTTLS): sends everything buffered
    /// in clear text, then handshakes as a client (or as a server with a
    /// server context). Suspends while the buffer drains and during the
    /// handshake; a read already waiting (or started meanwhile) waits for
    /// the handshake too and then returns decrypted data. Throws
    /// RuntimeError if unread data is buffered or the stream already uses
    /// TLS; SslError, TimeoutError or std::system_error if the handshake
    /// fails, and then the connection is aborted (as asyncio). Cancelling it
    /// aborts the half-made session likewise. asyncio: `start_tls`.
    Task<void> start_tls(std::shared_ptr<SslContext> ctx, std::string server_hostname = {},
                         std::optional<Duration> handshake_timeout = std::nullopt);

    /// The transport's write-buffer watermarks, as asyncio's: high defaults
    /// to 64 KiB (4 x low when only low is given), low to high / 4; high 0
    /// makes drain() wait until the buffer is empty. Throws
    /// std::invalid_argument if low > high.
    /// asyncio: `transport.set_write_buffer_limits`.
    void set_write_buffer_limits(std::optional<std::size_t> high = std::nullopt,
                                 std::optional<std::size_t> low = std::nullopt);
    /// Bytes buffered and not yet sent. asyncio: `transport.get_write_buffer_size`.
    std::size_t get_write_buffer_size() const noexcept;

    /// The peer's address. asyncio: `get_extra_info("peername")`.
    SocketAddress peername() const;
    /// The local address. asyncio: `get_extra_info("sockname")`.
    SocketAddress sockname() const;
    /// The socket's fd (-1 once closed). asyncio: `get_extra_info("socket")`.
    int socket() const noexcept;
    /// The OpenSSL object of a TLS stream, else null. asyncio: `get_extra_info("ssl_object")`.
    SSL* ssl_object() const noexcept;
    /// asyncio's get_extra_info(name): "peername", "sockname" (SocketAddress),
    /// "socket" (int), "ssl_object" (SSL*), "alpn_protocol", "server_hostname",
    /// "cipher", "version", "peercert_subject" (std::string); empty if unknown.
    std::any get_extra_info(std::string_view name) const;

    const std::shared_ptr<detail::StreamConn>& conn() const noexcept { return conn_; }

private:
    void writelines_views(std::span<const std::string_view> pieces);

    std::shared_ptr<detail::StreamConn> conn_;
};

/// Options of open_connection / open_unix_connection:
/// `co_await open_connection(host, port, {.ssl = ctx.get()})`.
/// Every member is trivially destructible on purpose: GCC 12 destroys an
/// aggregate temporary inside a co_await expression twice (once at a wrong
/// address), which is harmless only for such types. The functions copy what
/// they keep (the context is shared, the name copied) before they suspend.
struct ConnectOptions {
    SslContext* ssl = nullptr;                // TLS client context (made by SslContext::client())
    std::size_t limit = kDefaultLimit;        // StreamReader limit
    std::optional<SocketAddress> local_addr;  // bind before connecting
    std::string_view server_hostname;         // TLS: SNI and verification name (default: host)
    std::optional<Duration> ssl_handshake_timeout = std::chrono::seconds(60);
};

/// Connects to host:port (names resolved without blocking the loop; each
/// address tried in turn) and returns the stream pair. Throws
/// std::system_error of the last attempt (e.g. ECONNREFUSED), GaiError,
/// SslError, TimeoutError for a TLS handshake that takes too long.
/// asyncio: `asyncio.open_connection`.
Task<std::pair<StreamReader, StreamWriter>> open_connection(std::string host, std::uint16_t port,
                                                            ConnectOptions options = {});
/// Connects to a Unix-domain socket. asyncio: `asyncio.open_unix_connection`.
Task<std::pair<StreamReader, StreamWriter>> open_unix_connection(std::string path,
                                                                 ConnectOptions options = {});

/// What a server runs for each client, as its own task.
using ClientConnected = std::function<Task<void>(StreamReader, StreamWriter)>;

/// Options of start_server / start_unix_server (trivially destructible, see
/// ConnectOptions).
struct ServerOptions {
    int backlog = SOMAXCONN;    // asyncio: 100; corio: the kernel's maximum
    bool reuse_address = true;  // SO_REUSEADDR (TCP)
    bool reuse_port = false;    // SO_REUSEPORT: several loops share a port
    SslContext* ssl = nullptr;  // TLS server context (made by SslContext::server())
    std::size_t limit = kDefaultLimit;
    std::optional<Duration> ssl_handshake_timeout = std::chrono::seconds(60);
};

/// A listening server. Copies share it; the last copy closes it.
/// asyncio: `asyncio.Server`.
class Server {
public:
    explicit Server(std::shared_ptr<detail::ServerState> state) noexcept;
    Server(const Server& o) noexcept;
    Server(Server&& o) noexcept = default;
    Server& operator=(Server o) noexcept;
    ~Server();

    /// The bound addresses (with the real port when 0 was asked for); empty
    /// once closed.
    std::vector<SocketAddress> sockets() const;
    bool is_serving() const noexcept;
    /// Stops listening; open connections go on. asyncio: `Server.close`.
    void close();
    /// Closes every client connection (after its buffered data) / at once.
    /// asyncio 3.13: `close_clients`, `abort_clients`.
    void close_clients();
    void abort_clients();
    /// Suspends until the server is closed and every client handler ended.
    /// asyncio: `Server.wait_closed`.
    Task<void> wait_closed();
    /// Serves until the server is closed or this task is cancelled (which
    /// closes the server); then throws CancelledError. asyncio: `serve_forever`.
    Task<void> serve_forever();
    /// Client handlers running now.
    std::size_t active_connections() const noexcept;

private:
    std::shared_ptr<detail::ServerState> state_;
};

/// Listens on host:port (empty host: every interface; port 0: any free
/// port) and runs `handler(reader, writer)` as a task per client; an
/// exception from a handler is reported through the loop's exception handler
/// and the connection closed. Throws std::system_error (e.g. EADDRINUSE),
/// GaiError. asyncio: `asyncio.start_server`.
Task<Server> start_server(ClientConnected handler, std::string host, std::uint16_t port,
                          ServerOptions options = {});
/// Listens on a Unix-domain socket; a stale socket file at `path` is
/// removed first, and close() removes the server's own file (unless another
/// socket replaced it), as asyncio 3.13's default cleanup_socket=True.
/// asyncio: `asyncio.start_unix_server`.
Task<Server> start_unix_server(ClientConnected handler, std::string path,
                               ServerOptions options = {});

}  // namespace corio::net
