// Pool (limits, leases, multiplexing), explicit pipelines and MULTI/EXEC
// with WATCH, against a real redis-server.
#include "corio/redis/pool.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "corio/corio.hpp"
#include "net/net_fixture.hpp"
#include "support/server_fixture.hpp"

namespace redis = corio::redis;
using corio::Task;
using corio_test::net_run;

namespace {

corio_test::RedisServer* server = nullptr;

class RedisPool : public ::testing::Test {
protected:
    static void SetUpTestSuite() { server = new corio_test::RedisServer(); }
    static void TearDownTestSuite() {
        delete server;
        server = nullptr;
    }
    static redis::PoolOptions opts(std::size_t max) {
        redis::PoolOptions o;
        o.client.port = server->port();
        o.max_connections = max;
        return o;
    }
};

}  // namespace

TEST_F(RedisPool, TheTutorialsHmsetDictAndHgetallTwiceAtOnce) {
    net_run([]() -> Task<void> {
        redis::Pool pool(opts(2));
        auto one = [&](std::string key) -> Task<std::map<std::string, std::string>> {
            std::map<std::string, int> fields{{"a", 1}, {"b", 2}};
            co_await pool.hset(key, fields);
            co_return co_await pool.hgetall(key);
        };
        auto [x, y] = co_await corio::gather(one("pool:h1"), one("pool:h2"));
        std::map<std::string, std::string> want{{"a", "1"}, {"b", "2"}};
        EXPECT_EQ(x, want);
        EXPECT_EQ(y, want);
        EXPECT_LE(pool.size(), 2u);
    }());
}

TEST_F(RedisPool, LeasesAreExclusiveAndTheLimitMakesAcquireWait) {
    net_run([]() -> Task<void> {
        redis::Pool pool(opts(2));
        auto a = co_await pool.acquire();
        auto b = co_await pool.acquire();
        EXPECT_EQ(pool.size(), 2u);
        EXPECT_EQ(pool.in_use(), 2u);
        co_await a->execute("CLIENT", "SETNAME", "lease-a");
        co_await b->execute("CLIENT", "SETNAME", "lease-b");

        bool third_got_it = false;
        auto third = corio::create_task([](redis::Pool& pool, bool& got_it) -> Task<std::string> {
            auto c = co_await pool.acquire();
            got_it = true;
            co_return (co_await c->execute("CLIENT", "GETNAME")).to_string();
        }(pool, third_got_it));
        // A pooled command waits too: every connection is lent.
        auto shared = corio::create_task(pool.execute("PING"));
        co_await corio::sleep(std::chrono::milliseconds(0));
        co_await corio::sleep(std::chrono::milliseconds(0));
        EXPECT_FALSE(third_got_it);
        EXPECT_EQ(pool.waiting(), 2u);
        EXPECT_EQ(pool.size(), 2u);  // the limit holds
        a.release();                 // handed straight to the first waiter
        EXPECT_EQ(co_await third, "lease-a");
        EXPECT_EQ((co_await shared).as_string(), "PONG");
        EXPECT_EQ(pool.in_use(), 1u);
    }());
}

TEST_F(RedisPool, CancelledAcquireTakesNothing) {
    net_run([]() -> Task<void> {
        redis::Pool pool(opts(1));
        auto a = co_await pool.acquire();
        auto waiting = corio::create_task(pool.acquire());
        co_await corio::sleep(std::chrono::milliseconds(0));
        waiting.cancel();
        EXPECT_THROW(co_await waiting, corio::CancelledError);
        a.release();
        EXPECT_EQ(pool.in_use(), 0u);
        auto again = co_await pool.acquire();
        EXPECT_EQ((co_await again->execute("PING")).as_string(), "PONG");
    }());
}

