// src/net/channel.cpp - channel_read, channel_write and tls_handshake.
#include "channel.hpp"

#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <mutex>
#include <string>
#include <system_error>

namespace corio::net::detail {

using corio::detail::IoState;
using corio::detail::kIoReadable;
using corio::detail::wait_ready;

std::exception_ptr os_error(int err, const char* op, const SocketAddress& peer) {
    std::string what(op);
    if (!peer.empty()) {
        what += " " + peer.to_string();
    }
    return std::make_exception_ptr(std::system_error(err, std::generic_category(), what));
}

void ignore_sigpipe() {
    static std::once_flag once;
    std::call_once(once, [] {
        struct sigaction old {};
        if (::sigaction(SIGPIPE, nullptr, &old) == 0 && old.sa_handler == SIG_DFL &&
            (old.sa_flags & SA_SIGINFO) == 0) {
            ::signal(SIGPIPE, SIG_IGN);
        }
    });
}

char* read_scratch() {
    thread_local std::unique_ptr<char[]> buf = std::make_unique_for_overwrite<char[]>(kScratchSize);
    return buf.get();
}

namespace {

// The outcome of a TLS call that did not succeed. `op` names it for errors.
ChannelIo tls_outcome(TlsSession& tls, const TlsResult& r, IoState& io, const char* op,
                      const SocketAddress& peer) {
    switch (r.kind) {
        case TlsResult::ok:
            return {ChannelIo::done, r.n, nullptr, 0};
        case TlsResult::want_read:
            io.read_drained();
            return {ChannelIo::want_read, 0, nullptr, 0};
        case TlsResult::want_write:
            io.write_full();
            return {ChannelIo::want_write, 0, nullptr, 0};
        case TlsResult::eof:
            return {ChannelIo::eof, 0, nullptr, 0};
        case TlsResult::os_error: {
            int err = static_cast<int>(r.n);
            return {ChannelIo::failed, 0, os_error(err, op, peer), err};
        }
        case TlsResult::ssl_error:
            break;
    }
    return {ChannelIo::failed, 0, std::make_exception_ptr(SslError(tls.last_error())), 0};
}

}  // namespace

ChannelIo channel_read(const Channel& ch, char* buf, std::size_t len) {
    IoState& io = ch.io;
    if (ch.tls != nullptr) {
        return tls_outcome(*ch.tls, ch.tls->read(buf, len), io, "TLS read from", ch.peer);
    }
    for (;;) {
        if (!io.readable()) {
            return {ChannelIo::want_read, 0, nullptr, 0};
        }
        ssize_t n = ch.is_socket ? ::recv(io.fd, buf, len, 0) : ::read(io.fd, buf, len);
        if (n > 0) {
            if (static_cast<std::size_t>(n) < len) {
                io.ready &= ~kIoReadable;  // drained; the next arrival raises an edge
            }
            return {ChannelIo::done, static_cast<std::size_t>(n), nullptr, 0};
        }
        if (n == 0) {
            io.read_drained();
            return {ChannelIo::eof, 0, nullptr, 0};
        }
        if (errno == EINTR) {
            continue;
        }
        if (errno == EAGAIN) {
            io.read_drained();
            return {ChannelIo::want_read, 0, nullptr, 0};
        }
        int err = errno;
        return {ChannelIo::failed, 0,
                os_error(err, ch.is_socket ? "recv from" : "read from pipe", ch.peer), err};
    }
}

ChannelIo channel_write(const Channel& ch, std::string_view data) {
    IoState& io = ch.io;
    if (ch.tls != nullptr) {
        TlsResult r = ch.tls->write(data.data(), data.size());
        if (r.kind == TlsResult::eof) {
            // close_notify arrived: the peer will not read what we send.
            return {ChannelIo::failed, 0, os_error(EPIPE, "TLS write to", ch.peer), EPIPE};
        }
        return tls_outcome(*ch.tls, r, io, "TLS write to", ch.peer);
    }
    for (;;) {
        if (!io.writable()) {
            return {ChannelIo::want_write, 0, nullptr, 0};
        }
        ssize_t n = ch.is_socket ? ::send(io.fd, data.data(), data.size(), MSG_NOSIGNAL)
                                 : ::write(io.fd, data.data(), data.size());
        if (n >= 0) {
            return {ChannelIo::done, static_cast<std::size_t>(n), nullptr, 0};
        }
        if (errno == EINTR) {
            continue;
        }
        if (errno == EAGAIN) {
            io.write_full();
            return {ChannelIo::want_write, 0, nullptr, 0};
        }
        int err = errno;
        return {ChannelIo::failed, 0,
                os_error(err, ch.is_socket ? "send to" : "write to pipe", ch.peer), err};
    }
}

Task<void> tls_handshake(TlsSession& tls, IoState& io, SocketAddress peer) {
    for (;;) {
        if (io.fd < 0) {  // closed while we waited: the fd number may be reused
            throw std::system_error(ECONNABORTED, std::generic_category(),
                                    "TLS handshake: the connection was closed");
        }
        TlsResult r = tls.handshake();
        switch (r.kind) {
            case TlsResult::ok:
                co_return;
            case TlsResult::want_read:
                io.read_drained();
                if (co_await wait_ready(io, false) < 0) {
                    throw std::system_error(ECONNABORTED, std::generic_category(),
                                            "TLS handshake: the connection was closed");
                }
                break;
            case TlsResult::want_write:
                io.write_full();
                if (co_await wait_ready(io, true) < 0) {
                    throw std::system_error(ECONNABORTED, std::generic_category(),
                                            "TLS handshake: the connection was closed");
                }
                break;
            case TlsResult::eof:
                throw SslError("TLS handshake: the peer closed the connection");
            case TlsResult::os_error:
                throw std::system_error(static_cast<int>(r.n), std::generic_category(),
                                        "TLS handshake with " + peer.to_string());
            case TlsResult::ssl_error:
                throw SslError(tls.last_error());
        }
    }
}

}  // namespace corio::net::detail
