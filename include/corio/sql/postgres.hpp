// corio/sql/postgres.hpp - the PostgreSQL driver: Connection, rows,
// transactions, on libpq's asynchronous API driven by the corio loop.
//
// Mirrors asyncpg (connect, execute, fetch, fetchrow, fetchval,
// transaction, close), the way asyncio programs talk to PostgreSQL:
//
//   auto conn = co_await pg::Connection::connect("postgresql://u:pw@host/db");
//   auto rows = co_await conn.fetch("SELECT id, name FROM items WHERE id > $1", 10);
//   for (const pg::Row& row : rows) { use(row.get<int>(0), row.get<std::string>("name")); }
//   co_await conn.close();
//
// The model (docs/sql.md has more):
// - One Connection is one libpq connection in pipeline mode. Queries from
//   any number of tasks are queued; the queue is sent once per loop
//   iteration (one batch, one write), each query followed by its own sync
//   point, so an error fails only its own query. Results come back in order
//   and go to the task that asked. Nothing blocks the loop thread: the
//   socket is watched by the loop, libpq runs non-blocking.
// - Parameters are bound ($1, $2, ...), never pasted into the SQL, with
//   explicit type OIDs; every statement is prepared once per connection
//   (a cache of ConnectOptions::statement_cache_size texts).
// - One SQL statement per call (the extended query protocol's rule).
// - A Connection belongs to the loop that connected it and must be closed
//   (or destroyed) on that loop before the loop ends.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "corio/async_generator.hpp"
#include "corio/event_loop.hpp"
#include "corio/sql/errors.hpp"
#include "corio/sql/pool.hpp"
#include "corio/sql/types.hpp"
#include "corio/task.hpp"

struct pg_result;  // libpq's PGresult

namespace corio::sql::pg {

/// How to connect. Every field has libpq's meaning; an empty string means
/// "not given".
struct ConnectOptions {
    /// A host name, an IP address, or a Unix socket directory (starting
    /// with '/'). Names are resolved with corio::net::getaddrinfo (in the
    /// executor), never by libpq on the loop thread.
    std::string host = "127.0.0.1";
    std::uint16_t port = 5432;
    std::string user;
    std::string password;
    /// Empty: the user's name (libpq's default).
    std::string database;
    /// The whole connect (resolution, TCP, TLS, authentication) at most
    /// this long, else TimeoutError. std::nullopt: no limit.
    std::optional<Duration> connect_timeout = std::chrono::seconds(60);
    /// Every query at most this long, else the query is cancelled on the
    /// server and TimeoutError is thrown (asyncpg's command_timeout).
    /// std::nullopt: no limit. corio::wait_for around one call does the
    /// same for that call.
    std::optional<Duration> command_timeout;
    /// libpq's sslmode: "disable", "prefer" (libpq's default), "require",
    /// "verify-ca", "verify-full" (the certificate must chain to
    /// `sslrootcert` and name `host`).
    std::string sslmode;
    /// CA certificates (a PEM file) for verify-ca / verify-full.
    std::string sslrootcert;
    /// Shown in pg_stat_activity.
    std::string application_name = "corio";
    /// How many distinct SQL texts are kept prepared on the server; past
    /// it, statements run unnamed (parsed each time).
    std::size_t statement_cache_size = 256;

