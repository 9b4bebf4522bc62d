// corio/net/transports.hpp - callback-style connections: Protocol and
// Transport, create_connection, create_server, start_tls.
//
// Mirrors asyncio's protocols.py and transports.py: the loop reads the socket
// itself and calls the protocol (data_received, eof_received,
// connection_lost), and the protocol writes through the transport. No task
// switch per message: this is the style uvloop's fastest numbers come from.
// All callbacks run on the loop thread; an exception escaping one goes to the
// loop's exception handler and closes the transport (asyncio's _fatal_error).
// start_tls layers TLS over any open transport, as asyncio's sslproto does.
#pragma once

#include <any>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "corio/errors.hpp"
#include "corio/net/socket.hpp"
#include "corio/net/streams.hpp"
#include "corio/net/tls.hpp"
#include "corio/task.hpp"

namespace corio::net {

class Transport;

/// The callbacks of a stream connection. Override what you need.
/// asyncio: `asyncio.Protocol`.
class Protocol {
public:
    virtual ~Protocol() = default;
    /// The connection is up; keep `transport` to write. It stays valid until
    /// connection_lost() returns (use shared_from_this() to hold it longer).
    virtual void connection_made(Transport& transport) { (void)transport; }
    /// Bytes arrived (valid during the call only).
    virtual void data_received(std::string_view data) { (void)data; }
    /// The peer half-closed. Return true to keep the transport open for
    /// writing; false (the default) closes it. asyncio: `eof_received`.
    virtual bool eof_received() { return false; }
    /// The connection is closed: null on a clean close, else the error.
    virtual void connection_lost(std::exception_ptr exc) { (void)exc; }
    /// The transport's write buffer went above its high-water mark / back
    /// below its low-water mark.
    virtual void pause_writing() {}
    virtual void resume_writing() {}
};

/// A Protocol that lends its own buffer for what arrives: the transport asks
/// for room (get_buffer), reads into it, and says how much came
/// (buffer_updated). No copy between the kernel and the protocol's buffer on
/// the epoll backend; one copy out of the ring's shared buffers on io_uring
/// (where an idle connection holds no buffer at all). A transport that
/// cannot lend (TLS, which decrypts into its own buffer) calls
/// data_received, which copies through get_buffer/buffer_updated.
/// asyncio: `asyncio.BufferedProtocol`.
class BufferedProtocol : public Protocol {
public:
    /// Room for at least one byte, at most `sizehint` needed (a hint: a
    /// bigger span is fine). Valid until buffer_updated(). Returning an
    /// empty span is a protocol error (the connection is closed).
    virtual std::span<char> get_buffer(std::size_t sizehint) = 0;
    /// `nbytes` bytes were written at the start of the last buffer.
    virtual void buffer_updated(std::size_t nbytes) = 0;
    /// For transports that do not lend: copies `data` in through
    /// get_buffer/buffer_updated, as many times as needed.
    void data_received(std::string_view data) final;
};

/// The connection side of a Protocol. asyncio: `asyncio.Transport`.
class Transport : public std::enable_shared_from_this<Transport> {
public:
    virtual ~Transport() = default;

