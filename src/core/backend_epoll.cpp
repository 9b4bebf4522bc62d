// src/core/backend_epoll.cpp - the epoll backend: readiness, edge-triggered.
//
// A registered fd is watched once, for reading and writing, edge-triggered.
// Every event is ORed into IoState::ready; an operation runs its syscall at
// once when the matching bit is set, and only when the kernel says "would
// block" is the bit cleared and the operation parked (IoState::reading /
// writing) until the next edge, which retries it in the poll phase. So a
// busy socket costs no epoll_ctl and no syscall beyond the operation itself.
// Watches for add_reader/add_writer are level-triggered, as asyncio's.
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdint>
#include <string>
#include <system_error>

#include "backend.hpp"

namespace corio::detail {
namespace {

constexpr std::uint64_t kWakeToken = ~std::uint64_t{0};

std::uint32_t to_epoll(std::uint32_t interest) {
    std::uint32_t ev = 0;
    if (interest & kReadable) {
        ev |= EPOLLIN;
    }
    if (interest & kWritable) {
        ev |= EPOLLOUT;
    }
    return ev;
}

std::uint32_t from_epoll(std::uint32_t events) {
    std::uint32_t e = 0;
    if (events & EPOLLIN) {
        e |= kReadable;
    }
    if (events & EPOLLRDHUP) {
        e |= kReadable | kPeerClosed;
    }
    if (events & EPOLLOUT) {
        e |= kWritable;
    }
    if (events & EPOLLERR) {
        e |= kError;
    }
    if (events & EPOLLHUP) {
        e |= kHangup;
    }
    return e;
}

// True when the readiness seen may let `op` go on.
bool ready_for(const IoOp& op) {
    const IoState& io = *op.io;
    if (op.kind == OpKind::poll) {
        return ((op.flags & kIoReadable) && io.readable()) ||
               ((op.flags & kIoWritable) && io.writable());
    }
    return is_read_kind(op.kind) ? io.readable() : io.writable();
}

// The syscall of `op`, once (EINTR retried): >= 0, or -errno.
int attempt(IoOp& op) {
    IoState& io = *op.io;
    for (;;) {
        ssize_t r;
        switch (op.kind) {
            case OpKind::recv:
                r = ::recv(io.fd, op.buf, op.len, op.flags);
                break;
            case OpKind::recvmsg:
                r = ::recvmsg(io.fd, op.msg, op.flags);
                break;
            case OpKind::read:
                r = ::read(io.fd, op.buf, op.len);
                break;
            case OpKind::accept: {
                r = ::accept4(io.fd, op.addr, op.addr ? &op.addrlen : nullptr,
                              SOCK_NONBLOCK | SOCK_CLOEXEC);
                if (r < 0 && errno == ECONNABORTED) {
                    continue;  // that connection is gone; take the next
                }
                break;
            }
            case OpKind::poll_in:
            case OpKind::poll:
                return static_cast<int>(io.ready);
            case OpKind::send:
                r = ::send(io.fd, op.buf, op.len, op.flags | MSG_NOSIGNAL);
                break;
            case OpKind::sendmsg:
                r = ::sendmsg(io.fd, op.msg, op.flags | MSG_NOSIGNAL);
                break;
            case OpKind::write:
                r = ::write(io.fd, op.buf, op.len);
                break;
            case OpKind::connect: {
                // The connection was started; writability says it is over.
                int err = 0;
                socklen_t len = sizeof err;
                if (::getsockopt(io.fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0) {
                    return -errno;
                }
                return err == 0 ? 0 : err == EINPROGRESS ? -EAGAIN : -err;
            }
            case OpKind::poll_out:
                return static_cast<int>(io.ready);
            default:
                return -EINVAL;
        }
        if (r >= 0) {
            return static_cast<int>(r);
        }
        if (errno == EINTR) {
            continue;
        }
        return errno == EWOULDBLOCK ? -EAGAIN : -errno;
    }
}

class EpollBackend final : public Backend {
public:
    EpollBackend() : ep_(::epoll_create1(EPOLL_CLOEXEC)) {
        if (ep_ < 0) {
            throw std::system_error(errno, std::generic_category(), "epoll_create1");
        }
    }
    ~EpollBackend() override { ::close(ep_); }

    const char* name() const noexcept override { return "epoll"; }

    void attach(IoState& io) override {
        epoll_event ev{};
        ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
        ev.data.u64 = reinterpret_cast<std::uint64_t>(&io) | 1;
        if (::epoll_ctl(ep_, EPOLL_CTL_ADD, io.fd, &ev) < 0) {
            throw std::system_error(errno, std::generic_category(),
                                    "epoll_ctl(ADD fd " + std::to_string(io.fd) + ")");
        }
    }

    void detach(IoState& io) noexcept override {
        epoll_event ev{};
        ::epoll_ctl(ep_, EPOLL_CTL_DEL, io.fd, &ev);
        detach_ops(io, false);
    }

    bool start(IoOp& op) override {
        IoState& io = *op.io;
        const bool read = is_read_kind(op.kind);
        if (op.kind == OpKind::connect) {
            int rc;
            do {
                rc = ::connect(io.fd, op.addr, op.addrlen);
            } while (rc < 0 && errno == EINTR);
            if (rc == 0 || errno != EINPROGRESS) {
                op.res = rc == 0 ? 0 : -errno;
                return true;
            }
            io.write_full();  // the edge that says "connected" is still to come
        } else if (ready_for(op)) {
            int r = attempt(op);
            if (r != -EAGAIN) {
                op.res = r;
                return true;
            }
            read ? io.read_drained() : io.write_full();
        }
        return false;  // parked in its slot until an edge
    }

    bool cancel(IoOp&) noexcept override { return true; }

    void read_start(IoState&) override {}
    void read_stop(IoState&) noexcept override {}

    StreamRead read_some(IoState& io, char* into, std::size_t len) override {
        StreamRead out;
        while (io.readable()) {
            ssize_t n = io.is_socket ? ::recv(io.fd, into, len, 0) : ::read(io.fd, into, len);
            if (n > 0) {
                if (static_cast<std::size_t>(n) < len) {
                    io.ready &= ~kIoReadable;  // drained; the next arrival raises an edge
                }
                out.kind = StreamRead::got;
                out.data = into;
                out.n = static_cast<std::size_t>(n);
                return out;
            }
            if (n == 0) {
                io.read_drained();
                out.kind = StreamRead::eof;
                return out;
            }
            if (errno == EINTR) {
                continue;
            }
            if (errno == EAGAIN) {
                io.read_drained();
                break;
            }
            out.kind = StreamRead::error;
            out.err = errno;
            return out;
        }
        out.kind = StreamRead::empty;
        return out;
    }

    void release_read(IoState*, const StreamRead&, std::size_t) noexcept override {}
    bool has_read_data(const IoState& io) const noexcept override { return io.readable(); }

    StreamWrite write_some(IoState& io, const iovec* iov, int n) override {
        while (io.writable()) {
            ssize_t r;
            if (io.is_socket) {
                msghdr msg{};
                msg.msg_iov = const_cast<iovec*>(iov);
                msg.msg_iovlen = static_cast<std::size_t>(n);
                r = ::sendmsg(io.fd, &msg, MSG_NOSIGNAL);
            } else {
                r = ::writev(io.fd, iov, n);
            }
            if (r >= 0) {
                return {StreamWrite::done, static_cast<std::size_t>(r), 0};
            }
            if (errno == EINTR) {
                continue;
            }
            if (errno == EAGAIN) {
                io.write_full();
                break;
            }
            return {StreamWrite::error, 0, errno};
        }
        return {StreamWrite::would_block, 0, 0};
    }

    StreamWrite write_result(IoState&) noexcept override { return {StreamWrite::done, 0, 0}; }
    bool writes_complete_at_once() const noexcept override { return true; }

    void watch(int fd, std::uint32_t interest, std::uint32_t old_interest,
               std::uint64_t token) override {
        epoll_event ev{};
        ev.events = to_epoll(interest);
        ev.data.u64 = token;
        int op = interest == 0 ? EPOLL_CTL_DEL : old_interest == 0 ? EPOLL_CTL_ADD : EPOLL_CTL_MOD;
        if (::epoll_ctl(ep_, op, fd, &ev) < 0) {
            if (op == EPOLL_CTL_DEL && (errno == EBADF || errno == ENOENT)) {
                return;  // the fd was closed first: the kernel already forgot it
            }
            throw std::system_error(errno, std::generic_category(),
                                    "epoll_ctl(fd " + std::to_string(fd) + ")");
        }
    }

    void set_wake_fd(int fd) override { watch(fd, kReadable, 0, kWakeToken); }

    int wait(IoEvent* out, int max, int& nevents, std::int64_t timeout_ns) override {
        epoll_event evs[256];
        int n;
        if (timeout_ns < 0) {
            n = ::epoll_wait(ep_, evs, 256, -1);
        } else if (have_pwait2_) {
            timespec ts{static_cast<time_t>(timeout_ns / 1000000000),
                        static_cast<long>(timeout_ns % 1000000000)};
            n = ::epoll_pwait2(ep_, evs, 256, &ts, nullptr);
            if (n < 0 && errno == ENOSYS) {
                have_pwait2_ = false;  // before Linux 5.11, or under valgrind
                return 0;              // the loop waits again, in milliseconds
            }
        } else {
            // Rounded up: a timer is never seen early, at the cost of up to 1 ms.
            std::int64_t ms = std::min<std::int64_t>((timeout_ns + 999999) / 1000000, INT_MAX);
            n = ::epoll_wait(ep_, evs, 256, static_cast<int>(ms));
        }
        nevents = 0;
        if (n < 0) {
            if (errno == EINTR) {
                return 0;
            }
            throw std::system_error(errno, std::generic_category(), "epoll_wait");
        }
        for (int i = 0; i < n; ++i) {
            std::uint64_t token = evs[i].data.u64;
            std::uint32_t e = from_epoll(evs[i].events);
            if (token != kWakeToken && (token & 1)) {
                dispatch(*reinterpret_cast<IoState*>(token & ~std::uint64_t{1}), e);
            } else if (nevents < max) {
                out[nevents++] = IoEvent{token, e};
            }
        }
        return n;
    }

private:
    // An edge on a registered fd: retry the parked operations it may
    // unblock, then tell a transport.
    static void dispatch(IoState& io, std::uint32_t events) noexcept {
        io.ready |= events;
        if (io.reading != nullptr && io.reading->state == IoOp::pending && ready_for(*io.reading)) {
            retry(io, *io.reading, true);
        }
        if (io.writing != nullptr && io.writing->state == IoOp::pending && io.writable()) {
            retry(io, *io.writing, false);
        }
        if (io.on_ready != nullptr) {
            io.on_ready(&io);
        }
    }

    static void retry(IoState& io, IoOp& op, bool read) noexcept {
        int r = attempt(op);
        if (r == -EAGAIN) {
            read ? io.read_drained() : io.write_full();
            return;
        }
        complete_op(op, r);
    }

    int ep_;
    bool have_pwait2_ = true;  // epoll_pwait2 (nanosecond timeouts) exists
};

}  // namespace

std::unique_ptr<Backend> make_epoll_backend() {
    return std::make_unique<EpollBackend>();
}

}  // namespace corio::detail
