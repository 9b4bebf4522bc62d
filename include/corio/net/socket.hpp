// corio/net/socket.hpp - socket addresses, non-blocking sockets, and the
// loop's low-level socket operations (sock_recv, sock_sendall, sock_accept,
// sock_connect, ...).
//
// Mirrors Python's socket module where corio needs it and asyncio's
// loop.sock_* methods (here free functions on the running loop). Every
// operation suspends only when the kernel says it would block, is
// cancellable (the wait is withdrawn; no data is lost or half-sent by the
// cancelled call's own accounting), and reports OS errors as
// std::system_error naming the operation and the peer.
#pragma once

#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "corio/task.hpp"

namespace corio::detail {
struct IoState;
}  // namespace corio::detail

namespace corio::net {

/// An IPv4, IPv6 or Unix-domain socket address.
class SocketAddress {
public:
    /// An empty address (family AF_UNSPEC).
    SocketAddress() noexcept;
    /// Copies a kernel address. Throws std::invalid_argument if it is too long.
    SocketAddress(const sockaddr* sa, socklen_t len);

    /// A numeric IPv4 or IPv6 address ("127.0.0.1", "::1") and port. Throws
    /// std::invalid_argument for anything else (use getaddrinfo for names).
    static SocketAddress ip(std::string_view host, std::uint16_t port);
    /// A Unix-domain path; a leading '@' means the Linux abstract namespace.
    /// Throws std::invalid_argument if the path is empty or too long.
    static SocketAddress unix_path(std::string_view path);

    int family() const noexcept;
    bool empty() const noexcept { return family() == AF_UNSPEC; }
    /// The numeric host ("127.0.0.1", "::1") or the Unix path.
    std::string host() const;
    /// The port (0 for Unix addresses).
    std::uint16_t port() const noexcept;
    /// "127.0.0.1:8080", "[::1]:443" or the Unix path, for messages.
    std::string to_string() const;

    const sockaddr* data() const noexcept { return reinterpret_cast<const sockaddr*>(&storage_); }
    sockaddr* data() noexcept { return reinterpret_cast<sockaddr*>(&storage_); }
    socklen_t size() const noexcept { return len_; }
    void set_size(socklen_t len) noexcept { len_ = len; }

    friend bool operator==(const SocketAddress& a, const SocketAddress& b) noexcept;

private:
    sockaddr_storage storage_;
    socklen_t len_;
};

/// A non-blocking, close-on-exec socket. Move-only; the destructor closes it.
/// It joins the running loop's I/O registrations on its first asynchronous
/// operation and must then be used from that loop only.
/// Python: `socket.socket` with setblocking(False).
class Socket {
public:
    Socket() noexcept = default;
    /// Adopts `fd`, making it non-blocking and close-on-exec.
    explicit Socket(int fd);
    /// A new socket; throws std::system_error.
    static Socket create(int family, int type, int protocol = 0);
    /// Adopts an fd that is already non-blocking and close-on-exec.
    static Socket adopt(int fd) noexcept;
    Socket(Socket&& o) noexcept;
    Socket& operator=(Socket&& o) noexcept;
    Socket(const Socket&) = delete;
    Socket& operator=(const Socket&) = delete;
    ~Socket();

    int fd() const noexcept { return fd_; }
    explicit operator bool() const noexcept { return fd_ >= 0; }

    /// Binds; throws std::system_error naming the address.
    void bind(const SocketAddress& addr);
    /// Starts listening; throws std::system_error.
    void listen(int backlog);
    void set_reuse_address(bool on);
    void set_reuse_port(bool on);
    void set_nodelay(bool on);
    void set_keepalive(bool on);
    /// The local address (getsockname).
    SocketAddress local_address() const;
    /// The peer's address (getpeername); throws std::system_error if unconnected.
    SocketAddress peer_address() const;
    /// shutdown(2): SHUT_RD, SHUT_WR or SHUT_RDWR. Errors other than ENOTCONN throw.
    void shutdown(int how);
    /// Closes now (wakes a task waiting on it, which then gets EBADF). Idempotent.
    void close() noexcept;
    /// Gives up the fd (no longer registered, not closed).
    int release() noexcept;

    /// The loop registration (internal): registers with the running loop on
    /// first use. Throws std::system_error(EBADF) once closed.
    corio::detail::IoState& io();
    /// The registration if there is one, else null (internal).
    corio::detail::IoState* io_state() const noexcept { return io_; }

private:
    int fd_ = -1;
    corio::detail::IoState* io_ = nullptr;  // owned; made by io()
};

// The sock_* functions are lazy coroutines like any Task: the socket, and
// the buffer or data a span/string_view refers to, must stay alive until
// the task is done (with create_task: not only until the call returns).
// Addresses are taken by value.

/// Receives up to `n` bytes (at least 1, suspending until some arrive); an
/// empty string means the peer closed its side (EOF). asyncio: `loop.sock_recv`.
Task<std::string> sock_recv(Socket& sock, std::size_t n);
/// Receives into `buf`; returns the count (0: EOF). asyncio: `loop.sock_recv_into`.
Task<std::size_t> sock_recv_into(Socket& sock, std::span<char> buf);
/// Sends all of `data`, suspending while the socket buffer is full. On error
/// or cancellation part of it may have been sent. asyncio: `loop.sock_sendall`.
Task<void> sock_sendall(Socket& sock, std::string_view data);
/// Accepts a connection: the new socket (non-blocking) and the peer address.
/// asyncio: `loop.sock_accept`.
Task<std::pair<Socket, SocketAddress>> sock_accept(Socket& listener);
/// Connects, suspending until the connection is established; throws
/// std::system_error (e.g. ECONNREFUSED) naming the address.
/// asyncio: `loop.sock_connect`.
Task<void> sock_connect(Socket& sock, SocketAddress addr);

/// Receives one datagram of at most `n` bytes (longer ones are truncated)
/// and its sender. asyncio: `loop.sock_recvfrom`.
Task<std::pair<std::string, SocketAddress>> sock_recvfrom(Socket& sock, std::size_t n = 65536);
/// Sends one datagram to `addr`; returns the bytes sent.
/// asyncio: `loop.sock_sendto`.
Task<std::size_t> sock_sendto(Socket& sock, std::string_view data, SocketAddress addr);

namespace detail {

/// Throws std::system_error(err) with "op peer: strerror".
[[noreturn]] void throw_os_error(int err, std::string_view op, std::string_view peer = {});

/// One try of the non-blocking operation; the awaiters below wait and retry.
enum class IoStatus : std::uint8_t { done, would_block, eof };

}  // namespace detail

}  // namespace corio::net
