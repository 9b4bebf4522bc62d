// corio/net/loop_group.hpp - one TCP port served by every loop of a
// LoopGroup: start_server / create_server on a group, GroupServer.
//
// Python serves a port from every core with one process per core, each
// calling asyncio.start_server(..., reuse_port=True) (aiohttp behind
// gunicorn). corio does it in one process: each loop of the group listens on
// the same port with SO_REUSEPORT and the kernel spreads the connections
// over the loops; a connection is then served entirely by the loop that
// accepted it (share-nothing, as Seastar's reactors and Tokio's
// SO_REUSEPORT examples).
//
//   corio::LoopGroup group;
//   auto server = co_await corio::net::start_server(group, handle, "127.0.0.1", 8888);
//   ...
//   co_await server.close();
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "corio/loop_group.hpp"
#include "corio/net/socket.hpp"
#include "corio/net/streams.hpp"
#include "corio/net/transports.hpp"
#include "corio/task.hpp"

namespace corio::net {

/// A server on every loop of a LoopGroup, all listening on one port
/// (SO_REUSEPORT). Each loop's server lives on that loop's thread; this
/// object is a handle to all of them, usable from a task on any loop.
/// Move-only. Close it with close() before the group is joined; a handle
/// destroyed without close() closes the servers without waiting for them.
/// No asyncio counterpart: N asyncio `Server`s of N processes.
class GroupServer {
public:
    /// The servers and their loops, shared with the tasks that run on them
    /// (internal).
    struct State;
    /// Made by start_server / create_server (internal).
    explicit GroupServer(std::shared_ptr<State> state) noexcept;
    GroupServer(GroupServer&& o) noexcept = default;
    GroupServer& operator=(GroupServer&& o) noexcept;
    GroupServer(const GroupServer&) = delete;
    GroupServer& operator=(const GroupServer&) = delete;
    ~GroupServer();

    /// The port every loop listens on (the real one when 0 was asked for).
    std::uint16_t port() const noexcept;
    /// The addresses loop 0's server listens on (every loop listens on the
    /// same ones); empty once close() was called.
    std::vector<SocketAddress> sockets() const;
    /// How many loops serve the port.
    std::size_t size() const noexcept;
    /// False once close() was called.
    bool is_serving() const noexcept;

    /// Stops every loop's server from listening (each on its own loop), then
    /// suspends until each is closed and its client handlers have ended
    /// (Server::wait_closed on every loop). Throws what a loop's close threw
    /// (the first; the others are still closed). Cancelling it stops the
    /// waiting; servers already told to close stay closed, the rest are
    /// closed when the handle dies. asyncio: `Server.close` then
    /// `Server.wait_closed`, once per loop.
    Task<void> close();

private:
    std::shared_ptr<State> state_;
};

/// Starts start_server(handler, host, port, options) on every loop of
/// `group`, with options.reuse_port forced on, and returns once every loop
/// listens. Port 0 is resolved first: loop 0 binds any free port and the
/// other loops bind that one (if loop 0's sockets got different ports, e.g.
/// IPv4 and IPv6 of an empty host, loop 0 binds again on the first one).
/// `handler` is copied to every loop and called on the loop that accepted
/// the client, so the loops call it concurrently. Await it from a task on
/// any loop (from a plain thread: run_coroutine_threadsafe on a loop of the
/// group). Throws what a loop's start_server threw (std::system_error
/// EADDRINUSE, GaiError, std::invalid_argument), after closing the servers
/// that had started. Cancelling it closes the servers already started and
/// rethrows CancelledError. asyncio: `asyncio.start_server(...,
/// reuse_port=True)`, once per process.
Task<GroupServer> start_server(LoopGroup& group, ClientConnected handler, std::string host,
                               std::uint16_t port, ServerOptions options = {});

/// create_server(factory, host, port, options) on every loop of `group`,
/// with the same port rules, threading and errors as start_server above:
/// `factory` is called on the loop that accepted the connection. asyncio:
/// `loop.create_server(..., reuse_port=True)`, once per process.
Task<GroupServer> create_server(LoopGroup& group, ProtocolFactory factory, std::string host,
                                std::uint16_t port, ServerOptions options = {});

}  // namespace corio::net
