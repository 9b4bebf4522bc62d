// src/net/udp.cpp - the datagram transport, following asyncio's
// selector_events._SelectorDatagramTransport.
#include "corio/net/udp.hpp"

#include <sys/socket.h>
#include <sys/uio.h>

#include <cerrno>
#include <deque>
#include <string>
#include <system_error>

#include "channel.hpp"
#include "core/io.hpp"

namespace corio::net {

namespace {

using corio::detail::IoOp;
using corio::detail::IoState;
using corio::detail::OpKind;

constexpr int kDatagramsPerTurn = 64;
constexpr std::size_t kMaxDatagram = 64 * 1024;

// Receives and sends through the backend's recvmsg/sendmsg operations, one
// of each at a time: an operation that finishes at once is handled at
// once; one that waits (epoll: for an edge; io_uring: in the ring) ends in
// the poll phase, which posts io_ready().
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
        loop_ = io.loop;
        for (OwnedOp* op : {&recv_op_, &send_op_}) {
            op->owner = this;
            op->io = &io;
            op->complete = &op_done;
        }
        recv_buf_ = std::make_unique_for_overwrite<char[]>(kMaxDatagram);
        guarded([&] { proto_->connection_made(*this); }, "protocol.connection_made() failed");
        post();  // starts receiving (a datagram already there comes from the posted call)
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
        queued_bytes_ += data.size();
        queue_.push_back({std::string(data), addr});
        // Tries the kernel at once, as asyncio does with nothing queued: a
        // datagram the kernel took cannot be lost by abort().
        send_queued();
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
        if (send_op_.state == IoOp::idle) {
            queue_.clear();  // else the front is in flight: dropped when the socket closes
            queued_bytes_ = 0;
        }
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
    struct OwnedOp : IoOp {
        DatagramTransportImpl* owner = nullptr;
    };

    static void op_done(IoOp* op) noexcept { static_cast<OwnedOp*>(op)->owner->post(); }

    // A burst of completions, posted by PostedIo (the endpoint is open).
    void io_ready() {
        send_queued();
        receive();
    }

    void receive() {
        for (int i = 0; i < kDatagramsPerTurn && !closing_ && sock_; ++i) {
            if (recv_op_.state == IoOp::pending) {
                return;  // op_done posts us
            }
            if (recv_op_.state == IoOp::idle) {
                recv_iov_ = {recv_buf_.get(), kMaxDatagram};
                recv_msg_ = corio::detail::one_buffer_msg(recv_iov_, from_.data(),
                                                          sizeof(sockaddr_storage));
                recv_op_.kind = OpKind::recvmsg;
                recv_op_.msg = &recv_msg_;
                if (!corio::detail::start_op(recv_op_)) {
                    return;
                }
            } else {
                corio::detail::finish_op(recv_op_);  // done: taken now
                recv_op_.io = &sock_.io();
            }
            deliver(recv_op_.res);
        }
        if (!closing_ && sock_) {
            post();  // more may be waiting: after the other ready callbacks
        }
    }

    void deliver(int res) {
        if (res < 0) {
            error(-res, "recvfrom");
            return;
        }
        from_.set_size(recv_msg_.msg_namelen);
        guarded(
            [&] {
                proto_->datagram_received(
                    std::string_view(recv_buf_.get(), static_cast<std::size_t>(res)), from_);
            },
            "protocol.datagram_received() failed");
    }

    // Sends the queue's datagrams in order, one operation at a time.
    void send_queued() {
        while (!queue_.empty() && sock_) {
            int res;
            if (send_op_.state == IoOp::pending) {
                return;  // op_done posts us
            }
            if (send_op_.state == IoOp::done) {
                corio::detail::finish_op(send_op_);
                send_op_.io = &sock_.io();
                res = send_op_.res;
            } else {
                Pending& p = queue_.front();
                send_iov_ = {p.data.data(), p.data.size()};
                send_msg_ = p.addr && !remote_ ? corio::detail::one_buffer_msg(
                                                     send_iov_, p.addr->data(), p.addr->size())
                                               : corio::detail::one_buffer_msg(send_iov_);
                send_op_.kind = OpKind::sendmsg;
                send_op_.msg = &send_msg_;
                if (!corio::detail::start_op(send_op_)) {
                    return;
                }
                res = send_op_.res;
            }
            if (res < 0) {
                error(-res, "sendto");  // reported, dropped (datagram semantics)
            }
            queued_bytes_ -= queue_.front().data.size();
            queue_.pop_front();
        }
        if (closing_ && queue_.empty()) {
            lost(nullptr);
        }
    }

    void error(int err, const char* op) {
        if (closing_ && err == EBADF) {
            return;  // our own close ended the operation
        }
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
            self->sock_.close();  // operations still going end here
            self->queue_.clear();
            self->queued_bytes_ = 0;
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
    OwnedOp recv_op_;
    OwnedOp send_op_;
    std::unique_ptr<char[]> recv_buf_;
    SocketAddress from_;
    iovec recv_iov_{};
    msghdr recv_msg_{};
    iovec send_iov_{};
    msghdr send_msg_{};
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
