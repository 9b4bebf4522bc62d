// corio/net/udp.hpp - UDP: DatagramProtocol and DatagramTransport,
// create_datagram_endpoint.
//
// Mirrors asyncio's loop.create_datagram_endpoint. For the awaitable form,
// use sock_recvfrom / sock_sendto (socket.hpp) on a SOCK_DGRAM Socket.
#pragma once

#include <any>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string_view>

#include "corio/net/socket.hpp"
#include "corio/task.hpp"

namespace corio::net {

class DatagramTransport;

/// The callbacks of a UDP endpoint. asyncio: `asyncio.DatagramProtocol`.
class DatagramProtocol {
public:
    virtual ~DatagramProtocol() = default;
    virtual void connection_made(DatagramTransport& transport) { (void)transport; }
    /// A datagram arrived from `addr` (the data is valid during the call only).
    virtual void datagram_received(std::string_view data, const SocketAddress& addr) {
        (void)data;
        (void)addr;
    }
    /// A send or receive failed (e.g. ECONNREFUSED from an ICMP message on a
    /// connected endpoint); the endpoint stays open.
    virtual void error_received(std::exception_ptr exc) { (void)exc; }
    /// The endpoint is closed.
    virtual void connection_lost(std::exception_ptr exc) { (void)exc; }
};

/// A UDP endpoint. asyncio: `asyncio.DatagramTransport`.
class DatagramTransport : public std::enable_shared_from_this<DatagramTransport> {
public:
    virtual ~DatagramTransport() = default;
    /// Sends one datagram (to `addr`, or to the connected remote address);
    /// queued when the socket would block. Errors go to error_received().
    /// Throws std::invalid_argument without an address on an unconnected
    /// endpoint, RuntimeError after close(). asyncio: `sendto`.
    virtual void sendto(std::string_view data,
                        std::optional<SocketAddress> addr = std::nullopt) = 0;
    /// Closes once the queued datagrams are sent; connection_lost follows.
    virtual void close() = 0;
    /// Closes at once.
    virtual void abort() = 0;
    virtual bool is_closing() const noexcept = 0;
    /// Bytes of datagrams waiting to be sent.
    virtual std::size_t get_write_buffer_size() const noexcept = 0;
    virtual SocketAddress sockname() const = 0;
    /// "sockname", "peername" (SocketAddress) and "socket" (int).
    virtual std::any get_extra_info(std::string_view name) const = 0;
    virtual DatagramProtocol& get_protocol() noexcept = 0;
};

/// Options of create_datagram_endpoint (trivially destructible, see ConnectOptions).
struct DatagramOptions {
    std::optional<SocketAddress> local_addr;   // bind here
    std::optional<SocketAddress> remote_addr;  // connect here (then sendto without address)
    bool reuse_port = false;
    bool allow_broadcast = false;
};

/// Makes a UDP endpoint: binds and/or connects, creates the protocol,
/// calls connection_made. Throws std::invalid_argument without either
/// address, std::system_error from bind/connect.
/// asyncio: `loop.create_datagram_endpoint`.
Task<std::shared_ptr<DatagramTransport>> create_datagram_endpoint(
    std::function<std::unique_ptr<DatagramProtocol>()> factory, DatagramOptions options);

}  // namespace corio::net