    /// Options from a URL (corio/sql/url.hpp): postgresql://user:pw@host:
    /// port/db?sslmode=verify-full&sslrootcert=/ca.pem&connect_timeout=5
    /// &command_timeout=2.5&application_name=x (timeouts in seconds,
    /// fractions allowed). Throws std::invalid_argument for a bad URL, a
    /// non-PostgreSQL scheme, an unknown option or a bad value.
    static ConnectOptions from_url(std::string_view url);
};

/// What execute() reports: the command tag ("INSERT 0 3", "CREATE TABLE")
/// and the rows it affected (or returned), 0 when the command has none.
/// asyncpg: execute()'s status string.
struct CommandStatus {
    std::string tag;
    std::uint64_t rows_affected = 0;
};

namespace detail {

using Oid = std::uint32_t;

// Bound parameters, in libpq's arrays' shape: text except Bytes (binary).
struct Params {
    std::vector<Oid> types;
    std::vector<std::string> values;
    std::vector<char> is_null;
    std::vector<int> formats;
    void add(Oid type, std::string value, int format = 0) {
        types.push_back(type);
        values.push_back(std::move(value));
        is_null.push_back(0);
        formats.push_back(format);
    }
    void add_null(Oid type) {
        types.push_back(type);
        values.emplace_back();
        is_null.push_back(1);
        formats.push_back(0);
    }
};

void bind(Params& p, bool v);
void bind(Params& p, std::int16_t v);
void bind(Params& p, std::int32_t v);
void bind(Params& p, std::int64_t v);
void bind(Params& p, float v);
void bind(Params& p, double v);
void bind(Params& p, std::string_view v);
void bind(Params& p, const Bytes& v);
void bind(Params& p, const Decimal& v);
void bind(Params& p, const Date& v);
void bind(Params& p, const Time& v);
void bind(Params& p, const DateTime& v);
void bind(Params& p, const Timestamp& v);
// The OID a NULL of type T is sent with.
Oid null_oid(const bool*);
Oid null_oid(const std::int16_t*);
Oid null_oid(const std::int32_t*);
Oid null_oid(const std::int64_t*);
Oid null_oid(const float*);
Oid null_oid(const double*);
Oid null_oid(const std::string*);
Oid null_oid(const std::string_view*);
Oid null_oid(const Bytes*);
Oid null_oid(const Decimal*);
Oid null_oid(const Date*);
Oid null_oid(const Time*);
Oid null_oid(const DateTime*);
Oid null_oid(const Timestamp*);

template <class T>
struct is_optional : std::false_type {};
template <class T>
struct is_optional<std::optional<T>> : std::true_type {};

template <class T>
void bind_one(Params& p, const T& v) {
    if constexpr (is_optional<T>::value) {
        if (v) {
            bind_one(p, *v);
        } else {
            p.add_null(null_oid(static_cast<const typename T::value_type*>(nullptr)));
        }
    } else if constexpr (std::is_same_v<T, std::nullopt_t>) {
        p.add_null(0);  // unknown: the server infers it
    } else if constexpr (std::is_same_v<T, bool>) {
        bind(p, v);
    } else if constexpr (std::is_integral_v<T> && sizeof(T) <= 2 && std::is_signed_v<T>) {
        bind(p, static_cast<std::int16_t>(v));
    } else if constexpr (std::is_integral_v<T> && sizeof(T) <= 4 && std::is_signed_v<T>) {
        bind(p, static_cast<std::int32_t>(v));
    } else if constexpr (std::is_integral_v<T> && sizeof(T) < 4) {
        bind(p, static_cast<std::int32_t>(v));  // unsigned 8/16 bits fit int4
    } else if constexpr (std::is_integral_v<T>) {
        bind(p, static_cast<std::int64_t>(v));
    } else if constexpr (std::is_convertible_v<const T&, std::string_view>) {
        bind(p, std::string_view(v));
    } else {
        bind(p, v);
    }
}

template <class... Args>
Params make_params(const Args&... args) {
    Params p;
    (bind_one(p, args), ...);
    return p;
}

// One field of a result, as libpq returns it (text format).
struct Cell {
    const char* data;
    int length;
    bool null;
    Oid type;
    std::string_view column;
};

void decode(const Cell& c, bool& out);
void decode(const Cell& c, std::int16_t& out);
void decode(const Cell& c, std::int32_t& out);
void decode(const Cell& c, std::int64_t& out);
void decode(const Cell& c, std::uint64_t& out);
void decode(const Cell& c, float& out);
void decode(const Cell& c, double& out);
void decode(const Cell& c, std::string& out);
void decode(const Cell& c, Bytes& out);
void decode(const Cell& c, Decimal& out);
void decode(const Cell& c, Date& out);
void decode(const Cell& c, Time& out);
void decode(const Cell& c, DateTime& out);
void decode(const Cell& c, Timestamp& out);
[[noreturn]] void throw_null(const Cell& c);

template <class T>
T decode_as(const Cell& c) {
    if constexpr (is_optional<T>::value) {
        if (c.null) {
            return std::nullopt;
        }
        return decode_as<typename T::value_type>(c);
    } else {
        if (c.null) {
            throw_null(c);
        }
        if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
            if constexpr (std::is_signed_v<T>) {
                std::int64_t v = 0;
                decode(c, v);
                if (v < std::numeric_limits<T>::min() || v > std::numeric_limits<T>::max()) {
                    throw InterfaceError("column \"" + std::string(c.column) + "\": value " +
                                         std::to_string(v) + " out of range");
                }
                return static_cast<T>(v);
            } else {
                std::uint64_t v = 0;
                decode(c, v);
                if (v > std::numeric_limits<T>::max()) {
                    throw InterfaceError("column \"" + std::string(c.column) + "\": value " +
                                         std::to_string(v) + " out of range");
                }
                return static_cast<T>(v);
            }
        } else {
            T out{};
            decode(c, out);
            return out;
        }
    }
}

// The results of one query, shared by its rows.
class ResultData;
using ResultPtr = std::shared_ptr<const ResultData>;
Cell cell(const ResultData& r, int row, int col);
int column_index(const ResultData& r, std::string_view name);
int column_count(const ResultData& r) noexcept;
int row_count(const ResultData& r) noexcept;
std::string_view column_name(const ResultData& r, int col);
Oid column_type(const ResultData& r, int col);
CommandStatus command_status(const ResultData& r);

}  // namespace detail

