// The typed helpers against a real redis-server, under RESP3 and RESP2
// alike (the replies differ in shape, the helpers' results must not).
#include "corio/redis/commands.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "corio/corio.hpp"
#include "corio/redis/client.hpp"
#include "net/net_fixture.hpp"
#include "support/server_fixture.hpp"

namespace redis = corio::redis;
using corio::Task;
using corio_test::net_run;

namespace {

corio_test::RedisServer* server = nullptr;

class Commands : public ::testing::TestWithParam<int> {
protected:
    static void SetUpTestSuite() { server = new corio_test::RedisServer(); }
    static void TearDownTestSuite() {
        delete server;
        server = nullptr;
    }
    // A fresh database per test: FLUSHDB first.
    static Task<redis::Client> client() {
        redis::ClientOptions o;
        o.port = server->port();
        o.protocol = GetParam();
        auto c = co_await redis::Client::connect(o);
        co_await c.flushdb();
        co_return c;
    }
};

}  // namespace

TEST_P(Commands, Strings) {
    net_run([]() -> Task<void> {
        auto c = co_await client();
        EXPECT_EQ(co_await c.get("s"), std::nullopt);
        EXPECT_TRUE(co_await c.set("s", "v"));
        EXPECT_EQ(co_await c.get("s"), "v");
        EXPECT_FALSE(co_await c.set("s", "w", {.nx = true}));  // exists: NX refuses
        EXPECT_TRUE(co_await c.set("s", "w", {.xx = true}));
        EXPECT_FALSE(co_await c.set("none", "w", {.xx = true}));
        EXPECT_TRUE(co_await c.set("ex", 1, {.ex = std::chrono::seconds(100)}));
        auto ttl = co_await c.ttl("ex");
        EXPECT_TRUE(ttl > 90 && ttl <= 100) << ttl;
        EXPECT_TRUE(co_await c.set("px", 1, {.px = std::chrono::milliseconds(50000)}));
        auto pttl = co_await c.pttl("px");
        EXPECT_TRUE(pttl > 40000 && pttl <= 50000) << pttl;
        EXPECT_EQ(co_await c.incr("n"), 1);
        EXPECT_EQ(co_await c.incr("n", 10), 11);
        EXPECT_EQ(co_await c.decr("n"), 10);
        EXPECT_DOUBLE_EQ(co_await c.incrbyfloat("f", 1.5), 1.5);
        EXPECT_EQ(co_await c.append("s", "!"), 2);
        std::map<std::string, std::string> pairs{{"a", "1"}, {"b", "2"}};
        co_await c.mset(pairs);
        std::vector<std::string> keys{"a", "missing", "b"};
        std::vector<std::optional<std::string>> want{"1", std::nullopt, "2"};
        auto got = co_await c.mget(keys);
        EXPECT_EQ(got, want);
        EXPECT_EQ(co_await c.getdel("a"), "1");
        EXPECT_EQ(co_await c.exists("a", "b"), 1);
        EXPECT_THROW(co_await c.incr("s"), redis::ReplyError);
    }());
}

TEST_P(Commands, KeysAndExpiry) {
    net_run([]() -> Task<void> {
        auto c = co_await client();
        co_await c.set("k1", 1);
        co_await c.set("k2", 2);
        EXPECT_EQ(co_await c.ttl("k1"), -1);
        EXPECT_TRUE(co_await c.expire("k1", std::chrono::seconds(30)));
        EXPECT_GT(co_await c.ttl("k1"), 0);
        EXPECT_TRUE(co_await c.persist("k1"));
        EXPECT_FALSE(co_await c.expire("nope", std::chrono::seconds(1)));
        EXPECT_EQ(co_await c.ttl("nope"), -2);
        EXPECT_EQ(co_await c.type("k1"), "string");
        auto ks = co_await c.keys("k*");
        std::sort(ks.begin(), ks.end());
        std::vector<std::string> both{"k1", "k2"};
        EXPECT_EQ(ks, both);
        co_await c.rename("k2", "k3");
        EXPECT_EQ(co_await c.dbsize(), 2);
        EXPECT_EQ(co_await c.del("k1", "k3", "nope"), 2);
        EXPECT_EQ(co_await c.ping(), "PONG");
    }());
}

