// pg::Connection's queries against a real PostgreSQL 15: execute's status,
// fetch/fetchrow/fetchval, bound parameters of every supported type read
// back through Row, NULL as optional, wrong types as InterfaceError, the
// per-connection prepared-statement cache.
#include <gtest/gtest.h>

#include "corio/corio.hpp"
#include "corio/sql/postgres.hpp"
#include "net/net_fixture.hpp"
#include "sql/pg_server.hpp"

namespace pg = corio::sql::pg;
namespace sql = corio::sql;
using corio::Task;
using corio_test::net_run;
using corio_test::pg_options;
using namespace std::chrono;

TEST(PgQuery, ExecuteReportsTagAndRowsAffected) {
    net_run([]() -> Task<void> {
        auto conn = co_await pg::Connection::connect(pg_options());
        auto created = co_await conn.execute("CREATE TEMP TABLE t (id int PRIMARY KEY, name text)");
        EXPECT_EQ(created.tag, "CREATE TABLE");
        auto ins = co_await conn.execute(
            "INSERT INTO t SELECT g, 'n' || g FROM generate_series(1, $1) g", 5);
        EXPECT_EQ(ins.tag, "INSERT 0 5");
        EXPECT_EQ(ins.rows_affected, 5u);
        auto upd = co_await conn.execute("UPDATE t SET name = $1 WHERE id > $2", "x", 3);
        EXPECT_EQ(upd.rows_affected, 2u);
        auto rows = co_await conn.fetch("SELECT id, name FROM t ORDER BY id");
        CO_ASSERT_EQ(rows.size(), 5u);
        EXPECT_EQ(rows[0].size(), 2u);
        EXPECT_EQ(rows[0].column_name(1), "name");
        EXPECT_EQ(rows[4].get<int>("id"), 5);
        EXPECT_EQ(rows[4].get<std::string>("name"), "x");
        EXPECT_EQ(rows[0][1].text(), "n1");
        EXPECT_EQ(rows[2][std::string_view("id")].as<long>(), 3);
        try {
            co_await conn.execute("INSERT INTO t VALUES ($1, $2)", 1, "dup");
            ADD_FAILURE() << "duplicate key accepted";
        } catch (const sql::IntegrityError& e) {
            EXPECT_EQ(e.sqlstate(), "23505");
            EXPECT_NE(std::string(e.what()).find("DETAIL"), std::string::npos) << e.what();
        }
        co_await conn.close();
    }());
}

TEST(PgQuery, FetchrowAndFetchval) {
    net_run([]() -> Task<void> {
        auto conn = co_await pg::Connection::connect(pg_options());
        auto none = co_await conn.fetchrow("SELECT 1 WHERE false");
        EXPECT_FALSE(none.has_value());
        auto row = co_await conn.fetchrow("SELECT $1::int AS a, $2::text AS b", 7, "seven");
        CO_ASSERT_TRUE(row.has_value());
        EXPECT_EQ(row->get<int>("a"), 7);
        EXPECT_EQ(row->get<std::string>(1), "seven");
        EXPECT_EQ(
            co_await conn.fetchval<std::int64_t>("SELECT count(*) FROM generate_series(1, 10)"),
            10);
        bool threw = false;
        try {
            co_await conn.fetchval<int>("SELECT 1 WHERE false");
        } catch (const sql::InterfaceError&) {
            threw = true;
        }
        EXPECT_TRUE(threw);
        co_await conn.close();
    }());
}

TEST(PgQuery, EveryTypeRoundTrips) {
    net_run([]() -> Task<void> {
        auto conn = co_await pg::Connection::connect(pg_options());
        sql::Bytes blob;
        for (int i = 0; i < 256; ++i) {
            blob.push_back(static_cast<std::byte>(i));
        }
        const sql::Date day = year(2024) / February / 29;
        const sql::Time t = hours(13) + minutes(5) + seconds(7) + microseconds(123456);
        const sql::DateTime dt{local_days(day).time_since_epoch() + t};
        const sql::Timestamp ts{sys_days(day).time_since_epoch() + t};
        // Named first: GCC 12 destroys some temporaries of a co_await
        // expression twice.
        const std::string text = "O'Reilly\"; DROP TABLE x; --";
        const sql::Decimal big{"12345678901234567890.0001"};
        const std::optional<int> null_int;
        const std::int16_t small = -7;
        const std::int64_t large = -9000000000000;
        auto row = co_await conn.fetchrow(
            "SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14", true, small,
            2147483647, large, 1.5f, 0.1, text, blob, big, day, t, dt, ts, null_int);
        CO_ASSERT_TRUE(row.has_value());
        EXPECT_TRUE(row->get<bool>(0));
        EXPECT_EQ(row->get<std::int16_t>(1), -7);
        EXPECT_EQ(row->get<int>(2), 2147483647);
        EXPECT_EQ(row->get<std::int64_t>(3), -9000000000000);
        EXPECT_EQ(row->get<float>(4), 1.5f);
        EXPECT_EQ(row->get<double>(5), 0.1);
        EXPECT_EQ(row->get<std::string>(6), "O'Reilly\"; DROP TABLE x; --");
        EXPECT_EQ(row->get<sql::Bytes>(7), blob);
        EXPECT_EQ(row->get<sql::Decimal>(8).text, "12345678901234567890.0001");
        EXPECT_EQ(row->get<sql::Date>(9), day);
        EXPECT_EQ(row->get<sql::Time>(10), t);
        EXPECT_EQ(row->get<sql::DateTime>(11), dt);
        EXPECT_EQ(row->get<sql::Timestamp>(12), ts);
        EXPECT_EQ(row->get<std::optional<int>>(13), std::nullopt);
        EXPECT_TRUE((*row)[13].is_null());
        EXPECT_EQ((*row)[2].type_oid(), 23u);
        co_await conn.close();
    }());
}