    /// Buffers `data` (copied: the caller's buffer is free at once). What
    /// one iteration of the loop writes leaves in one gathered syscall at
    /// the end of the iteration, or sooner once 64 KiB are buffered. After
    /// close() or a lost connection the data is dropped; after write_eof()
    /// it is a RuntimeError. asyncio: `write`.
    virtual void write(std::string_view data) = 0;
    /// Buffers every piece, as write() of each, in one go.
    /// asyncio: `writelines`.
    virtual void writelines(std::span<const std::string_view> pieces) {
        for (std::string_view p : pieces) {
            write(p);
        }
    }
    template <class Range>
    void writelines(const Range& lines) {
        std::vector<std::string_view> pieces;
        for (const auto& l : lines) {
            pieces.emplace_back(l);
        }
        writelines(std::span<const std::string_view>(pieces));
    }
    /// Half-closes once the buffer is sent (not on TLS: RuntimeError).
    virtual void write_eof() = 0;
    virtual bool can_write_eof() const noexcept = 0;
    /// Closes once the buffer is sent; connection_lost(null) follows.
    virtual void close() = 0;
    /// Closes at once, dropping the buffer; connection_lost(null) follows.
    virtual void abort() = 0;
    virtual bool is_closing() const noexcept = 0;
    /// Stops / restarts calling data_received (backpressure on the reader).
    virtual void pause_reading() = 0;
    virtual void resume_reading() = 0;
    virtual bool is_reading() const noexcept = 0;
    /// Write-buffer watermarks and the buffer's size, as StreamWriter's
    /// (high 0 means: pause as soon as anything is buffered).
    virtual void set_write_buffer_limits(std::optional<std::size_t> high = std::nullopt,
                                         std::optional<std::size_t> low = std::nullopt) = 0;
    virtual std::size_t get_write_buffer_size() const noexcept = 0;
    virtual SocketAddress peername() const = 0;
    virtual SocketAddress sockname() const = 0;
    /// As StreamWriter::get_extra_info.
    virtual std::any get_extra_info(std::string_view name) const = 0;
    virtual Protocol& get_protocol() noexcept = 0;
    /// Makes `protocol` receive this transport's events from now on and
    /// returns the previous protocol, which the caller then owns: keep it
    /// alive while one of its callbacks may still be running (the caller may
    /// be one). Does not suspend. Throws std::invalid_argument if `protocol`
    /// is null, RuntimeError if the transport cannot switch protocols (the
    /// default). asyncio: `BaseTransport.set_protocol`.
    virtual std::unique_ptr<Protocol> set_protocol(std::unique_ptr<Protocol> protocol) {
        (void)protocol;
        throw RuntimeError("set_protocol() is not supported by this transport");
    }
    /// Whether sendfile() works on this transport: a plain TCP or Unix
    /// socket on the epoll backend (not TLS, not pipes, not io_uring).
    virtual bool can_sendfile() const noexcept { return false; }
    /// Sends `count` bytes of the file open as `fd` (a regular file),
    /// starting at `offset`, with sendfile(2): the kernel copies from the
    /// page cache to the socket, the bytes never enter this process. What
    /// write() buffered before goes out first. Suspends while the socket is
    /// full (that is its backpressure) and returns once the kernel took the
    /// last byte; the file's own offset is not moved. Do not write() while
    /// it runs. Throws RuntimeError where can_sendfile() is false, after
    /// write_eof() or while another sendfile() runs; std::system_error with
    /// ECONNRESET when the connection is lost (or the send's errno), EIO
    /// when the file ends before `count` bytes. Cancellation stops it
    /// between two sends, the file partly sent. asyncio:
    /// `loop.sendfile(transport, file, offset, count)` (without its fallback).
    virtual Task<void> sendfile(int fd, std::uint64_t offset, std::uint64_t count);
};

/// Makes the protocol of a new connection.
using ProtocolFactory = std::function<std::unique_ptr<Protocol>()>;

/// Connects to host:port and returns the transport (its protocol made by
/// `factory`, connection_made already called). Throws as open_connection.
/// asyncio: `loop.create_connection`.
Task<std::shared_ptr<Transport>> create_connection(ProtocolFactory factory, std::string host,
                                                   std::uint16_t port, ConnectOptions options = {});
/// The same over a Unix-domain socket. asyncio: `loop.create_unix_connection`.
Task<std::shared_ptr<Transport>> create_unix_connection(ProtocolFactory factory, std::string path,
                                                        ConnectOptions options = {});

/// A server whose connections are transports with protocols from `factory`.
/// asyncio: `loop.create_server`.
Task<Server> create_server(ProtocolFactory factory, std::string host, std::uint16_t port,
                           ServerOptions options = {});
/// The same on a Unix-domain socket (its file handled as start_unix_server
/// does). asyncio: `loop.create_unix_server`.
Task<Server> create_unix_server(ProtocolFactory factory, std::string path,
                                ServerOptions options = {});

/// Options of start_tls (trivially destructible, see ConnectOptions).
struct StartTlsOptions {
    /// Which side of the handshake to take; it must agree with the context
    /// (SslContext::server() or client()), which decides when unset.
    std::optional<bool> server_side;
    /// Client: the name sent as SNI (unless it is an IP address) and checked
    /// against the certificate; required when the context checks host names.
    std::string_view server_hostname;
    /// How long the handshake may take (null: no limit).
    std::optional<Duration> ssl_handshake_timeout = std::chrono::seconds(60);
    /// How long close() waits for the peer's close_notify before aborting
    /// the connection (null: no limit). asyncio 3.11's `ssl_shutdown_timeout`.
    std::optional<Duration> ssl_shutdown_timeout = std::chrono::seconds(30);
    /// corio: also call the protocol's connection_made with the TLS
    /// transport once the handshake is done (asyncio's start_tls does not).
    bool call_connection_made = false;
};

/// Upgrades the open connection `transport` to TLS (STARTTLS) and returns
/// the TLS transport once the handshake is complete. A TLS layer takes the
/// protocol's place on `transport` (set_protocol) and hands decrypted data to
/// the transport's previous protocol, which it now owns; from then on that
/// protocol writes through the returned transport (writes to `transport`
/// itself would bypass TLS). As asyncio, the protocol's connection_made is
/// not called again (unless options.call_connection_made); its
/// connection_lost is called exactly once when the TLS connection ends:
/// null after a clean close (close_notify or EOF), the error otherwise -
/// SslError for TLS failures (also when the handshake fails), TimeoutError
/// when the peer ignores close_notify for ssl_shutdown_timeout, the
/// transport's own error when the connection breaks. The TLS transport's
/// close() flushes, sends close_notify and closes once the peer answers;
/// write_eof() is a RuntimeError; pause_reading() pauses `transport` too;
/// get_extra_info adds "ssl_object" (SSL*), "sslcontext"
/// (std::shared_ptr<SslContext>), "alpn_protocol", "server_hostname",
/// "cipher", "version" and "peercert_subject" (std::string) to the keys of
/// `transport`. Suspends until the handshake ends. Throws
/// std::invalid_argument at once for a null argument, a server_side the
/// context disagrees with, a non-positive timeout, or a checking client
/// without server_hostname; RuntimeError if `transport` is closing or cannot
/// switch protocols (it is then left as it was); SslError (verification
/// failures included, and a peer that closes during the handshake),
/// TimeoutError (ssl_handshake_timeout) or std::system_error, after which
/// the connection is closed. Cancelling it aborts the connection.
/// asyncio: `loop.start_tls`.
Task<std::shared_ptr<Transport>> start_tls(std::shared_ptr<Transport> transport,
                                           std::shared_ptr<SslContext> sslcontext,
                                           StartTlsOptions options = {});
/// The same, with `protocol` receiving the decrypted data instead of the
/// transport's previous protocol, which the TLS transport keeps alive (and
/// never calls) as long as it lives. With options.call_connection_made,
/// `protocol` counts as connected only from its connection_made on: a failed
/// handshake then ends without calling it at all. asyncio:
/// `loop.start_tls(transport, protocol, ...)` with another protocol.
Task<std::shared_ptr<Transport>> start_tls(std::shared_ptr<Transport> transport,
                                           std::unique_ptr<Protocol> protocol,
                                           std::shared_ptr<SslContext> sslcontext,
                                           StartTlsOptions options = {});

}  // namespace corio::net
