// pg::Connection against a real PostgreSQL 15: connecting (options, URL, a
// host name resolved by corio), typed errors from the server's SQLSTATE
// (wrong password, unknown database, a refused port, bad SQL), close().
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

TEST(PgConnect, ConnectsQueriesAndCloses) {
    net_run([]() -> Task<void> {
        auto conn = co_await pg::Connection::connect(pg_options());
        EXPECT_FALSE(conn.is_closed());
        EXPECT_TRUE(conn.is_reusable());
        EXPECT_GT(conn.backend_pid(), 0);
        int pid = co_await conn.fetchval<int>("SELECT pg_backend_pid()");
        EXPECT_EQ(pid, conn.backend_pid());
        co_await conn.close();
        EXPECT_TRUE(conn.is_closed());
        EXPECT_FALSE(conn.is_reusable());
        co_await conn.close();  // a second close does nothing
    }());
}

TEST(PgConnect, ByUrlAndByHostName) {
    net_run([]() -> Task<void> {
        auto o = pg_options();
        std::string url = "postgresql://" + o.user + ":" + o.password +
                          "@localhost:" + std::to_string(o.port) +
                          "/postgres?application_name=corio-url";
        auto conn = co_await pg::Connection::connect(url);
        auto name =
            co_await conn.fetchval<std::string>("SELECT current_setting('application_name')");
        EXPECT_EQ(name, "corio-url");
        co_await conn.close();
    }());
}

TEST(PgConnect, WrongPasswordIsOperationalError28P01) {
    net_run([]() -> Task<void> {
        auto o = pg_options();
        o.password = "not-the-password";
        try {
            co_await pg::Connection::connect(o);
            ADD_FAILURE() << "connected with a wrong password";
        } catch (const sql::OperationalError& e) {
            EXPECT_EQ(e.sqlstate(), "28P01") << e.what();
            EXPECT_NE(std::string(e.what()).find("password authentication failed"),
                      std::string::npos)
                << e.what();
        }
    }());
}

TEST(PgConnect, UnknownDatabaseCarriesItsSqlstate) {
    net_run([]() -> Task<void> {
        auto o = pg_options();
        o.database = "no_such_db";
        try {
            co_await pg::Connection::connect(o);
            ADD_FAILURE() << "connected to a missing database";
        } catch (const sql::OperationalError& e) {
            EXPECT_EQ(e.sqlstate(), "3D000") << e.what();
        }
    }());
}

TEST(PgConnect, RefusedPortIsOperationalError) {
    net_run([]() -> Task<void> {
        corio::net::Socket holder;
        auto o = pg_options();
        o.port = corio_test::refused_port(holder);
        try {
            co_await pg::Connection::connect(o);
            ADD_FAILURE() << "connected to a closed port";
        } catch (const sql::OperationalError& e) {
            EXPECT_EQ(e.sqlstate(), "08001") << e.what();
        }
        holder.close();
    }());
}

TEST(PgConnect, NonPostgresUrlIsInvalidArgument) {
    EXPECT_THROW(pg::ConnectOptions::from_url("mysql://u@h/db"), std::invalid_argument);
    auto o = pg::ConnectOptions::from_url(
        "postgres://ann:s%40cret@db.example:6543/shop?sslmode=verify-full&sslrootcert=/ca.pem"
        "&connect_timeout=7");
    EXPECT_EQ(o.user, "ann");
    EXPECT_EQ(o.password, "s@cret");
    EXPECT_EQ(o.host, "db.example");
    EXPECT_EQ(o.port, 6543);
    EXPECT_EQ(o.database, "shop");
    EXPECT_EQ(o.sslmode, "verify-full");
    EXPECT_EQ(o.sslrootcert, "/ca.pem");
    EXPECT_EQ(o.connect_timeout, std::chrono::seconds(7));
    // Fractions of seconds, as the MySQL driver's URLs take them.
    EXPECT_EQ(pg::ConnectOptions::from_url("postgresql://h/db?command_timeout=1.5").command_timeout,
              std::chrono::milliseconds(1500));
}

TEST(PgConnect, BadUrlOptionsAreInvalidArgument) {
    // An option the driver does not know is refused, not silently ignored.
    EXPECT_THROW(pg::ConnectOptions::from_url("postgresql://h/db?sslmod=require"),
                 std::invalid_argument);
    EXPECT_THROW(pg::ConnectOptions::from_url("postgresql://h/db?connect_timeout=five"),
                 std::invalid_argument);
    EXPECT_THROW(pg::ConnectOptions::from_url("postgresql://h/db?command_timeout=-1"),
                 std::invalid_argument);
}

TEST(PgConnect, BadSqlFailsOnlyThatQuery) {
    net_run([]() -> Task<void> {
        auto conn = co_await pg::Connection::connect(pg_options());
        try {
            co_await conn.execute("SELEC 1");
            ADD_FAILURE() << "bad SQL accepted";
        } catch (const sql::ProgrammingError& e) {
            EXPECT_EQ(e.sqlstate(), "42601") << e.what();
        }
        try {
            co_await conn.fetch("SELECT * FROM no_such_table");
            ADD_FAILURE() << "missing table accepted";
        } catch (const sql::ProgrammingError& e) {
            EXPECT_EQ(e.sqlstate(), "42P01") << e.what();
        }
        try {
            co_await conn.fetchval<int>("SELECT 1 / $1", 0);
            ADD_FAILURE() << "division by zero accepted";
        } catch (const sql::DataError& e) {
            EXPECT_EQ(e.sqlstate(), "22012") << e.what();
        }
        EXPECT_EQ(co_await conn.fetchval<int>("SELECT 41 + 1"), 42);
        EXPECT_TRUE(conn.is_reusable());
        co_await conn.close();
    }());
}

TEST(PgConnect, QueriesAfterCloseAreInterfaceErrors) {
    net_run([]() -> Task<void> {
        auto conn = co_await pg::Connection::connect(pg_options());
        co_await conn.close();
        bool threw = false;
        try {
            co_await conn.execute("SELECT 1");
        } catch (const sql::InterfaceError&) {
            threw = true;
        }
        EXPECT_TRUE(threw);
    }());
}
