// src/net/streams.cpp - StreamReader, StreamWriter, open_connection and
// start_server, following asyncio's streams.py.
#include "corio/net/streams.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <system_error>

#include "connection.hpp"
#include "corio/net/dns.hpp"
#include "corio/timeouts.hpp"
#include "stream_conn.hpp"

namespace corio::net {

using detail::StreamConn;

namespace {

// Marks a read in progress (one at a time) and, like asyncio, raises a
// stored error before returning any buffered data.
struct ReadGuard {
    StreamConn& c;
    explicit ReadGuard(StreamConn& conn) : c(conn) {
        if (std::exception_ptr e = c.read_error()) {
            std::rethrow_exception(e);
        }
        c.begin_read();
    }
    ~ReadGuard() { c.end_read(); }
};

}  // namespace

// -- StreamReader -------------------------------------------------------------

StreamReader::StreamReader(std::size_t limit)
    : conn_(std::make_shared<StreamConn>(limit, /*fed=*/true)) {
    if (limit == 0) {
        throw std::invalid_argument("StreamReader: limit must be > 0");
    }
}

StreamReader::StreamReader(std::shared_ptr<StreamConn> conn) noexcept : conn_(std::move(conn)) {}

// The public reads copy the connection's handle before they return their
// (lazy) task, so a task made from a reader that is gone before the task
// first runs still works on a live connection.
namespace {

Task<std::string> read_on(std::shared_ptr<StreamConn> c, long n) {
    ReadGuard guard(*c);
    if (n == 0) {
        co_return std::string();
    }
    if (n < 0) {
        while (!c->eof()) {
            co_await c->fill();
        }
        co_return c->take(c->buffered());
    }
    if (c->buffered() == 0) {
        co_await c->fill();
    }
    co_return c->take(std::min(c->buffered(), static_cast<std::size_t>(n)));
}

Task<std::string> readexactly_on(std::shared_ptr<StreamConn> c, std::size_t n) {
    ReadGuard guard(*c);
    while (c->buffered() < n) {
        if (c->eof()) {
            throw IncompleteReadError(c->take(c->buffered()), n);
        }
        co_await c->fill();
    }
    co_return c->take(n);
}

// asyncio's algorithm, limits included: the separator may be found at an
// index up to the limit; "not found" overruns once the next place it could
// start (buffer size + 1 - separator size) is past the limit, so a
// separator split across reads at the limit is still found.
Task<std::string> readuntil_on(std::shared_ptr<StreamConn> c, std::string separator) {
    ReadGuard guard(*c);
    const std::size_t seplen = separator.size();
    std::size_t offset = 0;  // where the separator could start; earlier was searched
    for (;;) {
        std::string_view buf = c->view();
        if (buf.size() >= offset + seplen) {
            std::size_t at = buf.find(separator, offset);
            if (at != std::string_view::npos) {
                if (at > c->limit()) {
                    throw LimitOverrunError("Separator is found, but chunk is longer than limit",
                                            at);
                }
                co_return c->take(at + seplen);
            }
            offset = buf.size() + 1 - seplen;
            if (offset > c->limit()) {
                throw LimitOverrunError("Separator is not found, and chunk exceed the limit",
                                        offset);
            }
        }
        if (c->eof()) {
            throw IncompleteReadError(c->take(c->buffered()), std::nullopt);
        }
        co_await c->fill();
    }
}

Task<std::string> readline_on(std::shared_ptr<StreamConn> c) {
    std::string message;
    try {
        co_return co_await readuntil_on(c, "\n");
    } catch (IncompleteReadError& e) {
        co_return std::move(e.partial);
    } catch (const LimitOverrunError& e) {
        std::string_view buf = c->view();
        if (buf.substr(e.consumed, 1) == "\n") {
            c->consume(e.consumed + 1);
        } else {
            c->consume(buf.size());
        }
        message = e.what();
    }
    throw std::invalid_argument(message);
}

}  // namespace

Task<std::string> StreamReader::read(long n) {
    return read_on(conn_, n);
}

Task<std::string> StreamReader::readexactly(std::size_t n) {
    return readexactly_on(conn_, n);
}

Task<std::string> StreamReader::readuntil(std::string separator) {
    if (separator.empty()) {
        throw std::invalid_argument("readuntil: separator must not be empty");
    }
    return readuntil_on(conn_, std::move(separator));
}

Task<std::string> StreamReader::readline() {
    return readline_on(conn_);
}

bool StreamReader::at_eof() const noexcept {
    return conn_->at_eof();
}

void StreamReader::feed_data(std::string_view data) {
    conn_->feed_data(data);
}
void StreamReader::feed_eof() {
    conn_->feed_eof();
}
void StreamReader::set_exception(std::exception_ptr e) {
    conn_->set_read_error(std::move(e));
}
std::exception_ptr StreamReader::exception() const {
    return conn_->read_error();
}
std::size_t StreamReader::limit() const noexcept {
    return conn_->limit();
}

// -- StreamWriter -------------------------------------------------------------

StreamWriter::StreamWriter(std::shared_ptr<StreamConn> conn) noexcept : conn_(std::move(conn)) {}

void StreamWriter::write(std::string_view data) {
    conn_->write(data);
}

void StreamWriter::writelines_views(std::span<const std::string_view> pieces) {
    conn_->writelines(pieces);
}

namespace {

// Waits while the connection is open and the transport has paused us.
// Woken when it resumes, and on close.
Task<void> wait_for_room(std::shared_ptr<StreamConn> c) {
    struct DrainWait {
        explicit DrainWait(StreamConn* conn) : c(conn) {}
        StreamConn* c;
        corio::detail::ListWaiter w;
        bool await_ready() const noexcept { return false; }
        void await_suspend(std::coroutine_handle<> h) {
            corio::detail::TaskState& t = corio::detail::Waiter::current_task();
            w.on_cancel = &corio::detail::ListWaiter::unlink_and_cancel;
            c->add_drainer(w);
            w.suspend(t, h);
        }
        void await_resume() { w.check_cancelled(); }
    };
    while (c->paused() && !c->closed()) {
        DrainWait wait(c.get());
        co_await wait;
    }
}

Task<void> drain_on(std::shared_ptr<StreamConn> c) {
    if (std::exception_ptr e = c->read_error()) {
        std::rethrow_exception(e);
    }
    if (c->closing()) {
        co_await corio::sleep(std::chrono::seconds(0));  // asyncio yields here too
    }
    if (c->paused() && !c->closed()) {  // checked here too: most drains do not wait
        co_await wait_for_room(c);
    }
    if (std::exception_ptr e = c->lost()) {
        std::rethrow_exception(e);
    }
    if (c->closed()) {
        // asyncio: the protocol's connection_lost ran, so drain() says so.
        throw std::system_error(ECONNRESET, std::generic_category(), "Connection lost");
    }
}

Task<void> wait_closed_on(std::shared_ptr<StreamConn> c) {
    co_await c->closed_event().wait();
}

// asyncio's StreamWriter.start_tls: drain, then loop.start_tls on the
// transport; the stream protocol moves under the TLS layer, so a read
// waiting meanwhile gets the decrypted data. What was written before goes
// out first in clear text (the transport's queue is in order).
Task<void> start_tls_on(std::shared_ptr<StreamConn> c, std::shared_ptr<SslContext> ctx,
                        std::string server_hostname, std::optional<Duration> handshake_timeout) {
    if (c->transport() && c->transport()->get_extra_info("ssl_object").has_value()) {
        throw RuntimeError("start_tls: the connection already uses TLS");
    }
    co_await drain_on(c);
    if (c->buffered() > 0) {
        throw RuntimeError("start_tls: unread data is buffered");
    }
    std::shared_ptr<Transport> raw = c->transport();
    if (!raw || c->closed()) {
        throw std::system_error(ECONNRESET, std::generic_category(), "Connection lost");
    }
    StartTlsOptions options;
    options.server_hostname = server_hostname;
    options.ssl_handshake_timeout = handshake_timeout;
    c->set_transport(co_await net::start_tls(raw, std::move(ctx), options));
}

}  // namespace

Task<void> StreamWriter::drain() {
    return drain_on(conn_);
}

void StreamWriter::close() {
    conn_->close();
}
void StreamWriter::abort() {
    conn_->abort();
}

Task<void> StreamWriter::wait_closed() {
    return wait_closed_on(conn_);
}

bool StreamWriter::is_closing() const noexcept {
    return conn_->closing();
}
bool StreamWriter::can_write_eof() const noexcept {
    return conn_->can_write_eof();
}
void StreamWriter::write_eof() {
    conn_->write_eof();
}

Task<void> StreamWriter::start_tls(std::shared_ptr<SslContext> ctx, std::string server_hostname,
                                   std::optional<Duration> handshake_timeout) {
    if (!ctx) {
        throw std::invalid_argument("start_tls: ctx is null");
    }
    return start_tls_on(conn_, std::move(ctx), std::move(server_hostname), handshake_timeout);
}

void StreamWriter::set_write_buffer_limits(std::optional<std::size_t> high,
                                           std::optional<std::size_t> low) {
    conn_->set_write_buffer_limits(high, low);
}

std::size_t StreamWriter::get_write_buffer_size() const noexcept {
    return conn_->pending();
}

SocketAddress StreamWriter::peername() const {
    std::any a = conn_->get_extra_info("peername");
    return a.has_value() ? std::any_cast<SocketAddress>(a) : SocketAddress();
}
SocketAddress StreamWriter::sockname() const {
    std::any a = conn_->get_extra_info("sockname");
    return a.has_value() ? std::any_cast<SocketAddress>(a) : SocketAddress();
}
int StreamWriter::socket() const noexcept {
    if (!conn_->transport() || conn_->closed()) {
        return -1;
    }
    std::any a = conn_->get_extra_info("socket");
    return a.has_value() ? std::any_cast<int>(a) : -1;
}
SSL* StreamWriter::ssl_object() const noexcept {
    try {
        std::any a = conn_->get_extra_info("ssl_object");
        return a.has_value() ? std::any_cast<SSL*>(a) : nullptr;
    } catch (...) {
        return nullptr;
    }
}

std::any StreamWriter::get_extra_info(std::string_view name) const {
    return conn_->get_extra_info(name);
}

// -- open_connection ----------------------------------------------------------

namespace {

// What open_connection keeps of its options, owned (see ConnectOptions).
struct ConnectPlan {
    std::shared_ptr<SslContext> ssl;
    std::size_t limit;
    std::string server_hostname;
    std::optional<Duration> handshake_timeout;

