// tests/support/server_fixture_test.cpp - the real-server fixture itself:
// start, answer, kill, restart, clean up; PostgreSQL as the unprivileged
// user when the tests run as root.
#include "support/server_fixture.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

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

// The pids of the process group of the Erlang VM whose command line has `marker`.
std::vector<int> group_of(const std::string& marker) {
    // "[b]eam": the pattern does not match the shell that runs pgrep.
    std::string pid = run("pgrep -o -f '[b]eam.*" + marker + "'");
    if (pid.empty()) {
        return {};
    }
    std::string pgid = run("ps -o pgid= -p " + pid.substr(0, pid.find('\n')));
    pgid.erase(std::remove_if(pgid.begin(), pgid.end(), ::isspace), pgid.end());
    std::vector<int> pids;
    std::stringstream in(run("ps -e -o pid= -o pgid= | awk '$2 == " + pgid + " {print $1}'"));
    for (int p; in >> p;) {
        pids.push_back(p);
    }
    return pids;
}

// True when one of `pids` still runs (zombies are dead) 5 s from now: a
// SIGKILLed group's members die asynchronously, and the orphans are reaped by
// init, so the check waits for them, bounded.
bool any_alive(const std::vector<int>& pids) {
    auto alive = [](int p) {
        std::ifstream stat("/proc/" + std::to_string(p) + "/stat");
        std::string pid, comm, state;
        return stat >> pid >> comm >> state && state != "Z" && state != "X";
    };
    for (int i = 0; i < 100; ++i) {
        if (std::none_of(pids.begin(), pids.end(), alive)) {
            return false;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return true;
}

TEST(ServerFixture, RabbitMqAnswersAmqpAndLeavesNoEpmdOrBeamBehind) {
    std::string dir;
    std::vector<int> first, second;
    const std::string_view header("AMQP\x00\x00\x09\x01", 8);
    {
        RabbitMqServer rabbit;
        dir = rabbit.dir();
        const std::string node = "-home " + rabbit.dir();  // the VM's HOME: the node's own dir
        EXPECT_TRUE(tcp_probe(rabbit.port(), header, "\x01\x00\x00"));
        first = group_of(node);
        ASSERT_GE(first.size(), 2u) << "the node and its epmd";
        EXPECT_NE(run("ps -o cmd= -p " + std::to_string(first[0]) + " " + std::to_string(first[1]))
                      .find("epmd"),
                  std::string::npos);
        rabbit.kill();
        EXPECT_FALSE(any_alive(first)) << "a process of the killed server survived";
        rabbit.restart();
        EXPECT_TRUE(tcp_probe(rabbit.port(), header, "\x01\x00\x00"));
        second = group_of(node);
        EXPECT_FALSE(second.empty());
    }
    EXPECT_FALSE(any_alive(second)) << "a process of the stopped server survived";
    EXPECT_FALSE(std::filesystem::exists(dir));
}

}  // namespace
