// src/sql/pg_connection.cpp - the PostgreSQL connection engine (see
// pg_connection.hpp for its protocol).
#include "pg_connection.hpp"

#include <sys/socket.h>

#include "corio/errors.hpp"
#include "corio/threads.hpp"
#include "corio/timeouts.hpp"

namespace corio::sql::pg::detail {

namespace {

std::exception_ptr interface_error(const std::string& message) {
    return std::make_exception_ptr(InterfaceError(message));
}

std::exception_ptr link_error(std::string message) {
    while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) {
        message.pop_back();
    }
    if (message.empty()) {
        message = "connection to the server lost";
    }
    return database_error(message, "08006");
}

}  // namespace

ConnectionImpl::ConnectionImpl(EventLoop& l, PGconn* conn, ConnectOptions o)
    : loop(l), options(std::move(o)), conn_(conn), fd_(PQsocket(conn)) {
    // Notices (and a FATAL on an idle connection) are not printed to stderr.
    PQsetNoticeProcessor(
        conn_, [](void*, const char*) {}, nullptr);
    loop.add_reader(fd_, [this] { on_readable(); });
    watching_read_ = true;
}

ConnectionImpl::~ConnectionImpl() {
    stop_watching();
    flush_handle_.cancel();
    fail_all(interface_error("the connection was closed"));
    if (conn_) {
        PQfinish(conn_);
    }
}

void ConnectionImpl::stop_watching() {
    if (watching_read_) {
        loop.remove_reader(fd_);
        watching_read_ = false;
    }
    if (watching_write_) {
        loop.remove_writer(fd_);
        watching_write_ = false;
    }
}

bool ConnectionImpl::reusable() const noexcept {
    return conn_ && !closed_ && !broken_ && queued_.empty() && steps_.empty() && !barrier_ &&
           tx_depth == 0 && PQtransactionStatus(conn_) == PQTRANS_IDLE;
}

// -- Sending ------------------------------------------------------------------

RequestPtr ConnectionImpl::submit(std::string sql, Params params, bool detached) {
    if (closed_ || !conn_) {
        throw InterfaceError("the connection is closed");
    }
    if (broken_) {
        std::rethrow_exception(broken_error_);
    }
    auto r = std::make_shared<Request>(loop, std::move(sql), std::move(params));
    r->detached = detached;
    queued_.push_back(r);
    schedule_flush();
    return r;
}

void ConnectionImpl::schedule_flush() {
    if (!flush_handle_ && !barrier_ && !exclusive_) {
        flush_handle_ = loop.call_soon([this] {
            flush_handle_ = Handle();
            flush();
        });
    }
}

void ConnectionImpl::flush() {
    while (!queued_.empty() && !barrier_ && !broken_ && !exclusive_) {
        RequestPtr r = std::move(queued_.front());
        queued_.pop_front();
        if (!r->detached && r->fut.done()) {
            continue;  // given up on before it was sent
        }
        if (!send(r)) {
            set_broken(PQerrorMessage(conn_));
            return;
        }
    }
    flush_output();
    check_idle();  // everything queued may have been given up on
}

bool ConnectionImpl::send(const RequestPtr& r) {
    const Params& p = r->params;
    const int n = static_cast<int>(p.values.size());
    std::vector<const char*> values(p.values.size());
    std::vector<int> lengths(p.values.size());
    for (std::size_t i = 0; i < p.values.size(); ++i) {
        values[i] = p.is_null[i] ? nullptr : p.values[i].data();
        lengths[i] = static_cast<int>(p.values[i].size());
    }
    std::string key = r->sql;
    key.push_back('\0');
    key.append(reinterpret_cast<const char*>(p.types.data()), p.types.size() * sizeof(Oid));
    const std::string* name = nullptr;
    if (auto it = statements_.find(key); it != statements_.end()) {
        name = &it->second;
    } else if (statements_.size() < options.statement_cache_size) {
        auto [at, ok] = statements_.emplace(key, "corio_" + std::to_string(++statement_counter_));
        name = &at->second;
        if (!PQsendPrepare(conn_, name->c_str(), r->sql.c_str(), n, p.types.data())) {
            return false;
        }
        r->prepared_key = std::move(key);
        steps_.emplace_back(Step::prepare, r);
    }
    int ok = name ? PQsendQueryPrepared(conn_, name->c_str(), n, values.data(), lengths.data(),
                                        p.formats.data(), 0)
                  : PQsendQueryParams(conn_, r->sql.c_str(), n, p.types.data(), values.data(),
                                      lengths.data(), p.formats.data(), 0);
    if (!ok) {
        return false;
    }
    steps_.emplace_back(Step::query, r);
    if (!PQpipelineSync(conn_)) {
        return false;
    }
    steps_.emplace_back(Step::sync, r);
    r->sent = true;
    return true;
}