TEST(PgQuery, TimestamptzInAnotherZoneIsTheSameInstant) {
    net_run([]() -> Task<void> {
        auto conn = co_await pg::Connection::connect(pg_options());
        co_await conn.execute("SET TimeZone = 'Asia/Kolkata'");
        auto ts =
            co_await conn.fetchval<sql::Timestamp>("SELECT '2020-01-01 00:00:00+00'::timestamptz");
        EXPECT_EQ(ts, sql::Timestamp(sys_days(year(2020) / January / 1).time_since_epoch()));
        co_await conn.close();
    }());
}

TEST(PgQuery, NullsAndWrongTypesAreInterfaceErrors) {
    net_run([]() -> Task<void> {
        auto conn = co_await pg::Connection::connect(pg_options());
        const std::optional<int> five = 5;
        auto row =
            co_await conn.fetchrow("SELECT NULL::int, 'abc'::text, 70000::int, $1::int", five);
        CO_ASSERT_TRUE(row.has_value());
        EXPECT_EQ(row->get<std::optional<int>>(0), std::nullopt);
        EXPECT_EQ(row->get<std::optional<int>>(3), 5);
        EXPECT_THROW(row->get<int>(0), sql::InterfaceError);           // NULL, not optional
        EXPECT_THROW(row->get<int>(1), sql::InterfaceError);           // text as int
        EXPECT_THROW(row->get<std::int16_t>(2), sql::InterfaceError);  // out of range
        EXPECT_THROW(row->get<sql::Date>(2), sql::InterfaceError);
        EXPECT_THROW(row->get<int>(9), sql::InterfaceError);
        EXPECT_THROW(row->get<int>("nope"), sql::InterfaceError);
        EXPECT_EQ(row->get<std::string>(2), "70000");  // any column reads as text
        co_await conn.close();
    }());
}

TEST(PgQuery, StatementsArePreparedOncePerConnection) {
    net_run([]() -> Task<void> {
        auto conn = co_await pg::Connection::connect(pg_options());
        for (int i = 0; i < 5; ++i) {
            EXPECT_EQ(co_await conn.fetchval<int>("SELECT $1::int * 2", i), 2 * i);
        }
        EXPECT_EQ(conn.prepared_statements(), 1u);
        // Once more for the view itself, which is a statement of its own.
        auto n = co_await conn.fetchval<std::int64_t>(
            "SELECT count(*) FROM pg_prepared_statements WHERE statement = 'SELECT $1::int * 2'");
        EXPECT_EQ(n, 1);
        EXPECT_EQ(conn.prepared_statements(), 2u);
        // A statement that fails to prepare is not kept.
        EXPECT_THROW(co_await conn.execute("SELECT nope"), sql::ProgrammingError);
        EXPECT_EQ(conn.prepared_statements(), 2u);
        co_await conn.close();
    }());
}

TEST(PgQuery, CacheSizeZeroRunsUnnamedStatements) {
    net_run([]() -> Task<void> {
        auto o = pg_options();
        o.statement_cache_size = 0;
        auto conn = co_await pg::Connection::connect(o);
        EXPECT_EQ(co_await conn.fetchval<int>("SELECT $1::int + 1", 1), 2);
        EXPECT_EQ(conn.prepared_statements(), 0u);
        EXPECT_EQ(
            co_await conn.fetchval<std::int64_t>("SELECT count(*) FROM pg_prepared_statements"), 0);
        co_await conn.close();
    }());
}

