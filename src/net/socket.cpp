// src/net/socket.cpp - addresses, sockets and the sock_* operations.
#include "corio/net/socket.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <system_error>

namespace corio::net {

namespace detail {

void throw_os_error(int err, std::string_view op, std::string_view peer) {
    std::string what(op);
    if (!peer.empty()) {
        what += " ";
        what += peer;
    }
    throw std::system_error(err, std::generic_category(), what);
}

}  // namespace detail

using corio::detail::IoWait;
using corio::detail::kIoReadable;
using corio::detail::kIoWritable;
using detail::throw_os_error;

// -- SocketAddress ------------------------------------------------------------

SocketAddress::SocketAddress() noexcept : storage_{}, len_(0) {
    storage_.ss_family = AF_UNSPEC;
}

SocketAddress::SocketAddress(const sockaddr* sa, socklen_t len) : storage_{}, len_(len) {
    if (len > sizeof storage_) {
        throw std::invalid_argument("SocketAddress: address too long");
    }
    std::memcpy(&storage_, sa, len);
}

SocketAddress SocketAddress::ip(std::string_view host, std::uint16_t port) {
    std::string h(host);
    SocketAddress a;
    if (h.size() > 2 && h.front() == '[' && h.back() == ']') {
        h = h.substr(1, h.size() - 2);
    }
    auto* v4 = reinterpret_cast<sockaddr_in*>(&a.storage_);
    if (::inet_pton(AF_INET, h.c_str(), &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons(port);
        a.len_ = sizeof(sockaddr_in);
        return a;
    }
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&a.storage_);
    if (::inet_pton(AF_INET6, h.c_str(), &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons(port);
        a.len_ = sizeof(sockaddr_in6);
        return a;
    }
    throw std::invalid_argument("SocketAddress::ip: host is not a numeric IP address: '" + h + "'");
}

SocketAddress SocketAddress::unix_path(std::string_view path) {
    SocketAddress a;
    auto* un = reinterpret_cast<sockaddr_un*>(&a.storage_);
    if (path.empty() || path.size() >= sizeof un->sun_path) {
        throw std::invalid_argument("SocketAddress::unix_path: path must have 1 to " +
                                    std::to_string(sizeof un->sun_path - 1) + " bytes");
    }
    un->sun_family = AF_UNIX;
    std::memcpy(un->sun_path, path.data(), path.size());
    if (path[0] == '@') {
        un->sun_path[0] = '\0';  // abstract namespace
    }
    a.len_ = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size() +
                                    (path[0] == '@' ? 0 : 1));
    return a;
}

int SocketAddress::family() const noexcept {
    return storage_.ss_family;
}

std::string SocketAddress::host() const {
    char buf[INET6_ADDRSTRLEN] = {};
    switch (family()) {
        case AF_INET:
            ::inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&storage_)->sin_addr, buf,
                        sizeof buf);
            return buf;
        case AF_INET6:
            ::inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(&storage_)->sin6_addr, buf,
                        sizeof buf);
            return buf;
        case AF_UNIX: {
            const auto* un = reinterpret_cast<const sockaddr_un*>(&storage_);
            std::size_t n =
                len_ > offsetof(sockaddr_un, sun_path) ? len_ - offsetof(sockaddr_un, sun_path) : 0;
            std::string p(un->sun_path, n);
            if (!p.empty() && p[0] == '\0') {
                p[0] = '@';
            }
            while (!p.empty() && p.back() == '\0') {
                p.pop_back();
            }
            return p;
        }
        default:
            return {};
    }
}

std::uint16_t SocketAddress::port() const noexcept {
    switch (family()) {
        case AF_INET:
            return ntohs(reinterpret_cast<const sockaddr_in*>(&storage_)->sin_port);
        case AF_INET6:
            return ntohs(reinterpret_cast<const sockaddr_in6*>(&storage_)->sin6_port);
        default:
            return 0;
    }
}

std::string SocketAddress::to_string() const {
    switch (family()) {
        case AF_INET:
            return host() + ":" + std::to_string(port());
        case AF_INET6:
            return "[" + host() + "]:" + std::to_string(port());
        case AF_UNIX:
            return host();
        default:
            return "(no address)";
    }
}

bool operator==(const SocketAddress& a, const SocketAddress& b) noexcept {
    return a.len_ == b.len_ && std::memcmp(&a.storage_, &b.storage_, a.len_) == 0;
}

// -- Socket -------------------------------------------------------------------

namespace {

void make_nonblocking(int fd) {
    int flags = ::fcntl(fd, F_GETFL);
    if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
        throw_os_error(errno, "fcntl(O_NONBLOCK)");
    }
    int fdflags = ::fcntl(fd, F_GETFD);
    if (fdflags >= 0) {
        ::fcntl(fd, F_SETFD, fdflags | FD_CLOEXEC);
    }
}

