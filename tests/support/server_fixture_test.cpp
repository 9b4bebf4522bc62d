// tests/support/server_fixture_test.cpp - the real-server fixture itself:
// start, answer, kill, restart, clean up; PostgreSQL as the unprivileged
// user when the tests run as root.
#include "support/server_fixture.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <string>

namespace {

using namespace corio_test;

// Runs a shell command and returns its standard output.
std::string run(const std::string& cmd) {
    std::string out;
    if (FILE* p = ::popen(cmd.c_str(), "r")) {
        char buf[256];
        while (std::size_t n = std::fread(buf, 1, sizeof buf, p)) {
            out.append(buf, n);
        }
        ::pclose(p);
    }
    return out;
}

std::string psql(std::uint16_t port, const std::string& password, const std::string& sql) {
    return run("PGPASSWORD=" + password + " PGCONNECT_TIMEOUT=5 psql -X -A -t -h 127.0.0.1 -p " +
               std::to_string(port) + " -U " + kPostgresUser + " -d postgres -c '" + sql +
               "' 2>&1");
}

TEST(ServerFixture, RedisStartsKillsRestartsAndCleansUp) {
    std::string dir;
    {
        RedisServer redis;
        dir = redis.dir();
        EXPECT_TRUE(tcp_probe(redis.port(), "PING\r\n", "+PONG"));
        redis.kill();
        EXPECT_FALSE(redis.running());
        EXPECT_FALSE(tcp_probe(redis.port(), "PING\r\n", "+PONG"));
        redis.restart();
        EXPECT_TRUE(tcp_probe(redis.port(), "PING\r\n", "+PONG"));
    }
    EXPECT_FALSE(std::filesystem::exists(dir));
}

TEST(ServerFixture, PostgresAnswersWithItsPasswordOnlyAndSurvivesRestart) {
    std::string dir;
    {
        PostgresServer pg;
        dir = pg.dir();
        EXPECT_EQ(psql(pg.port(), kPostgresPassword, "SELECT 40 + 2"), "42\n");
        EXPECT_NE(psql(pg.port(), "wrong", "SELECT 1").find("password authentication failed"),
                  std::string::npos);
        psql(pg.port(), kPostgresPassword,
             "CREATE TABLE kept (v int); INSERT INTO kept VALUES (7)");
        pg.restart();
        EXPECT_EQ(psql(pg.port(), kPostgresPassword, "SELECT v FROM kept"), "7\n");
    }
    EXPECT_FALSE(std::filesystem::exists(dir));
}

std::string mariadb(std::uint16_t port, const std::string& password, const std::string& sql) {
    return run("mariadb --no-defaults --connect-timeout=5 -N -B -h 127.0.0.1 -P " +
               std::to_string(port) + " -u " + kMariaDbUser + " -p" + password + " " +
               kMariaDbDatabase + " -e '" + sql + "' 2>&1");
}

TEST(ServerFixture, MariaDbAnswersWithItsPasswordOnlyAndSurvivesRestart) {
    std::string dir;
    {
        MariaDbServer db;
        dir = db.dir();
        EXPECT_EQ(mariadb(db.port(), kMariaDbPassword, "SELECT 40 + 2"), "42\n");
        EXPECT_NE(mariadb(db.port(), "wrong", "SELECT 1").find("Access denied"), std::string::npos);
        mariadb(db.port(), kMariaDbPassword,
                "CREATE TABLE kept (v int); INSERT INTO kept VALUES (7)");
        db.restart();
        EXPECT_EQ(mariadb(db.port(), kMariaDbPassword, "SELECT v FROM kept"), "7\n");
    }
    EXPECT_FALSE(std::filesystem::exists(dir));
}

}  // namespace
