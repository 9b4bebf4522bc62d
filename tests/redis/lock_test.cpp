// Lock against a real redis-server: mutual exclusion among contending tasks
// and processes, fencing tokens, expiry while a holder stalls, acquire
// timeouts, auto-extension, with_lock.
#include "corio/redis/lock.hpp"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "corio/corio.hpp"
#include "corio/redis/commands.hpp"
#include "net/net_fixture.hpp"
#include "support/server_fixture.hpp"

namespace redis = corio::redis;
using corio::Task;
using corio_test::net_run;
using namespace std::chrono_literals;

namespace {

corio_test::RedisServer* server = nullptr;

class RedisLock : public ::testing::Test {
protected:
    static void SetUpTestSuite() { server = new corio_test::RedisServer(); }
    static void TearDownTestSuite() {
        delete server;
        server = nullptr;
    }
    static redis::ClientOptions opts() {
        redis::ClientOptions o;
        o.port = server->port();
        return o;
    }
};

struct Shared {
    int inside = 0;
    int max_inside = 0;
    std::vector<std::int64_t> fences;
};

// `rounds` times: take the lock, read-modify-write a counter with a round
// trip in between (a lost update if two were inside), release.
Task<void> contender(redis::Client c, std::string name, int rounds, Shared* shared) {
    redis::Lock lock(c, name, {.ttl = 10s, .retry_interval = 1ms});
    for (int i = 0; i < rounds; ++i) {
        EXPECT_TRUE(co_await lock.acquire());
        if (shared) {
            shared->max_inside = std::max(shared->max_inside, ++shared->inside);
            shared->fences.push_back(lock.fencing_token());
        }
        auto v = co_await c.get(name + ":counter");
        co_await c.set(name + ":counter", std::stoi(v.value_or("0")) + 1);
        if (shared) {
            --shared->inside;
        }
        EXPECT_TRUE(co_await lock.release());
    }
}

}  // namespace

TEST_F(RedisLock, ManyTasksNeverHoldItTogether) {
    net_run([]() -> Task<void> {
        std::vector<redis::Client> clients;
        for (int i = 0; i < 4; ++i) {
            clients.push_back(co_await redis::Client::connect(opts()));
        }
        co_await clients[0].del("tasks", "tasks:counter", "tasks:fence");
        Shared shared;
        std::vector<corio::TaskHandle<void>> tasks;
        for (int i = 0; i < 20; ++i) {
            tasks.push_back(corio::create_task(contender(clients[i % 4], "tasks", 5, &shared)));
        }
        for (auto& t : tasks) {
            co_await t;
        }
        EXPECT_EQ(shared.max_inside, 1);
        EXPECT_EQ(co_await clients[0].get("tasks:counter"), "100");
        // Fencing tokens: one per acquisition, strictly increasing.
        CO_ASSERT_EQ(shared.fences.size(), 100u);
        for (std::size_t i = 1; i < shared.fences.size(); ++i) {
            EXPECT_LT(shared.fences[i - 1], shared.fences[i]);
        }
    }());
}

TEST_F(RedisLock, ManyProcessesNeverHoldItTogether) {
    net_run([]() -> Task<void> {
        auto c = co_await redis::Client::connect(opts());
        co_await c.del("procs", "procs:counter", "procs:fence");
    }());
    constexpr int kProcs = 4, kRounds = 25;
    std::vector<pid_t> children;
    for (int p = 0; p < kProcs; ++p) {
        pid_t pid = ::fork();
        if (pid == 0) {
            int failures = 0;
            try {
                corio::run([](redis::ClientOptions o) -> Task<void> {
                    auto c = co_await redis::Client::connect(o);
                    co_await contender(c, "procs", kRounds, nullptr);
                }(opts()));
            } catch (...) {
                failures = 1;
            }
            ::_exit(failures + (::testing::Test::HasFailure() ? 2 : 0));
        }
        ASSERT_GT(pid, 0);
        children.push_back(pid);
    }
    for (pid_t pid : children) {
        int status = 0;
        ::waitpid(pid, &status, 0);
        EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
    }
    net_run([]() -> Task<void> {
        auto c = co_await redis::Client::connect(opts());
        EXPECT_EQ(co_await c.get("procs:counter"), std::to_string(kProcs * kRounds));
        EXPECT_EQ(co_await c.get("procs:fence"), std::to_string(kProcs * kRounds));
    }());
}

