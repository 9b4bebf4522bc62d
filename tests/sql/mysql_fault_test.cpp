// The MariaDB driver's faults against a real mariadbd: a statement
// cancelled mid-flight (the connection is broken off, the server's query
// killed, the pool's next user served correctly), per-query timeouts,
// unbuffered results streamed without holding them, the pool's limits and
// acquire timeout, and the server killed mid-query then restarted.
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "corio/corio.hpp"
#include "corio/sql/mysql.hpp"
#include "net/net_fixture.hpp"
#include "support/server_fixture.hpp"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define CORIO_TEST_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define CORIO_TEST_SANITIZED 1
#endif
#endif
#ifndef CORIO_TEST_SANITIZED
#define CORIO_TEST_SANITIZED 0
#endif

namespace mysql = corio::sql::mysql;
namespace sql = corio::sql;
using corio::Task;
using corio_test::net_run;
using namespace std::chrono_literals;

namespace {

corio_test::MariaDbServer* server = nullptr;

class MySqlFault : public ::testing::Test {
protected:
    static void SetUpTestSuite() { server = new corio_test::MariaDbServer(); }
    static void TearDownTestSuite() {
        delete server;
        server = nullptr;
    }
    static mysql::ConnectOptions opts() {
        mysql::ConnectOptions o;
        o.port = server->port();
        o.user = corio_test::kMariaDbUser;
        o.password = corio_test::kMariaDbPassword;
        o.db = corio_test::kMariaDbDatabase;
        return o;
    }
};

// How many statements run SLEEP() on the server now (another connection).
Task<long> sleepers(mysql::Connection& side) {
    auto r = co_await side.execute(
        "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE INFO LIKE 'SELECT SLEEP(%' "
        "AND COMMAND = 'Query'");
    co_return r.rows.at(0).get<long>(0);
}

// Waits (polling the server) until a statement sleeps there.
Task<void> until_sleeping(mysql::Connection& side) {
    for (int i = 0; i < 500; ++i) {
        long n = co_await sleepers(side);
        if (n > 0) {
            break;
        }
        co_await corio::sleep(5ms);
    }
}

long max_rss_kb() {
    rusage u{};
    ::getrusage(RUSAGE_SELF, &u);
    return u.ru_maxrss;
}

}  // namespace

TEST_F(MySqlFault, ACancelledQueryBreaksTheConnectionOffAndKillsTheStatement) {
    net_run([]() -> Task<void> {
        auto side = co_await mysql::Connection::connect(opts());
        auto c = co_await mysql::Connection::connect(opts());
        auto start = std::chrono::steady_clock::now();
        auto t = corio::create_task(c.execute("SELECT SLEEP(20)"));
        co_await until_sleeping(side);
        CO_ASSERT_EQ(co_await sleepers(side), 1);
        t.cancel();
        bool cancelled = false;
        try {
            co_await t;
        } catch (const corio::CancelledError&) {
            cancelled = true;
        }
        EXPECT_TRUE(cancelled);
        EXPECT_FALSE(c.is_open());
        EXPECT_FALSE(c.is_reusable());
        bool refused = false;
        try {
            co_await c.execute("SELECT 1");
        } catch (const sql::InterfaceError&) {
            refused = true;
        }
        EXPECT_TRUE(refused);
        // KILL QUERY was sent before the cancellation finished.
        EXPECT_EQ(co_await sleepers(side), 0);
        EXPECT_LT(std::chrono::steady_clock::now() - start, 10s);
        co_await c.close();
        co_await side.close();
    }());
}

TEST_F(MySqlFault, QueryTimeoutIsTimeoutErrorAndWaitForWorksToo) {
    net_run([]() -> Task<void> {
        auto o = opts();
        o.query_timeout = 100ms;
        auto c = co_await mysql::Connection::connect(o);
        auto r = co_await c.execute("SELECT 1");  // quick ones pass
        EXPECT_EQ(r.rows.at(0).get<int>(0), 1);
        auto start = std::chrono::steady_clock::now();
        bool timed_out = false;
        try {
            co_await c.execute("SELECT SLEEP(20)");
        } catch (const corio::TimeoutError&) {
            timed_out = true;
        }
        EXPECT_TRUE(timed_out);
        EXPECT_LT(std::chrono::steady_clock::now() - start, 10s);
        EXPECT_FALSE(c.is_reusable());

        auto d = co_await mysql::Connection::connect(opts());
        auto cur = d.cursor();
        timed_out = false;
        try {
            co_await corio::wait_for(cur.execute("SELECT SLEEP(?)", 20), 100ms);
        } catch (const corio::TimeoutError&) {
            timed_out = true;
        }
        EXPECT_TRUE(timed_out);
        EXPECT_FALSE(d.is_reusable());
        co_await c.close();
        co_await d.close();
    }());
}

