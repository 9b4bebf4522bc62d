// src/sql/pg_api.cpp - the PostgreSQL driver's public surface: options from
// URLs, the non-blocking connect, queries, transactions, LISTEN.
#include <arpa/inet.h>
#include <sys/socket.h>

#include <cstring>
#include <stdexcept>

#include "corio/io_wait.hpp"
#include "corio/net/dns.hpp"
#include "corio/sql/postgres.hpp"
#include "corio/sql/url.hpp"
#include "corio/timeouts.hpp"
#include "pg_connection.hpp"

namespace corio::sql::pg {

namespace {

using detail::ConnectionImpl;

struct PgConnCloser {
    void operator()(PGconn* c) const noexcept { PQfinish(c); }
};

// The SQLSTATE in a verbose libpq message ("FATAL:  28P01: password ..."),
// or "08001" (could not connect) when the server sent none.
std::string sqlstate_of(std::string_view message) {
    for (std::string_view severity : {"FATAL:  ", "ERROR:  "}) {
        auto at = message.find(severity);
        if (at != std::string_view::npos) {
            std::string_view rest = message.substr(at + severity.size());
            if (rest.size() > 6 && rest[5] == ':') {
                return std::string(rest.substr(0, 5));
            }
        }
    }
    return "08001";
}

[[noreturn]] void throw_connect_error(PGconn* c) {
    std::string message = c ? PQerrorMessage(c) : "out of memory";
    while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) {
        message.pop_back();
    }
    std::string state = sqlstate_of(message);
    throw OperationalError(message + " (SQLSTATE " + state + ")", state);
}

bool is_numeric_host(const std::string& host) {
    unsigned char buf[sizeof(in6_addr)];
    return inet_pton(AF_INET, host.c_str(), buf) == 1 ||
           inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

Task<std::string> resolve(const ConnectOptions& o) {
    if (o.host.empty() || o.host[0] == '/' || is_numeric_host(o.host)) {
        co_return std::string();
    }
    auto found = co_await net::getaddrinfo(o.host, std::to_string(o.port), AF_UNSPEC, SOCK_STREAM);
    if (found.empty()) {
        throw OperationalError("could not resolve host \"" + o.host + "\" (SQLSTATE 08001)",
                               "08001");
    }
    co_return found.front().address.host();
}

Task<std::unique_ptr<ConnectionImpl>> connect_impl(ConnectOptions o) {
    std::string hostaddr = co_await resolve(o);
    std::string port = std::to_string(o.port);
    std::vector<std::pair<const char*, std::string>> kv = {
        {"host", o.host},
        {"hostaddr", hostaddr},
        {"port", port},
        {"user", o.user},
        {"password", o.password},
        {"dbname", o.database},
        {"sslmode", o.sslmode},
        {"sslrootcert", o.sslrootcert},
        {"application_name", o.application_name},
        {"client_encoding", "UTF8"},
        {"options", "-c datestyle=ISO"},
        {"gssencmode", "disable"},
    };
    std::vector<const char*> keys;
    std::vector<const char*> values;
    for (auto& [k, v] : kv) {
        if (!v.empty()) {
            keys.push_back(k);
            values.push_back(v.c_str());
        }
    }
    keys.push_back(nullptr);
    values.push_back(nullptr);
    std::unique_ptr<PGconn, PgConnCloser> conn(PQconnectStartParams(keys.data(), values.data(), 0));
    if (!conn) {
        throw_connect_error(nullptr);
    }
    // Verbose errors carry the SQLSTATE, which libpq has no other way to
    // report for a failed connect (28P01 for a wrong password).
    PQsetErrorVerbosity(conn.get(), PQERRORS_VERBOSE);
    PostgresPollingStatusType st = PGRES_POLLING_WRITING;
    while (st != PGRES_POLLING_OK) {
        if (st == PGRES_POLLING_FAILED || PQstatus(conn.get()) == CONNECTION_BAD) {
            throw_connect_error(conn.get());
        }
        if (st == PGRES_POLLING_READING) {
            co_await wait_readable(PQsocket(conn.get()));
        } else {
            co_await wait_writable(PQsocket(conn.get()));
        }
        st = PQconnectPoll(conn.get());
    }
    PQsetErrorVerbosity(conn.get(), PQERRORS_DEFAULT);
    if (PQsetnonblocking(conn.get(), 1) != 0 || PQenterPipelineMode(conn.get()) != 1) {
        throw_connect_error(conn.get());
    }
    co_return std::make_unique<ConnectionImpl>(get_running_loop(), conn.release(), std::move(o));
}

std::string quote_ident(std::string_view name) {
    std::string out = "\"";
    for (char c : name) {
        out += c;
        if (c == '"') {
            out += c;
        }
    }
    return out + "\"";
}

std::string savepoint(int depth) {
    return "corio_sp_" + std::to_string(depth);
}

}  // namespace

ConnectOptions ConnectOptions::from_url(std::string_view text) {
    Url url = parse_url(text);
    if (url.scheme != "postgresql") {
        throw std::invalid_argument("not a PostgreSQL URL: scheme \"" + url.scheme + "\"");
    }
    ConnectOptions o;
    if (!url.host.empty()) {
        o.host = url.host;
    }
    if (url.port != 0) {
        o.port = url.port;
    }
    o.user = url.user;
    o.password = url.password;
    o.database = url.database;
    for (const auto& [k, v] : url.params) {
        if (k == "sslmode") {
            o.sslmode = v;
        } else if (k == "sslrootcert") {
            o.sslrootcert = v;
        } else if (k == "application_name") {
            o.application_name = v;
        } else if (k == "connect_timeout") {
            o.connect_timeout = url_seconds("postgresql", k, v);
        } else if (k == "command_timeout") {
            o.command_timeout = url_seconds("postgresql", k, v);
        } else {
            throw std::invalid_argument("postgresql URL: unknown option '" + k + "'");
        }
    }
    return o;
}

// -- Connection ---------------------------------------------------------------

Connection::Connection(std::unique_ptr<detail::ConnectionImpl> impl) : impl_(std::move(impl)) {}
Connection::Connection(Connection&&) noexcept = default;
Connection& Connection::operator=(Connection&&) noexcept = default;
Connection::~Connection() = default;

Task<Connection> Connection::connect(ConnectOptions options) {
    std::optional<Duration> limit = options.connect_timeout;
    auto impl = co_await wait_for(connect_impl(std::move(options)), limit);
    co_return Connection(std::move(impl));
}

Task<Connection> Connection::connect(std::string_view url) {
    return connect(ConnectOptions::from_url(url));
}

Task<detail::ResultPtr> Connection::query(std::string sql, detail::Params params) {
    if (!impl_) {
        throw InterfaceError("the connection was moved from");
    }
    return impl_->run(std::move(sql), std::move(params));
}

Task<CommandStatus> Connection::execute_params(std::string sql, detail::Params params) {
    detail::ResultPtr r = co_await query(std::move(sql), std::move(params));
    co_return detail::command_status(*r);
}

Task<Rows> Connection::fetch_params(std::string sql, detail::Params params) {
    detail::ResultPtr r = co_await query(std::move(sql), std::move(params));
    Rows rows;
    const int n = detail::row_count(*r);
    rows.reserve(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) {
        rows.emplace_back(r, i);
    }
    co_return rows;
}

Task<std::optional<Row>> Connection::fetchrow_params(std::string sql, detail::Params params) {
    detail::ResultPtr r = co_await query(std::move(sql), std::move(params));
    if (detail::row_count(*r) == 0) {
        co_return std::nullopt;
    }
    co_return Row(r, 0);
}

AsyncGenerator<Row> Connection::cursor_params(std::string sql, detail::Params params) {
    if (!impl_) {
        throw InterfaceError("the connection was moved from");
    }
    return impl_->stream(std::move(sql), std::move(params));
}

Task<CommandStatus> Connection::copy_in(std::string_view sql, AsyncGenerator<std::string>& source) {
    if (!impl_) {
        throw InterfaceError("the connection was moved from");
    }
    return impl_->copy_in(std::string(sql), source);
}

AsyncGenerator<std::string> Connection::copy_out(std::string_view sql) {
    if (!impl_) {
        throw InterfaceError("the connection was moved from");
    }
    return impl_->copy_out(std::string(sql));
}

AsyncGenerator<Notification> Connection::notifications() {
    for (;;) {
        co_yield co_await next_notification();
    }
}

Task<Transaction> Connection::transaction() {
    if (!impl_) {
        throw InterfaceError("the connection was moved from");
    }
    ConnectionImpl* impl = impl_.get();
    const int depth = impl->tx_depth;
    // Named, not a temporary in the co_await: GCC 12 destroys those twice.
    std::string begin = depth == 0 ? "BEGIN" : "SAVEPOINT " + savepoint(depth);
    co_await impl->run(std::move(begin), {});
    impl->tx_depth = depth + 1;
    co_return Transaction(impl, depth);
}

Task<void> Connection::listen(std::string_view channel) {
    std::string sql = "LISTEN " + quote_ident(channel);
    co_await query(std::move(sql), {});
}

Task<void> Connection::unlisten(std::string_view channel) {
    std::string sql = "UNLISTEN " + quote_ident(channel);
    co_await query(std::move(sql), {});
}

Task<Notification> Connection::next_notification() {
    if (!impl_) {
        throw InterfaceError("the connection was moved from");
    }
    return impl_->next_notification();
}

Task<void> Connection::close() {
    if (impl_) {
        co_await impl_->close();
    }
}

bool Connection::is_closed() const noexcept {
    return !impl_ || impl_->closed();
}
bool Connection::is_reusable() const noexcept {
    return impl_ && impl_->reusable();
}
int Connection::backend_pid() const noexcept {
    return impl_ ? impl_->backend_pid() : 0;
}
std::size_t Connection::prepared_statements() const noexcept {
    return impl_ ? impl_->prepared() : 0;
}

// -- Transaction --------------------------------------------------------------

Transaction::Transaction(Transaction&& o) noexcept
    : conn_(o.conn_), depth_(o.depth_), active_(std::exchange(o.active_, false)) {}

Transaction::~Transaction() {
    if (!active_ || !conn_ || conn_->closed()) {
        return;
    }
    conn_->tx_depth = depth_;
    // Queued without waiting: the pipeline runs it before any later query.
    if (depth_ == 0) {
        conn_->submit("ROLLBACK", {}, /*detached=*/true);
    } else {
        conn_->submit("ROLLBACK TO SAVEPOINT " + savepoint(depth_), {}, true);
        conn_->submit("RELEASE SAVEPOINT " + savepoint(depth_), {}, true);
    }
}

Task<void> Transaction::commit() {
    return finish(true);
}
Task<void> Transaction::rollback() {
    return finish(false);
}

Task<void> Transaction::finish(bool commit) {
    if (!active_) {
        throw InterfaceError("the transaction is already finished");
    }
    active_ = false;
    conn_->tx_depth = depth_;
    if (depth_ == 0) {
        std::string sql = commit ? "COMMIT" : "ROLLBACK";
        co_await conn_->run(std::move(sql), {});
    } else if (commit) {
        std::string sql = "RELEASE SAVEPOINT " + savepoint(depth_);
        co_await conn_->run(std::move(sql), {});
    } else {
        auto rollback = conn_->run("ROLLBACK TO SAVEPOINT " + savepoint(depth_), {});
        auto release = conn_->run("RELEASE SAVEPOINT " + savepoint(depth_), {});
        co_await std::move(rollback);
        co_await std::move(release);
    }
}

}  // namespace corio::sql::pg

namespace corio::sql::pg {

// -- Pool -----------------------------------------------------------------------

Task<CommandStatus> Pool::execute_params(std::string sql, detail::Params params) {
    auto conn = co_await acquire();
    co_return co_await conn->execute_params(std::move(sql), std::move(params));
}

Task<Rows> Pool::fetch_params(std::string sql, detail::Params params) {
    auto conn = co_await acquire();
    co_return co_await conn->fetch_params(std::move(sql), std::move(params));
}

Task<std::optional<Row>> Pool::fetchrow_params(std::string sql, detail::Params params) {
    auto conn = co_await acquire();
    co_return co_await conn->fetchrow_params(std::move(sql), std::move(params));
}

}  // namespace corio::sql::pg