TEST_P(Commands, HashesWithAMapAsTheTutorialsHmsetDictAndHgetall) {
    net_run([]() -> Task<void> {
        auto c = co_await client();
        std::map<std::string, std::string> fields{{"name", "ada"}, {"lang", "c++"}};
        EXPECT_EQ(co_await c.hset("user:1", fields), 2);
        EXPECT_EQ(co_await c.hgetall("user:1"), fields);
        EXPECT_EQ(co_await c.hset("user:1", "age", 36), 1);
        EXPECT_EQ(co_await c.hget("user:1", "age"), "36");
        EXPECT_EQ(co_await c.hget("user:1", "none"), std::nullopt);
        EXPECT_EQ(co_await c.hincrby("user:1", "age", 1), 37);
        EXPECT_TRUE(co_await c.hexists("user:1", "lang"));
        EXPECT_EQ(co_await c.hlen("user:1"), 3);
        std::vector<std::string> want{"name", "none"};
        std::vector<std::optional<std::string>> values{"ada", std::nullopt};
        auto got = co_await c.hmget("user:1", want);
        EXPECT_EQ(got, values);
        EXPECT_EQ(co_await c.hdel("user:1", "lang", "age"), 2);
        std::vector<std::string> left{"name"};
        auto keys = co_await c.hkeys("user:1");
        EXPECT_EQ(keys, left);
        EXPECT_TRUE((co_await c.hgetall("missing")).empty());
    }());
}

TEST_P(Commands, Lists) {
    net_run([]() -> Task<void> {
        auto c = co_await client();
        EXPECT_EQ(co_await c.rpush("l", "a", "b"), 2);
        EXPECT_EQ(co_await c.lpush("l", "z"), 3);
        std::vector<std::string> more{"c", "d"};
        EXPECT_EQ(co_await c.rpush("l", more), 5);
        std::vector<std::string> all{"z", "a", "b", "c", "d"};
        auto range = co_await c.lrange("l", 0, -1);
        EXPECT_EQ(range, all);
        EXPECT_EQ(co_await c.lpop("l"), "z");
        EXPECT_EQ(co_await c.rpop("l"), "d");
        EXPECT_EQ(co_await c.llen("l"), 3);
        EXPECT_EQ(co_await c.lmove("l", "dst"), "c");
        EXPECT_EQ(co_await c.lrem("l", 0, "a"), 1);
        std::optional<std::pair<std::string, std::string>> popped{{"l", "b"}};
        auto got = co_await c.brpop("l", std::chrono::seconds(1));
        EXPECT_EQ(got, popped);
        EXPECT_EQ(co_await c.blpop("l", std::chrono::milliseconds(10)), std::nullopt);
        // Under a microsecond is still a timeout (Redis rounds up to 1 ms),
        // not 0, which would block forever.
        EXPECT_EQ(co_await corio::wait_for(c.blpop("l", std::chrono::nanoseconds(100)),
                                           std::chrono::seconds(5)),
                  std::nullopt);
        EXPECT_EQ(co_await c.rpop("l"), std::nullopt);
    }());
}

TEST_P(Commands, SetsAndSortedSets) {
    net_run([]() -> Task<void> {
        auto c = co_await client();
        EXPECT_EQ(co_await c.sadd("s", "a", "b", "c"), 3);
        EXPECT_EQ(co_await c.srem("s", "c"), 1);
        auto members = co_await c.smembers("s");
        std::set<std::string> ab{"a", "b"};
        EXPECT_EQ(std::set<std::string>(members.begin(), members.end()), ab);
        EXPECT_TRUE(co_await c.sismember("s", "a"));
        EXPECT_FALSE(co_await c.sismember("s", "c"));
        EXPECT_EQ(co_await c.scard("s"), 2);

        EXPECT_EQ(co_await c.zadd("z", 2.5, "b"), 1);
        std::map<std::string, double> ac{{"a", 1}, {"c", 3}};
        EXPECT_EQ(co_await c.zadd("z", ac), 2);
        EXPECT_EQ(co_await c.zscore("z", "b"), 2.5);
        std::map<std::string, double> fine{{"tiny", 1e-9}, {"sum", 0.1 + 0.2}};
        EXPECT_EQ(co_await c.zadd("zfine", fine), 2);
        EXPECT_EQ(co_await c.zscore("zfine", "tiny"), 1e-9);  // not rounded to 6 decimals
        EXPECT_EQ(co_await c.zscore("zfine", "sum"), 0.1 + 0.2);
        EXPECT_EQ(co_await c.zscore("z", "none"), std::nullopt);
        EXPECT_DOUBLE_EQ(co_await c.zincrby("z", 10, "a"), 11);
        std::vector<std::string> order{"b", "c", "a"};
        auto ranks = co_await c.zrange("z", 0, -1);
        EXPECT_EQ(ranks, order);
        std::vector<std::pair<std::string, double>> scored{{"b", 2.5}, {"c", 3}};
        auto withscores = co_await c.zrange_withscores("z", 0, 1);
        EXPECT_EQ(withscores, scored);
        EXPECT_EQ(co_await c.zrank("z", "a"), 2);
        EXPECT_EQ(co_await c.zrank("z", "none"), std::nullopt);
        EXPECT_EQ(co_await c.zrem("z", "a"), 1);
        EXPECT_EQ(co_await c.zcard("z"), 2);
    }());
}