    ConnectPlan(const ConnectOptions& o, std::string_view default_hostname)
        : ssl(o.ssl ? o.ssl->shared_from_this() : nullptr),
          limit(o.limit),
          server_hostname(o.server_hostname.empty() ? default_hostname : o.server_hostname),
          handshake_timeout(o.ssl_handshake_timeout) {
        if (limit == 0) {
            throw std::invalid_argument("open_connection: limit must be > 0");
        }
    }
};

Task<std::pair<StreamReader, StreamWriter>> make_streams(Task<Socket> connecting,
                                                         ConnectPlan plan) {
    auto conn = std::make_shared<StreamConn>(plan.limit);
    Socket sock = co_await std::move(connecting);
    if (plan.ssl) {
        // Named, not a braced temporary inside co_await (GCC 12 destroys
        // those twice: docs/pitfalls.md).
        detail::TlsPlan tls{plan.ssl, plan.server_hostname, plan.handshake_timeout};
        co_await detail::start_tls_connection(std::move(sock), conn->make_protocol(),
                                              std::move(tls), nullptr);
    } else {
        detail::start_plain(std::move(sock), conn->make_protocol(), nullptr);
    }
    co_return std::pair<StreamReader, StreamWriter>(StreamReader(conn), StreamWriter(conn));
}

// Runs the handler of one client. As in asyncio, a handler that returns
// leaves the connection to its streams (it closes when the last of them
// goes); a handler that fails is reported and its connection closed.
Task<void> serve_client(std::shared_ptr<detail::ServerState> st, ClientConnected handler,
                        std::shared_ptr<StreamConn> conn) {
    try {
        co_await handler(StreamReader(conn), StreamWriter(conn));
    } catch (const CancelledError&) {
        conn->abort();  // the server (or the program) is shutting down
    } catch (...) {
        st->loop->call_exception_handler(
            ExceptionContext{"Unhandled exception in client_connected_cb (client " +
                                 StreamWriter(conn).peername().to_string() + ")",
                             std::current_exception(),
                             corio::current_task().get_name(),
                             {}});
        conn->abort();
    }
}

// A TLS client: the handshake first; a failure is the client's problem, not
// the server's, so it is reported in debug mode only (as asyncio).
Task<void> serve_tls_client(std::shared_ptr<detail::ServerState> st, ClientConnected handler,
                            Socket sock, SocketAddress peer) {
    auto conn = std::make_shared<StreamConn>(st->options.limit);
    detail::TlsPlan tls{st->ssl, std::string(), st->options.ssl_handshake_timeout};
    try {
        co_await detail::start_tls_connection(std::move(sock), conn->make_protocol(),
                                              std::move(tls), st.get());
    } catch (const CancelledError&) {
        co_return;
    } catch (...) {
        detail::report_failed_handshake(*st, peer);
        co_return;
    }
    co_await serve_client(std::move(st), std::move(handler), std::move(conn));
}

}  // namespace

Task<std::pair<StreamReader, StreamWriter>> open_connection(std::string host, std::uint16_t port,
                                                            ConnectOptions options) {
    ConnectPlan plan(options, host);
    return make_streams(detail::connect_tcp(std::move(host), port, options.local_addr),
                        std::move(plan));
}

Task<std::pair<StreamReader, StreamWriter>> open_unix_connection(std::string path,
                                                                 ConnectOptions options) {
    ConnectPlan plan(options, std::string_view());
    return make_streams(detail::connect_unix(std::move(path)), std::move(plan));
}

namespace {

std::shared_ptr<detail::ServerState> stream_server(ClientConnected handler,
                                                   const ServerOptions& options) {
    if (!handler) {
        throw std::invalid_argument("start_server: handler is empty");
    }
    auto st = detail::new_server(options, "start_server()");
    detail::ServerState* raw = st.get();
    st->on_accept = [raw, handler = std::move(handler)](Socket sock, SocketAddress peer) {
        if (peer.family() != AF_UNIX) {
            sock.set_nodelay(true);
        }
        if (raw->ssl) {
            corio::create_task(serve_tls_client(raw->shared_from_this(), handler, std::move(sock),
                                                std::move(peer)));
            return;
        }
        auto conn = std::make_shared<StreamConn>(raw->options.limit);
        detail::start_plain(std::move(sock), conn->make_protocol(), raw);
        corio::create_task(serve_client(raw->shared_from_this(), handler, std::move(conn)));
    };
    return st;
}

}  // namespace

Task<Server> start_server(ClientConnected handler, std::string host, std::uint16_t port,
                          ServerOptions options) {
    return detail::listen_tcp(stream_server(std::move(handler), options), std::move(host), port);
}

Task<Server> start_unix_server(ClientConnected handler, std::string path, ServerOptions options) {
    return detail::listen_unix(stream_server(std::move(handler), options), std::move(path));
}

}  // namespace corio::net
