// corio/net/transports.hpp - callback-style connections: Protocol and
// Transport, create_connection, create_server.
//
// Mirrors asyncio's protocols.py and transports.py: the loop reads the socket
// itself and calls the protocol (data_received, eof_received,
// connection_lost), and the protocol writes through the transport. No task
// switch per message: this is the style uvloop's fastest numbers come from.
// All callbacks run on the loop thread; an exception escaping one goes to the
// loop's exception handler and closes the transport (asyncio's _fatal_error).
#pragma once

#include <any>
#include <cstddef>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

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

/// The connection side of a Protocol. asyncio: `asyncio.Transport`.
class Transport : public std::enable_shared_from_this<Transport> {
public:
    virtual ~Transport() = default;

    /// Sends `data` now if the socket takes it, buffers the rest. After
    /// close() or a lost connection the data is dropped; after write_eof() it
    /// is a RuntimeError. asyncio: `write`.
    virtual void write(std::string_view data) = 0;
    template <class Range>
    void writelines(const Range& lines) {
        for (const auto& l : lines) {
            write(std::string_view(l));
        }
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

}  // namespace corio::net
