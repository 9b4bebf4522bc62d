// src/net/transports.cpp - create_connection and create_server: Protocol
// users on the connection engine (socket_transport.hpp), with the TLS layer
// (tls_transport.hpp) on top when TLS is asked for.
#include "corio/net/transports.hpp"

#include <cerrno>
#include <system_error>

#include "connection.hpp"
#include "server_state.hpp"

namespace corio::net {

Task<void> Transport::sendfile(int fd, std::uint64_t offset, std::uint64_t count) {
    (void)fd;
    (void)offset;
    (void)count;
    throw RuntimeError("sendfile() is not supported by this transport");
    co_return;
}

namespace {

struct Plan {
    std::shared_ptr<SslContext> ssl;
    std::string server_hostname;
    std::optional<Duration> timeout;
};

Plan plan_of(const ConnectOptions& o, std::string_view default_host) {
    return Plan{o.ssl ? o.ssl->shared_from_this() : nullptr,
                std::string(o.server_hostname.empty() ? default_host : o.server_hostname),
                o.ssl_handshake_timeout};
}

Task<std::shared_ptr<Transport>> connect_transport(Task<Socket> connecting, ProtocolFactory factory,
                                                   Plan plan) {
    Socket sock = co_await std::move(connecting);
    if (!plan.ssl) {
        co_return detail::start_plain(std::move(sock), factory(), nullptr);
    }
    // Named, not a braced temporary inside co_await (GCC 12: docs/pitfalls.md).
    detail::TlsPlan tls{std::move(plan.ssl), std::move(plan.server_hostname), plan.timeout};
    co_return co_await detail::start_tls_connection(std::move(sock), factory(), std::move(tls),
                                                    nullptr);
}

// A TLS client of a create_server server: the handshake, then the
// protocol's connection_made; a failure is reported in debug mode only.
Task<void> accept_tls(std::shared_ptr<detail::ServerState> st, ProtocolFactory factory, Socket sock,
                      SocketAddress peer) {
    detail::TlsPlan tls{st->ssl, std::string(), st->options.ssl_handshake_timeout};
    try {
        co_await detail::start_tls_connection(std::move(sock), factory(), std::move(tls), st.get());
    } catch (const CancelledError&) {
    } catch (...) {
        detail::report_failed_handshake(*st, peer);
    }
}

std::shared_ptr<detail::ServerState> transport_server(ProtocolFactory factory,
                                                      const ServerOptions& options) {
    if (!factory) {
        throw std::invalid_argument("create_server: protocol factory is empty");
    }
    auto st = detail::new_server(options, "create_server()");
    detail::ServerState* raw = st.get();
    st->on_accept = [raw, factory = std::move(factory)](Socket sock, SocketAddress peer) {
        if (peer.family() != AF_UNIX) {
            sock.set_nodelay(true);
        }
        if (raw->ssl) {
            corio::create_task(
                accept_tls(raw->shared_from_this(), factory, std::move(sock), std::move(peer)));
            return;
        }
        detail::start_plain(std::move(sock), factory(), raw);
    };
    return st;
}

}  // namespace

Task<std::shared_ptr<Transport>> create_connection(ProtocolFactory factory, std::string host,
                                                   std::uint16_t port, ConnectOptions options) {
    if (!factory) {
        throw std::invalid_argument("create_connection: protocol factory is empty");
    }
    Plan plan = plan_of(options, host);
    return connect_transport(detail::connect_tcp(std::move(host), port, options.local_addr),
                             std::move(factory), std::move(plan));
}

Task<std::shared_ptr<Transport>> create_unix_connection(ProtocolFactory factory, std::string path,
                                                        ConnectOptions options) {
    if (!factory) {
        throw std::invalid_argument("create_unix_connection: protocol factory is empty");
    }
    Plan plan = plan_of(options, {});
    return connect_transport(detail::connect_unix(std::move(path)), std::move(factory),
                             std::move(plan));
}

Task<Server> create_server(ProtocolFactory factory, std::string host, std::uint16_t port,
                           ServerOptions options) {
    return detail::listen_tcp(transport_server(std::move(factory), options), std::move(host), port);
}

Task<Server> create_unix_server(ProtocolFactory factory, std::string path, ServerOptions options) {
    return detail::listen_unix(transport_server(std::move(factory), options), std::move(path));
}

}  // namespace corio::net
