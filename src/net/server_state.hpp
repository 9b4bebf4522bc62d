// src/net/server_state.hpp - what start_server and create_server share
// (private): listening sockets, accept loops, the clients a server tracks,
// and connecting to host:port.
#pragma once

#include <sys/types.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "corio/detail/intrusive_list.hpp"
#include "corio/future.hpp"
#include "corio/locks.hpp"
#include "corio/net/socket.hpp"
#include "corio/net/streams.hpp"

namespace corio::net::detail {

class ServerState;

/// A connection that a server tracks, for close_clients() and wait_closed()
/// (asyncio's Server._attach/_detach): a stream connection or a transport.
class ServerClient {
public:
    ServerClient() = default;
    ServerClient(const ServerClient&) = delete;
    ServerClient& operator=(const ServerClient&) = delete;
    virtual ~ServerClient() { detach_from_server(); }

    /// Close after the buffered data is sent / at once (close_clients,
    /// abort_clients).
    virtual void close_client() = 0;
    virtual void abort_client() = 0;

    struct Link : corio::detail::ListNode {
        ServerClient* client = nullptr;
    };
    /// Leaves the server's list (on close or destruction).
    void detach_from_server() noexcept;

private:
    friend class ServerState;
    Link link_;
    ServerState* server_ = nullptr;
};

class ServerState : public std::enable_shared_from_this<ServerState> {
public:
    ~ServerState();

    /// Runs for each accepted connection (starts its handler or transport).
    std::function<void(Socket, SocketAddress)> on_accept;
    ServerOptions options;
    std::shared_ptr<SslContext> ssl;  // options.ssl, kept alive
    std::vector<Socket> listeners;
    std::vector<SocketAddress> addresses;  // emptied by close(), as asyncio's Server.sockets
    // A Unix socket file we bound, unlinked on close() if it is still ours
    // (asyncio 3.13's cleanup_socket).
    std::string unix_path;
    dev_t unix_dev = 0;
    ino_t unix_ino = 0;
    std::vector<TaskHandle<void>> acceptors;
    corio::detail::IntrusiveList<ServerClient::Link> clients;
    std::size_t active = 0;   // clients attached
    std::size_t handles = 0;  // Server objects (the last one closes)
    bool serving = false;
    Event idle;  // set when closed and no client is attached
    Future<void>* serving_forever = nullptr;
    EventLoop* loop = nullptr;

    void attach(ServerClient& c) noexcept;
    void close();
    void check_idle() noexcept;
};

/// The TLS handshake of an accepted connection failed (the current
/// exception says why): reported in debug mode only, with the client's
/// address, as asyncio does - a client that cannot speak TLS is the
/// client's problem, and 600 of them must not flood the log.
void report_failed_handshake(ServerState& st, const SocketAddress& peer) noexcept;

/// A new server on the running loop; throws std::invalid_argument for bad options.
std::shared_ptr<ServerState> new_server(const ServerOptions& options, const char* what);
/// Binds and listens on host:port (every address it resolves to) and starts accepting.
Task<Server> listen_tcp(std::shared_ptr<ServerState> st, std::string host, std::uint16_t port);
/// Binds and listens on a Unix path (removing a stale socket file) and starts accepting.
Task<Server> listen_unix(std::shared_ptr<ServerState> st, std::string path);

/// Connects to host:port, trying each resolved address; TCP_NODELAY set.
/// Throws the last attempt's std::system_error, or GaiError.
Task<Socket> connect_tcp(std::string host, std::uint16_t port,
                         std::optional<SocketAddress> local_addr);
/// Connects to a Unix-domain path.
Task<Socket> connect_unix(std::string path);

}  // namespace corio::net::detail
