// corio/sql/mysql.hpp - the MariaDB / MySQL driver: connections, cursors,
// rows, transactions. Python: aiomysql.
//
// Built on MariaDB Connector/C's non-blocking API (the mysql_*_start /
// mysql_*_cont calls): every network step waits on the corio loop for the
// connection's socket (corio/io_wait.hpp); nothing blocks the loop. Host
// names are resolved with corio::net::getaddrinfo before the connect.
//
//   auto conn = co_await mysql::Connection::connect("mysql://u:pw@127.0.0.1/db");
//   auto cur = conn.cursor();
//   co_await cur.execute("SELECT id, name FROM t WHERE id > ?", 10);
//   for (const mysql::Row& row : co_await cur.fetchall()) {
//       std::cout << row.get<int>(0) << " " << row.get<std::string>("name") << "\n";
//   }
//   co_await conn.close();
//
// Parameters. `?` in the SQL text (outside quotes, backticks and comments)
// is replaced by the next argument written as an SQL literal: strings are
// escaped by mysql_real_escape_string for the connection's character set,
// binary data (sql::Bytes) is sent as X'..', numbers in their exact text,
// dates and times quoted, std::nullopt as NULL. Values are never pasted
// raw, so they cannot change the statement. (aiomysql does the same on the
// client, with %s as the marker.) A count of `?` that differs from the
// number of arguments throws ProgrammingError before anything is sent.
//
// Results travel in MariaDB's text protocol; Row::get<T>() converts a
// column to T (types in corio/sql/types.hpp): integers, bool, float,
// double, std::string, std::string_view (valid while the row lives),
// sql::Bytes, sql::Decimal, sql::Date, sql::Time, sql::DateTime,
// sql::Timestamp, and std::optional of each (NULL is std::nullopt; NULL
// read as a non-optional throws InterfaceError).
//
// Errors: the server's and the client library's errors are thrown as the
// DatabaseError subclass of their SQLSTATE (corio/sql/errors.hpp) with
// MariaDB's error number as code(): a wrong password is OperationalError
// 1045, bad SQL ProgrammingError 1064 (SQLSTATE 42000), a lost server
// OperationalError 2013 or 2006.
//
// Cancellation. A Connection runs one operation at a time. Cancelling a
// task while it waits inside an operation (a query, a fetch of an
// unbuffered cursor, a commit) cannot leave the wire half-read for the next
// user: the connection is broken off at once (its socket shut down, the
// library's pending step completed with that error) and marked unusable;
// is_reusable() is false and every later call throws InterfaceError, so a
// pool drops it. The server ends the session when it next writes to the
// closed socket; ConnectOptions::kill_on_cancel also sends KILL QUERY for
// it on a short side connection, so a long statement stops at once (the
// cancellation completes after that KILL; see kill_on_cancel).
// Per-query timeouts (ConnectOptions::query_timeout, or corio::wait_for
// around one call) are cancellations of this kind that throw
// corio::TimeoutError.
//
// Thread safety: a Connection and its cursors belong to one loop.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "corio/sql/errors.hpp"
#include "corio/sql/pool.hpp"
#include "corio/sql/types.hpp"
#include "corio/task.hpp"