TEST_F(MySqlFault, TheNextPoolUserOfACancelledQueryGetsCorrectResults) {
    net_run([]() -> Task<void> {
        mysql::Pool pool(opts(), {.minsize = 1, .maxsize = 1});
        co_await pool.open();
        auto side = co_await mysql::Connection::connect(opts());
        unsigned long first_id = 0;
        auto victim = corio::create_task([](mysql::Pool& pool, unsigned long& id) -> Task<void> {
            auto conn = co_await pool.acquire();
            id = conn->thread_id();
            auto cur = conn->cursor();
            co_await cur.execute("SELECT SLEEP(20), 'stale'");
        }(pool, first_id));
        co_await until_sleeping(side);
        victim.cancel();
        try {
            co_await victim;
        } catch (const corio::CancelledError&) {
        }
        EXPECT_EQ(pool.size(), 0u);  // dropped, not given back
        for (int i = 0; i < 5; ++i) {
            auto conn = co_await pool.acquire();
            EXPECT_NE(conn->thread_id(), first_id);
            auto r = co_await conn->execute("SELECT ? * 2", i);
            CO_ASSERT_EQ(r.rows.size(), 1u);
            EXPECT_EQ(r.rows[0].size(), 1u);
            EXPECT_EQ(r.rows[0].get<int>(0), i * 2);
        }
        EXPECT_EQ(pool.size(), 1u);
        co_await side.close();
        co_await pool.close();
    }());
}

TEST_F(MySqlFault, UnbufferedCursorStreamsAHugeResult) {
    net_run([]() -> Task<void> {
        auto c = co_await mysql::Connection::connect(opts());
        auto cur = c.cursor(mysql::CursorKind::unbuffered);
        constexpr long kRows = 400000;
        long rss_before = max_rss_kb();
        // ~100 bytes a row: 40 MB on the wire, far more as buffered rows.
        co_await cur.execute("SELECT seq, REPEAT('x', 100) FROM seq_1_to_" + std::to_string(kRows));
        EXPECT_EQ(cur.description().size(), 2u);
        EXPECT_FALSE(c.is_reusable());  // busy until read or closed
        long count = 0;
        long long sum = 0;
        while (true) {
            auto rows = co_await cur.fetchmany(1000);
            if (rows.empty()) {
                break;
            }
            for (const auto& r : rows) {
                sum += r.get<long long>(0);
                ++count;
            }
        }
        EXPECT_EQ(count, kRows);
        EXPECT_EQ(sum, kRows * (kRows + 1) / 2);
        EXPECT_EQ(cur.rowcount(), static_cast<std::uint64_t>(kRows));
#if !CORIO_TEST_SANITIZED
        // (Sanitizers keep freed memory in quarantine: no such bound there.)
        EXPECT_LT(max_rss_kb() - rss_before, 20 * 1024) << "rows were held in memory";
#else
        (void)rss_before;
#endif
        EXPECT_TRUE(c.is_reusable());

        // close() drains what is left; the connection then serves again.
        co_await cur.execute("SELECT seq FROM seq_1_to_100000");
        auto one = co_await cur.fetchone();
        CO_ASSERT_TRUE(one.has_value());
        EXPECT_EQ(one->get<int>(0), 1);
        bool busy = false;
        try {
            co_await c.execute("SELECT 1");
        } catch (const sql::InterfaceError&) {
            busy = true;
        }
        EXPECT_TRUE(busy);
        co_await cur.close();
        EXPECT_TRUE(c.is_reusable());
        EXPECT_EQ((co_await c.execute("SELECT 2")).rows.at(0).get<int>(0), 2);

        // A cursor dropped with rows unread cannot drain: the connection
        // is broken off, never reused.
        {
            auto dropped = c.cursor(mysql::CursorKind::unbuffered);
            co_await dropped.execute("SELECT seq FROM seq_1_to_100000");
            (void)co_await dropped.fetchone();
        }
        EXPECT_FALSE(c.is_reusable());
        co_await c.close();
    }());
}

