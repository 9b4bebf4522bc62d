// pg::Connection shared by concurrent tasks against a real PostgreSQL 15:
// pipelined queries routed back to their tasks, an error failing only its
// own query, cancellation and timeouts mid-query (the connection stays
// usable and the next query gets ITS result), transactions and savepoints,
// LISTEN/NOTIFY.
#include <gtest/gtest.h>

#include <vector>

#include "corio/corio.hpp"
#include "corio/sql/postgres.hpp"
#include "net/net_fixture.hpp"
#include "sql/pg_server.hpp"

namespace pg = corio::sql::pg;
namespace sql = corio::sql;
using corio::Task;
using corio_test::net_run;
using corio_test::pg_options;
using namespace std::chrono_literals;

namespace {

// The state of backend `pid`'s current query, seen from another connection.
Task<std::string> backend_state(pg::Connection& observer, int pid) {
    auto s = co_await observer.fetchval<std::optional<std::string>>(
        "SELECT state FROM pg_stat_activity WHERE pid = $1", pid);
    co_return s.value_or("gone");
}

}  // namespace

TEST(PgPipeline, ConcurrentTasksGetTheirOwnResults) {
    net_run([]() -> Task<void> {
        auto conn = co_await pg::Connection::connect(pg_options());
        std::vector<corio::TaskHandle<int>> tasks;
        for (int i = 0; i < 200; ++i) {
            tasks.push_back(corio::create_task([](pg::Connection& c, int i) -> Task<int> {
                co_return co_await c.fetchval<int>("SELECT $1::int + 1", i);
            }(conn, i)));
        }
        for (int i = 0; i < 200; ++i) {
            EXPECT_EQ(co_await tasks[i], i + 1);
        }
        EXPECT_TRUE(conn.is_reusable());
        co_await conn.close();
    }());
}

TEST(PgPipeline, AnErrorFailsOnlyItsOwnQuery) {
    net_run([]() -> Task<void> {
        auto conn = co_await pg::Connection::connect(pg_options());
        auto good1 = corio::create_task(conn.fetchval<int>("SELECT 1"));
        auto bad = corio::create_task(conn.fetchval<int>("SELECT 1 / 0"));
        auto bad_sql = corio::create_task(conn.execute("SELEC oops"));
        auto good2 = corio::create_task(conn.fetchval<int>("SELECT 2"));
        EXPECT_EQ(co_await good1, 1);
        EXPECT_THROW(co_await bad, sql::DataError);
        EXPECT_THROW(co_await bad_sql, sql::ProgrammingError);
        EXPECT_EQ(co_await good2, 2);
        co_await conn.close();
    }());
}

TEST(PgPipeline, TimeoutCancelsOnTheServerAndTheConnectionStaysUsable) {
    net_run([]() -> Task<void> {
        auto conn = co_await pg::Connection::connect(pg_options());
        auto observer = co_await pg::Connection::connect(pg_options());
        bool timed_out = false;
        try {
            co_await corio::wait_for(conn.execute("SELECT pg_sleep(60)"), 200ms);
        } catch (const corio::TimeoutError&) {
            timed_out = true;
        }
        EXPECT_TRUE(timed_out);
        // The next query waits for the cancelled one to end, then gets its
        // own result; a cancel that did not reach the server would leave it
        // sleeping for a minute.
        auto v = co_await corio::wait_for(conn.fetchval<int>("SELECT $1::int", 99), 20s);
        EXPECT_EQ(v, 99);
        EXPECT_EQ(co_await backend_state(observer, conn.backend_pid()), "idle");
        EXPECT_TRUE(conn.is_reusable());
        co_await conn.close();
        co_await observer.close();
    }());
}

TEST(PgPipeline, CancelledTaskLeavesTheConnectionInStep) {
    net_run([]() -> Task<void> {
        auto conn = co_await pg::Connection::connect(pg_options());
        auto sleeper = corio::create_task(conn.fetchval<int>("SELECT 5 FROM pg_sleep(60)"));
        co_await corio::sleep(100ms);
        sleeper.cancel();
        bool cancelled = false;
        try {
            co_await sleeper;
        } catch (const corio::CancelledError&) {
            cancelled = true;
        }
        EXPECT_TRUE(cancelled);
        EXPECT_EQ(co_await corio::wait_for(conn.fetchval<int>("SELECT 6"), 20s), 6);
        co_await conn.close();
    }());
}