namespace corio::sql::mysql {

/// How to reach the server. aiomysql: the arguments of `aiomysql.connect`.
struct ConnectOptions {
    /// A host name or a numeric address; resolved with the loop's
    /// getaddrinfo. Ignored when unix_socket is set.
    std::string host = "127.0.0.1";
    std::uint16_t port = 3306;
    std::string user;
    std::string password;
    /// The default database ("" for none). aiomysql: `db`.
    std::string db;
    /// A Unix socket path to connect through instead of TCP.
    std::string unix_socket;
    /// For the whole connect (resolution, TCP, TLS, authentication).
    /// Exceeding it throws corio::TimeoutError.
    std::chrono::milliseconds connect_timeout{10000};
    /// Every statement's deadline (nullopt: none). Exceeding it throws
    /// corio::TimeoutError and breaks the connection off (see Cancellation).
    std::optional<std::chrono::milliseconds> query_timeout;
    /// Set the session's autocommit at connect (nullopt: the server's
    /// default, which is on). aiomysql: `autocommit` (default False).
    std::optional<bool> autocommit;
    /// The connection's character set. aiomysql: `charset`.
    std::string charset = "utf8mb4";
    /// The session time zone set at connect, so TIMESTAMP columns read as
    /// sql::Timestamp are UTC ("" keeps the server's zone).
    std::string time_zone = "+00:00";
    /// TLS: require it. With ssl_verify (the default) the server's
    /// certificate must chain to ssl_ca (or the system's roots) and name
    /// the host.
    bool ssl = false;
    bool ssl_verify = true;
    /// A PEM file of trusted certificate authorities ("" for the system's).
    std::string ssl_ca;
    /// On a cancelled or timed-out statement, also send KILL QUERY for it
    /// on a side connection (best effort): the cancelled call throws once
    /// the KILL was sent or the side connection failed, its connect
    /// bounded by min(connect_timeout, 2 s).
    bool kill_on_cancel = true;

    /// Options from a mysql:// or mariadb:// URL (corio/sql/url.hpp).
    /// Query parameters: ssl=true|false, ssl_ca=PATH, ssl_verify=true|false,
    /// charset=NAME, connect_timeout=SECONDS, query_timeout=SECONDS,
    /// autocommit=true|false, unix_socket=PATH. Throws
    /// std::invalid_argument for a bad URL, scheme or value.
    static ConnectOptions from_url(std::string_view url);
};

/// One column of a result. PEP 249's description entry; aiomysql:
/// `cursor.description[i]`.
struct Column {
    std::string name;
    /// The table (or alias) it came from, "" for an expression.
    std::string table;
    /// MariaDB's enum_field_types value (MYSQL_TYPE_LONG is 3, ...).
    int type = 0;
    /// The column's flags (NOT_NULL_FLAG, BINARY_FLAG, ...).
    unsigned flags = 0;
    /// The character set number (63 is binary).
    unsigned charsetnr = 0;
    /// Digits after the point (DECIMAL, fractional seconds).
    unsigned decimals = 0;
};

/// One row of a result: its values as the server sent them, converted on
/// access. Cheap to move; copies its data.
class Row {
public:
    Row() = default;

    /// The number of columns.
    std::size_t size() const noexcept { return spans_.size(); }
    /// True if column `i` is NULL. Throws InterfaceError if out of range.
    bool is_null(std::size_t i) const;
    /// The columns of the result this row belongs to.
    const std::vector<Column>& columns() const;
    /// The index of the column named `name`; throws InterfaceError if none.
    std::size_t index(std::string_view name) const;