TEST_F(MySqlFault, PoolLimitsAcquireTimeoutAndRecycle) {
    net_run([]() -> Task<void> {
        mysql::Pool pool(opts(), {.minsize = 2, .maxsize = 3, .acquire_timeout = 100ms});
        co_await pool.open();
        EXPECT_EQ(pool.size(), 2u);
        // Fifty tasks through three connections, each answer its own.
        std::vector<corio::TaskHandle<int>> tasks;
        for (int i = 0; i < 50; ++i) {
            tasks.push_back(corio::create_task([](mysql::Pool& pool, int i) -> Task<int> {
                auto conn = co_await pool.acquire();
                auto r = co_await conn->execute("SELECT ? + 1", i);
                co_return r.rows.at(0).get<int>(0);
            }(pool, i)));
        }
        for (int i = 0; i < 50; ++i) {
            EXPECT_EQ(co_await tasks[i], i + 1);
        }
        EXPECT_LE(pool.size(), 3u);
        {
            auto a = co_await pool.acquire();
            auto b = co_await pool.acquire();
            auto c = co_await pool.acquire();
            bool timed_out = false;
            try {
                auto d = co_await pool.acquire();
            } catch (const corio::TimeoutError&) {
                timed_out = true;
            }
            EXPECT_TRUE(timed_out);
            // One left inside a transaction is not given back.
            co_await a->begin();
        }
        EXPECT_EQ(pool.size(), 2u);
        co_await pool.close();
    }());
}

TEST_F(MySqlFault, CloseWhileAnotherTaskQueriesOrStreamsEndsThoseCleanly) {
    net_run([]() -> Task<void> {
        auto side = co_await mysql::Connection::connect(opts());
        auto c = co_await mysql::Connection::connect(opts());
        auto t = corio::create_task(c.execute("SELECT SLEEP(20)"));
        co_await until_sleeping(side);
        co_await c.close();  // ends the link under the query
        bool lost = false;
        try {
            co_await t;
        } catch (const sql::OperationalError&) {
            lost = true;
        }
        EXPECT_TRUE(lost);
        EXPECT_FALSE(c.is_open());
        // A streaming cursor whose connection is closed under it.
        auto d = co_await mysql::Connection::connect(opts());
        auto cur = d.cursor(mysql::CursorKind::unbuffered);
        co_await cur.execute("SELECT seq FROM seq_1_to_100000");
        (void)co_await cur.fetchone();
        co_await d.close();
        bool refused = false;
        try {
            (void)co_await cur.fetchone();
        } catch (const sql::InterfaceError&) {
            refused = true;
        }
        EXPECT_TRUE(refused);
        co_await side.close();
    }());
}

// Last: it restarts the server.
TEST_F(MySqlFault, ServerKilledMidQueryIsOperationalErrorAndThePoolRecovers) {
    net_run([]() -> Task<void> {
        auto o = opts();
        o.kill_on_cancel = false;
        mysql::Pool pool(o, {.minsize = 2, .maxsize = 2});
        co_await pool.open();
        auto side = co_await mysql::Connection::connect(opts());
        auto t = corio::create_task([](mysql::Pool& pool) -> Task<void> {
            auto conn = co_await pool.acquire();
            co_await conn->execute("SELECT SLEEP(20)");
        }(pool));
        co_await until_sleeping(side);
        co_await side.close();
        server->kill();
        bool lost = false;
        try {
            co_await t;
        } catch (const sql::OperationalError& e) {
            lost = e.code() == 2013 || e.code() == 2006;
            EXPECT_TRUE(lost) << e.what();
        }
        EXPECT_TRUE(lost);
        EXPECT_EQ(pool.size(), 1u);  // the broken one is gone
        server->start();
        // The idle connection is dead too: its first query fails, and it is
        // then dropped; after that the pool serves from fresh connections.
        int failures = 0;
        for (int i = 0; i < 4; ++i) {
            try {
                auto conn = co_await pool.acquire();
                auto r = co_await conn->execute("SELECT ?", i);
                EXPECT_EQ(r.rows.at(0).get<int>(0), i);
            } catch (const sql::OperationalError&) {
                ++failures;
            }
        }
        EXPECT_LE(failures, 1);
        auto conn = co_await pool.acquire();
        EXPECT_EQ((co_await conn->execute("SELECT 5")).rows.at(0).get<int>(0), 5);
        conn.release();
        co_await pool.close();
    }());
}
