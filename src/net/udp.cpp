// src/net/udp.cpp - the datagram transport, following asyncio's
// selector_events._SelectorDatagramTransport.
#include "corio/net/udp.hpp"

#include <cerrno>
#include <deque>
#include <string>
#include <system_error>

#include "channel.hpp"

namespace corio::net {

namespace {

using corio::detail::IoState;
using corio::detail::kIoReadable;
using corio::detail::LoopAccess;

constexpr int kDatagramsPerTurn = 64;

class DatagramTransportImpl final : public DatagramTransport,
                                    detail::PostedIo<DatagramTransportImpl> {
    friend class detail::PostedIo<DatagramTransportImpl>;

public:
    DatagramTransportImpl(Socket sock, std::optional<SocketAddress> remote)
        : sock_(std::move(sock)), remote_(std::move(remote)) {}

    void start(std::unique_ptr<DatagramProtocol> proto) {
        proto_ = std::move(proto);
        self_ = std::static_pointer_cast<DatagramTransportImpl>(shared_from_this());
        IoState& io = sock_.io();
        io.owner = this;
        io.on_ready = &on_io;
        loop_ = io.loop;
        guarded([&] { proto_->connection_made(*this); }, "protocol.connection_made() failed");
        if (io.readable()) {
            post();
        }
    }

    void sendto(std::string_view data, std::optional<SocketAddress> addr) override {
        if (closing_) {
            throw RuntimeError("sendto() on a closing datagram transport");
        }
        if (!addr && !remote_) {
            throw std::invalid_argument("sendto: addr is required on an unconnected endpoint");
        }
        if (addr && remote_ && !(*addr == *remote_)) {
            throw std::invalid_argument("sendto: addr differs from the connected remote address");
        }
        if (queue_.empty() && try_send(data, addr)) {
            return;
        }
        queued_bytes_ += data.size();
        queue_.push_back({std::string(data), addr});
    }

    void close() override {
        if (closing_) {
            return;
        }
        closing_ = true;
        if (queue_.empty()) {
            lost(nullptr);
        }
    }

    void abort() override {
        queue_.clear();
        queued_bytes_ = 0;
        closing_ = true;
        lost(nullptr);
    }

    bool is_closing() const noexcept override { return closing_; }
    std::size_t get_write_buffer_size() const noexcept override { return queued_bytes_; }
    SocketAddress sockname() const override {
        return sock_ ? sock_.local_address() : SocketAddress();
    }

    std::any get_extra_info(std::string_view name) const override {
        if (name == "sockname") {
            return sockname();
        }
        if (name == "peername" && remote_) {
            return *remote_;
        }
        if (name == "socket") {
            return sock_.fd();
        }
        return {};
    }

    DatagramProtocol& get_protocol() noexcept override { return *proto_; }

private:
    struct Pending {
        std::string data;
        std::optional<SocketAddress> addr;
    };

    // A burst of events, posted by PostedIo (the endpoint is open).
    void io_ready() {
        IoState& io = *sock_.io_state();
        if (io.writable() && !queue_.empty()) {
            flush();
        }
        if (!closing_ && io.readable()) {
            receive();
        }
    }

    void receive() {
        char* buf = detail::read_scratch();
        IoState& io = *sock_.io_state();
        for (int i = 0; i < kDatagramsPerTurn && !closing_; ++i) {
            SocketAddress from;
            socklen_t len = sizeof(sockaddr_storage);
            ssize_t n = ::recvfrom(io.fd, buf, detail::kScratchSize, 0, from.data(), &len);
            if (n < 0) {
                if (errno == EINTR) {
                    continue;
                }
                if (errno == EAGAIN) {
                    io.read_drained();
                    return;
                }
                error(errno, "recvfrom");
                continue;
            }
            from.set_size(len);
            guarded(
                [&] {
                    proto_->datagram_received(std::string_view(buf, static_cast<std::size_t>(n)),
                                              from);
                },
                "protocol.datagram_received() failed");
        }
        if (!closing_ && io.readable()) {
            post();
        }
    }

    // Sends one datagram; false if the socket would block (then it is queued).
    // Tries the kernel at once, as asyncio does with nothing queued: a new
    // socket is writable before the loop has polled it (its ready bits are
    // still clear), and a datagram the kernel took cannot be lost by abort().
    bool try_send(std::string_view data, const std::optional<SocketAddress>& addr) {
        IoState& io = sock_.io();
        for (;;) {
            ssize_t n = addr ? ::sendto(io.fd, data.data(), data.size(), MSG_NOSIGNAL, addr->data(),
                                        addr->size())
                             : ::send(io.fd, data.data(), data.size(), MSG_NOSIGNAL);
            if (n >= 0) {
                return true;
            }
            if (errno == EINTR) {
                continue;
            }
            if (errno == EAGAIN) {
                io.write_full();
                return false;
            }
            error(errno, "sendto");
            return true;  // reported, dropped (datagram semantics)
        }
    }

    void flush() {
        while (!queue_.empty()) {
            Pending& p = queue_.front();
            if (!try_send(p.data, p.addr)) {
                return;
            }
            queued_bytes_ -= p.data.size();
            queue_.pop_front();
        }
        if (closing_) {
            lost(nullptr);
        }
    }

    void error(int err, const char* op) {
        std::string where = remote_ ? std::string(op) + " " + remote_->to_string() : op;
        std::exception_ptr e =
            std::make_exception_ptr(std::system_error(err, std::generic_category(), where));
        guarded([&] { proto_->error_received(e); }, "protocol.error_received() failed");
    }

    template <class F>
    void guarded(F&& f, const char* what) {
        try {
            f();
        } catch (...) {
            if (loop_ != nullptr) {
                loop_->call_exception_handler(ExceptionContext{
                    std::string("Fatal error: ") + what, std::current_exception(), {}, {}});
            }
            abort();
        }
    }

    void lost(std::exception_ptr e) {
        if (lost_) {
            return;
        }
        lost_ = true;
        closing_ = true;
        std::shared_ptr<DatagramTransportImpl> self = self_;
        auto finish = [self, e] {
            if (IoState* io = self->sock_.io_state()) {
                io->on_ready = nullptr;
            }
            self->sock_.close();
            try {
                self->proto_->connection_lost(e);
            } catch (...) {
                if (self->loop_ != nullptr) {
                    self->loop_->call_exception_handler(ExceptionContext{
                        "protocol.connection_lost() failed", std::current_exception(), {}, {}});
                }
            }
            self->self_.reset();
        };
        if (loop_ != nullptr && !loop_->is_closed()) {
            loop_->call_soon(std::move(finish));
        } else {
            finish();
        }
    }

    Socket sock_;
    std::optional<SocketAddress> remote_;
    std::unique_ptr<DatagramProtocol> proto_;
    std::deque<Pending> queue_;
    std::size_t queued_bytes_ = 0;
    bool closing_ = false;
    bool lost_ = false;
};

Task<std::shared_ptr<DatagramTransport>> open_endpoint(
    std::function<std::unique_ptr<DatagramProtocol>()> factory, DatagramOptions o) {
    int family = o.local_addr ? o.local_addr->family() : o.remote_addr->family();
    Socket sock = Socket::create(family, SOCK_DGRAM);
    if (o.reuse_port) {
        sock.set_reuse_port(true);
    }
    if (o.allow_broadcast) {
        int on = 1;
        if (::setsockopt(sock.fd(), SOL_SOCKET, SO_BROADCAST, &on, sizeof on) < 0) {
            detail::throw_os_error(errno, "setsockopt(SO_BROADCAST)");
        }
    }
    if (o.local_addr) {
        sock.bind(*o.local_addr);
    }
    if (o.remote_addr) {
        co_await sock_connect(sock, *o.remote_addr);  // UDP connect completes at once
    }
    auto t = std::make_shared<DatagramTransportImpl>(std::move(sock), o.remote_addr);
    t->start(factory());
    co_return t;
}

}  // namespace

Task<std::shared_ptr<DatagramTransport>> create_datagram_endpoint(
    std::function<std::unique_ptr<DatagramProtocol>()> factory, DatagramOptions options) {
    if (!factory) {
        throw std::invalid_argument("create_datagram_endpoint: protocol factory is empty");
    }
    if (!options.local_addr && !options.remote_addr) {
        throw std::invalid_argument(
            "create_datagram_endpoint: local_addr or remote_addr is required");
    }
    return open_endpoint(std::move(factory), options);
}

}  // namespace corio::net