TEST_F(RedisPool, ManyTasksShareFewConnectionsThroughPipelining) {
    net_run([]() -> Task<void> {
        redis::Pool pool(opts(4));
        std::vector<corio::TaskHandle<std::int64_t>> tasks;
        for (int i = 0; i < 100; ++i) {
            tasks.push_back(corio::create_task(pool.incr("pool:counter")));
        }
        std::int64_t max = 0;
        for (auto& t : tasks) {
            max = std::max(max, co_await t);
        }
        EXPECT_EQ(max, 100);
        EXPECT_EQ(co_await pool.get("pool:counter"), "100");
        EXPECT_LE(pool.size(), 4u);
    }());
}

TEST_F(RedisPool, SharedCommandsFillOneConnectionsPipelineBeforeOpeningAnother) {
    net_run([]() -> Task<void> {
        // 50 tasks, 20 rounds each: all fit in one connection's pipeline.
        redis::Pool deep(opts(10));
        auto worker = [](redis::Pool& p, int rounds) -> Task<void> {
            for (int i = 0; i < rounds; ++i) {
                co_await p.incr("pool:deep");
            }
        };
        std::vector<Task<void>> all;
        for (int t = 0; t < 50; ++t) {
            all.push_back(worker(deep, 20));
        }
        co_await corio::gather(std::move(all));
        EXPECT_EQ(co_await deep.get("pool:deep"), "1000");
        EXPECT_EQ(deep.size(), 1u);

        // 40 commands at once, at most 16 per connection: 16 + 16 + 8.
        redis::PoolOptions o = opts(10);
        o.max_pipeline = 16;
        redis::Pool shallow(o);
        std::vector<Task<std::int64_t>> burst;
        for (int t = 0; t < 40; ++t) {
            burst.push_back(shallow.incr("pool:shallow"));
        }
        auto got = co_await corio::gather(std::move(burst));
        EXPECT_EQ(*std::max_element(got.begin(), got.end()), 40);
        EXPECT_EQ(shallow.size(), 3u);

        // At the limit the least busy connection takes the overflow.
        o.max_connections = 2;
        redis::Pool capped(o);
        std::vector<Task<std::int64_t>> more;
        for (int t = 0; t < 40; ++t) {
            more.push_back(capped.incr("pool:capped"));
        }
        co_await corio::gather(std::move(more));
        EXPECT_EQ(capped.size(), 2u);
        EXPECT_EQ(co_await capped.get("pool:capped"), "40");
        EXPECT_THROW(redis::Pool(redis::PoolOptions{o.client, 2, 0}), std::invalid_argument);
    }());
}

TEST_F(RedisPool, PipelineSendsTogetherAndReturnsRepliesInOrder) {
    net_run([]() -> Task<void> {
        auto c = co_await redis::Client::connect(opts(1).client);
        redis::Pipeline p(c);
        p.execute("SET", "pipe:a", 1).execute("INCR", "pipe:a").execute("GET", "pipe:a");
        EXPECT_EQ(p.size(), 3u);
        auto replies = co_await p.run();
        CO_ASSERT_EQ(replies.size(), 3u);
        EXPECT_EQ(replies[0].as_string(), "OK");
        EXPECT_EQ(replies[1].as_integer(), 2);
        EXPECT_EQ(replies[2].as_string(), "2");
        EXPECT_EQ(p.size(), 0u);

        // An error among them is thrown once every reply is in.
        p.execute("SET", "pipe:t", "x").execute("INCR", "pipe:t").execute("SET", "pipe:u", 1);
        EXPECT_THROW(co_await p.run(), redis::ReplyError);
        EXPECT_EQ(co_await c.get("pipe:u"), "1");  // the third ran, the stream is in step
    }());
}