TEST_F(RedisLock, ExpiresWhileItsHolderStallsAndTheLateReleaseLeavesTheNewHolderAlone) {
    net_run([]() -> Task<void> {
        auto c = co_await redis::Client::connect(opts());
        redis::Lock a(c, "stall", {.ttl = 100ms});
        redis::Lock b(c, "stall", {.acquire_timeout = 5s, .retry_interval = 5ms});
        EXPECT_TRUE(co_await a.acquire());
        auto start = corio::get_running_loop().time();
        EXPECT_TRUE(co_await b.acquire());  // a stalls: its key expires
        EXPECT_GE(corio_test::ms_since(start), 50);
        EXPECT_GT(b.fencing_token(), a.fencing_token());
        EXPECT_FALSE(co_await a.owned());
        EXPECT_FALSE(co_await a.release());  // too late: not a's any more
        EXPECT_TRUE(co_await b.owned());
        EXPECT_TRUE(co_await b.locked());
        EXPECT_TRUE(co_await b.release());
        EXPECT_FALSE(co_await b.locked());
    }());
}

TEST_F(RedisLock, AcquireGivesUpAfterItsTimeout) {
    net_run([]() -> Task<void> {
        auto c = co_await redis::Client::connect(opts());
        redis::Lock a(c, "busy");
        redis::Lock b(c, "busy", {.acquire_timeout = 60ms, .retry_interval = 10ms});
        redis::Lock once(c, "busy", {.acquire_timeout = 0ms});
        EXPECT_TRUE(co_await a.acquire());
        auto start = corio::get_running_loop().time();
        EXPECT_FALSE(co_await b.acquire());
        EXPECT_GE(corio_test::ms_since(start), 40);
        EXPECT_FALSE(co_await once.acquire());
        EXPECT_FALSE(b.held());
        EXPECT_THROW(co_await b.release(), corio::RuntimeError);
        EXPECT_THROW(co_await a.acquire(), corio::RuntimeError);  // already held
        EXPECT_TRUE(co_await a.release());
    }());
}

TEST_F(RedisLock, AutoExtensionKeepsItPastItsTtl) {
    net_run([]() -> Task<void> {
        auto c = co_await redis::Client::connect(opts());
        redis::Lock a(c, "extended", {.ttl = 150ms, .auto_extend = true});
        redis::Lock b(c, "extended", {.acquire_timeout = 500ms, .retry_interval = 10ms});
        EXPECT_TRUE(co_await a.acquire());
        EXPECT_FALSE(co_await b.acquire());  // 500 ms > 150 ms: only extension explains it
        EXPECT_TRUE(co_await a.owned());
        EXPECT_TRUE(co_await a.release());
        EXPECT_TRUE(co_await b.acquire());
        EXPECT_TRUE(co_await b.release());
    }());
}

TEST_F(RedisLock, WithLockReleasesAfterTheBodyAndAfterItThrows) {
    net_run([]() -> Task<void> {
        auto c = co_await redis::Client::connect(opts());
        redis::Lock lock(c, "scoped");
        int v = co_await redis::with_lock(lock, [&]() -> Task<int> {
            EXPECT_TRUE(co_await lock.owned());
            co_return 42;
        });
        EXPECT_EQ(v, 42);
        EXPECT_FALSE(co_await lock.locked());
        bool thrown = false;
        try {
            co_await redis::with_lock(lock, []() -> Task<void> {
                throw std::runtime_error("boom");
                co_return;
            });
        } catch (const std::runtime_error& e) {
            thrown = std::string(e.what()) == "boom";
        }
        EXPECT_TRUE(thrown);
        EXPECT_FALSE(co_await lock.locked());
    }());
}