void ConnectionImpl::flush_output() {
    if (broken_) {
        return;
    }
    int rc = PQflush(conn_);
    if (rc < 0) {
        set_broken(PQerrorMessage(conn_));
    } else if (rc == 1 && !watching_write_) {
        loop.add_writer(fd_, [this] {
            flush_output();
            wake_io();
        });
        watching_write_ = true;
    } else if (rc == 0 && watching_write_) {
        loop.remove_writer(fd_);
        watching_write_ = false;
    }
}

// -- Receiving ----------------------------------------------------------------

void ConnectionImpl::on_readable() {
    if (!PQconsumeInput(conn_)) {
        set_broken(PQerrorMessage(conn_));
        return;
    }
    process_results();
    if (!broken_ && steps_.empty()) {
        // Idle, yet something came: a notification, or the server saying
        // goodbye (FATAL, then EOF). libpq sees the EOF only on its next
        // read; look now, so a pool does not lend a dead connection.
        char byte;
        if (::recv(fd_, &byte, 1, MSG_PEEK | MSG_DONTWAIT) == 0) {
            set_broken("the server closed the connection");
        }
    }
    wake_io();
}

void ConnectionImpl::process_results() {
    while (!steps_.empty() && !broken_ && !paused_) {
        auto& [step, req] = steps_.front();
        if (step == Step::query && req->stream && !req->stream->single_row_set) {
            // Before PQisBusy parses the query's first rows; 0 until libpq
            // has made the query current (then the next turn).
            req->stream->single_row_set = PQsetSingleRowMode(conn_) == 1;
        }
        if (PQisBusy(conn_)) {
            break;
        }
        PGresult* res = PQgetResult(conn_);
        if (!res) {
            if (steps_.front().first == Step::sync) {
                break;  // the sync's result is not complete yet
            }
            steps_.pop_front();  // the end of a query's results
            continue;
        }
        route(res);
    }
    deliver_notifications();
    if (!broken_ && PQstatus(conn_) == CONNECTION_BAD) {
        set_broken(PQerrorMessage(conn_));
    }
}

void ConnectionImpl::route(PGresult* res) {
    auto [step, r] = steps_.front();
    switch (PQresultStatus(res)) {
        case PGRES_PIPELINE_SYNC:
            PQclear(res);
            // Everything of `r` up to its sync is over, whatever came before.
            while (!steps_.empty() && steps_.front().second == r) {
                const bool was_sync = steps_.front().first == Step::sync;
                steps_.pop_front();
                if (was_sync) {
                    break;
                }
            }
            complete(r);
            return;
        case PGRES_FATAL_ERROR:
            if (!r->error) {
                r->error = error_from_result(res);
            }
            if (step == Step::prepare) {
                statements_.erase(r->prepared_key);
            }
            PQclear(res);
            return;
        case PGRES_PIPELINE_ABORTED:
            if (!r->error) {
                r->error = database_error("the query's pipeline segment was aborted", "08000");
            }
            PQclear(res);
            return;
        case PGRES_SINGLE_TUPLE:
            if (step == Step::query && r->stream && !r->stream->abandoned) {
                r->stream->rows.emplace_back(std::make_shared<const ResultData>(res), 0);
                wake(*r->stream);
                if (r->stream->rows.size() >= RowStream::kHighWater) {
                    pause_reading();
                }
            } else {
                PQclear(res);
            }
            return;
        case PGRES_TUPLES_OK:
        case PGRES_COMMAND_OK:
        case PGRES_EMPTY_QUERY:
            if (step == Step::query && r->stream) {
                // The end of single-row mode (no rows), or the whole result
                // if single-row mode could not be set.
                auto all = std::make_shared<const ResultData>(res);
                for (int i = 0, n = PQntuples(res); i < n && !r->stream->abandoned; ++i) {
                    r->stream->rows.emplace_back(all, i);
                }
                wake(*r->stream);
            } else if (step == Step::query) {
                r->result = std::make_shared<const ResultData>(res);
            } else {
                PQclear(res);
            }
            return;
        default:
            if (!r->error) {
                r->error = interface_error(std::string("unsupported result: ") +
                                           PQresStatus(PQresultStatus(res)));
            }
            PQclear(res);
            return;
    }
}