TEST_F(RedisPool, MultiExecWithWatchCommitsOrIsDiscarded) {
    net_run([]() -> Task<void> {
        redis::Pool pool(opts(3));
        co_await pool.set("tx:balance", 100);
        auto lease = co_await pool.acquire();
        co_await lease->execute("WATCH", "tx:balance");
        auto balance = std::stoll(*co_await lease->get("tx:balance"));
        redis::Pipeline tx(*lease, true);
        tx.execute("SET", "tx:balance", balance - 30).execute("INCRBY", "tx:log", 1);
        auto committed = co_await tx.exec();
        CO_ASSERT_TRUE(committed.has_value());
        EXPECT_EQ((*committed)[0].as_string(), "OK");
        EXPECT_EQ((*committed)[1].as_integer(), 1);
        EXPECT_EQ(co_await pool.get("tx:balance"), "70");

        // Another connection changes the watched key: EXEC discards.
        co_await lease->execute("WATCH", "tx:balance");
        co_await pool.set("tx:balance", 0);
        tx.execute("SET", "tx:balance", 999);
        EXPECT_EQ(co_await tx.exec(), std::nullopt);
        EXPECT_EQ(co_await pool.get("tx:balance"), "0");

        // A runtime error inside EXEC is a value; the others ran.
        co_await pool.set("tx:text", "abc");
        tx.execute("INCR", "tx:text").execute("SET", "tx:after", 1);
        auto mixed = co_await tx.exec();
        CO_ASSERT_TRUE(mixed.has_value());
        EXPECT_TRUE((*mixed)[0].is_error());
        EXPECT_EQ((*mixed)[1].as_string(), "OK");

        // A command Redis refuses to queue aborts the whole transaction.
        tx.execute("SET", "tx:never", 1).execute("NOSUCHCOMMAND");
        EXPECT_THROW(co_await tx.exec(), redis::ReplyError);
        EXPECT_EQ(co_await pool.get("tx:never"), std::nullopt);
        EXPECT_EQ((co_await lease->execute("PING")).as_string(), "PONG");
    }());
}

TEST_F(RedisPool, LeaseGivenBackWithAReplyOutstandingIsReplaced) {
    net_run([]() -> Task<void> {
        redis::Pool pool(opts(1));
        auto lease = co_await pool.acquire();
        co_await lease->execute("CLIENT", "SETNAME", "blocked-one");
        auto blocked = corio::create_task(lease->blpop("pool:never", std::chrono::seconds(30)));
        co_await corio::sleep(std::chrono::milliseconds(0));
        blocked.cancel();
        EXPECT_THROW(co_await blocked, corio::CancelledError);
        EXPECT_EQ(lease->pending(), 1u);  // the BLPOP's reply is still due
        lease.release();
        // Lent again, it would answer only after the BLPOP's 30 s.
        auto next = co_await pool.acquire();
        EXPECT_EQ((co_await next->execute("CLIENT", "GETNAME")).is_null(), true);
        EXPECT_EQ(pool.size(), 1u);
    }());
}

TEST_F(RedisPool, APipelineWhoseConnectionDiesThrowsAndLeavesNoReplyUnretrieved) {
    // net_run fails the test on a "Future exception was never retrieved"
    // report: the replies after the first failure must be dropped quietly.
    net_run([]() -> Task<void> {
        auto admin = co_await redis::Client::connect(opts(1).client);
        for (bool transaction : {false, true}) {
            auto c = co_await redis::Client::connect(opts(1).client);
            const auto id = (co_await c.execute("CLIENT", "ID")).as_integer();
            // The server holds the writes back, then the connection dies
            // with all three replies outstanding.
            (co_await admin.execute("CLIENT", "PAUSE", 10000, "WRITE")).throw_if_error();
            redis::Pipeline p(c, transaction);
            p.execute("SET", "pipe:d", 1).execute("INCR", "pipe:d").execute("GET", "pipe:d");
            auto sent = corio::create_task(p.exec());
            co_await corio::sleep(std::chrono::milliseconds(0));  // written
            EXPECT_FALSE(sent.done());
            (co_await admin.execute("CLIENT", "KILL", "ID", id)).throw_if_error();
            EXPECT_THROW(co_await sent, redis::ConnectionError);
            (co_await admin.execute("CLIENT", "UNPAUSE")).throw_if_error();
            c.close();
        }
    }());
}