    /// Column `i` as T (see the header's list of types). Throws
    /// InterfaceError if `i` is out of range, the value is NULL and T is
    /// not an optional, or the text does not convert to T (a value out of
    /// T's range too).
    template <class T>
    T get(std::size_t i) const;
    /// Column `name` as T. Throws InterfaceError as get(i) does.
    template <class T>
    T get(std::string_view name) const {
        return get<T>(index(name));
    }
    /// Column `i`'s raw text (bytes for binary columns); nullopt for NULL.
    std::optional<std::string_view> raw(std::size_t i) const;

private:
    friend struct RowBuilder;
    std::shared_ptr<const std::vector<Column>> columns_;
    std::string data_;
    // (offset, length) in data_; length kNull for NULL.
    std::vector<std::pair<std::uint32_t, std::uint32_t>> spans_;
    static constexpr std::uint32_t kNull = 0xffffffffu;
};

namespace detail {

// The conversions behind Row::get<T>; each throws InterfaceError.
template <class T>
struct FromText;
#define CORIO_MYSQL_FROM_TEXT(T)                                  \
    template <>                                                   \
    struct FromText<T> {                                          \
        static T convert(std::string_view text, const Column& c); \
    };
CORIO_MYSQL_FROM_TEXT(bool)
CORIO_MYSQL_FROM_TEXT(signed char)
CORIO_MYSQL_FROM_TEXT(unsigned char)
CORIO_MYSQL_FROM_TEXT(short)
CORIO_MYSQL_FROM_TEXT(unsigned short)
CORIO_MYSQL_FROM_TEXT(int)
CORIO_MYSQL_FROM_TEXT(unsigned int)
CORIO_MYSQL_FROM_TEXT(long)
CORIO_MYSQL_FROM_TEXT(unsigned long)
CORIO_MYSQL_FROM_TEXT(long long)
CORIO_MYSQL_FROM_TEXT(unsigned long long)
CORIO_MYSQL_FROM_TEXT(float)
CORIO_MYSQL_FROM_TEXT(double)
CORIO_MYSQL_FROM_TEXT(std::string)
CORIO_MYSQL_FROM_TEXT(std::string_view)
CORIO_MYSQL_FROM_TEXT(Bytes)
CORIO_MYSQL_FROM_TEXT(Decimal)
CORIO_MYSQL_FROM_TEXT(Date)
CORIO_MYSQL_FROM_TEXT(Time)
CORIO_MYSQL_FROM_TEXT(DateTime)
CORIO_MYSQL_FROM_TEXT(Timestamp)
#undef CORIO_MYSQL_FROM_TEXT

template <class T>
struct IsOptional : std::false_type {};
template <class T>
struct IsOptional<std::optional<T>> : std::true_type {};

[[noreturn]] void throw_null_column(std::size_t i);

// SQL literals for the parameters; `escape` is the connection's escaper.
struct Escaper;
// A connection's state (src/sql/mysql_connection.cpp); cursors and
// transactions point at it, so they follow a moved Connection.
struct ConnState;
void append_literal(std::string& out, const Escaper& e, std::nullopt_t);
void append_literal(std::string& out, const Escaper& e, bool v);
void append_literal(std::string& out, const Escaper& e, long long v);
void append_literal(std::string& out, const Escaper& e, unsigned long long v);
void append_literal(std::string& out, const Escaper& e, double v);
void append_literal(std::string& out, const Escaper& e, std::string_view v);
void append_literal(std::string& out, const Escaper& e, const Bytes& v);
void append_literal(std::string& out, const Escaper& e, const Decimal& v);
void append_literal(std::string& out, const Escaper& e, const Date& v);
void append_literal(std::string& out, const Escaper& e, const Time& v);
void append_literal(std::string& out, const Escaper& e, const DateTime& v);
void append_literal(std::string& out, const Escaper& e, const Timestamp& v);

template <class T>
void append_any(std::string& out, const Escaper& e, const T& v) {
    using U = std::remove_cvref_t<T>;
    if constexpr (IsOptional<U>::value) {
        if (v) {
            append_any(out, e, *v);
        } else {
            append_literal(out, e, std::nullopt);
        }
    } else if constexpr (std::is_same_v<U, bool>) {
        append_literal(out, e, v);
    } else if constexpr (std::is_integral_v<U> && std::is_signed_v<U>) {
        append_literal(out, e, static_cast<long long>(v));
    } else if constexpr (std::is_integral_v<U>) {
        append_literal(out, e, static_cast<unsigned long long>(v));
    } else if constexpr (std::is_floating_point_v<U>) {
        append_literal(out, e, static_cast<double>(v));
    } else if constexpr (std::is_convertible_v<const U&, std::string_view>) {
        append_literal(out, e, std::string_view(v));
    } else {
        append_literal(out, e, v);
    }
}

}  // namespace detail

template <class T>
T Row::get(std::size_t i) const {
    if constexpr (detail::IsOptional<T>::value) {
        if (is_null(i)) {
            return std::nullopt;
        }
        return get<typename T::value_type>(i);
    } else {
        std::optional<std::string_view> text = raw(i);
        if (!text) {
            detail::throw_null_column(i);
        }
        return detail::FromText<T>::convert(*text, columns()[i]);
    }
}

class Connection;

/// The result of one statement, read into memory. aiomysql: what a
/// Cursor holds after execute().
struct Result {
    std::vector<Row> rows;
    /// Column descriptions; empty for a statement without a result set.
    std::shared_ptr<const std::vector<Column>> columns;
    /// Rows changed (INSERT/UPDATE/DELETE) or rows in the result.
    std::uint64_t rowcount = 0;
    /// The AUTO_INCREMENT value the statement generated (0 if none).
    std::uint64_t lastrowid = 0;
    /// The number of warnings the statement raised.
    unsigned warnings = 0;
};

/// How a cursor reads results. aiomysql: Cursor and SSCursor.
enum class CursorKind {
    /// The whole result is read into memory by execute() (aiomysql.Cursor).
    buffered,
    /// Rows are read from the socket as fetch*() asks for them
    /// (mysql_use_result; aiomysql.SSCursor): a huge result never sits in
    /// memory at once. The connection serves nothing else until every row
    /// is read or the cursor is closed.
    unbuffered,
};

/// A cursor over one connection: execute a statement, then fetch its rows.
/// Must not outlive its connection (moving the Connection is fine: the
/// cursor follows it). Movable. aiomysql: `Cursor`/`SSCursor`.
class Cursor {
public:
    Cursor(Cursor&&) noexcept;
    Cursor& operator=(Cursor&&) noexcept;
    /// An unbuffered cursor destroyed with rows unread leaves the
    /// connection unusable (is_reusable() false): close() it to drain.
    ~Cursor();