void ConnectionImpl::check_idle() {
    if (steps_.empty() && queued_.empty() && idle_waiter_) {
        if (!idle_waiter_->done()) {
            idle_waiter_->set_result();
        }
        idle_waiter_.reset();
    }
}

void ConnectionImpl::complete(const RequestPtr& r) {
    check_idle();
    if (barrier_ == r) {
        barrier_ = nullptr;
        if (!queued_.empty()) {
            schedule_flush();
        }
    }
    if (r->stream) {
        r->stream->finished = true;
        wake(*r->stream);
        return;
    }
    if (r->detached || r->fut.done()) {
        return;
    }
    if (r->error) {
        r->fut.set_exception(r->error);
    } else if (r->result) {
        r->fut.set_result(r->result);
    } else {
        r->fut.set_exception(interface_error("the server sent no result"));
    }
}

void ConnectionImpl::deliver_notifications() {
    while (PGnotify* n = PQnotifies(conn_)) {
        notifications_.push_back(Notification{n->relname, n->extra, n->be_pid});
        PQfreemem(n);
    }
    if (!notifications_.empty() && notification_waiter_) {
        if (!notification_waiter_->done()) {
            notification_waiter_->set_result();
        }
        notification_waiter_.reset();
    }
}

void ConnectionImpl::wake(RowStream& s) {
    if (s.waiter) {
        if (!s.waiter->done()) {
            s.waiter->set_result();
        }
        s.waiter.reset();
    }
}

void ConnectionImpl::pause_reading() {
    paused_ = true;
    if (watching_read_) {
        loop.remove_reader(fd_);
        watching_read_ = false;
    }
}

void ConnectionImpl::resume_reading() {
    if (!paused_ || broken_ || closed_) {
        return;
    }
    paused_ = false;
    loop.add_reader(fd_, [this] { on_readable(); });
    watching_read_ = true;
    process_results();  // what libpq holds already
}

AsyncGenerator<Row> ConnectionImpl::stream(std::string sql, Params params) {
    RequestPtr r = submit(std::move(sql), std::move(params), /*detached=*/true);
    r->stream = std::make_unique<RowStream>();
    RowStream& s = *r->stream;
    // Left early (break, exception, cancellation): the rest is dropped.
    struct Abandon {
        ConnectionImpl* impl;
        RequestPtr r;
        ~Abandon() {
            r->stream->abandoned = true;
            r->stream->rows.clear();
            impl->resume_reading();
        }
    } abandon{this, r};
    for (;;) {
        if (!s.rows.empty()) {
            Row row = std::move(s.rows.front());
            s.rows.pop_front();
            if (paused_ && s.rows.size() <= RowStream::kLowWater) {
                resume_reading();
            }
            co_yield std::move(row);
            continue;
        }
        if (s.finished) {
            if (r->error) {
                std::rethrow_exception(r->error);
            }
            co_return;
        }
        if (!s.waiter) {
            s.waiter.emplace(loop);
        }
        Future<void> waiter = *s.waiter;
        co_await waiter;
    }
}

// -- COPY -----------------------------------------------------------------------

void ConnectionImpl::wake_io() {
    if (io_waiter_) {
        if (!io_waiter_->done()) {
            io_waiter_->set_result();
        }
        io_waiter_.reset();
    }
}

Task<void> ConnectionImpl::wait_io() {
    if (broken_) {
        std::rethrow_exception(broken_error_);
    }
    if (closed_) {
        throw InterfaceError("the connection is closed");
    }
    if (!io_waiter_ || io_waiter_->done()) {
        io_waiter_.emplace(loop);
    }
    Future<void> waiter = *io_waiter_;
    co_await waiter;
    if (broken_) {
        std::rethrow_exception(broken_error_);
    }
}

Task<void> ConnectionImpl::begin_exclusive() {
    if (closed_ || !conn_) {
        throw InterfaceError("the connection is closed");
    }
    while (exclusive_ || !steps_.empty() || !queued_.empty() || barrier_) {
        if (broken_) {
            std::rethrow_exception(broken_error_);
        }
        if (!idle_waiter_ || idle_waiter_->done()) {
            idle_waiter_.emplace(loop);
        }
        Future<void> waiter = *idle_waiter_;
        co_await waiter;
    }
    if (broken_) {
        std::rethrow_exception(broken_error_);
    }
    exclusive_ = true;
    if (PQexitPipelineMode(conn_) != 1) {
        exclusive_ = false;
        set_broken(PQerrorMessage(conn_));
        std::rethrow_exception(broken_error_);
    }
}

