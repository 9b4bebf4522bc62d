// src/sql/mysql_connection.cpp - the MariaDB driver's connection, cursors
// and transactions on Connector/C's non-blocking API.
//
// Every operation is a `mysql_X_start` call followed by `mysql_X_cont`
// calls, each returning the wait status (MYSQL_WAIT_READ / WRITE / EXCEPT /
// TIMEOUT) the library needs next; drive() waits for it on the loop with
// wait_fd (plus wait_for when a timeout is asked) and passes back what
// happened. The library's own state machine lives in the MYSQL handle, so a
// drive() that is cancelled half-way cannot simply be dropped: abort()
// shuts the socket down, completes the pending step with the error that
// gives (no waiting: reads see EOF, writes EPIPE) and marks the connection
// broken, so no later user can read a half-received reply.
#include <mysql.h>
#include <sys/socket.h>

#include <charconv>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>

#include "corio/errors.hpp"
#include "corio/io_wait.hpp"
#include "corio/net/dns.hpp"
#include "corio/sql/mysql.hpp"
#include "corio/sql/url.hpp"
#include "corio/timeouts.hpp"

namespace corio::sql::mysql {

struct detail::ConnState {
    MYSQL* my = nullptr;
    ConnectOptions opts;
    detail::Escaper esc;
    // An operation is running, or an unbuffered result is being read.
    bool busy = false;
    // Broken off (a cancelled operation, an abandoned unbuffered result).
    bool broken = false;
    // A Transaction was dropped while open: ROLLBACK before the next use.
    bool rollback_pending = false;
    // The unbuffered result being read (its Cursor reads it), if any.
    MYSQL_RES* streaming = nullptr;

    ~ConnState() { hard_close(); }

