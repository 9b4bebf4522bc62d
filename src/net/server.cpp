// src/net/server.cpp - listening, accepting, tracking clients, connecting.
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

#include "corio/net/dns.hpp"
#include "server_state.hpp"

namespace corio::net {

namespace detail {

void ServerClient::detach_from_server() noexcept {
    if (ServerState* st = std::exchange(server_, nullptr)) {
        link_.unlink();
        --st->active;
        st->check_idle();
    }
}

ServerState::~ServerState() {
    while (!clients.empty()) {
        clients.pop_front().client->server_ = nullptr;
    }
}

void ServerState::attach(ServerClient& c) noexcept {
    c.server_ = this;
    c.link_.client = &c;
    clients.push_back(c.link_);
    ++active;
}

void ServerState::close() {
    if (!serving) {
        return;
    }
    serving = false;
    for (auto& t : acceptors) {
        t.cancel();
    }
    acceptors.clear();
    for (auto& s : listeners) {
        s.close();
    }
    addresses.clear();
    if (!unix_path.empty()) {
        struct stat sb;
        if (::stat(unix_path.c_str(), &sb) == 0 && sb.st_dev == unix_dev && sb.st_ino == unix_ino) {
            ::unlink(unix_path.c_str());  // not if another server took the path since
        }
    }
    if (serving_forever != nullptr && !serving_forever->done()) {
        serving_forever->cancel();
    }
    check_idle();
}

void report_failed_handshake(ServerState& st, const SocketAddress& peer) noexcept {
    if (st.loop->get_debug()) {
        st.loop->call_exception_handler(ExceptionContext{
            "TLS handshake of an accepted connection failed (client " + peer.to_string() + ")",
            std::current_exception(),
            {},
            {}});
    }
}

void ServerState::check_idle() noexcept {
    if (!serving && active == 0) {
        idle.set();
    }
}

std::shared_ptr<ServerState> new_server(const ServerOptions& options, const char* what) {
    if (options.limit == 0) {
        throw std::invalid_argument(std::string(what) + ": limit must be > 0");
    }
    if (options.backlog < 0) {
        throw std::invalid_argument(std::string(what) + ": backlog must be >= 0");
    }
    auto st = std::make_shared<ServerState>();
    st->options = options;
    st->ssl = options.ssl ? options.ssl->shared_from_this() : nullptr;
    st->loop = &corio::detail::running_loop_for(what);
    return st;
}

namespace {

bool out_of_resources(int err) {
    return err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM;
}

// accept(2): network errors of the pending connection, to retry like EAGAIN.
bool pending_connection_failed(int err) {
    switch (err) {
        case ENETDOWN:
        case EPROTO:
        case ENOPROTOOPT:
        case EHOSTDOWN:
        case ENONET:
        case EHOSTUNREACH:
        case EOPNOTSUPP:
        case ENETUNREACH:
            return true;
        default:
            return false;
    }
}

Task<void> accept_loop(std::shared_ptr<ServerState> st, std::size_t index) {
    for (;;) {
        std::optional<std::pair<Socket, SocketAddress>> accepted;
        try {
            accepted.emplace(co_await sock_accept(st->listeners[index]));
        } catch (const std::system_error& e) {
            int err = e.code().value();
            if (pending_connection_failed(err)) {
                continue;  // that connection is gone; the next one may be fine
            }
            if (!st->serving) {
                co_return;  // the listener was closed under us
            }
            // Report, stop accepting for a second, go on: asyncio does so when
            // out of resources, and its reader callback survives any other
            // error, so the server never stops accepting silently.
            st->loop->call_exception_handler(
                ExceptionContext{out_of_resources(err) ? "socket.accept() out of system resource"
                                                       : "socket.accept() failed",
                                 std::current_exception(),
                                 {},
                                 {}});
        }
        if (!accepted) {
            co_await corio::sleep(std::chrono::seconds(1));
            continue;
        }
        auto& [sock, peer] = *accepted;
        try {
            st->on_accept(std::move(sock), peer);
        } catch (...) {
            st->loop->call_exception_handler(ExceptionContext{
                "Error setting up an accepted connection (from " + peer.to_string() + ")",
                std::current_exception(),
                {},
                {}});
        }
    }
}

Server start_serving(std::shared_ptr<ServerState> st) {
    st->serving = true;
    for (std::size_t i = 0; i < st->listeners.size(); ++i) {
        st->addresses.push_back(st->listeners[i].local_address());
        st->acceptors.push_back(corio::create_task(accept_loop(st, i)));
    }
    return Server(st);
}

}  // namespace

Task<Server> listen_tcp(std::shared_ptr<ServerState> st, std::string host, std::uint16_t port) {
    std::vector<AddrInfo> infos =
        co_await getaddrinfo(host, std::to_string(port), AF_UNSPEC, SOCK_STREAM, 0, AI_PASSIVE);
    for (const AddrInfo& info : infos) {
        Socket s = Socket::create(info.family, SOCK_STREAM, info.protocol);
        if (st->options.reuse_address) {
            s.set_reuse_address(true);
        }
        if (st->options.reuse_port) {
            s.set_reuse_port(true);
        }
        if (info.family == AF_INET6) {
            int on = 1;  // like asyncio: the v6 socket does not also take v4
            ::setsockopt(s.fd(), IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on);
        }
        s.bind(info.address);
        s.listen(st->options.backlog);
        st->listeners.push_back(std::move(s));
    }
    co_return start_serving(std::move(st));
}

Task<Server> listen_unix(std::shared_ptr<ServerState> st, std::string path) {
    SocketAddress addr = SocketAddress::unix_path(path);
    if (path[0] != '@') {
        struct stat sb;
        if (::stat(path.c_str(), &sb) == 0 && S_ISSOCK(sb.st_mode)) {
            ::unlink(path.c_str());  // a stale socket file (asyncio does the same)
        }
    }
    Socket s = Socket::create(AF_UNIX, SOCK_STREAM);
    s.bind(addr);
    if (path[0] != '@') {
        struct stat sb;
        if (::stat(path.c_str(), &sb) == 0) {
            st->unix_path = path;
            st->unix_dev = sb.st_dev;
            st->unix_ino = sb.st_ino;
        }
    }
    s.listen(st->options.backlog);
    st->listeners.push_back(std::move(s));
    co_return start_serving(std::move(st));
}

Task<Socket> connect_tcp(std::string host, std::uint16_t port,
                         std::optional<SocketAddress> local_addr) {
    std::vector<AddrInfo> infos =
        co_await getaddrinfo(host, std::to_string(port), AF_UNSPEC, SOCK_STREAM);
    std::exception_ptr last;
    for (const AddrInfo& info : infos) {
        try {
            Socket sock = Socket::create(info.family, SOCK_STREAM, info.protocol);
            if (local_addr) {
                sock.bind(*local_addr);
            }
            co_await sock_connect(sock, info.address);
            sock.set_nodelay(true);
            co_return sock;
        } catch (const std::system_error&) {
            last = std::current_exception();
        }
    }
    if (last) {
        std::rethrow_exception(last);
    }
    throw std::system_error(EHOSTUNREACH, std::generic_category(),
                            "connect " + host + ": no address to connect to");
}

Task<Socket> connect_unix(std::string path) {
    SocketAddress addr = SocketAddress::unix_path(path);
    Socket sock = Socket::create(AF_UNIX, SOCK_STREAM);
    co_await sock_connect(sock, addr);
    co_return sock;
}

}  // namespace detail

// -- Server -------------------------------------------------------------------

Server::Server(std::shared_ptr<detail::ServerState> state) noexcept : state_(std::move(state)) {
    ++state_->handles;
}

Server::Server(const Server& o) noexcept : state_(o.state_) {
    if (state_) {
        ++state_->handles;
    }
}

Server& Server::operator=(Server o) noexcept {
    std::swap(state_, o.state_);
    return *this;
}

Server::~Server() {
    if (state_ && --state_->handles == 0) {
        state_->close();  // the last handle: stop listening (connections go on)
    }
}

std::vector<SocketAddress> Server::sockets() const {
    return state_->addresses;
}
bool Server::is_serving() const noexcept {
    return state_->serving;
}
void Server::close() {
    state_->close();
}

void Server::close_clients() {
    state_->clients.for_each([](detail::ServerClient::Link& l) { l.client->close_client(); });
}

void Server::abort_clients() {
    state_->clients.for_each([](detail::ServerClient::Link& l) { l.client->abort_client(); });
}

namespace {

Task<void> wait_closed_on(std::shared_ptr<detail::ServerState> st) {
    co_await st->idle.wait();
}

Task<void> serve_forever_on(std::shared_ptr<detail::ServerState> st) {
    if (st->serving_forever != nullptr) {
        throw RuntimeError("serve_forever: the server is already being awaited");
    }
    if (!st->serving) {
        throw RuntimeError("serve_forever: the server is closed");
    }
    Future<void> forever;
    st->serving_forever = &forever;
    std::exception_ptr cancelled;
    try {
        co_await forever;
    } catch (const CancelledError&) {
        cancelled = std::current_exception();
    }
    st->serving_forever = nullptr;
    st->close();
    co_await st->idle.wait();
    std::rethrow_exception(cancelled);
}

}  // namespace

// Both copy the state before returning their lazy task (see StreamReader::read).
Task<void> Server::wait_closed() {
    return wait_closed_on(state_);
}

Task<void> Server::serve_forever() {
    return serve_forever_on(state_);
}

std::size_t Server::active_connections() const noexcept {
    return state_->active;
}

}  // namespace corio::net