/// One field of a Row: row[i]. Cheap to copy; valid while a Row of its
/// result lives.
class Field {
public:
    /// The value as T (see Row::get). Throws InterfaceError for NULL into a
    /// non-optional T or a type that does not fit the column.
    template <class T>
    T as() const {
        return detail::decode_as<T>(cell_);
    }
    bool is_null() const noexcept { return cell_.null; }
    /// The server's text for the value ("" for NULL).
    std::string_view text() const noexcept {
        return cell_.null ? std::string_view() : std::string_view(cell_.data, cell_.length);
    }
    /// The column's type OID (23 = int4, 25 = text, ...).
    std::uint32_t type_oid() const noexcept { return cell_.type; }

private:
    friend class Row;
    explicit Field(detail::Cell c) : cell_(c) {}
    detail::Cell cell_;
};

/// One row of a result. Holds its result alive (shared), so rows outlive
/// the vector they came in. asyncpg: `Record`.
class Row {
public:
    /// Row `row` of `result` (the driver makes rows; users get them from
    /// fetch(), fetchrow() and cursors).
    Row(detail::ResultPtr result, int row) : result_(std::move(result)), row_(row) {}
    /// The number of columns.
    std::size_t size() const noexcept {
        return static_cast<std::size_t>(detail::column_count(*result_));
    }
    /// Column i's name. Throws InterfaceError when out of range.
    std::string_view column_name(std::size_t i) const;
    /// The field in column i. Throws InterfaceError when out of range.
    Field operator[](std::size_t i) const { return Field(cell(i)); }
    /// The field in the column named `name` (the first one of that name).
    /// Throws InterfaceError when no column has that name.
    Field operator[](std::string_view name) const { return Field(cell(index_of(name))); }
    /// Column i as T: bool, an integer type (range-checked), float/double,
    /// std::string (any column, as the server prints it), Bytes (bytea),
    /// Decimal (numeric; any number), Date, Time, DateTime (timestamp),
    /// Timestamp (timestamptz), or std::optional of one (NULL = nullopt).
    /// Throws InterfaceError for NULL into a non-optional type, or a type
    /// the column's cannot convert to (text into int, int into Date).
    template <class T>
    T get(std::size_t i) const {
        return detail::decode_as<T>(cell(i));
    }
    /// get<T>(index of the column named `name`).
    template <class T>
    T get(std::string_view name) const {
        return detail::decode_as<T>(cell(index_of(name)));
    }

private:
    detail::Cell cell(std::size_t i) const;
    std::size_t index_of(std::string_view name) const;
    detail::ResultPtr result_;
    int row_;
};