    void hard_close() noexcept {
        if (my != nullptr) {
            // The goodbye packet is written without waiting: shut the
            // socket down first so mysql_close cannot block.
            int fd = static_cast<int>(mysql_get_socket(my));
            if (fd >= 0) {
                ::shutdown(fd, SHUT_RDWR);
            }
            if (streaming != nullptr) {
                // Freed before its handle; its cursor sees it is gone.
                mysql_free_result(streaming);
                streaming = nullptr;
            }
            mysql_close(my);
            my = nullptr;
            esc.mysql = nullptr;
        }
    }
};

// Builds rows from the library's text rows.
struct RowBuilder {
    static Row make(const std::shared_ptr<const std::vector<Column>>& cols, MYSQL_ROW row,
                    const unsigned long* lengths, unsigned n) {
        Row r;
        r.columns_ = cols;
        std::size_t total = 0;
        for (unsigned i = 0; i < n; ++i) {
            total += lengths[i];
        }
        r.data_.reserve(total);
        r.spans_.reserve(n);
        for (unsigned i = 0; i < n; ++i) {
            if (row[i] == nullptr) {
                r.spans_.emplace_back(0, Row::kNull);
            } else {
                r.spans_.emplace_back(static_cast<std::uint32_t>(r.data_.size()),
                                      static_cast<std::uint32_t>(lengths[i]));
                r.data_.append(row[i], lengths[i]);
            }
        }
        return r;
    }
};

namespace {

using State = Connection::State;

// Throws the handle's last error. A client-side error (2000-2999: the
// server gone, the link lost, a protocol error) leaves the session unknown:
// the connection is marked broken so no pool lends it again.
[[noreturn]] void throw_error(State* s, MYSQL* my) {
    unsigned code = mysql_errno(my);
    if (s != nullptr && code >= 2000 && code < 3000) {
        s->broken = true;
    }
    std::string msg = "mysql: ";
    msg += mysql_error(my);
    throw_database_error(msg, mysql_sqlstate(my), static_cast<int>(code));
}

Task<int> wait_status(MYSQL* my, int status) {
    FdEvents interest = FdEvents::none;
    if ((status & (MYSQL_WAIT_READ | MYSQL_WAIT_EXCEPT)) != 0) {
        interest = interest | FdEvents::readable;
    }
    if ((status & MYSQL_WAIT_WRITE) != 0) {
        interest = interest | FdEvents::writable;
    }
    int fd = static_cast<int>(mysql_get_socket(my));
    if ((status & MYSQL_WAIT_TIMEOUT) != 0) {
        auto ms = std::chrono::milliseconds(mysql_get_timeout_value_ms(my));
        if (!any(interest) || fd < 0) {
            co_await corio::sleep(ms);
            co_return MYSQL_WAIT_TIMEOUT;
        }
        try {
            FdEvents got = co_await corio::wait_for(corio::wait_fd(fd, interest), ms);
            co_return (any(got & FdEvents::readable) ? MYSQL_WAIT_READ : 0) |
                (any(got & FdEvents::writable) ? MYSQL_WAIT_WRITE : 0);
        } catch (const corio::TimeoutError&) {
            co_return MYSQL_WAIT_TIMEOUT;
        }
    }
    FdEvents got = co_await corio::wait_fd(fd, interest);
    co_return (any(got & FdEvents::readable) ? MYSQL_WAIT_READ : 0) |
        (any(got & FdEvents::writable) ? MYSQL_WAIT_WRITE : 0);
}

// Completes a pending operation without waiting, by shutting its socket
// down, and marks the connection broken.
template <class Cont>
void abort(State* s, MYSQL* my, int status, Cont& cont) noexcept {
    int fd = static_cast<int>(mysql_get_socket(my));
    if (fd >= 0) {
        ::shutdown(fd, SHUT_RDWR);
    }
    for (int i = 0; status != 0 && i < 10000; ++i) {
        int ready = status & (MYSQL_WAIT_READ | MYSQL_WAIT_WRITE | MYSQL_WAIT_EXCEPT);
        status = cont(ready != 0 ? ready : MYSQL_WAIT_TIMEOUT);
    }
    if (s != nullptr) {
        s->broken = true;
        if (status != 0) {
            // The library did not finish (it never should after the
            // shutdown): its handle cannot be closed safely; leak it.
            s->my = nullptr;
            s->esc.mysql = nullptr;
        }
    }
}

Task<void> kill_query(ConnectOptions opts, unsigned long id);

// Runs an operation whose first step returned `status` to completion,
// calling cont(ready) for every later step. On cancellation (or any error
// while waiting), aborts it as described above and, if `kill` and the
// options ask, stops the statement on the server, then rethrows.
template <class Cont>
Task<void> drive(State* s, MYSQL* my, int status, Cont cont, bool kill) {
    std::exception_ptr failed;
    while (status != 0) {
        int ready = 0;
        try {
            ready = co_await wait_status(my, status);
        } catch (...) {
            failed = std::current_exception();
        }
        if (failed) {
            unsigned long id = mysql_thread_id(my);
            abort(s, my, status, cont);
            if (kill && s != nullptr && s->opts.kill_on_cancel && id != 0) {
                try {
                    co_await kill_query(s->opts, id);
                } catch (...) {
                }
            }
            std::rethrow_exception(failed);
        }
        status = cont(ready);
    }
}

Task<void> kill_query(ConnectOptions opts, unsigned long id) {
    opts.db.clear();
    opts.autocommit.reset();
    opts.time_zone.clear();
    opts.query_timeout.reset();
    opts.kill_on_cancel = false;
    opts.connect_timeout = std::min(opts.connect_timeout, std::chrono::milliseconds(2000));
    auto side = co_await Connection::connect(std::move(opts));
    co_await side.query("KILL QUERY " + std::to_string(id));
    co_await side.close();
}

void check_usable(const State* s) {
    if (s == nullptr || s->my == nullptr) {
        throw InterfaceError("mysql: the connection is closed");
    }
    if (s->broken) {
        throw InterfaceError(
            "mysql: the connection was broken off by a cancelled or abandoned operation");
    }
    if (s->busy) {
        throw InterfaceError(
            "mysql: the connection is busy (another operation, or an unbuffered result not "
            "read to its end)");
    }
}

// Sets busy for the duration of an operation.
struct BusyGuard {
    State* s;
    bool keep = false;
    explicit BusyGuard(State* st) : s(st) { s->busy = true; }
    ~BusyGuard() {
        if (!keep) {
            s->busy = false;
        }
    }
};

// Runs `sql`, leaving its result (if any) unread. Returns field count.
Task<unsigned> send_query(State* s, const std::string& sql) {
    MYSQL* my = s->my;
    int err = 0;
    int status = mysql_real_query_start(&err, my, sql.data(), sql.size());
    co_await drive(
        s, my, status, [&err, my](int r) { return mysql_real_query_cont(&err, my, r); }, true);
    if (err != 0) {
        throw_error(s, my);
    }
    co_return mysql_field_count(my);
}

std::shared_ptr<const std::vector<Column>> read_columns(MYSQL_RES* res) {
    auto cols = std::make_shared<std::vector<Column>>();
    unsigned n = mysql_num_fields(res);
    MYSQL_FIELD* f = mysql_fetch_fields(res);
    cols->reserve(n);
    for (unsigned i = 0; i < n; ++i) {
        cols->push_back(Column{.name = std::string(f[i].name, f[i].name_length),
                               .table = std::string(f[i].table, f[i].table_length),
                               .type = static_cast<int>(f[i].type),
                               .flags = f[i].flags,
                               .charsetnr = f[i].charsetnr,
                               .decimals = f[i].decimals});
    }
    return cols;
}

// Reads and discards further result sets (a CALL's status result).
Task<void> drain_more(State* s) {
    MYSQL* my = s->my;
    while (mysql_more_results(my)) {
        int ret = 0;
        int status = mysql_next_result_start(&ret, my);
        co_await drive(
            s, my, status, [&ret, my](int r) { return mysql_next_result_cont(&ret, my, r); }, true);
        if (ret > 0) {
            throw_error(s, my);
        }
        if (mysql_field_count(my) > 0) {
            MYSQL_RES* res = nullptr;
            int st = mysql_store_result_start(&res, my);
            co_await drive(
                s, my, st, [&res, my](int r) { return mysql_store_result_cont(&res, my, r); },
                true);
            if (res == nullptr) {
                throw_error(s, my);
            }
            mysql_free_result(res);
        }
    }
}

Task<void> rollback_if_pending(State* s) {
    if (s->rollback_pending) {
        s->rollback_pending = false;
        co_await send_query(s, "ROLLBACK");
    }
}

// Statement with its whole result.
Task<Result> run_buffered(State* s, std::string sql) {
    check_usable(s);
    BusyGuard guard(s);
    co_await rollback_if_pending(s);
    MYSQL* my = s->my;
    Result result;
    unsigned fields = co_await send_query(s, sql);
    if (fields == 0) {
        result.rowcount = mysql_affected_rows(my);
        result.lastrowid = mysql_insert_id(my);
        result.warnings = mysql_warning_count(my);
    } else {
        MYSQL_RES* res = nullptr;
        int status = mysql_store_result_start(&res, my);
        co_await drive(
            s, my, status, [&res, my](int r) { return mysql_store_result_cont(&res, my, r); },
            true);
        if (res == nullptr) {
            throw_error(s, my);
        }
        std::unique_ptr<MYSQL_RES, void (*)(MYSQL_RES*)> owned(res, mysql_free_result);
        result.columns = read_columns(res);
        result.rows.reserve(mysql_num_rows(res));
        while (MYSQL_ROW row = mysql_fetch_row(res)) {
            result.rows.push_back(RowBuilder::make(result.columns, row, mysql_fetch_lengths(res),
                                                   mysql_num_fields(res)));
        }
        result.rowcount = result.rows.size();
        result.warnings = mysql_warning_count(my);
    }
    co_await drain_more(s);
    co_return result;
}

Task<Result> with_timeout(State* s, Task<Result> t) {
    if (s->opts.query_timeout) {
        co_return co_await corio::wait_for(std::move(t), *s->opts.query_timeout);
    }
    co_return co_await std::move(t);
}

}  // namespace

// ---- Row ----------------------------------------------------------------

namespace {
const std::vector<Column>& no_columns() {
    static const std::vector<Column> none;
    return none;
}
}  // namespace

bool Row::is_null(std::size_t i) const {
    if (i >= spans_.size()) {
        throw InterfaceError("mysql: column " + std::to_string(i) + " out of range (row has " +
                             std::to_string(spans_.size()) + ")");
    }
    return spans_[i].second == kNull;
}

const std::vector<Column>& Row::columns() const {
    return columns_ ? *columns_ : no_columns();
}

std::size_t Row::index(std::string_view name) const {
    const auto& cols = columns();
    for (std::size_t i = 0; i < cols.size(); ++i) {
        if (cols[i].name == name) {
            return i;
        }
    }
    throw InterfaceError("mysql: no column named '" + std::string(name) + "'");
}

std::optional<std::string_view> Row::raw(std::size_t i) const {
    if (is_null(i)) {
        return std::nullopt;
    }
    return std::string_view(data_).substr(spans_[i].first, spans_[i].second);
}

// ---- ConnectOptions ---------------------------------------------------------

ConnectOptions ConnectOptions::from_url(std::string_view text) {
    Url url = parse_url(text);
    if (url.scheme != "mysql") {
        throw std::invalid_argument("mysql: not a mysql:// or mariadb:// URL");
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
    o.db = url.database;
    for (const auto& [k, v] : url.params) {
        if (k == "ssl") {
            o.ssl = url_bool("mysql", k, v);
        } else if (k == "ssl_verify") {
            o.ssl_verify = url_bool("mysql", k, v);
        } else if (k == "ssl_ca") {
            o.ssl_ca = v;
        } else if (k == "charset") {
            o.charset = v;
        } else if (k == "connect_timeout") {
            o.connect_timeout = url_seconds("mysql", k, v);
        } else if (k == "query_timeout") {
            o.query_timeout = url_seconds("mysql", k, v);
        } else if (k == "autocommit") {
            o.autocommit = url_bool("mysql", k, v);
        } else if (k == "unix_socket") {
            o.unix_socket = v;
        } else {
            throw std::invalid_argument("mysql URL: unknown option '" + k + "'");
        }
    }
    return o;
}

// ---- Connection -------------------------------------------------------------

Connection::Connection(std::unique_ptr<State> s) : s_(std::move(s)) {}
Connection::Connection(Connection&&) noexcept = default;
Connection& Connection::operator=(Connection&&) noexcept = default;
Connection::~Connection() = default;

namespace {

Task<Connection::State*> connect_impl(std::unique_ptr<State>& st) {
    const ConnectOptions& o = st->opts;
    std::string host;
    if (o.unix_socket.empty()) {
        // Resolved on the loop: the library would call getaddrinfo itself,
        // blocking, for a name.
        auto addrs = co_await corio::net::getaddrinfo(o.host, std::to_string(o.port), AF_UNSPEC,
                                                      SOCK_STREAM);
        if (addrs.empty()) {
            throw OperationalError("mysql: no address for host '" + o.host + "'", "08001", 2005);
        }
        host = addrs.front().address.host();
    }
    MYSQL* my = mysql_init(nullptr);
    if (my == nullptr) {
        throw std::bad_alloc();
    }
    st->my = my;
    st->esc.mysql = my;
    mysql_options(my, MYSQL_OPT_NONBLOCK, nullptr);
    mysql_options(my, MYSQL_SET_CHARSET_NAME, o.charset.c_str());
    if (!o.time_zone.empty()) {
        std::string tz = "SET time_zone = '" + o.time_zone + "'";
        if (o.time_zone.find('\'') != std::string::npos) {
            throw std::invalid_argument("mysql: bad time_zone");
        }
        mysql_options(my, MYSQL_INIT_COMMAND, tz.c_str());
    }
    if (o.autocommit) {
        mysql_options(my, MYSQL_INIT_COMMAND,
                      *o.autocommit ? "SET autocommit=1" : "SET autocommit=0");
    }
    if (o.ssl) {
        my_bool on = 1;
        my_bool verify = o.ssl_verify ? 1 : 0;
        mysql_ssl_set(my, nullptr, nullptr, o.ssl_ca.empty() ? nullptr : o.ssl_ca.c_str(), nullptr,
                      nullptr);
        mysql_options(my, MYSQL_OPT_SSL_ENFORCE, &on);
        mysql_options(my, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, &verify);
    }
    MYSQL* ret = nullptr;
    const char* db = o.db.empty() ? nullptr : o.db.c_str();
    const char* sock = o.unix_socket.empty() ? nullptr : o.unix_socket.c_str();
    const char* h = o.unix_socket.empty() ? host.c_str() : "localhost";
    int status = mysql_real_connect_start(&ret, my, h, o.user.c_str(), o.password.c_str(), db,
                                          o.port, sock, CLIENT_MULTI_RESULTS);
    co_await drive(
        st.get(), my, status, [&ret, my](int r) { return mysql_real_connect_cont(&ret, my, r); },
        false);
    if (ret == nullptr) {
        throw_error(st.get(), my);
    }
    co_return st.get();
}

}  // namespace

Task<Connection> Connection::connect(ConnectOptions options) {
    auto st = std::make_unique<State>();
    st->opts = std::move(options);
    auto limit = st->opts.connect_timeout;
    co_await corio::wait_for(connect_impl(st), limit);
    co_return Connection(std::move(st));
}

Task<Connection> Connection::connect(std::string_view url) {
    return connect(ConnectOptions::from_url(url));
}

Task<void> Connection::close() {
    if (!s_ || s_->my == nullptr) {
        co_return;
    }
    if (s_->busy && s_->streaming == nullptr) {
        // Another task's operation is in flight and holds the handle: end
        // the link under it (that operation fails with OperationalError);
        // the handle is freed with the Connection.
        int fd = static_cast<int>(mysql_get_socket(s_->my));
        if (fd >= 0) {
            ::shutdown(fd, SHUT_RDWR);
        }
        s_->broken = true;
        co_return;
    }
    if (s_->broken || s_->busy) {
        s_->hard_close();
        co_return;
    }
    MYSQL* my = s_->my;
    s_->busy = true;
    int status = mysql_close_start(my);
    try {
        co_await drive(
            nullptr, my, status, [my](int r) { return mysql_close_cont(my, r); }, false);
    } catch (...) {
        // Cancelled: drive() completed the close with the socket shut.
        s_->my = nullptr;
        s_->esc.mysql = nullptr;
        throw;
    }
    s_->my = nullptr;
    s_->esc.mysql = nullptr;
    s_->busy = false;
}

Cursor Connection::cursor(CursorKind kind) {
    return Cursor(s_.get(), kind);
}

Task<Result> Connection::query(std::string sql) {
    return with_timeout(s_.get(), run_buffered(s_.get(), std::move(sql)));
}

Task<void> Connection::autocommit(bool on) {
    co_await query(on ? "SET autocommit=1" : "SET autocommit=0");
}
Task<void> Connection::begin() {
    co_await query("START TRANSACTION");
}
Task<void> Connection::commit() {
    co_await query("COMMIT");
}
Task<void> Connection::rollback() {
    if (s_ && s_->my != nullptr && !s_->broken) {
        s_->rollback_pending = false;
    }
    co_await query("ROLLBACK");
}

Task<Transaction> Connection::transaction() {
    co_await begin();
    co_return Transaction(s_.get());
}

Task<void> Connection::ping() {
    check_usable(s_.get());
    BusyGuard guard(s_.get());
    MYSQL* my = s_->my;
    int ret = 0;
    int status = mysql_ping_start(&ret, my);
    co_await drive(
        s_.get(), my, status, [&ret, my](int r) { return mysql_ping_cont(&ret, my, r); }, false);
    if (ret != 0) {
        throw_error(s_.get(), my);
    }
}

bool Connection::is_open() const noexcept {
    return s_ && s_->my != nullptr && !s_->broken;
}
bool Connection::is_reusable() const noexcept {
    return is_open() && !s_->busy && !s_->rollback_pending && !in_transaction();
}
bool Connection::in_transaction() const noexcept {
    return is_open() && (s_->my->server_status & SERVER_STATUS_IN_TRANS) != 0;
}
unsigned long Connection::thread_id() const noexcept {
    return is_open() ? mysql_thread_id(s_->my) : 0;
}
std::string Connection::server_info() const {
    if (!is_open()) {
        throw InterfaceError("mysql: the connection is closed");
    }
    return mysql_get_server_info(s_->my);
}
const ConnectOptions& Connection::options() const {
    if (!s_) {
        throw InterfaceError("mysql: the connection was moved from");
    }
    return s_->opts;
}
const detail::Escaper& Connection::escaper() const {
    if (!s_ || s_->my == nullptr) {
        throw InterfaceError("mysql: the connection is closed");
    }
    return s_->esc;
}

// ---- Transaction ------------------------------------------------------------

Transaction::Transaction(Transaction&& o) noexcept : conn_(std::exchange(o.conn_, nullptr)) {}

Transaction::~Transaction() {
    if (conn_ != nullptr) {
        conn_->rollback_pending = true;
    }
}

Task<void> Transaction::commit() {
    State* c = std::exchange(conn_, nullptr);
    if (c == nullptr) {
        throw InterfaceError("mysql: the transaction is over");
    }
    co_await with_timeout(c, run_buffered(c, "COMMIT"));
}

Task<void> Transaction::rollback() {
    State* c = std::exchange(conn_, nullptr);
    if (c == nullptr) {
        throw InterfaceError("mysql: the transaction is over");
    }
    co_await with_timeout(c, run_buffered(c, "ROLLBACK"));
}

// ---- Cursor -----------------------------------------------------------------

struct Cursor::Unbuffered {
    MYSQL_RES* res = nullptr;
    bool done = false;
};

Cursor::Cursor(State* conn, CursorKind kind) : conn_(conn), kind_(kind) {}
Cursor::Cursor(Cursor&& o) noexcept
    : conn_(std::exchange(o.conn_, nullptr)),
      kind_(o.kind_),
      rows_(std::move(o.rows_)),
      next_(o.next_),
      columns_(std::move(o.columns_)),
      rowcount_(o.rowcount_),
      lastrowid_(o.lastrowid_),
      has_result_(o.has_result_),
      stream_(std::move(o.stream_)) {}
Cursor& Cursor::operator=(Cursor&& o) noexcept {
    if (this != &o) {
        reset();
        conn_ = std::exchange(o.conn_, nullptr);
        kind_ = o.kind_;
        rows_ = std::move(o.rows_);
        next_ = o.next_;
        columns_ = std::move(o.columns_);
        rowcount_ = o.rowcount_;
        lastrowid_ = o.lastrowid_;
        has_result_ = o.has_result_;
        stream_ = std::move(o.stream_);
    }
    return *this;
}
Cursor::~Cursor() {
    reset();
}

// Abandons an unbuffered result without waiting: the connection is broken
// off (the rest of the result is still on the wire).
void Cursor::reset() {
    State* s = conn_;
    if (stream_ && stream_->res != nullptr && s != nullptr && s->streaming == stream_->res) {
        if (s->my != nullptr) {
            int fd = static_cast<int>(mysql_get_socket(s->my));
            if (fd >= 0) {
                ::shutdown(fd, SHUT_RDWR);
            }
            s->broken = true;
            s->busy = false;
        }
        s->streaming = nullptr;
        mysql_free_result(stream_->res);
    }
    stream_.reset();
    rows_.clear();
    next_ = 0;
    has_result_ = false;
}

const detail::Escaper& Cursor::escaper() const {
    if (conn_ == nullptr || conn_->my == nullptr) {
        throw InterfaceError("mysql: the cursor's connection is closed");
    }
    return conn_->esc;
}

const std::vector<Column>& Cursor::description() const {
    return columns_ ? *columns_ : no_columns();
}

Task<std::uint64_t> Cursor::execute_raw(std::string sql) {
    if (conn_ == nullptr) {
        throw InterfaceError("mysql: cursor has no connection");
    }
    return run(std::move(sql));
}

Task<std::uint64_t> Cursor::run(std::string sql) {
    if (conn_ == nullptr) {
        throw InterfaceError("mysql: cursor has no connection");
    }
    if (stream_ && stream_->res != nullptr) {
        co_await close();
    }
    reset();
    columns_.reset();
    rowcount_ = 0;
    lastrowid_ = 0;
    State* s = conn_;
    if (kind_ == CursorKind::buffered) {
        Result r = co_await with_timeout(s, run_buffered(s, std::move(sql)));
        rows_ = std::move(r.rows);
        columns_ = std::move(r.columns);
        rowcount_ = r.rowcount;
        lastrowid_ = r.lastrowid;
        has_result_ = true;
        co_return rowcount_;
    }
    check_usable(s);
    BusyGuard guard(s);
    auto body = [](State* s, std::string sql) -> Task<unsigned> {
        co_await rollback_if_pending(s);
        co_return co_await send_query(s, sql);
    }(s, std::move(sql));
    unsigned fields = 0;
    if (s->opts.query_timeout) {
        fields = co_await corio::wait_for(std::move(body), *s->opts.query_timeout);
    } else {
        fields = co_await std::move(body);
    }
    MYSQL* my = s->my;
    has_result_ = true;
    if (fields == 0) {
        rowcount_ = mysql_affected_rows(my);
        lastrowid_ = mysql_insert_id(my);
        co_await drain_more(s);
        co_return rowcount_;
    }
    MYSQL_RES* res = mysql_use_result(my);
    if (res == nullptr) {
        throw_error(s, my);
    }
    stream_ = std::make_unique<Unbuffered>();
    stream_->res = res;
    s->streaming = res;
    columns_ = read_columns(res);
    guard.keep = true;  // busy until the result is read or closed
    co_return 0;
}

Task<std::optional<Row>> Cursor::fetchone() {
    if (!has_result_) {
        throw InterfaceError("mysql: fetch before execute");
    }
    if (!stream_) {
        if (next_ < rows_.size()) {
            co_return std::move(rows_[next_++]);
        }
        co_return std::nullopt;
    }
    if (stream_->res == nullptr) {
        co_return std::nullopt;
    }
    if (conn_ == nullptr || conn_->streaming != stream_->res) {
        stream_->res = nullptr;
        throw InterfaceError("mysql: the cursor's connection was closed");
    }
    State* s = conn_;
    MYSQL* my = s->my;
    MYSQL_RES* res = stream_->res;
    MYSQL_ROW row = nullptr;
    int status = mysql_fetch_row_start(&row, res);
    if (status != 0) {
        co_await drive(
            s, my, status, [&row, res](int r) { return mysql_fetch_row_cont(&row, res, r); }, true);
    }
    if (row != nullptr) {
        ++rowcount_;
        co_return RowBuilder::make(columns_, row, mysql_fetch_lengths(res), mysql_num_fields(res));
    }
    // The end, or an error: either way the result is over.
    stream_->res = nullptr;
    s->streaming = nullptr;
    unsigned err = mysql_errno(my);
    mysql_free_result(res);
    if (err != 0) {
        s->busy = false;
        s->broken = true;
        throw_error(s, my);
    }
    try {
        co_await drain_more(s);
    } catch (...) {
        s->busy = false;
        throw;
    }
    s->busy = false;
    co_return std::nullopt;
}

Task<std::vector<Row>> Cursor::fetchmany(std::size_t size) {
    std::vector<Row> out;
    while (out.size() < size) {
        std::optional<Row> r = co_await fetchone();
        if (!r) {
            break;
        }
        out.push_back(std::move(*r));
    }
    co_return out;
}

Task<std::vector<Row>> Cursor::fetchall() {
    std::vector<Row> out;
    if (!stream_ && has_result_) {
        out.assign(std::make_move_iterator(rows_.begin() + static_cast<std::ptrdiff_t>(next_)),
                   std::make_move_iterator(rows_.end()));
        next_ = rows_.size();
        co_return out;
    }
    while (true) {
        std::optional<Row> r = co_await fetchone();
        if (!r) {
            break;
        }
        out.push_back(std::move(*r));
    }
    co_return out;
}

Task<void> Cursor::close() {
    // (No co_await in a loop condition: GCC 12 miscompiles that.)
    while (stream_ && stream_->res != nullptr) {
        std::optional<Row> r = co_await fetchone();
        if (!r) {
            break;
        }
    }
    reset();
}

}  // namespace corio::sql::mysql