TEST_P(Commands, ScanFamilyAsAsyncGeneratorsVisitEverything) {
    net_run([]() -> Task<void> {
        auto c = co_await client();
        std::map<std::string, std::string> fields;
        std::map<std::string, double> scores;
        std::vector<std::string> members;
        for (int i = 0; i < 250; ++i) {
            co_await c.set("scan:" + std::to_string(i), i);
            fields["f" + std::to_string(i)] = std::to_string(i);
            scores["m" + std::to_string(i)] = i;
            members.push_back("m" + std::to_string(i));
        }
        co_await c.set("other", 1);
        co_await c.hset("h", fields);
        co_await c.zadd("z", scores);
        co_await c.sadd("s", members);

        std::set<std::string> keys;
        auto gen = c.scan("scan:*", 50);
        while (auto k = co_await gen.next()) {
            keys.insert(*k);
        }
        EXPECT_EQ(keys.size(), 250u);
        EXPECT_FALSE(keys.count("other"));

        std::map<std::string, std::string> h;
        auto hg = c.hscan("h");
        while (auto kv = co_await hg.next()) {
            h.insert(*kv);
        }
        EXPECT_EQ(h, fields);

        std::set<std::string> s;
        auto sg = c.sscan("s", "m1*");
        while (auto m = co_await sg.next()) {
            s.insert(*m);
        }
        EXPECT_EQ(s.size(), 1u + 10u + 100u);  // m1, m10-m19, m100-m199

        std::map<std::string, double> z;
        auto zg = c.zscan("z");
        while (auto ms = co_await zg.next()) {
            z.insert(*ms);
        }
        EXPECT_EQ(z, scores);
    }());
}

TEST_P(Commands, ScriptsRunByShaAndAreLoadedWhenTheServerForgotThem) {
    net_run([]() -> Task<void> {
        auto c = co_await client();
        redis::Script add("return redis.call('INCRBY', KEYS[1], ARGV[1])");
        EXPECT_EQ(add.sha().size(), 40u);
        std::vector<std::string> keys{"counter"};
        std::vector<int> args{5};
        co_await c.execute("SCRIPT", "FLUSH");
        EXPECT_EQ((co_await c.run(add, keys, args)).as_integer(), 5);  // NOSCRIPT -> EVAL
        redis::Reply exists = co_await c.execute("SCRIPT", "EXISTS", add.sha());
        EXPECT_EQ(exists.as_array().at(0).to_integer(), 1);
        EXPECT_EQ((co_await c.run(add, keys, args)).as_integer(), 10);  // EVALSHA
        redis::Reply direct = co_await c.eval("return {KEYS[1], ARGV[1]}", keys, args);
        std::vector<std::string> echoed{"counter", "5"};
        EXPECT_EQ(direct.to_string_vector(), echoed);
        redis::Script bad("return redis.call('NOPE')");
        std::vector<std::string> none;
        EXPECT_THROW(co_await c.run(bad, none, none), redis::ReplyError);
    }());
}

INSTANTIATE_TEST_SUITE_P(Resp, Commands, ::testing::Values(3, 2),
                         [](const auto& info) { return "resp" + std::to_string(info.param); });