TEST(PgCursor, StreamsAHugeResultRowByRow) {
    net_run([]() -> Task<void> {
        auto conn = co_await pg::Connection::connect(pg_options());
        auto rows = conn.cursor("SELECT g, repeat('x', 100) FROM generate_series(1, $1) g", 200000);
        std::int64_t count = 0;
        std::int64_t sum = 0;
        while (auto row = co_await rows.next()) {
            ++count;
            sum += row->get<int>(0);
        }
        EXPECT_EQ(count, 200000);
        EXPECT_EQ(sum, std::int64_t{200000} * 200001 / 2);
        // Queries queued behind a stream get their own results.
        EXPECT_EQ(co_await conn.fetchval<int>("SELECT 11"), 11);
        co_await conn.close();
    }());
}

TEST(PgCursor, LeavingEarlyKeepsTheConnectionInStep) {
    net_run([]() -> Task<void> {
        auto conn = co_await pg::Connection::connect(pg_options());
        {
            auto rows = conn.cursor("SELECT g FROM generate_series(1, 100000) g");
            auto first = co_await rows.next();
            CO_ASSERT_TRUE(first.has_value());
            EXPECT_EQ(first->get<int>(0), 1);
        }
        EXPECT_EQ(co_await conn.fetchval<int>("SELECT 12"), 12);
        EXPECT_TRUE(conn.is_reusable());
        co_await conn.close();
    }());
}

TEST(PgCursor, AnErrorMidStreamComesAfterTheRowsBeforeIt) {
    net_run([]() -> Task<void> {
        auto conn = co_await pg::Connection::connect(pg_options());
        auto rows = conn.cursor("SELECT 10 / (3 - g) FROM generate_series(1, 5) g");
        int seen = 0;
        bool failed = false;
        try {
            while (auto row = co_await rows.next()) {
                ++seen;
            }
        } catch (const sql::DataError&) {
            failed = true;
        }
        EXPECT_TRUE(failed);
        EXPECT_EQ(seen, 2);
        EXPECT_EQ(co_await conn.fetchval<int>("SELECT 13"), 13);
        co_await conn.close();
    }());
}

namespace {

corio::AsyncGenerator<std::string> csv_rows(int n) {
    for (int i = 1; i <= n; ++i) {
        co_yield std::to_string(i) + ",name " + std::to_string(i) + "\n";
    }
}

corio::AsyncGenerator<std::string> failing_rows() {
    co_yield std::string("1,a\n");
    throw std::runtime_error("source broke");
}

}  // namespace

TEST(PgCopy, CopyInThenCopyOutRoundTrips) {
    net_run([]() -> Task<void> {
        auto conn = co_await pg::Connection::connect(pg_options());
        co_await conn.execute("CREATE TEMP TABLE c (id int, name text)");
        // A query of another task queued before the COPY is answered first.
        auto before = corio::create_task(conn.fetchval<int>("SELECT 21"));
        auto rows = csv_rows(1000);
        auto status = co_await conn.copy_in("COPY c FROM STDIN (FORMAT csv)", rows);
        EXPECT_EQ(status.tag, "COPY 1000");
        EXPECT_EQ(status.rows_affected, 1000u);
        EXPECT_EQ(co_await before, 21);
        EXPECT_EQ(co_await conn.fetchval<std::int64_t>("SELECT sum(id) FROM c"), 500500);
        auto out = conn.copy_out("COPY (SELECT * FROM c WHERE id <= 3 ORDER BY id) TO STDOUT");
        std::string all;
        while (auto chunk = co_await out.next()) {
            all += *chunk;
        }
        EXPECT_EQ(all, "1\tname 1\n2\tname 2\n3\tname 3\n");
        // Pipelined queries work again afterwards.
        EXPECT_EQ(co_await conn.fetchval<int>("SELECT $1::int", 22), 22);
        EXPECT_TRUE(conn.is_reusable());
        co_await conn.close();
    }());
}

TEST(PgCopy, BadDataAndAFailingSourceAbortTheCopyOnly) {
    net_run([]() -> Task<void> {
        auto conn = co_await pg::Connection::connect(pg_options());
        co_await conn.execute("CREATE TEMP TABLE c (id int, name text)");
        auto bad = []() -> corio::AsyncGenerator<std::string> { co_yield std::string("x,y\n"); }();
        EXPECT_THROW(co_await conn.copy_in("COPY c FROM STDIN (FORMAT csv)", bad), sql::DataError);
        auto failing = failing_rows();
        EXPECT_THROW(co_await conn.copy_in("COPY c FROM STDIN (FORMAT csv)", failing),
                     std::runtime_error);
        auto none = csv_rows(0);
        EXPECT_THROW(co_await conn.copy_in("COPY no_such FROM STDIN", none), sql::ProgrammingError);
        EXPECT_EQ(co_await conn.fetchval<std::int64_t>("SELECT count(*) FROM c"), 0);
        EXPECT_TRUE(conn.is_reusable());
        co_await conn.close();
    }());
}
