// src/net/transports.cpp - the socket transport behind Protocol, following
// asyncio's selector_events._SelectorSocketTransport.
//
// PostedIo (channel.hpp) runs io_ready() once per burst of events, which
// reads (up to kReadsPerTurn buffers, then yields to other callbacks) and
// flushes. The transport holds itself (`self_`) while open, as the loop
// holds an asyncio transport; connection_lost() drops that.
#include "corio/net/transports.hpp"

#include <unistd.h>

#include <cerrno>
#include <system_error>
#include <tuple>

#include "channel.hpp"
#include "corio/timeouts.hpp"
#include "server_state.hpp"
#include "stream_conn.hpp"
#include "tls_session.hpp"

namespace corio::net {

namespace {

using corio::detail::IoState;
using corio::detail::LoopAccess;
using detail::Channel;
using detail::channel_read;
using detail::channel_write;
using detail::ChannelIo;
using detail::tls_handshake;

constexpr int kReadsPerTurn = 4;

class TransportImpl final : public Transport,
                            public detail::ServerClient,
                            detail::PostedIo<TransportImpl> {
    friend class detail::PostedIo<TransportImpl>;

public:
    TransportImpl(Socket sock, std::unique_ptr<TlsSession> tls)
        : sock_(std::move(sock)), tls_(std::move(tls)) {
        try {
            peer_ = sock_.peer_address();
            local_ = sock_.local_address();
        } catch (const std::system_error&) {
        }
    }

    // Takes over the socket's events and calls connection_made.
    void start(std::unique_ptr<Protocol> proto) {
        proto_ = std::move(proto);
        self_ = std::static_pointer_cast<TransportImpl>(shared_from_this());
        IoState& io = sock_.io();
        io.owner = this;
        io.on_ready = &on_io;
        loop_ = io.loop;
        guarded([&] { proto_->connection_made(*this); }, "protocol.connection_made() failed");
        if (!closing_ && io.readable()) {
            post();  // data may already be waiting (no edge would come)
        }
    }

    void write(std::string_view data) override {
        if (eof_requested_) {
            throw RuntimeError("Cannot call write() after write_eof()");
        }
        if (closing_ || lost_ || data.empty()) {
            return;
        }
        if (wbuf_.empty()) {
            data.remove_prefix(send_some(data));
            if (data.empty() || lost_) {
                return;
            }
        }
        wbuf_.append(data);
        maybe_pause_protocol();
        if (sock_.io_state()->writable()) {
            post();  // a short write without EAGAIN (one TLS record): no edge will come
        }
    }

    void write_eof() override {
        if (tls_) {
            throw RuntimeError("write_eof() is not supported on TLS transports");
        }
        if (closing_ || eof_requested_) {
            return;
        }
        eof_requested_ = true;
        if (wbuf_.empty()) {
            shutdown_write();
        }
    }

    bool can_write_eof() const noexcept override { return tls_ == nullptr; }

    /// Before start(): the TLS handshake, while the server already tracks
    /// this connection (close_clients() ends it with ECONNABORTED).
    Task<void> handshake(std::optional<Duration> timeout) {
        co_await wait_for(tls_handshake(*tls_, sock_.io(), peer_), timeout);
        if (closing_) {
            throw std::system_error(ECONNABORTED, std::generic_category(),
                                    "TLS handshake: the connection was closed");
        }
    }

    void close() override {
        if (closing_) {
            return;
        }
        if (!proto_) {
            drop_unstarted();
            return;
        }
        closing_ = true;
        reading_ = false;
        if (wbuf_.empty()) {
            schedule_connection_lost(nullptr);
        }
    }

    void abort() override {
        if (!proto_) {
            drop_unstarted();
            return;
        }
        force_close(nullptr);
    }

    bool is_closing() const noexcept override { return closing_; }

    void pause_reading() override { reading_ = false; }

    // As asyncio's resume_reading, this watches the socket again even after
    // a kept-open EOF (which stopped the watching without pausing).
    void resume_reading() override {
        if (closing_ || reading_) {
            return;
        }
        reading_ = true;
        eof_kept_ = false;
        if (sock_ && sock_.io_state()->readable()) {
            post();
        }
    }

    bool is_reading() const noexcept override { return reading_ && !closing_; }

    void set_write_buffer_limits(std::optional<std::size_t> high,
                                 std::optional<std::size_t> low) override {
        std::tie(high_, low_) = detail::write_buffer_limits(high, low);
        maybe_pause_protocol();
    }

    std::size_t get_write_buffer_size() const noexcept override { return wbuf_.size(); }
    SocketAddress peername() const override { return peer_; }
    SocketAddress sockname() const override { return local_; }

    std::any get_extra_info(std::string_view name) const override {
        if (name == "peername") {
            return peer_;
        }
        if (name == "sockname") {
            return local_;
        }
        if (name == "socket") {
            return sock_.fd();
        }
        if (!tls_) {
            return {};
        }
        if (name == "ssl_object") {
            return tls_->native_handle();
        }
        if (name == "alpn_protocol") {
            return tls_->alpn_protocol();
        }
        if (name == "server_hostname") {
            return tls_->server_name();
        }
        if (name == "cipher") {
            return tls_->cipher();
        }
        if (name == "version") {
            return tls_->version();
        }
        return {};
    }

    Protocol& get_protocol() noexcept override { return *proto_; }

    // The new protocol gets the events from the next one on (start_tls
    // installs its TLS layer here); the caller owns the old one.
    std::unique_ptr<Protocol> set_protocol(std::unique_ptr<Protocol> protocol) override {
        if (!protocol) {
            throw std::invalid_argument("set_protocol: protocol is null");
        }
        std::swap(proto_, protocol);
        return protocol;
    }

private:
    // A burst of events, posted by PostedIo (the transport is open).
    void io_ready() {
        IoState& io = *sock_.io_state();
        if (io.writable() && !wbuf_.empty()) {
            flush();
        }
        if (reading_ && !closing_ && !eof_kept_ && io.readable()) {
            read_some_buffers();
        }
    }

    void read_some_buffers() {
        char* buf = detail::read_scratch();
        IoState& io = *sock_.io_state();
        for (int i = 0; i < kReadsPerTurn; ++i) {
            if (!reading_ || closing_ || eof_kept_ || !io.readable()) {
                return;
            }
            ChannelIo r = channel_read(channel(), buf, detail::kScratchSize);
            if (r.kind == ChannelIo::eof) {
                on_eof();
                return;
            }
            if (r.kind == ChannelIo::failed) {
                fatal(r.error, nullptr);
                return;
            }
            if (r.kind != ChannelIo::done) {
                return;  // the next edge of what it wants retries
            }
            std::size_t n = r.n;
            guarded([&] { proto_->data_received(std::string_view(buf, n)); },
                    "protocol.data_received() call failed");
        }
        if (reading_ && !closing_ && !eof_kept_ && io.readable()) {
            post();  // more to read: after the other ready callbacks
        }
    }

    void on_eof() {
        bool keep_open = false;
        guarded([&] { keep_open = proto_->eof_received(); }, "protocol.eof_received() call failed");
        if (!keep_open) {
            close();
        } else {
            eof_kept_ = true;  // no more reads; is_reading() stays true (asyncio)
        }
    }

    std::size_t send_some(std::string_view data) {
        ChannelIo r = channel_write(channel(), data);
        if (r.kind == ChannelIo::failed) {
            fatal(r.error, nullptr);
        }
        return r.kind == ChannelIo::done ? r.n : 0;
    }

    Channel channel() { return {sock_.io(), tls_.get(), true, peer_}; }

    void flush() {
        while (!wbuf_.empty() && !lost_) {
            std::size_t n = send_some(wbuf_.view());
            if (n == 0) {
                break;
            }
            wbuf_.consume(n);
        }
        maybe_resume_protocol();
        if (wbuf_.empty() && !lost_) {
            if (eof_requested_) {
                shutdown_write();
            }
            if (closing_) {
                schedule_connection_lost(nullptr);
            }
        }
    }

    void shutdown_write() {
        if (eof_sent_) {
            return;
        }
        eof_sent_ = true;
        if (::shutdown(sock_.fd(), SHUT_WR) < 0 && errno != ENOTCONN) {
            fatal(std::make_exception_ptr(std::system_error(errno, std::generic_category(),
                                                            "shutdown " + peer_.to_string())),
                  nullptr);
        }
    }

    void maybe_pause_protocol() {
        if (!protocol_paused_ && wbuf_.size() > high_) {
            protocol_paused_ = true;
            guarded([&] { proto_->pause_writing(); }, "protocol.pause_writing() failed");
        }
    }

    void maybe_resume_protocol() {
        if (protocol_paused_ && wbuf_.size() <= low_) {
            protocol_paused_ = false;
            guarded([&] { proto_->resume_writing(); }, "protocol.resume_writing() failed");
        }
    }

    template <class F>
    void guarded(F&& f, const char* what) {
        try {
            f();
        } catch (...) {
            fatal(std::current_exception(), what);
        }
    }

    // asyncio's _fatal_error: report (unless it is a plain connection error)
    // and close at once with the error.
    void fatal(std::exception_ptr e, const char* what) {
        if (what != nullptr && loop_ != nullptr) {
            loop_->call_exception_handler(
                ExceptionContext{std::string("Fatal error: ") + what, e, {}, {}});
        }
        force_close(e);
    }

    // close/abort before start(): no protocol to tell; a handshake waiting on
    // the socket wakes and fails.
    void drop_unstarted() noexcept {
        closing_ = true;
        reading_ = false;
        lost_ = true;
        sock_.close();
        detach_from_server();
    }

    void force_close(std::exception_ptr e) {
        if (lost_) {
            return;
        }
        wbuf_.clear();
        closing_ = true;
        reading_ = false;
        schedule_connection_lost(e);
    }

    void schedule_connection_lost(std::exception_ptr e) {
        if (lost_) {
            return;
        }
        lost_ = true;
        std::shared_ptr<TransportImpl> self = self_;
        if (loop_ == nullptr || loop_->is_closed()) {
            call_connection_lost(e);
            return;
        }
        loop_->call_soon([self, e]() { self->call_connection_lost(e); });
    }

    void call_connection_lost(std::exception_ptr e) {
        if (tls_ && !e && sock_) {
            tls_->shutdown();  // close_notify, best effort
        }
        if (IoState* io = sock_.io_state()) {
            io->on_ready = nullptr;
        }
        sock_.close();
        detach_from_server();
        try {
            proto_->connection_lost(e);
        } catch (...) {
            if (loop_ != nullptr) {
                loop_->call_exception_handler(ExceptionContext{
                    "protocol.connection_lost() call failed", std::current_exception(), {}, {}});
            }
        }
        auto keep = std::move(self_);  // may be the last reference
    }

    Socket sock_;
    std::unique_ptr<TlsSession> tls_;
    std::unique_ptr<Protocol> proto_;
    SocketAddress peer_;
    SocketAddress local_;
    detail::ByteBuffer wbuf_;
    std::size_t high_ = 64 * 1024;
    std::size_t low_ = 16 * 1024;
    bool protocol_paused_ = false;
    bool reading_ = true;
    bool eof_kept_ = false;  // eof_received() returned true: the socket is not read
    bool closing_ = false;
    bool eof_requested_ = false;
    bool eof_sent_ = false;
    bool lost_ = false;
};

// From a catch block: the current exception, through the loop's handler.
void report_failed_handshake(detail::ServerState& st) {
    st.loop->call_exception_handler(ExceptionContext{
        "TLS handshake of an accepted connection failed", std::current_exception(), {}, {}});
}

// Handshakes (when `ssl`) with the socket still in task mode, then starts the transport.
Task<std::shared_ptr<Transport>> make_transport(Socket sock, ProtocolFactory factory,
                                                std::shared_ptr<SslContext> ssl,
                                                std::string server_hostname,
                                                std::optional<Duration> timeout,
                                                detail::ServerState* server) {
    const bool secure = ssl != nullptr;
    std::unique_ptr<TlsSession> tls;
    if (secure) {
        tls = std::make_unique<TlsSession>(std::move(ssl), sock.fd(), server_hostname);
    }
    auto t = std::make_shared<TransportImpl>(std::move(sock), std::move(tls));
    if (server != nullptr) {
        server->attach(*t);  // before the handshake: close_clients() and wait_closed() see it
    }
    if (secure) {
        co_await t->handshake(timeout);
    }
    t->start(factory());
    co_return t;
}

struct Plan {
    std::shared_ptr<SslContext> ssl;
    std::string server_hostname;
    std::optional<Duration> timeout;
};

Plan plan_of(const ConnectOptions& o, std::string_view default_host) {
    return Plan{o.ssl ? o.ssl->shared_from_this() : nullptr,
                std::string(o.server_hostname.empty() ? default_host : o.server_hostname),
                o.ssl_handshake_timeout};
}

Task<std::shared_ptr<Transport>> connect_transport(Task<Socket> connecting, ProtocolFactory factory,
                                                   Plan plan) {
    co_return co_await make_transport(co_await std::move(connecting), std::move(factory),
                                      std::move(plan.ssl), std::move(plan.server_hostname),
                                      plan.timeout, nullptr);
}

std::shared_ptr<detail::ServerState> transport_server(ProtocolFactory factory,
                                                      const ServerOptions& options) {
    if (!factory) {
        throw std::invalid_argument("create_server: protocol factory is empty");
    }
    auto st = detail::new_server(options, "create_server()");
    detail::ServerState* raw = st.get();
    st->on_accept = [raw, factory = std::move(factory)](Socket sock) {
        if (sock.local_address().family() != AF_UNIX) {
            sock.set_nodelay(true);
        }
        if (!raw->ssl) {
            auto t = std::make_shared<TransportImpl>(std::move(sock), nullptr);
            raw->attach(*t);
            t->start(factory());
            return;
        }
        corio::create_task(
            [](std::shared_ptr<detail::ServerState> st, Socket s, ProtocolFactory f) -> Task<void> {
                try {
                    co_await make_transport(std::move(s), std::move(f), st->ssl, std::string(),
                                            st->options.ssl_handshake_timeout, st.get());
                } catch (const CancelledError&) {
                } catch (const std::system_error& e) {
                    // The connection went away (or close_clients() ended it):
                    // nothing to report, as asyncio outside debug mode.
                    int err = e.code().value();
                    if (err != ECONNABORTED && err != ECONNRESET && err != EPIPE) {
                        report_failed_handshake(*st);
                    }
                } catch (...) {
                    report_failed_handshake(*st);
                }
            }(raw->shared_from_this(), std::move(sock), factory));
    };
    return st;
}

}  // namespace

Task<std::shared_ptr<Transport>> create_connection(ProtocolFactory factory, std::string host,
                                                   std::uint16_t port, ConnectOptions options) {
    if (!factory) {
        throw std::invalid_argument("create_connection: protocol factory is empty");
    }
    Plan plan = plan_of(options, host);
    return connect_transport(detail::connect_tcp(std::move(host), port, options.local_addr),
                             std::move(factory), std::move(plan));
}

Task<std::shared_ptr<Transport>> create_unix_connection(ProtocolFactory factory, std::string path,
                                                        ConnectOptions options) {
    if (!factory) {
        throw std::invalid_argument("create_unix_connection: protocol factory is empty");
    }
    Plan plan = plan_of(options, {});
    return connect_transport(detail::connect_unix(std::move(path)), std::move(factory),
                             std::move(plan));
}

Task<Server> create_server(ProtocolFactory factory, std::string host, std::uint16_t port,
                           ServerOptions options) {
    return detail::listen_tcp(transport_server(std::move(factory), options), std::move(host), port);
}

Task<Server> create_unix_server(ProtocolFactory factory, std::string path, ServerOptions options) {
    return detail::listen_unix(transport_server(std::move(factory), options), std::move(path));
}

}  // namespace corio::net