void ConnectionImpl::end_exclusive() {
    exclusive_ = false;
    if (!broken_ && !closed_ && PQenterPipelineMode(conn_) != 1) {
        set_broken(PQerrorMessage(conn_));
    }
    if (!queued_.empty()) {
        schedule_flush();
    }
    if (idle_waiter_ && queued_.empty()) {  // another COPY waiting its turn
        if (!idle_waiter_->done()) {
            idle_waiter_->set_result();
        }
        idle_waiter_.reset();
    }
}

Task<PGresult*> ConnectionImpl::next_result() {
    while (PQisBusy(conn_)) {
        co_await wait_io();
    }
    co_return PQgetResult(conn_);
}

namespace {

// Ends exclusive use when a COPY coroutine leaves; one left midway (an
// exception from the source, a cancellation) leaves libpq mid-COPY, so the
// connection is given up.
struct ExclusiveGuard {
    ConnectionImpl* impl;
    bool clean = false;
    ~ExclusiveGuard() {
        if (!clean) {
            impl->abandon_copy();
        }
        impl->end_exclusive();
    }
};

}  // namespace

void ConnectionImpl::abandon_copy() {
    set_broken("a COPY was abandoned midway; the connection was closed");
}

// Sends the COPY statement and waits for the server's go-ahead (`want`);
// on an error result, drains the query and throws it.
Task<void> ConnectionImpl::start_copy(const std::string& sql, ExecStatusType want) {
    if (!PQsendQueryParams(conn_, sql.c_str(), 0, nullptr, nullptr, nullptr, nullptr, 0)) {
        set_broken(PQerrorMessage(conn_));
        std::rethrow_exception(broken_error_);
    }
    flush_output();
    PGresult* r = co_await next_result();
    if (r && PQresultStatus(r) == want) {
        PQclear(r);
        co_return;
    }
    std::exception_ptr error = r && PQresultStatus(r) == PGRES_FATAL_ERROR
                                   ? error_from_result(r)
                                   : interface_error("not a COPY statement of the right direction");
    PQclear(r);
    while (PGresult* more = co_await next_result()) {
        PQclear(more);
    }
    std::rethrow_exception(error);
}

// The COPY's final result (COPY n or the error), then the end of the query.
Task<CommandStatus> ConnectionImpl::finish_copy() {
    PGresult* r = co_await next_result();
    ResultPtr result = r ? std::make_shared<const ResultData>(r) : nullptr;
    while (PGresult* more = co_await next_result()) {
        PQclear(more);
    }
    if (!result) {
        throw InterfaceError("the server sent no result for the COPY");
    }
    if (PQresultStatus(result->get()) != PGRES_COMMAND_OK) {
        std::rethrow_exception(error_from_result(result->get()));
    }
    co_return command_status(*result);
}

Task<CommandStatus> ConnectionImpl::copy_in(std::string sql, AsyncGenerator<std::string>& source) {
    co_await begin_exclusive();
    ExclusiveGuard guard{this};
    try {
        co_await start_copy(sql, PGRES_COPY_IN);
    } catch (const DatabaseError&) {
        guard.clean = true;  // the server refused: no COPY is under way
        throw;
    } catch (const InterfaceError&) {
        guard.clean = true;
        throw;
    }
    std::exception_ptr source_error;
    try {
        while (auto chunk = co_await source.next()) {
            int rc;
            while ((rc = PQputCopyData(conn_, chunk->data(), static_cast<int>(chunk->size()))) ==
                   0) {
                flush_output();
                co_await wait_io();
            }
            if (rc < 0) {
                set_broken(PQerrorMessage(conn_));
                std::rethrow_exception(broken_error_);
            }
        }
    } catch (const DatabaseError&) {
        throw;  // the link: nothing more to say to the server
    } catch (const std::exception&) {
        source_error = std::current_exception();
    }
    // COPY FAIL makes the server abort the COPY (and its transaction).
    const char* fail = source_error ? "the data source failed" : nullptr;
    int rc;
    while ((rc = PQputCopyEnd(conn_, fail)) == 0) {
        flush_output();
        co_await wait_io();
    }
    if (rc < 0) {
        set_broken(PQerrorMessage(conn_));
        std::rethrow_exception(broken_error_);
    }
    flush_output();
    while (watching_write_) {
        co_await wait_io();
    }
    std::exception_ptr copy_error;
    CommandStatus status;
    try {
        status = co_await finish_copy();
    } catch (const DatabaseError&) {
        copy_error = std::current_exception();
    }
    guard.clean = true;
    if (source_error) {
        std::rethrow_exception(source_error);
    }
    if (copy_error) {
        std::rethrow_exception(copy_error);
    }
    co_return status;
}