void set_flag(int fd, int level, int opt, bool on, const char* what) {
    int v = on ? 1 : 0;
    if (::setsockopt(fd, level, opt, &v, sizeof v) < 0) {
        throw_os_error(errno, what);
    }
}

}  // namespace

Socket::Socket(int fd) {
    if (fd < 0) {
        throw std::invalid_argument("Socket: fd must be >= 0");
    }
    make_nonblocking(fd);
    io_.fd = fd;
}

Socket Socket::create(int family, int type, int protocol) {
    int fd = ::socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol);
    if (fd < 0) {
        throw_os_error(errno, "socket");
    }
    return adopt(fd);
}

Socket Socket::adopt(int fd) noexcept {
    Socket s;
    s.io_.fd = fd;
    return s;
}

Socket::Socket(Socket&& o) noexcept {
    take(o);
}

Socket& Socket::operator=(Socket&& o) noexcept {
    if (this != &o) {
        close();
        take(o);
    }
    return *this;
}

void Socket::take(Socket& o) noexcept {
    EventLoop* loop = o.io_.loop;
    std::uint32_t ready = o.io_.ready;
    corio::detail::Waiter* reader = std::exchange(o.io_.reader, nullptr);
    corio::detail::Waiter* writer = std::exchange(o.io_.writer, nullptr);
    corio::detail::LoopAccess::io_unregister(o.io_);
    io_.fd = std::exchange(o.io_.fd, -1);
    o.io_.ready = 0;
    if (loop != nullptr) {
        // The registration points at the IoState itself: register this one.
        try {
            corio::detail::LoopAccess::io_register(*loop, io_);
            io_.ready = ready;
            io_.reader = reader;
            io_.writer = writer;
        } catch (...) {
            // Only a closed loop refuses; the socket then stays unregistered.
        }
    }
}

Socket::~Socket() {
    close();
}

corio::detail::IoState& Socket::io() {
    if (io_.fd < 0) {
        throw_os_error(EBADF, "socket is closed");
    }
    if (!io_.registered()) {
        corio::detail::LoopAccess::io_register(corio::detail::running_loop_for("socket I/O"), io_);
    }
    return io_;
}

void Socket::bind(const SocketAddress& addr) {
    if (::bind(io_.fd, addr.data(), addr.size()) < 0) {
        throw_os_error(errno, "bind", addr.to_string());
    }
}

void Socket::listen(int backlog) {
    if (::listen(io_.fd, backlog) < 0) {
        throw_os_error(errno, "listen");
    }
}

void Socket::set_reuse_address(bool on) {
    set_flag(io_.fd, SOL_SOCKET, SO_REUSEADDR, on, "setsockopt(SO_REUSEADDR)");
}
void Socket::set_reuse_port(bool on) {
    set_flag(io_.fd, SOL_SOCKET, SO_REUSEPORT, on, "setsockopt(SO_REUSEPORT)");
}
void Socket::set_nodelay(bool on) {
    set_flag(io_.fd, IPPROTO_TCP, TCP_NODELAY, on, "setsockopt(TCP_NODELAY)");
}
void Socket::set_keepalive(bool on) {
    set_flag(io_.fd, SOL_SOCKET, SO_KEEPALIVE, on, "setsockopt(SO_KEEPALIVE)");
}

SocketAddress Socket::local_address() const {
    SocketAddress a;
    socklen_t len = sizeof(sockaddr_storage);
    if (::getsockname(io_.fd, a.data(), &len) < 0) {
        throw_os_error(errno, "getsockname");
    }
    a.set_size(len);
    return a;
}

SocketAddress Socket::peer_address() const {
    SocketAddress a;
    socklen_t len = sizeof(sockaddr_storage);
    if (::getpeername(io_.fd, a.data(), &len) < 0) {
        throw_os_error(errno, "getpeername");
    }
    a.set_size(len);
    return a;
}

void Socket::shutdown(int how) {
    if (::shutdown(io_.fd, how) < 0 && errno != ENOTCONN) {
        throw_os_error(errno, "shutdown");
    }
}

void Socket::close() noexcept {
    if (io_.fd < 0) {
        return;
    }
    corio::detail::Waiter* reader = std::exchange(io_.reader, nullptr);
    corio::detail::Waiter* writer = std::exchange(io_.writer, nullptr);
    corio::detail::LoopAccess::io_unregister(io_);
    ::close(io_.fd);
    io_.fd = -1;
    io_.ready = 0;
    // A task waiting on the socket retries and gets EBADF.
    if (reader != nullptr) {
        reader->wake();
    }
    if (writer != nullptr) {
        writer->wake();
    }
}

int Socket::release() noexcept {
    corio::detail::LoopAccess::io_unregister(io_);
    io_.ready = 0;
    return std::exchange(io_.fd, -1);
}

