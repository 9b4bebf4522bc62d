// Runs the SQL examples (examples/sql/; the tour runs them when
// scripts/tour.sh could start the servers) against a MariaDB and a
// PostgreSQL server started here, and checks what they print.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <string>

#include "support/server_fixture.hpp"

namespace {

struct Outcome {
    int status;
    std::string out;
};

Outcome run(const std::string& command) {
    Outcome r{-1, {}};
    FILE* p = ::popen(command.c_str(), "r");
    if (!p) {
        return r;
    }
    char buf[4096];
    while (std::size_t n = std::fread(buf, 1, sizeof buf, p)) {
        r.out.append(buf, n);
    }
    int st = ::pclose(p);
    r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    return r;
}

std::string mysql_env(std::uint16_t port) {
    return "MYSQL_HOST=127.0.0.1 MYSQL_PORT=" + std::to_string(port) +
           " MYSQL_USER=" + corio_test::kMariaDbUser +
           " MYSQL_PASSWORD=" + corio_test::kMariaDbPassword +
           " MYSQL_DB=" + corio_test::kMariaDbDatabase + " ";
}

// One MariaDB server for the binary (a start takes seconds).
corio_test::MariaDbServer& mariadb() {
    static corio_test::MariaDbServer server;
    return server;
}

}  // namespace

TEST(SqlExamples, AiomysqlTwoConnectionsQueryAtOnce) {
    Outcome r =
        run(mysql_env(mariadb().port()) + CORIO_SQL_EXAMPLES_DIR "/aiomysql_two_connections");
    EXPECT_EQ(r.status, 0);
    EXPECT_EQ(r.out,
              "first: host=127.0.0.1 user=root\n"
              "first: host=localhost user=root\n"
              "second: host=127.0.0.2 user=student\n"
              "both queries ran at the same time: yes\n");
}

TEST(SqlExamples, AiomysqlWithAWrongPasswordSaysWhy) {
    Outcome r = run("MYSQL_PORT=" + std::to_string(mariadb().port()) +
                    " MYSQL_USER=" + corio_test::kMariaDbUser + " MYSQL_PASSWORD=wrong " +
                    CORIO_SQL_EXAMPLES_DIR "/aiomysql_two_connections 2>&1");
    EXPECT_EQ(r.status, 1);
    EXPECT_NE(r.out.find("Access denied"), std::string::npos) << r.out;
}

TEST(SqlExamples, PgItemsStoresThreeItemsThroughThePool) {
    corio_test::PostgresServer server;
    Outcome r = run(std::string("DATABASE_URL=postgresql://") + corio_test::kPostgresUser + ":" +
                    corio_test::kPostgresPassword + "@127.0.0.1:" + std::to_string(server.port()) +
                    "/postgres " + CORIO_SQL_EXAMPLES_DIR "/pg_items");
    EXPECT_EQ(r.status, 0);
    EXPECT_EQ(r.out,
              "POST /items x3 -> 200 200 200\n"
              "GET /items -> 200, 3 items: [ink 4.25] [pad 2.00] [pen 1.50]\n")
        << r.out;
}