    /// Runs `sql` with `args` bound to its `?` markers (see the header);
    /// the arguments are written into the SQL text at the call. Suspends until the server answered
    /// (and, buffered, until every row arrived). Returns rowcount(). Throws DatabaseError's
    /// subclasses, ProgrammingError for a marker count that does not match, InterfaceError on a
    /// broken or busy connection, TimeoutError past the query timeout. Cancellation breaks the
    /// connection off (header).
    template <class... Args>
    Task<std::uint64_t> execute(std::string_view sql, const Args&... args);
    /// Runs `sql` as it is, without markers. As execute().
    Task<std::uint64_t> execute_raw(std::string sql);

    /// The next row, or nullopt when none is left. Buffered: does not
    /// suspend. Unbuffered: suspends while the row is read. Throws
    /// InterfaceError before an execute(), DatabaseError if the link fails.
    Task<std::optional<Row>> fetchone();
    /// Up to `size` next rows (fewer at the end). As fetchone().
    Task<std::vector<Row>> fetchmany(std::size_t size);
    /// Every row left. As fetchone().
    Task<std::vector<Row>> fetchall();

    /// Rows changed, or rows in the result (buffered); for an unbuffered
    /// result, the rows fetched so far. PEP 249: `rowcount`.
    std::uint64_t rowcount() const noexcept { return rowcount_; }
    /// The AUTO_INCREMENT id of the last INSERT. PEP 249: `lastrowid`.
    std::uint64_t lastrowid() const noexcept { return lastrowid_; }
    /// The columns of the current result (empty without one).
    const std::vector<Column>& description() const;
    /// Buffered (rows read at execute) or unbuffered (read as fetched).
    CursorKind kind() const noexcept { return kind_; }

    /// Reads and drops what is left of an unbuffered result, so the
    /// connection serves the next statement; a buffered cursor just lets
    /// go of its rows. Suspends while draining. Idempotent.
    Task<void> close();

private:
    friend class Connection;
    struct Unbuffered;
    Cursor(detail::ConnState* conn, CursorKind kind);
    Task<std::uint64_t> run(std::string sql);
    const detail::Escaper& escaper() const;
    void reset();