/// fetch()'s answer: the rows in order.
using Rows = std::vector<Row>;

class Connection;
namespace detail {
class ConnectionImpl;
}

/// A transaction (or, nested, a savepoint) from Connection::transaction().
/// Finish it with commit() or rollback(). A Transaction destroyed while
/// still open (an exception, a cancellation, a forgotten commit) rolls
/// back: since a destructor cannot co_await, it puts ROLLBACK (or ROLLBACK
/// TO SAVEPOINT) in the connection's queue without waiting; the pipeline
/// keeps order, so the rollback runs before any later query on that
/// connection. A Transaction must not outlive its Connection (which may be
/// moved meanwhile). asyncpg: `conn.transaction()` as `async with`.
class Transaction {
public:
    Transaction(Transaction&& o) noexcept;
    Transaction& operator=(Transaction&&) = delete;
    ~Transaction();
    /// COMMIT (RELEASE SAVEPOINT when nested). Suspends until the server
    /// answers. Throws the server's error (the transaction is then over);
    /// InterfaceError if already finished. Cancellation: as a query's.
    Task<void> commit();
    /// ROLLBACK (ROLLBACK TO SAVEPOINT + RELEASE when nested). Like commit().
    Task<void> rollback();
    /// True until commit() or rollback() has been called.
    bool active() const noexcept { return active_; }
    /// 0 for the outer transaction, 1 for the first savepoint, ...
    int depth() const noexcept { return depth_; }

private:
    friend class Connection;
    Transaction(detail::ConnectionImpl* conn, int depth) : conn_(conn), depth_(depth) {}
    Task<void> finish(bool commit);
    detail::ConnectionImpl* conn_;
    int depth_;
    bool active_ = true;
};

/// A notification from LISTEN/NOTIFY.
struct Notification {
    std::string channel;
    std::string payload;
    /// The notifying backend's process id.
    int pid = 0;
};

/// One connection to a PostgreSQL server. Movable, not copyable; any
/// number of tasks may use it at once (their queries are pipelined).
/// asyncpg: `asyncpg.Connection`.
class Connection {
public:
    using Options = ConnectOptions;

    /// Connects (resolving the host in the executor, then libpq's
    /// non-blocking connect, TLS and authentication driven by the loop).
    /// Suspends until the server accepts. Throws OperationalError with the
    /// server's SQLSTATE (28P01: wrong password, 3D000: unknown database;
    /// 08001 when the server cannot be reached), TimeoutError past
    /// connect_timeout. Cancellation abandons the attempt and closes the
    /// socket. asyncpg: `asyncpg.connect`.
    static Task<Connection> connect(ConnectOptions options);
    /// connect(ConnectOptions::from_url(url)).
    static Task<Connection> connect(std::string_view url);

    Connection(Connection&&) noexcept;
    Connection& operator=(Connection&&) noexcept;
    /// Without close(): stops watching the socket and closes it at once
    /// (libpq's PQfinish); queries still waiting fail with InterfaceError.
    ~Connection();

