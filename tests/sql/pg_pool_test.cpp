// pg::Pool (sql::Pool of pg::Connection) against a real PostgreSQL 15:
// shortcuts across tasks, an exhausted pool waited on with a timeout, a
// connection left mid-query by a cancelled task never lent again (the next
// user gets ITS result), bad SQL, and a server killed and restarted.
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

TEST(PgPool, ShortcutsAcrossTasksStayWithinMaxsize) {
    net_run([]() -> Task<void> {
        pg::Pool pool(pg_options(), {.minsize = 1, .maxsize = 3});
        co_await pool.open();
        EXPECT_EQ(pool.size(), 1u);
        std::vector<corio::TaskHandle<int>> tasks;
        for (int i = 0; i < 20; ++i) {
            tasks.push_back(corio::create_task(pool.fetchval<int>("SELECT $1::int * 3", i)));
        }
        for (int i = 0; i < 20; ++i) {
            EXPECT_EQ(co_await tasks[i], 3 * i);
        }
        EXPECT_LE(pool.size(), 3u);
        auto rows = co_await pool.fetch("SELECT g FROM generate_series(1, 4) g");
        EXPECT_EQ(rows.size(), 4u);
        auto status = co_await pool.execute("SELECT 1");
        EXPECT_EQ(status.tag, "SELECT 1");
        co_await pool.close();
    }());
}

TEST(PgPool, ExhaustedPoolTimesOut) {
    net_run([]() -> Task<void> {
        // acquire_timeout bounds connecting too: the connection is made
        // first, so only the wait is timed.
        pg::Pool pool(pg_options(), {.minsize = 1, .maxsize = 1, .acquire_timeout = 200ms});
        co_await pool.open();
        {
            auto held = co_await pool.acquire();
            EXPECT_THROW(co_await pool.acquire(), corio::TimeoutError);
            EXPECT_EQ(co_await held->fetchval<int>("SELECT 1"), 1);
        }
        auto again = co_await pool.acquire();  // given back: available again
        EXPECT_EQ(co_await again->fetchval<int>("SELECT 2"), 2);
        again.release();
        co_await pool.close();
    }());
}

TEST(PgPool, ConnectionLeftMidQueryIsNotLentAgain) {
    net_run([]() -> Task<void> {
        pg::Pool pool(pg_options(), {.minsize = 1, .maxsize = 1});
        co_await pool.open();
        int first_pid = 0;
        auto victim = corio::create_task([](pg::Pool& p, int& pid) -> Task<int> {
            auto conn = co_await p.acquire();
            pid = conn->backend_pid();
            co_return co_await conn->fetchval<int>("SELECT 1 FROM pg_sleep(60)");
        }(pool, first_pid));
        co_await corio::sleep(100ms);
        victim.cancel();
        EXPECT_THROW(co_await victim, corio::CancelledError);
        auto conn = co_await corio::wait_for(pool.acquire(), 10s);
        EXPECT_EQ(co_await conn->fetchval<int>("SELECT $1::int", 77), 77);
        EXPECT_NE(conn->backend_pid(), first_pid);
        conn.release();
        co_await pool.close();
    }());
}

TEST(PgPool, BadSqlKeepsTheConnection) {
    net_run([]() -> Task<void> {
        pg::Pool pool(pg_options(), {.minsize = 1, .maxsize = 2});
        co_await pool.open();
        EXPECT_THROW(co_await pool.execute("SELEC 1"), sql::ProgrammingError);
        EXPECT_EQ(pool.idle(), 1u);
        EXPECT_EQ(co_await pool.fetchval<int>("SELECT 5"), 5);
        EXPECT_EQ(pool.size(), 1u);
        co_await pool.close();
    }());
}

TEST(PgPool, RecoversAfterTheServerIsKilledAndRestarted) {
    corio_test::PostgresServer server;
    net_run([](corio_test::PostgresServer& server) -> Task<void> {
        auto o = pg_options();
        o.port = server.port();
        pg::Pool pool(o, {.minsize = 2, .maxsize = 2});
        co_await pool.open();
        auto slow = corio::create_task(pool.fetchval<int>("SELECT 1 FROM pg_sleep(60)"));
        co_await corio::sleep(100ms);
        server.kill();
        EXPECT_THROW(co_await corio::wait_for(std::move(slow), 20s), sql::OperationalError);
        server.start();  // blocks the loop thread meanwhile
        // A connection that was idle when the server died is found dead when
        // its socket is read (the backend's FATAL, then EOF), which may
        // happen only when a query is sent on it: then that one query fails
        // and the connection is not given back. At most one failure per
        // connection of the pool, then the pool serves again.
        int failures = 0;
        std::optional<int> got;
        while (!got && failures <= 2) {
            try {
                got = co_await pool.fetchval<int>("SELECT 9");
            } catch (const sql::OperationalError&) {
                ++failures;
            }
        }
        EXPECT_EQ(got, 9);
        EXPECT_LE(failures, 1);  // the broken one was never given back
        EXPECT_EQ(co_await pool.fetchval<int>("SELECT 10"), 10);
        co_await pool.close();
    }(server));
}
