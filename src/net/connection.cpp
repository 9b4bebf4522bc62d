// src/net/connection.cpp - the transport stack of a new connection.
#include "connection.hpp"

#include "corio/future.hpp"
#include "socket_transport.hpp"
#include "tls_transport.hpp"

namespace corio::net::detail {

std::shared_ptr<Transport> start_plain(Socket sock, std::unique_ptr<Protocol> proto,
                                       ServerState* server, bool is_socket, bool reading) {
    auto t = std::make_shared<SocketTransport>(std::move(sock), is_socket);
    if (server != nullptr) {
        server->attach(*t);
    }
    t->start(std::move(proto), reading);
    return t;
}

Task<std::shared_ptr<Transport>> start_tls_connection(Socket sock, std::unique_ptr<Protocol> proto,
                                                      TlsPlan plan, ServerState* server) {
    auto raw = std::make_shared<SocketTransport>(std::move(sock));
    if (server != nullptr) {
        // Before the handshake: close_clients() and wait_closed() see it.
        server->attach(*raw);
    }
    TlsTransport::Options options;
    options.server_hostname = std::move(plan.server_hostname);
    options.handshake_timeout = plan.handshake_timeout;
    options.call_connection_made = true;
    auto tls =
        std::make_shared<TlsTransport>(std::move(proto), std::move(plan.ctx), std::move(options));
    raw->set_server_face(tls.get());
    Future<void> done;
    tls->on_handshake_done([done](std::exception_ptr e) mutable {
        if (!done.done()) {
            e ? done.set_exception(e) : done.set_result();
        }
    });
    raw->start(tls->make_raw_protocol());
    try {
        co_await done;
    } catch (...) {
        tls->abort();  // a half-made session cannot carry data (asyncio aborts too)
        throw;
    }
    co_return tls;
}

}  // namespace corio::net::detail