    /// Runs one statement; returns its command tag and row count. Suspends
    /// until the server answers. Throws the DatabaseError subclass of the
    /// server's SQLSTATE (only this query fails: the connection stays
    /// usable), OperationalError when the connection is lost,
    /// InterfaceError when closed, TimeoutError past command_timeout.
    /// Cancellation: the query's result is still read and dropped, so the
    /// connection stays in step; if it is the only query in flight a cancel
    /// request is sent to the server (from the executor) and later queries
    /// wait until it is over, so it cannot hit them. asyncpg:
    /// `conn.execute(query, *args)`.
    template <class... Args>
    Task<CommandStatus> execute(std::string_view sql, const Args&... args) {
        return execute_params(std::string(sql), detail::make_params(args...));
    }
    /// Runs a query and returns all its rows. Suspends, throws and cancels
    /// like execute(). asyncpg: `conn.fetch`.
    template <class... Args>
    Task<Rows> fetch(std::string_view sql, const Args&... args) {
        return fetch_params(std::string(sql), detail::make_params(args...));
    }
    /// The first row, or std::nullopt when there is none. Like fetch().
    /// asyncpg: `conn.fetchrow`.
    template <class... Args>
    Task<std::optional<Row>> fetchrow(std::string_view sql, const Args&... args) {
        return fetchrow_params(std::string(sql), detail::make_params(args...));
    }
    /// The first column of the first row as T. Throws InterfaceError when
    /// there is no row (use std::optional<T> for a NULL value). Like
    /// fetch() otherwise. asyncpg: `conn.fetchval`.
    template <class T, class... Args>
    Task<T> fetchval(std::string_view sql, const Args&... args) {
        return fetchval_impl<T>(fetchrow_params(std::string(sql), detail::make_params(args...)));
    }

    /// Runs a query and yields its rows one at a time as they arrive
    /// (libpq's single-row mode), for results too big to hold: at most a
    /// few thousand rows are buffered; past that the socket is not read
    /// until the consumer catches up (queries queued behind it wait too).
    /// Throws like fetch(), from next(), after the rows that came before
    /// the error. Leaving early (break, exception, cancellation) drops the
    /// rest of the rows as they come: the connection stays usable.
    /// command_timeout does not apply. asyncpg: `conn.cursor()`.
    template <class... Args>
    AsyncGenerator<Row> cursor(std::string_view sql, const Args&... args) {
        return cursor_params(std::string(sql), detail::make_params(args...));
    }

    /// COPY ... FROM STDIN: runs `sql` (a COPY statement) and sends it the
    /// chunks `source` yields, in the format the statement names (text,
    /// CSV, binary; chunks need not end at row boundaries). Waits until
    /// every query sent before it is answered (COPY is not allowed in
    /// pipeline mode, so the connection leaves it for the COPY; queries of
    /// other tasks wait meanwhile). Returns the command status ("COPY n").
    /// Throws the server's error (bad data: DataError; the COPY is rolled
    /// back), or what `source` threw after aborting the COPY (COPY FAIL).
    /// Cancellation midway closes the connection (libpq cannot leave a COPY
    /// halfway). asyncpg: `copy_to_table(source=...)`.
    Task<CommandStatus> copy_in(std::string_view sql, AsyncGenerator<std::string>& source);
    /// COPY ... TO STDOUT: runs `sql` and yields the data as the server
    /// sends it (one row per chunk in text and CSV format). Waits for the
    /// queries before it like copy_in(). Throws the server's error from
    /// next(). Leaving early or cancelling closes the connection.
    /// asyncpg: `copy_from_query(output=...)`.
    AsyncGenerator<std::string> copy_out(std::string_view sql);

    /// Starts a transaction (BEGIN), or a savepoint when one is already
    /// open on this connection. Suspends until the server answers; throws
    /// like execute(). See Transaction for how it ends.
    /// asyncpg: `conn.transaction()`.
    Task<Transaction> transaction();

