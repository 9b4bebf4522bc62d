// pg::Connection when the server goes away: a server killed mid-query
// fails the queries in flight with OperationalError and closes the
// connection; once the server is back, new connections work.
#include <gtest/gtest.h>

#include "corio/corio.hpp"
#include "corio/sql/postgres.hpp"
#include "net/net_fixture.hpp"
#include "sql/pg_server.hpp"

namespace pg = corio::sql::pg;
namespace sql = corio::sql;
using corio::Task;
using corio_test::net_run;
using namespace std::chrono_literals;

namespace {

pg::ConnectOptions options_for(const corio_test::PostgresServer& server) {
    pg::ConnectOptions o;
    o.port = server.port();
    o.user = corio_test::kPostgresUser;
    o.password = corio_test::kPostgresPassword;
    o.database = "postgres";
    return o;
}

}  // namespace

TEST(PgFault, ServerKilledMidQueryIsOperationalErrorThenReconnects) {
    corio_test::PostgresServer server;
    net_run([](corio_test::PostgresServer& server) -> Task<void> {
        auto conn = co_await pg::Connection::connect(options_for(server));
        auto slow = corio::create_task(conn.fetchval<int>("SELECT 1 FROM pg_sleep(60)"));
        auto queued = corio::create_task(conn.fetchval<int>("SELECT 2"));
        co_await corio::sleep(100ms);
        server.kill();  // blocking, between two steps of the test
        bool failed = false;
        try {
            co_await corio::wait_for(std::move(slow), 20s);
        } catch (const sql::OperationalError& e) {
            failed = true;
            EXPECT_EQ(e.sqlstate(), "08006") << e.what();
        }
        EXPECT_TRUE(failed);
        EXPECT_THROW(co_await queued, sql::OperationalError);
        EXPECT_TRUE(conn.is_closed());
        EXPECT_FALSE(conn.is_reusable());
        EXPECT_THROW(co_await conn.execute("SELECT 1"), sql::OperationalError);
        co_await conn.close();
        // Refused while down.
        EXPECT_THROW(co_await pg::Connection::connect(options_for(server)), sql::OperationalError);
        server.start();
        auto again = co_await pg::Connection::connect(options_for(server));
        EXPECT_EQ(co_await again.fetchval<int>("SELECT 3"), 3);
        co_await again.close();
    }(server));
}

TEST(PgFault, ConnectTimeoutIsTimeoutError) {
    net_run([]() -> Task<void> {
        // A listening socket that never answers: the TCP connect succeeds
        // (the backlog takes it), the startup packet gets no reply.
        auto listener = corio::net::Socket::create(AF_INET, SOCK_STREAM);
        listener.bind(corio::net::SocketAddress::ip("127.0.0.1", 0));
        listener.listen(8);
        pg::ConnectOptions o;
        o.port = listener.local_address().port();
        o.user = "nobody";
        o.connect_timeout = 300ms;
        EXPECT_THROW(co_await pg::Connection::connect(o), corio::TimeoutError);
        listener.close();
    }());
}
