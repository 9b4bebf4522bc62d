// src/net/socket.cpp - addresses, sockets and the sock_* operations.
#include "corio/net/socket.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <system_error>

#include "core/io.hpp"

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
    fd_ = fd;
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
    s.fd_ = fd;
    return s;
}

// The registration lives on the heap and holds the fd's state, so moving a
// socket moves a pointer: nothing is registered again.
Socket::Socket(Socket&& o) noexcept
    : fd_(std::exchange(o.fd_, -1)), io_(std::exchange(o.io_, nullptr)) {}

Socket& Socket::operator=(Socket&& o) noexcept {
    if (this != &o) {
        close();
        fd_ = std::exchange(o.fd_, -1);
        io_ = std::exchange(o.io_, nullptr);
    }
    return *this;
}

Socket::~Socket() {
    close();
}

corio::detail::IoState& Socket::io() {
    if (fd_ < 0) {
        throw_os_error(EBADF, "socket is closed");
    }
    if (io_ == nullptr) {
        io_ = new corio::detail::IoState;
        io_->fd = fd_;
    }
    if (!io_->registered()) {
        corio::detail::LoopAccess::io_register(corio::detail::running_loop_for("socket I/O"), *io_);
        // The first write is tried at once (a new socket is writable before
        // the loop has polled it; EAGAIN clears this and waits for an edge).
        io_->ready |= corio::detail::kIoWritable;
    }
    return *io_;
}

void Socket::bind(const SocketAddress& addr) {
    if (::bind(fd_, addr.data(), addr.size()) < 0) {
        throw_os_error(errno, "bind", addr.to_string());
    }
}

void Socket::listen(int backlog) {
    if (::listen(fd_, backlog) < 0) {
        throw_os_error(errno, "listen");
    }
}

void Socket::set_reuse_address(bool on) {
    set_flag(fd_, SOL_SOCKET, SO_REUSEADDR, on, "setsockopt(SO_REUSEADDR)");
}
void Socket::set_reuse_port(bool on) {
    set_flag(fd_, SOL_SOCKET, SO_REUSEPORT, on, "setsockopt(SO_REUSEPORT)");
}
void Socket::set_nodelay(bool on) {
    set_flag(fd_, IPPROTO_TCP, TCP_NODELAY, on, "setsockopt(TCP_NODELAY)");
}
void Socket::set_keepalive(bool on) {
    set_flag(fd_, SOL_SOCKET, SO_KEEPALIVE, on, "setsockopt(SO_KEEPALIVE)");
}

SocketAddress Socket::local_address() const {
    SocketAddress a;
    socklen_t len = sizeof(sockaddr_storage);
    if (::getsockname(fd_, a.data(), &len) < 0) {
        throw_os_error(errno, "getsockname");
    }
    a.set_size(len);
    return a;
}

SocketAddress Socket::peer_address() const {
    SocketAddress a;
    socklen_t len = sizeof(sockaddr_storage);
    if (::getpeername(fd_, a.data(), &len) < 0) {
        throw_os_error(errno, "getpeername");
    }
    a.set_size(len);
    return a;
}

void Socket::shutdown(int how) {
    if (::shutdown(fd_, how) < 0 && errno != ENOTCONN) {
        throw_os_error(errno, "shutdown");
    }
}

void Socket::close() noexcept {
    if (fd_ < 0) {
        return;
    }
    // Operations in progress end with EBADF (the task waiting on one wakes
    // and sees it) before the fd number can be reused.
    if (io_ != nullptr) {
        corio::detail::LoopAccess::io_unregister(*io_);
        delete std::exchange(io_, nullptr);
    }
    ::close(std::exchange(fd_, -1));
}

int Socket::release() noexcept {
    if (io_ != nullptr) {
        corio::detail::LoopAccess::io_unregister(*io_);
        delete std::exchange(io_, nullptr);
    }
    return std::exchange(fd_, -1);
}

// -- sock_* -------------------------------------------------------------------

namespace {

using corio::detail::IoOp;
using corio::detail::OpAwait;
using corio::detail::OpKind;

IoOp make_op(OpKind kind, Socket& sock) {
    IoOp op;
    op.kind = kind;
    op.io = &sock.io();
    return op;
}

}  // namespace

Task<std::size_t> sock_recv_into(Socket& sock, std::span<char> buf) {
    IoOp op = make_op(OpKind::recv, sock);
    op.buf = buf.data();
    op.len = buf.size();
    int r = co_await OpAwait(op);
    if (r < 0) {
        throw_os_error(-r, "recv");
    }
    co_return static_cast<std::size_t>(r);
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
        IoOp op = make_op(OpKind::send, sock);
        op.buf = const_cast<char*>(data.data());
        op.len = data.size();
        int r = co_await OpAwait(op);
        if (r < 0) {
            throw_os_error(-r, "send");
        }
        data.remove_prefix(static_cast<std::size_t>(r));
    }
}

Task<std::pair<Socket, SocketAddress>> sock_accept(Socket& listener) {
    SocketAddress peer;
    IoOp op = make_op(OpKind::accept, listener);
    op.addr = peer.data();
    op.addrlen = sizeof(sockaddr_storage);
    OpAwait accept(op);
    int fd = co_await accept;
    if (fd < 0) {
        throw_os_error(-fd, "accept");
    }
    peer.set_size(accept.addrlen);
    co_return std::pair<Socket, SocketAddress>(Socket::adopt(fd), peer);
}

Task<std::pair<std::string, SocketAddress>> sock_recvfrom(Socket& sock, std::size_t n) {
    std::string buf(n, '\0');
    SocketAddress from;
    iovec iov{buf.data(), n};
    msghdr msg = corio::detail::one_buffer_msg(iov, from.data(), sizeof(sockaddr_storage));
    IoOp op = make_op(OpKind::recvmsg, sock);
    op.msg = &msg;
    int got = co_await OpAwait(op);
    if (got < 0) {
        throw_os_error(-got, "recvfrom");
    }
    from.set_size(msg.msg_namelen);
    buf.resize(static_cast<std::size_t>(got));
    co_return std::pair<std::string, SocketAddress>(std::move(buf), from);
}

Task<std::size_t> sock_sendto(Socket& sock, std::string_view data, SocketAddress addr) {
    iovec iov{const_cast<char*>(data.data()), data.size()};
    msghdr msg = corio::detail::one_buffer_msg(iov, addr.data(), addr.size());
    IoOp op = make_op(OpKind::sendmsg, sock);
    op.msg = &msg;
    int n = co_await OpAwait(op);
    if (n < 0) {
        throw_os_error(-n, "sendto", addr.to_string());
    }
    co_return static_cast<std::size_t>(n);
}

Task<void> sock_connect(Socket& sock, SocketAddress addr) {
    IoOp op = make_op(OpKind::connect, sock);
    op.addr = addr.data();
    op.addrlen = addr.size();
    int r = co_await OpAwait(op);
    if (r < 0) {
        throw_os_error(-r, "connect", addr.to_string());
    }
}

}  // namespace corio::net