    /// LISTEN on `channel` (quoted as an identifier). Suspends until the
    /// server answers. Notifications are kept until notifications() takes
    /// them. asyncpg: `conn.add_listener`.
    Task<void> listen(std::string_view channel);
    /// UNLISTEN `channel`.
    Task<void> unlisten(std::string_view channel);
    /// Waits for the next notification on any channel listened to; returns
    /// at once if one has arrived already. Throws OperationalError if the
    /// connection is lost, InterfaceError when closed. Cancellation leaves
    /// notifications queued.
    Task<Notification> next_notification();
    /// next_notification() forever, as an async generator (`while (auto n =
    /// co_await gen.next())`); ends only by throwing.
    AsyncGenerator<Notification> notifications();

    /// Closes the connection: queries still queued or in flight fail with
    /// InterfaceError, a pending cancel request is waited for, then libpq
    /// says goodbye and closes the socket. Does not throw; a second call
    /// does nothing. asyncpg: `conn.close()`.
    Task<void> close();
    /// True after close() or once the connection is lost.
    bool is_closed() const noexcept;
    /// Connected, no query queued or in flight, no transaction open: what a
    /// pool checks before handing the connection to the next user.
    bool is_reusable() const noexcept;
    /// The server backend's process id (pg_backend_pid()).
    int backend_pid() const noexcept;
    /// The number of statements prepared on the server for this connection.
    std::size_t prepared_statements() const noexcept;

private:
    friend class Transaction;
    friend class Pool;
    explicit Connection(std::unique_ptr<detail::ConnectionImpl> impl);
    Task<detail::ResultPtr> query(std::string sql, detail::Params params);
    Task<CommandStatus> execute_params(std::string sql, detail::Params params);
    Task<Rows> fetch_params(std::string sql, detail::Params params);
    Task<std::optional<Row>> fetchrow_params(std::string sql, detail::Params params);
    AsyncGenerator<Row> cursor_params(std::string sql, detail::Params params);
    template <class T>
    static Task<T> fetchval_impl(Task<std::optional<Row>> row) {
        std::optional<Row> r = co_await std::move(row);
        if (!r) {
            throw InterfaceError("fetchval: the query returned no row");
        }
        if (r->size() == 0) {
            throw InterfaceError("fetchval: the query returned no column");
        }
        co_return r->template get<T>(0);
    }

    std::unique_ptr<detail::ConnectionImpl> impl_;
};

/// A pool of Connections: sql::Pool (corio/sql/pool.hpp: acquire() as a
/// scoped lease, minsize/maxsize, acquire_timeout, recycle; a connection
/// given back mid-query, in a transaction or broken is destroyed, never
/// lent again) plus asyncpg's shortcuts, each of which acquires a
/// connection, runs one query on it and gives it back. For many small
/// queries from many tasks, one Connection shared by the tasks (pipelined)
/// goes further than a pool of exclusive leases. asyncpg: `asyncpg.Pool`.
class Pool : public sql::Pool<Connection> {
public:
    using sql::Pool<Connection>::Pool;

    /// acquire(), then Connection::execute(). Throws what either throws.
    template <class... Args>
    Task<CommandStatus> execute(std::string_view sql, const Args&... args) {
        return execute_params(std::string(sql), detail::make_params(args...));
    }
    /// acquire(), then Connection::fetch().
    template <class... Args>
    Task<Rows> fetch(std::string_view sql, const Args&... args) {
        return fetch_params(std::string(sql), detail::make_params(args...));
    }
    /// acquire(), then Connection::fetchrow().
    template <class... Args>
    Task<std::optional<Row>> fetchrow(std::string_view sql, const Args&... args) {
        return fetchrow_params(std::string(sql), detail::make_params(args...));
    }
    /// acquire(), then Connection::fetchval().
    template <class T, class... Args>
    Task<T> fetchval(std::string_view sql, const Args&... args) {
        return Connection::fetchval_impl<T>(
            fetchrow_params(std::string(sql), detail::make_params(args...)));
    }

private:
    Task<CommandStatus> execute_params(std::string sql, detail::Params params);
    Task<Rows> fetch_params(std::string sql, detail::Params params);
    Task<std::optional<Row>> fetchrow_params(std::string sql, detail::Params params);
};

}  // namespace corio::sql::pg