    detail::ConnState* conn_ = nullptr;
    CursorKind kind_ = CursorKind::buffered;
    std::vector<Row> rows_;
    std::size_t next_ = 0;
    std::shared_ptr<const std::vector<Column>> columns_;
    std::uint64_t rowcount_ = 0;
    std::uint64_t lastrowid_ = 0;
    bool has_result_ = false;
    std::unique_ptr<Unbuffered> stream_;
};

class Transaction;

/// One connection to a MariaDB or MySQL server. Movable, not copyable.
/// aiomysql: `Connection`.
class Connection {
public:
    using Options = ConnectOptions;

    /// Connects: resolves the host on the loop, then TCP (or the Unix
    /// socket), TLS when asked, authentication, the default database, the
    /// character set, the time zone and autocommit. Suspends throughout.
    /// Throws OperationalError (1045 for a wrong password, 2002/2003 for a
    /// refused connection), corio::TimeoutError past connect_timeout,
    /// net::GaiError for an unknown host. Cancellation abandons the
    /// half-made connection. aiomysql: `aiomysql.connect`.
    static Task<Connection> connect(ConnectOptions options);
    /// connect(ConnectOptions::from_url(url)).
    static Task<Connection> connect(std::string_view url);

    Connection(Connection&&) noexcept;
    Connection& operator=(Connection&&) noexcept;
    /// Closes the socket without the goodbye packet if close() was not
    /// awaited (the server logs an aborted connection; an open transaction
    /// is rolled back by the server).
    ~Connection();

    /// Says goodbye (COM_QUIT) and closes. Suspends until sent. Throws
    /// nothing but CancelledError (the link is then closed at once);
    /// idempotent. Called while another task's operation is in flight, it
    /// ends the link under that operation (which throws OperationalError)
    /// and returns at once; an unbuffered cursor's unread result is dropped
    /// (its next fetch throws InterfaceError). aiomysql: `conn.close()` /
    /// `ensure_closed()`.
    Task<void> close();

    /// A cursor on this connection. aiomysql: `conn.cursor()` /
    /// `conn.cursor(SSCursor)`.
    Cursor cursor(CursorKind kind = CursorKind::buffered);

    /// Runs one statement with `args` bound to its `?` markers and returns
    /// its whole result. The arguments are written into the SQL text at
    /// the call, so they need not outlive it. As Cursor::execute.
    template <class... Args>
    Task<Result> execute(std::string_view sql, const Args&... args) {
        return query(format(sql, args...));
    }
    /// Runs `sql` as it is (no markers) and returns its whole result.
    Task<Result> query(std::string sql);

    /// `sql` with `args` written into its `?` markers as literals (what
    /// execute() sends). Throws ProgrammingError for a count mismatch,
    /// InterfaceError on a closed connection.
    template <class... Args>
    std::string format(std::string_view sql, const Args&... args) const;

    /// Sets the session's autocommit. aiomysql: `conn.autocommit(v)`.
    Task<void> autocommit(bool on);
    /// START TRANSACTION. aiomysql: `conn.begin()`.
    Task<void> begin();
    /// COMMIT. aiomysql: `conn.commit()`.
    Task<void> commit();
    /// ROLLBACK. aiomysql: `conn.rollback()`.
    Task<void> rollback();
    /// Starts a transaction and returns its guard; see Transaction.
    Task<Transaction> transaction();
    /// Runs `body(*this)` inside a transaction: COMMIT if it returns,
    /// ROLLBACK (awaited) and rethrow if it throws or is cancelled. The
    /// recommended form.
    template <class F>
    auto transaction(F body) -> decltype(body(std::declval<Connection&>()));

    /// Sends a ping; throws OperationalError if the server is gone.
    Task<void> ping();

    /// True while the connection is open and not broken off.
    bool is_open() const noexcept;
    /// Open, idle (no operation and no unread result), and not inside a
    /// transaction: safe to hand to another user (sql::Pool asks this).
    bool is_reusable() const noexcept;
    /// True between begin() (or a statement that opened a transaction
    /// with autocommit off) and commit()/rollback(), as the server reports.
    bool in_transaction() const noexcept;
    /// The server's id for this session (CONNECTION_ID(), what KILL takes).
    unsigned long thread_id() const noexcept;
    /// The server's version string ("10.11.6-MariaDB-...").
    std::string server_info() const;
    /// The options this connection was opened with.
    const ConnectOptions& options() const;

