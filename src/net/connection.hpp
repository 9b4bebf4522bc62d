// src/net/connection.hpp - making the transport stack of a new connection
// (private): a SocketTransport, with the TLS layer on top when TLS is asked
// for. Shared by streams (open_connection, start_server), protocols
// (create_connection, create_server) and subprocess pipes.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "corio/net/transports.hpp"
#include "server_state.hpp"

namespace corio::net::detail {

/// TLS for a new connection: client or server side as the context says.
struct TlsPlan {
    std::shared_ptr<SslContext> ctx;
    std::string server_hostname;  // client: SNI and the name checked
    std::optional<Duration> handshake_timeout;
};

/// Starts `proto` on a new transport over `sock` (tracked by `server` if
/// given); `proto`'s connection_made runs before this returns. Throws what
/// registering the socket throws.
std::shared_ptr<Transport> start_plain(Socket sock, std::unique_ptr<Protocol> proto,
                                       ServerState* server, bool is_socket = true,
                                       bool reading = true);

/// The same with TLS on top: suspends until the handshake is done, then
/// returns the TLS transport (`proto`'s connection_made has run with it).
/// Throws SslError, TimeoutError (handshake_timeout), std::system_error
/// (the connection broke); the connection is then aborted. Cancellation
/// aborts the connection too.
Task<std::shared_ptr<Transport>> start_tls_connection(Socket sock, std::unique_ptr<Protocol> proto,
                                                      TlsPlan plan, ServerState* server);

}  // namespace corio::net::detail