// -- sock_* -------------------------------------------------------------------

Task<std::size_t> sock_recv_into(Socket& sock, std::span<char> buf) {
    for (;;) {
        corio::detail::IoState& io = sock.io();
        if (io.readable()) {
            // Only EAGAIN clears the readiness here: on a datagram socket a
            // short read says nothing about the datagrams queued behind it.
            ssize_t n = ::recv(io.fd, buf.data(), buf.size(), 0);
            if (n >= 0) {
                co_return static_cast<std::size_t>(n);
            }
            if (errno == EINTR) {
                continue;
            }
            if (errno != EAGAIN) {
                throw_os_error(errno, "recv");
            }
            io.read_drained();
        }
        co_await IoWait(io, false);
    }
}

Task<std::string> sock_recv(Socket& sock, std::size_t n) {
    if (n == 0) {
        co_return std::string();
    }
    std::string out(n, '\0');
    std::size_t got = co_await sock_recv_into(sock, std::span<char>(out.data(), n));
    out.resize(got);
    co_return out;
}

Task<void> sock_sendall(Socket& sock, std::string_view data) {
    while (!data.empty()) {
        corio::detail::IoState& io = sock.io();
        if (io.writable()) {
            ssize_t n = ::send(io.fd, data.data(), data.size(), MSG_NOSIGNAL);
            if (n >= 0) {
                data.remove_prefix(static_cast<std::size_t>(n));
                continue;
            }
            if (errno == EINTR) {
                continue;
            }
            if (errno != EAGAIN) {
                throw_os_error(errno, "send");
            }
            io.write_full();
        }
        co_await IoWait(io, true);
    }
}

Task<std::pair<Socket, SocketAddress>> sock_accept(Socket& listener) {
    for (;;) {
        corio::detail::IoState& io = listener.io();
        if (io.readable()) {
            SocketAddress peer;
            socklen_t len = sizeof(sockaddr_storage);
            int fd = ::accept4(io.fd, peer.data(), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
            if (fd >= 0) {
                peer.set_size(len);
                co_return std::pair<Socket, SocketAddress>(Socket::adopt(fd), peer);
            }
            if (errno == EINTR || errno == ECONNABORTED) {
                continue;
            }
            if (errno != EAGAIN) {
                throw_os_error(errno, "accept");
            }
            io.read_drained();
        }
        co_await IoWait(io, false);
    }
}

Task<std::pair<std::string, SocketAddress>> sock_recvfrom(Socket& sock, std::size_t n) {
    std::string buf(n, '\0');
    for (;;) {
        corio::detail::IoState& io = sock.io();
        if (io.readable()) {
            SocketAddress from;
            socklen_t len = sizeof(sockaddr_storage);
            ssize_t got = ::recvfrom(io.fd, buf.data(), n, 0, from.data(), &len);
            if (got >= 0) {
                from.set_size(len);
                buf.resize(static_cast<std::size_t>(got));
                co_return std::pair<std::string, SocketAddress>(std::move(buf), from);
            }
            if (errno == EINTR) {
                continue;
            }
            if (errno != EAGAIN) {
                throw_os_error(errno, "recvfrom");
            }
            io.read_drained();  // datagrams: only EAGAIN proves the queue empty
        }
        co_await IoWait(io, false);
    }
}

Task<std::size_t> sock_sendto(Socket& sock, std::string_view data, SocketAddress addr) {
    for (;;) {
        corio::detail::IoState& io = sock.io();
        if (io.writable()) {
            ssize_t n =
                ::sendto(io.fd, data.data(), data.size(), MSG_NOSIGNAL, addr.data(), addr.size());
            if (n >= 0) {
                co_return static_cast<std::size_t>(n);
            }
            if (errno == EINTR) {
                continue;
            }
            if (errno != EAGAIN) {
                throw_os_error(errno, "sendto", addr.to_string());
            }
            io.write_full();
        }
        co_await IoWait(io, true);
    }
}

Task<void> sock_connect(Socket& sock, SocketAddress addr) {
    corio::detail::IoState& io = sock.io();
    int rc;
    do {
        rc = ::connect(io.fd, addr.data(), addr.size());
    } while (rc < 0 && errno == EINTR);
    if (rc == 0) {
        co_return;
    }
    if (errno != EINPROGRESS) {
        throw_os_error(errno, "connect", addr.to_string());
    }
    io.write_full();
    for (;;) {
        co_await IoWait(io, true);
        int err = 0;
        socklen_t len = sizeof err;
        if (::getsockopt(io.fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0) {
            throw_os_error(errno, "connect", addr.to_string());
        }
        if (err == 0) {
            co_return;
        }
        if (err != EINPROGRESS && err != EAGAIN) {
            throw_os_error(err, "connect", addr.to_string());
        }
        io.write_full();
    }
}

}  // namespace corio::net