    using State = detail::ConnState;

private:
    friend class Cursor;
    friend class Transaction;
    explicit Connection(std::unique_ptr<State> s);
    const detail::Escaper& escaper() const;
    std::unique_ptr<State> s_;
};

/// A transaction in progress, from Connection::transaction(). Call
/// commit() or rollback() (each suspends). A destructor cannot suspend, so
/// a Transaction destroyed while still open (an exception went past it)
/// cannot send ROLLBACK itself: it marks its connection, whose next
/// statement is preceded by a ROLLBACK, and which is_reusable() reports as
/// not reusable so a pool closes it (the server then rolls back). Prefer
/// Connection::transaction(body), which awaits the ROLLBACK.
class Transaction {
public:
    Transaction(Transaction&&) noexcept;
    Transaction& operator=(Transaction&&) = delete;
    ~Transaction();
    /// COMMIT. Throws as a statement does.
    Task<void> commit();
    /// ROLLBACK. Throws as a statement does.
    Task<void> rollback();
    /// True until commit() or rollback() ends the transaction.
    bool active() const noexcept { return conn_ != nullptr; }

private:
    friend class Connection;
    explicit Transaction(detail::ConnState* c) : conn_(c) {}
    detail::ConnState* conn_;
};

namespace detail {
struct Escaper {
    void* mysql = nullptr;  // MYSQL*
    // Appends `v` escaped for a quoted literal.
    void escape(std::string& out, std::string_view v) const;
};
// `sql` with its `?` markers replaced by `literals`, in order; throws
// ProgrammingError if the counts differ.
std::string substitute(std::string_view sql, const std::vector<std::string>& literals);
}  // namespace detail

namespace detail {
template <class... Args>
std::string format_query(const Escaper& e, std::string_view sql, const Args&... args) {
    if constexpr (sizeof...(Args) == 0) {
        return substitute(sql, {});
    } else {
        std::vector<std::string> literals;
        literals.reserve(sizeof...(Args));
        (
            [&] {
                literals.emplace_back();
                append_any(literals.back(), e, args);
            }(),
            ...);
        return substitute(sql, literals);
    }
}
}  // namespace detail

template <class... Args>
std::string Connection::format(std::string_view sql, const Args&... args) const {
    return detail::format_query(escaper(), sql, args...);
}

template <class... Args>
Task<std::uint64_t> Cursor::execute(std::string_view sql, const Args&... args) {
    return run(detail::format_query(escaper(), sql, args...));
}

template <class F>
auto Connection::transaction(F body) -> decltype(body(std::declval<Connection&>())) {
    co_await begin();
    std::exception_ptr failed;
    try {
        if constexpr (std::is_void_v<typename decltype(body(*this))::value_type>) {
            co_await body(*this);
            co_await commit();
            co_return;
        } else {
            auto v = co_await body(*this);
            co_await commit();
            co_return v;
        }
    } catch (...) {
        failed = std::current_exception();
    }
    if (is_open()) {
        try {
            co_await rollback();
        } catch (...) {
        }
    }
    std::rethrow_exception(failed);
}

/// A pool of MariaDB connections (corio/sql/pool.hpp): minsize, maxsize,
/// acquire() as a scoped lease, recycle, acquire_timeout. A connection
/// given back mid-query (a cancelled task), inside a transaction, with an
/// unread unbuffered result or broken by a lost server is not reusable and
/// is closed instead of lent again. aiomysql: `aiomysql.create_pool`.
///
///   mysql::Pool pool(mysql::ConnectOptions::from_url(url), {.minsize = 1, .maxsize = 10});
///   co_await pool.open();
///   auto conn = co_await pool.acquire();
///   auto r = co_await conn->execute("SELECT ? + 1", 41);
using Pool = sql::Pool<Connection>;

}  // namespace corio::sql::mysql
