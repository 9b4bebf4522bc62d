// Runs the Redis examples (examples/redis/; the tour runs them only when
// scripts/tour.sh could start a server) against a redis-server started
// here, and checks what they print; and what a user without a server sees.
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

}  // namespace

TEST(RedisExamples, HmsetHgetallPrintsTheTutorialsHashes) {
    corio_test::RedisServer server;
    Outcome r = run("REDIS_URL=redis://127.0.0.1:" + std::to_string(server.port()) + " " +
                    CORIO_REDIS_EXAMPLES_DIR "/hmset_hgetall");
    EXPECT_EQ(r.status, 0);
    EXPECT_EQ(r.out,
              "example 1: one execute()\n"
              "car: {'key1': '1', 'key2': '2'}\n"
              "example 2: two at once\n"
              "car:1: {'key1': '1', 'key2': '2'}\n"
              "car:2: {'key1': '1', 'key2': '2'}\n"
              "pool connections used: 1\n");  // the two share one, pipelining
}

TEST(RedisExamples, WithoutAServerTheExampleSaysHowToGetOne) {
    std::uint16_t port = corio_test::free_loopback_port();  // nobody listens
    Outcome r = run("REDIS_URL=redis://127.0.0.1:" + std::to_string(port) + " " +
                    CORIO_REDIS_EXAMPLES_DIR "/hmset_hgetall 2>&1");
    EXPECT_EQ(r.status, 1);
    EXPECT_NE(r.out.find("no Redis server: cannot connect to redis at 127.0.0.1:"),
              std::string::npos)
        << r.out;
    EXPECT_NE(r.out.find("set REDIS_URL"), std::string::npos) << r.out;
}

TEST(RedisExamples, WorkQueueThreadConsumerRunsOnARealServerToo) {
    // In the tour it runs in-process (memory://); the same program on Redis.
    corio_test::RedisServer server;
    Outcome r = run("CORIO_QUEUE_URL=redis://127.0.0.1:" + std::to_string(server.port()) + " " +
                    CORIO_REDIS_EXAMPLES_DIR "/work_queue_thread_consumer");
    EXPECT_EQ(r.status, 0);
    EXPECT_EQ(r.out,
              "正在执行： Fosen_0\n正在执行： Fosen_1\n正在执行： Fosen_2\n正在执行： Fosen_3\n");
    EXPECT_TRUE(corio_test::tcp_probe(server.port(), "XLEN Fosen\r\n", ":0"));  // all acked
}

TEST(RedisExamples, FastapiRedServesTwoRedRequestsSideBySide) {
    corio_test::RedisServer server;
    Outcome r = run("REDIS_URL=redis://127.0.0.1:" + std::to_string(server.port()) + " " +
                    CORIO_REDIS_EXAMPLES_DIR "/fastapi_red");
    EXPECT_EQ(r.status, 0);
    EXPECT_EQ(r.out,
              "server started\n"
              "GET / -> 200 {\"message\": \"Hello world\"}\n"
              "server: /red read {\"key1\": \"1\", \"key2\": \"2\"}\n"
              "server: /red read {\"key1\": \"1\", \"key2\": \"2\"}\n"
              "GET /red -> 200 {\"key1\": \"1\", \"key2\": \"2\"}\n"
              "GET /red -> 200 {\"key1\": \"1\", \"key2\": \"2\"}\n"
              "the two /red requests were served side by side: yes\n");
    EXPECT_TRUE(corio_test::tcp_probe(server.port(), "EXISTS car\r\n", ":0"));  // cleaned up
}

TEST(RedisExamples, FastapiRedWithoutAServerSaysHowToGetOne) {
    std::uint16_t port = corio_test::free_loopback_port();  // nobody listens
    Outcome r = run("REDIS_URL=redis://127.0.0.1:" + std::to_string(port) + " " +
                    CORIO_REDIS_EXAMPLES_DIR "/fastapi_red 2>&1");
    EXPECT_EQ(r.status, 1);
    EXPECT_NE(r.out.find("no Redis server"), std::string::npos) << r.out;
}

TEST(RedisExamples, ActorsClusterKeepsOneHomePerActorAndItsState) {
    corio_test::RedisServer server;
    Outcome r = run("REDIS_URL=redis://127.0.0.1:" + std::to_string(server.port()) + " " +
                    CORIO_REDIS_EXAMPLES_DIR "/actors_cluster");
    EXPECT_EQ(r.status, 0);
    EXPECT_EQ(r.out,
              "add(1) via a -> 1\n"
              "c1 lives on a\n"
              "add(1) via b -> 2 (forwarded to a over HTTP)\n"
              "add(1) via a -> 3\n"
              "a forwarded 0 calls, b 1\n"
              "host a stops\n"
              "add(1) via b -> 4 (activated on b, state read from Redis)\n"
              "c1 lives on b\n");
}

TEST(RedisExamples, ActorsReminderRestartFiresInTheRestartedProcess) {
    corio_test::RedisServer server;
    Outcome r = run("REDIS_URL=redis://127.0.0.1:" + std::to_string(server.port()) + " " +
                    CORIO_REDIS_EXAMPLES_DIR "/actors_reminder_restart");
    EXPECT_EQ(r.status, 0);
    EXPECT_EQ(r.out,
              "first process: kettle registered reminder 'ring' (due in 0.5 s, then every 0.5 s)\n"
              "first process: exits before it is due\n"
              "restarted process: ring 1 for Kettle/kettle (whistle)\n"
              "restarted process: ring 2 for Kettle/kettle (whistle)\n"
              "restarted process: kettle unregisters 'ring'\n");
}
