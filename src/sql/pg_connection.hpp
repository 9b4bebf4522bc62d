// src/sql/pg_connection.hpp - the PostgreSQL connection's engine: libpq in
// non-blocking pipeline mode, driven by the loop's reader/writer callbacks.
//
// Protocol (the invariants everything below keeps):
// - A query is a Request. submit() puts it in `queued_` and schedules one
//   flush() for the next loop iteration (call_soon), so every query made in
//   this iteration goes out in one batch.
// - flush() sends each queued Request as [Parse (first use of its SQL)],
//   Bind/Execute, Sync, and appends one Step per part to `steps_`; the
//   server answers in that order, so `steps_.front()` always names the
//   Request the next result belongs to. A Sync per query makes an error
//   abort only its own query.
// - on_readable() (the socket is watched from connect to close) reads
//   what has arrived and routes complete results to steps_.front(); at a
//   Request's PGRES_PIPELINE_SYNC its Future gets the result or the error.
//   A Future already done (its task cancelled or timed out) is skipped: the
//   result is drained all the same, so the connection stays in step.
// - A cancelled Request that is the only one in flight gets a cancel
//   request (PQcancel in the executor) and becomes `barrier_`: nothing more
//   is sent until its Sync arrives, so the cancel cannot hit a later query.
// - Any failure of the link (PQconsumeInput/PQflush/PQsend* failing, the
//   server gone) makes the connection broken: every Request fails with
//   OperationalError and the socket is no longer watched.
// Loop thread only.
#pragma once

#include <libpq-fe.h>

#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>

#include "corio/async_generator.hpp"
#include "corio/future.hpp"
#include "corio/sql/postgres.hpp"
#include "pg_internal.hpp"

namespace corio::sql::pg::detail {

// The rows of a streamed query (Connection::cursor), one PGresult each
// (single-row mode), waiting for the consumer. Past kHighWater rows the
// socket is no longer read until the consumer is down to kLowWater.
struct RowStream {
    static constexpr std::size_t kHighWater = 4096;
    static constexpr std::size_t kLowWater = 1024;
    std::deque<Row> rows;
    std::optional<Future<void>> waiter;
    bool single_row_set = false;
    bool finished = false;
    // The consumer is gone: rows are dropped as they come.
    bool abandoned = false;
};

struct Request {
    std::string sql;
    Params params;
    // The statement cache key, when this request prepares a statement.
    std::string prepared_key;
    Future<ResultPtr> fut;
    // Nobody awaits the result (a Transaction's rollback from a destructor).
    bool detached = false;
    bool sent = false;
    ResultPtr result;
    std::exception_ptr error;
    // Set for a streamed query.
    std::unique_ptr<RowStream> stream;

    Request(EventLoop& loop, std::string s, Params p)
        : sql(std::move(s)), params(std::move(p)), fut(loop) {}
};
using RequestPtr = std::shared_ptr<Request>;

class ConnectionImpl {
public:
    ConnectionImpl(EventLoop& loop, PGconn* conn, ConnectOptions options);
    ~ConnectionImpl();
    ConnectionImpl(const ConnectionImpl&) = delete;
    ConnectionImpl& operator=(const ConnectionImpl&) = delete;

    // Queues a query. Throws InterfaceError when closed, OperationalError
    // when broken.
    RequestPtr submit(std::string sql, Params params, bool detached = false);
    // Submits and waits for the result, under command_timeout; on
    // cancellation or timeout calls on_abandoned() and rethrows.
    Task<ResultPtr> run(std::string sql, Params params);
    // The awaiting task gave up on `r` (cancelled or timed out).
    void on_abandoned(const RequestPtr& r);
    Task<void> close();
    // A streamed query: its rows one at a time, read with flow control.
    AsyncGenerator<Row> stream(std::string sql, Params params);
    // COPY ... FROM STDIN with `source`'s chunks; COPY ... TO STDOUT.
    Task<CommandStatus> copy_in(std::string sql, AsyncGenerator<std::string>& source);
    AsyncGenerator<std::string> copy_out(std::string sql);
    Task<Notification> next_notification();

    bool closed() const noexcept { return closed_ || broken_; }
    bool reusable() const noexcept;
    int backend_pid() const noexcept { return conn_ ? PQbackendPID(conn_) : 0; }
    std::size_t prepared() const noexcept { return statements_.size(); }

    EventLoop& loop;
    const ConnectOptions options;
    // Open transactions and savepoints (Transaction keeps it).
    int tx_depth = 0;

private:
    enum class Step { prepare, query, sync };

    void schedule_flush();
    void flush();
    bool send(const RequestPtr& r);
    void flush_output();
    void on_readable();
    void process_results();
    void wake(RowStream& s);
    void pause_reading();
    void resume_reading();
    void route(PGresult* res);
    void complete(const RequestPtr& r);
    void deliver_notifications();
    void set_broken(std::string message);
    // Exclusive use of libpq (COPY, which pipeline mode forbids): waits
    // until everything queued has been answered, then leaves pipeline
    // mode; flush() sends nothing until end_exclusive().
    Task<void> begin_exclusive();
    // While exclusive: the next complete result (null at a query's end).
    Task<PGresult*> next_result();
    // While exclusive: until the socket was readable or writable.
    Task<void> wait_io();
    void wake_io();
    void check_idle();

public:
    void end_exclusive();
    void abandon_copy();

private:
    Task<void> start_copy(const std::string& sql, ExecStatusType want);
    Task<CommandStatus> finish_copy();
    void fail_all(const std::exception_ptr& e);
    void stop_watching();

    PGconn* conn_;
    int fd_;
    bool watching_read_ = false;
    bool watching_write_ = false;
    // Reading stopped for a stream's flow control.
    bool paused_ = false;
    bool closed_ = false;
    bool broken_ = false;
    Handle flush_handle_;
    std::deque<RequestPtr> queued_;
    std::deque<std::pair<Step, RequestPtr>> steps_;
    RequestPtr barrier_;
    std::optional<Future<void>> cancel_call_;
    bool exclusive_ = false;
    // Woken when the pipeline empties (begin_exclusive) / on I/O while
    // exclusive.
    std::optional<Future<void>> idle_waiter_;
    std::optional<Future<void>> io_waiter_;
    // SQL text + parameter OIDs -> statement name.
    std::unordered_map<std::string, std::string> statements_;
    std::uint64_t statement_counter_ = 0;
    std::deque<Notification> notifications_;
    std::optional<Future<void>> notification_waiter_;
    std::exception_ptr broken_error_;
};

}  // namespace corio::sql::pg::detail