TEST(PgPipeline, CancelWithOthersInFlightDrainsInsteadOfCancelling) {
    net_run([]() -> Task<void> {
        auto conn = co_await pg::Connection::connect(pg_options());
        const auto start = std::chrono::steady_clock::now();
        auto slow = corio::create_task(conn.fetchval<int>("SELECT 1 FROM pg_sleep(0.3)"));
        auto next = corio::create_task(conn.fetchval<int>("SELECT 2"));
        co_await corio::sleep(50ms);
        slow.cancel();
        // A cancel request could hit `next`: none is sent, the slow query's
        // result is read and dropped. So `next` answers only after the
        // whole sleep (a cancel request would have ended it at once).
        EXPECT_EQ(co_await next, 2);
        EXPECT_GE(std::chrono::steady_clock::now() - start, 290ms);
        EXPECT_TRUE(slow.cancelled());
        EXPECT_EQ(co_await conn.fetchval<int>("SELECT 3"), 3);
        co_await conn.close();
    }());
}

TEST(PgPipeline, CommandTimeoutOption) {
    net_run([]() -> Task<void> {
        auto o = pg_options();
        o.command_timeout = 200ms;
        auto conn = co_await pg::Connection::connect(o);
        EXPECT_THROW(co_await conn.execute("SELECT pg_sleep(60)"), corio::TimeoutError);
        EXPECT_EQ(co_await conn.fetchval<int>("SELECT 8"), 8);
        co_await conn.close();
    }());
}

TEST(PgTransaction, CommitRollbackAndDropRollback) {
    net_run([]() -> Task<void> {
        auto conn = co_await pg::Connection::connect(pg_options());
        co_await conn.execute("CREATE TEMP TABLE t (v int)");
        {
            auto tx = co_await conn.transaction();
            EXPECT_FALSE(conn.is_reusable());
            co_await conn.execute("INSERT INTO t VALUES (1)");
            co_await tx.commit();
            EXPECT_FALSE(tx.active());
        }
        {
            auto tx = co_await conn.transaction();
            co_await conn.execute("INSERT INTO t VALUES (2)");
            co_await tx.rollback();
        }
        try {
            auto tx = co_await conn.transaction();
            co_await conn.execute("INSERT INTO t VALUES (3)");
            throw std::runtime_error("leave without commit");
        } catch (const std::runtime_error&) {
        }
        auto rows = co_await conn.fetch("SELECT v FROM t ORDER BY v");
        CO_ASSERT_EQ(rows.size(), 1u);
        EXPECT_EQ(rows[0].get<int>(0), 1);
        EXPECT_TRUE(conn.is_reusable());
        co_await conn.close();
    }());
}

TEST(PgTransaction, NestedTransactionsAreSavepoints) {
    net_run([]() -> Task<void> {
        auto conn = co_await pg::Connection::connect(pg_options());
        co_await conn.execute("CREATE TEMP TABLE t (v int)");
        auto outer = co_await conn.transaction();
        co_await conn.execute("INSERT INTO t VALUES (1)");
        {
            auto inner = co_await conn.transaction();
            EXPECT_EQ(inner.depth(), 1);
            co_await conn.execute("INSERT INTO t VALUES (2)");
            EXPECT_THROW(co_await conn.execute("INSERT INTO t VALUES ('x')"), sql::DataError);
            co_await inner.rollback();  // back to before 2; the outer one goes on
        }
        {
            auto inner = co_await conn.transaction();
            co_await conn.execute("INSERT INTO t VALUES (3)");
            co_await inner.commit();
        }
        co_await outer.commit();
        auto rows = co_await conn.fetch("SELECT v FROM t ORDER BY v");
        CO_ASSERT_EQ(rows.size(), 2u);
        EXPECT_EQ(rows[0].get<int>(0), 1);
        EXPECT_EQ(rows[1].get<int>(0), 3);
        co_await conn.close();
    }());
}

TEST(PgListen, NotificationsArriveInOrder) {
    net_run([]() -> Task<void> {
        auto listener = co_await pg::Connection::connect(pg_options());
        auto sender = co_await pg::Connection::connect(pg_options());
        co_await listener.listen("news");
        co_await sender.execute("SELECT pg_notify('news', $1)", "first");
        co_await sender.execute("SELECT pg_notify('news', $1)", "second");
        auto a = co_await corio::wait_for(listener.next_notification(), 10s);
        auto b = co_await corio::wait_for(listener.next_notification(), 10s);
        EXPECT_EQ(a.channel, "news");
        EXPECT_EQ(a.payload, "first");
        EXPECT_EQ(b.payload, "second");
        EXPECT_EQ(a.pid, sender.backend_pid());
        co_await listener.unlisten("news");
        co_await listener.close();
        co_await sender.close();
    }());
}
