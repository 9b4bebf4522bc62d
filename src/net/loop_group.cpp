// src/net/loop_group.cpp - one port served by every loop of a LoopGroup,
// built only on the public start_server / create_server and submit_to.
//
// State: `servers[i]` is touched on loop i's thread only (inside tasks
// submitted there, or callbacks posted there); `port` and `addresses` are
// written before the GroupServer is handed out and only read afterwards,
// except that close() empties `addresses` from the closing task's thread,
// which is why they sit behind `mu`.
#include "corio/net/loop_group.hpp"

#include <exception>
#include <functional>
#include <mutex>
#include <optional>
#include <utility>

namespace corio::net {

struct GroupServer::State {
    std::vector<EventLoop*> loops;
    std::vector<std::optional<Server>> servers;  // [i]: loop i's thread only
    std::uint16_t port = 0;
    std::atomic<bool> serving{true};
    std::atomic<bool> closed{false};  // close_all() went through every loop
    mutable std::mutex mu;
    std::vector<SocketAddress> addresses;  // under mu
};

namespace {

using State = GroupServer::State;
// Starts one loop's server on `port`; runs on that loop.
using Starter = std::function<Task<Server>(std::uint16_t port)>;

Task<std::vector<SocketAddress>> start_one(std::shared_ptr<State> st, std::size_t i, Starter start,
                                           std::uint16_t port) {
    Server server = co_await start(port);
    std::vector<SocketAddress> addrs = server.sockets();
    st->servers[i].emplace(std::move(server));
    co_return addrs;
}

// Loop i: stops listening (the server object stays for wait_one).
Task<void> close_one(std::shared_ptr<State> st, std::size_t i) {
    if (st->servers[i]) {
        st->servers[i]->close();
    }
    co_return;
}

// Loop i: waits until the server is closed and its clients are gone.
Task<void> wait_one(std::shared_ptr<State> st, std::size_t i) {
    if (!st->servers[i]) {
        co_return;
    }
    std::optional<Server> server = std::move(st->servers[i]);
    st->servers[i].reset();
    server->close();
    co_await server->wait_closed();
}

Task<void> close_all(std::shared_ptr<State> st) {
    st->serving = false;
    {
        std::lock_guard lock(st->mu);
        st->addresses.clear();
    }
    std::exception_ptr first;
    for (std::size_t i = 0; i < st->loops.size(); ++i) {
        try {
            co_await submit_to(*st->loops[i], close_one(st, i));
        } catch (...) {
            first = first ? first : std::current_exception();
        }
    }
    for (std::size_t i = 0; i < st->loops.size(); ++i) {
        try {
            co_await submit_to(*st->loops[i], wait_one(st, i));
        } catch (...) {
            first = first ? first : std::current_exception();
        }
    }
    st->closed = true;
    if (first) {
        std::rethrow_exception(first);
    }
}

bool same_port(const std::vector<SocketAddress>& addrs, std::uint16_t port) {
    for (const SocketAddress& a : addrs) {
        if (a.port() != port) {
            return false;
        }
    }
    return true;
}

// Starts one server per loop, loop 0 first (it resolves port 0), then the
// others one after the other; on any failure (or cancellation) closes what
// started and rethrows.
Task<GroupServer> start_on_group(std::vector<EventLoop*> loops, Starter start, std::uint16_t port) {
    auto st = std::make_shared<State>();
    st->loops = std::move(loops);
    st->servers.resize(st->loops.size());
    std::exception_ptr failed;
    std::vector<SocketAddress> first;
    try {
        first = co_await submit_to(*st->loops[0], start_one(st, 0, start, port));
        std::uint16_t real = first.empty() ? port : first[0].port();
        if (port == 0 && !same_port(first, real)) {
            co_await submit_to(*st->loops[0], wait_one(st, 0));
            first = co_await submit_to(*st->loops[0], start_one(st, 0, start, real));
        }
        st->port = real;
        for (std::size_t i = 1; i < st->loops.size(); ++i) {
            co_await submit_to(*st->loops[i], start_one(st, i, start, real));
        }
    } catch (...) {
        failed = std::current_exception();
    }
    if (failed) {
        co_await close_all(st);
        std::rethrow_exception(failed);
    }
    {
        std::lock_guard lock(st->mu);
        st->addresses = std::move(first);
    }
    co_return GroupServer(std::move(st));
}

}  // namespace

GroupServer::GroupServer(std::shared_ptr<State> state) noexcept : state_(std::move(state)) {}

GroupServer& GroupServer::operator=(GroupServer&& o) noexcept {
    if (this != &o) {
        GroupServer old(std::move(*this));
        state_ = std::move(o.state_);
    }
    return *this;
}

GroupServer::~GroupServer() {
    if (!state_ || state_->closed) {
        return;
    }
    state_->serving = false;
    // Not (completely) closed: close each loop's server on its loop, without
    // waiting.
    for (std::size_t i = 0; i < state_->loops.size(); ++i) {
        try {
            state_->loops[i]->call_soon_threadsafe([st = state_, i] {
                if (st->servers[i]) {
                    st->servers[i]->close();
                    st->servers[i].reset();
                }
            });
        } catch (...) {
            // A closed loop: its server stopped with it.
        }
    }
}

std::uint16_t GroupServer::port() const noexcept {
    return state_->port;
}

std::vector<SocketAddress> GroupServer::sockets() const {
    std::lock_guard lock(state_->mu);
    return state_->addresses;
}

std::size_t GroupServer::size() const noexcept {
    return state_->loops.size();
}

bool GroupServer::is_serving() const noexcept {
    return state_->serving;
}

Task<void> GroupServer::close() {
    return close_all(state_);
}

Task<GroupServer> start_server(LoopGroup& group, ClientConnected handler, std::string host,
                               std::uint16_t port, ServerOptions options) {
    options.reuse_port = true;
    Starter start = [handler = std::move(handler), host = std::move(host),
                     options](std::uint16_t p) { return start_server(handler, host, p, options); };
    return start_on_group(group.loops(), std::move(start), port);
}

Task<GroupServer> create_server(LoopGroup& group, ProtocolFactory factory, std::string host,
                                std::uint16_t port, ServerOptions options) {
    options.reuse_port = true;
    Starter start = [factory = std::move(factory), host = std::move(host),
                     options](std::uint16_t p) { return create_server(factory, host, p, options); };
    return start_on_group(group.loops(), std::move(start), port);
}

}  // namespace corio::net