AsyncGenerator<std::string> ConnectionImpl::copy_out(std::string sql) {
    co_await begin_exclusive();
    ExclusiveGuard guard{this};
    try {
        co_await start_copy(sql, PGRES_COPY_OUT);
    } catch (const DatabaseError&) {
        guard.clean = true;
        throw;
    } catch (const InterfaceError&) {
        guard.clean = true;
        throw;
    }
    for (;;) {
        char* buf = nullptr;
        int n = PQgetCopyData(conn_, &buf, 1);
        if (n > 0) {
            std::string chunk(buf, static_cast<std::size_t>(n));
            PQfreemem(buf);
            co_yield std::move(chunk);
        } else if (n == 0) {
            co_await wait_io();
        } else if (n == -1) {
            break;
        } else {
            set_broken(PQerrorMessage(conn_));
            std::rethrow_exception(broken_error_);
        }
    }
    co_await finish_copy();
    guard.clean = true;
}

// -- Failure, cancellation, close ---------------------------------------------

void ConnectionImpl::set_broken(std::string message) {
    if (broken_) {
        return;
    }
    broken_ = true;
    broken_error_ = link_error(std::move(message));
    stop_watching();
    fail_all(broken_error_);
    wake_io();
    if (idle_waiter_) {
        if (!idle_waiter_->done()) {
            idle_waiter_->set_result();
        }
        idle_waiter_.reset();
    }
}

void ConnectionImpl::fail_all(const std::exception_ptr& e) {
    std::deque<RequestPtr> all = std::move(queued_);
    queued_.clear();
    for (auto& [step, r] : steps_) {
        if (step == Step::sync) {
            all.push_back(r);
        }
    }
    steps_.clear();
    barrier_ = nullptr;
    for (auto& r : all) {
        if (r->stream) {
            if (!r->error) {
                r->error = e;
            }
            r->stream->finished = true;
            wake(*r->stream);
        } else if (!r->detached && !r->fut.done()) {
            r->fut.set_exception(e);
        }
    }
    if (notification_waiter_) {
        if (!notification_waiter_->done()) {
            notification_waiter_->set_exception(e);
        }
        notification_waiter_.reset();
    }
}

void ConnectionImpl::on_abandoned(const RequestPtr& r) {
    if (!r->sent || broken_ || closed_) {
        return;  // not sent: flush() skips it
    }
    bool in_flight = false;
    for (auto& [step, other] : steps_) {
        if (other != r) {
            return;  // others share the pipeline: a cancel could hit them; drain only
        }
        in_flight = true;
    }
    if (!in_flight || (cancel_call_ && !cancel_call_->done())) {
        return;
    }
    PGcancel* cancel = PQgetCancel(conn_);
    if (!cancel) {
        return;
    }
    barrier_ = r;
    cancel_call_ = loop.run_in_executor(nullptr, [cancel] {
        char err[256];
        PQcancel(cancel, err, sizeof err);
        PQfreeCancel(cancel);
    });
}

Task<ResultPtr> ConnectionImpl::run(std::string sql, Params params) {
    RequestPtr r = submit(std::move(sql), std::move(params));
    try {
        if (options.command_timeout) {
            co_return co_await wait_for(r->fut, *options.command_timeout);
        }
        co_return co_await r->fut;
    } catch (const CancelledError&) {
        on_abandoned(r);
        throw;
    } catch (const TimeoutError&) {
        on_abandoned(r);
        throw;
    }
}

Task<void> ConnectionImpl::close() {
    if (closed_) {
        co_return;
    }
    closed_ = true;
    stop_watching();
    flush_handle_.cancel();
    flush_handle_ = Handle();
    fail_all(interface_error("the connection was closed"));
    if (cancel_call_) {
        Future<void> call = *cancel_call_;
        cancel_call_.reset();
        try {
            co_await call;
        } catch (...) {
        }
    }
    PQfinish(conn_);
    conn_ = nullptr;
}

Task<Notification> ConnectionImpl::next_notification() {
    while (notifications_.empty()) {
        if (closed_) {
            throw InterfaceError("the connection is closed");
        }
        if (broken_) {
            std::rethrow_exception(broken_error_);
        }
        if (!notification_waiter_ || notification_waiter_->done()) {
            notification_waiter_.emplace(loop);
        }
        Future<void> waiter = *notification_waiter_;
        co_await waiter;
    }
    Notification n = std::move(notifications_.front());
    notifications_.pop_front();
    co_return n;
}

}  // namespace corio::sql::pg::detail
