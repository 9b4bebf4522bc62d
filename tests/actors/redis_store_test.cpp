// RedisStateStore and RedisReminderStore against a real redis-server: state
// round trips and all-or-nothing apply (a wrong-type key, a server killed
// with the transaction in flight), the reminder semantics checked against
// MemoryStore's, and claims from two clients (two processes) that never
// share a reminder within its lease.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "corio/actors/redis.hpp"
#include "corio/corio.hpp"
#include "corio/redis/commands.hpp"
#include "net/net_fixture.hpp"
#include "support/server_fixture.hpp"

namespace redis = corio::redis;
namespace actors = corio::actors;
using actors::ActorId;
using actors::Json;
using actors::Reminder;
using actors::StateOp;
using corio::Task;
using corio_test::net_run;
using namespace std::chrono_literals;

namespace {

corio_test::RedisServer* server = nullptr;

class RedisStore : public ::testing::Test {
protected:
    static void SetUpTestSuite() { server = new corio_test::RedisServer(); }
    static void TearDownTestSuite() {
        delete server;
        server = nullptr;
    }
    static redis::ClientOptions opts(std::uint16_t port = 0) {
        redis::ClientOptions o;
        o.port = port ? port : server->port();
        return o;
    }
    // Keys of each test apart from the others'.
    static actors::RedisStoreOptions prefix() {
        actors::RedisStoreOptions o;
        o.prefix = std::string("t:") +
                   ::testing::UnitTest::GetInstance()->current_test_info()->name() + ":";
        return o;
    }
};

StateOp upsert(std::string key, Json v) {
    return StateOp{StateOp::Kind::upsert, std::move(key), std::move(v)};
}
StateOp erase(std::string key) {
    return StateOp{StateOp::Kind::remove, std::move(key), {}};
}
// A turn's ops. (No braced lists in a co_await's statement: GCC 12 cannot
// keep an initializer_list's array in a coroutine frame.)
template <class... Ops>
std::vector<StateOp> ops(Ops... o) {
    std::vector<StateOp> v;
    (v.push_back(std::move(o)), ...);
    return v;
}

}  // namespace

TEST_F(RedisStore, StateRoundTripsAsJsonInAHashPerActor) {
    net_run([]() -> Task<void> {
        auto c = co_await redis::Client::connect(opts());
        actors::RedisStateStore store(c, prefix());
        ActorId a{"Counter", "c|1"};
        const Json obj = Json{{"k", {1, 2.5, nullptr}}};
        const std::map<std::string, std::string> layout{
            {"v", "5"}, {"name", "\"x\\ny\""}, {"obj", R"({"k":[1,2.5,null]})"}};
        EXPECT_EQ(co_await store.get(a, "v"), std::nullopt);
        co_await store.apply(a, ops(upsert("v", 5), upsert("name", "x\ny"), upsert("obj", obj)));
        EXPECT_EQ(co_await store.get(a, "v"), Json(5));
        EXPECT_EQ(co_await store.get(a, "name"), Json("x\ny"));
        EXPECT_EQ(co_await store.get(a, "obj"), obj);
        // The layout other languages read: one hash, field = key, value = JSON.
        EXPECT_EQ(store.key_of(a), prefix().prefix + "state:Counter||c|1");
        EXPECT_EQ(co_await c.hgetall(store.key_of(a)), layout);
        // Ops apply in order: a later one wins.
        co_await store.apply(a,
                             ops(erase("name"), upsert("v", 6), upsert("v", 7), erase("absent")));
        EXPECT_EQ(co_await store.get(a, "name"), std::nullopt);
        EXPECT_EQ(co_await store.get(a, "v"), Json(7));
        co_await store.apply(a, ops());  // nothing to do: no round trip needed
        co_await store.apply(a, ops(erase("v"), erase("obj")));
        EXPECT_EQ(co_await c.exists(store.key_of(a)), 0);  // an empty hash is no key
    }());
}

TEST_F(RedisStore, TwoActorsAreIndependent) {
    net_run([]() -> Task<void> {
        auto c = co_await redis::Client::connect(opts());
        actors::RedisStateStore store(c, prefix());
        ActorId a{"Counter", "a"}, b{"Counter", "b"}, other_type{"Timer", "a"};
        // Issued together: one round trip, three transactions.
        auto t1 = corio::create_task(store.apply(a, ops(upsert("v", 1))));
        auto t2 = corio::create_task(store.apply(b, ops(upsert("v", 2))));
        auto t3 = corio::create_task(store.apply(other_type, ops(upsert("v", 3))));
        co_await t1;
        co_await t2;
        co_await t3;
        co_await store.apply(a, ops(erase("v")));
        EXPECT_EQ(co_await store.get(a, "v"), std::nullopt);
        EXPECT_EQ(co_await store.get(b, "v"), Json(2));
        EXPECT_EQ(co_await store.get(other_type, "v"), Json(3));
    }());
}

TEST_F(RedisStore, AFailingApplyAppliesNothingAndThrows) {
    net_run([]() -> Task<void> {
        auto c = co_await redis::Client::connect(opts());
        actors::RedisStateStore store(c, prefix());
        ActorId a{"Counter", "wrongtype"};
        co_await store.apply(a, ops(upsert("v", 1)));
        // Someone turns the hash into a list: every HSET/HDEL of the
        // transaction fails, EXEC reports it, and nothing changed.
        co_await c.del(store.key_of(a));
        co_await c.rpush(store.key_of(a), "x");
        bool threw = false;
        try {
            co_await store.apply(a, ops(upsert("v", 2), erase("w"), upsert("u", 3)));
        } catch (const redis::ReplyError& e) {
            threw = true;
            EXPECT_EQ(e.prefix(), "WRONGTYPE") << e.what();
        }
        EXPECT_TRUE(threw);
        EXPECT_EQ(co_await c.type(store.key_of(a)), "list");
        const std::vector<std::string> just_x{"x"};
        EXPECT_EQ(co_await c.lrange(store.key_of(a), 0, -1), just_x);
        EXPECT_THROW(co_await store.get(a, "v"), redis::ReplyError);
        // The connection stays usable, and a fixed key works again.
        co_await c.del(store.key_of(a));
        co_await store.apply(a, ops(upsert("v", 4)));
        EXPECT_EQ(co_await store.get(a, "v"), Json(4));
        // Text that is not JSON is reported as such.
        co_await c.hset(store.key_of(a), "bad", "{not json");
        EXPECT_THROW(co_await store.get(a, "bad"), actors::ActorArgumentError);
    }());
}

TEST_F(RedisStore, ServerKilledWithTheTransactionInFlightThrowsAndAppliesNothing) {
    // A server of its own, persisting every write before acknowledging it.
    corio_test::RedisServer own({"--appendonly", "yes", "--appendfsync", "always"});
    net_run([&own]() -> Task<void> {
        auto c = co_await redis::Client::connect(opts(own.port()));
        auto admin = co_await redis::Client::connect(opts(own.port()));
        actors::RedisStateStore store(c, prefix());
        ActorId a{"Counter", "killed"};
        co_await store.apply(a, ops(upsert("v", 1)));
        // Writes are held back by the server: the transaction arrives and
        // waits there, unexecuted.
        (co_await admin.execute("CLIENT", "PAUSE", 30000, "WRITE")).throw_if_error();
        auto apply = corio::create_task(store.apply(a, ops(upsert("v", 2), upsert("w", 3))));
        // Until the server shows our client inside MULTI (flag x).
        bool in_multi = false;
        for (int i = 0; i < 500 && !in_multi; ++i) {
            std::string list = (co_await admin.execute("CLIENT", "LIST")).to_string();
            std::size_t at = 0;
            while ((at = list.find(" flags=", at)) != std::string::npos) {
                at += 7;
                std::string flags = list.substr(at, list.find(' ', at) - at);
                if (flags.find('x') != std::string::npos)
                    in_multi = true;
            }
            if (!in_multi)
                co_await corio::sleep(10ms);
        }
        CO_ASSERT_TRUE(in_multi);
        EXPECT_FALSE(apply.done());
        own.kill();
        EXPECT_THROW(co_await apply, redis::ConnectionError);
        admin.close();
        own.start();  // the same port and data
        auto fresh = co_await redis::Client::connect(opts(own.port()));
        actors::RedisStateStore after(fresh, prefix());
        EXPECT_EQ(co_await after.get(a, "v"), Json(1));
        EXPECT_EQ(co_await after.get(a, "w"), std::nullopt);
        // The old client reconnects on demand and works again.
        co_await store.apply(a, ops(upsert("v", 5)));
        EXPECT_EQ(co_await after.get(a, "v"), Json(5));
    }());
}

namespace {

// A reminder to register. (A function, not a braced Reminder in the
// co_await's statement: GCC 12 destroys such aggregate temporaries twice.)
Reminder rem(std::string type, std::string id, std::string name, Json data, actors::EpochMs due,
             std::int64_t period_ms) {
    Reminder r;
    r.actor = ActorId{std::move(type), std::move(id)};
    r.name = std::move(name);
    r.data = std::move(data);
    r.due = due;
    r.period_ms = period_ms;
    return r;
}

// The ReminderStore contract, on any store: run against MemoryStore and the
// Redis store alike, so the two agree exactly.
Task<void> reminder_semantics(actors::ReminderStore& store) {
    ActorId a{"Counter", "r1"}, b{"Counter", "r2"};
    EXPECT_EQ(co_await store.next_due(), std::nullopt);
    EXPECT_TRUE((co_await store.claim_due(1'000'000, 100, 10)).empty());

    // A one-shot reminder: not before its time; hidden for the lease once
    // claimed; back when the lease lapses; gone when completed.
    const Json n1 = Json{{"n", 1}};
    co_await store.upsert(rem("Counter", "r1", "once", n1, 1000, 0));
    EXPECT_EQ(co_await store.next_due(), 1000);
    EXPECT_TRUE((co_await store.claim_due(999, 100, 10)).empty());
    auto got = co_await store.claim_due(1000, 100, 10);
    CO_ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0].actor, a);
    EXPECT_EQ(got[0].name, "once");
    EXPECT_EQ(got[0].data, n1);
    EXPECT_EQ(got[0].due, 1000);
    EXPECT_EQ(got[0].period_ms, 0);
    EXPECT_GT(got[0].version, 0u);
    EXPECT_EQ(co_await store.next_due(), 1100);  // visible again then
    EXPECT_TRUE((co_await store.claim_due(1099, 100, 10)).empty());
    auto again = co_await store.claim_due(1100, 100, 10);  // the claim lapsed
    CO_ASSERT_EQ(again.size(), 1u);
    EXPECT_EQ(again[0].version, got[0].version);
    co_await store.complete(again[0], 1100);
    EXPECT_EQ(co_await store.next_due(), std::nullopt);
    EXPECT_TRUE((co_await store.claim_due(10'000, 100, 10)).empty());

    // A periodic one: completing reschedules on its own schedule, to the
    // first period after fired_at.
    co_await store.upsert(rem("Counter", "r1", "tick", "d", 1000, 300));
    got = co_await store.claim_due(2000, 50, 10);
    CO_ASSERT_EQ(got.size(), 1u);
    co_await store.complete(got[0], 2000);
    EXPECT_EQ(co_await store.next_due(), 2200);
    EXPECT_TRUE((co_await store.claim_due(2199, 50, 10)).empty());
    got = co_await store.claim_due(2200, 50, 10);
    CO_ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0].due, 2200);
    EXPECT_EQ(got[0].period_ms, 300);
    EXPECT_EQ(got[0].data, Json("d"));
    co_await store.complete(got[0], 2200);  // fired exactly on time
    EXPECT_EQ(co_await store.next_due(), 2500);

    // Re-registered while claimed: the old claim's complete and release
    // are stale and change nothing.
    auto old = co_await store.claim_due(2500, 50, 10);
    CO_ASSERT_EQ(old.size(), 1u);
    co_await store.upsert(rem("Counter", "r1", "tick", "new", 5000, 1000));
    co_await store.complete(old[0], 2500);
    co_await store.release(old[0], 0);
    EXPECT_EQ(co_await store.next_due(), 5000);
    got = co_await store.claim_due(5000, 50, 10);
    CO_ASSERT_EQ(got.size(), 1u);
    EXPECT_GT(got[0].version, old[0].version);
    EXPECT_EQ(got[0].data, Json("new"));

    // Release: due again at retry_at, for anyone.
    co_await store.release(got[0], 6000);
    EXPECT_TRUE((co_await store.claim_due(5999, 50, 10)).empty());
    got = co_await store.claim_due(6000, 50, 10);
    CO_ASSERT_EQ(got.size(), 1u);
    // Completed late (fired at 9100): the next is after that, on schedule.
    co_await store.complete(got[0], 9100);
    EXPECT_EQ(co_await store.next_due(), 10000);

    // At most `max` per claim; remove; removing what is absent is fine.
    co_await store.upsert(rem("Counter", "r2", "x", nullptr, 100, 0));
    co_await store.upsert(rem("Counter", "r2", "y", nullptr, 200, 0));
    co_await store.upsert(rem("Counter", "r2", "z", nullptr, 300, 0));
    EXPECT_EQ((co_await store.claim_due(400, 1000, 2)).size(), 2u);
    EXPECT_EQ((co_await store.claim_due(400, 1000, 2)).size(), 1u);
    EXPECT_TRUE((co_await store.claim_due(400, 1000, 2)).empty());
    EXPECT_TRUE((co_await store.claim_due(400, 1000, 0)).empty());
    co_await store.remove(b, "x");
    co_await store.remove(b, "y");
    co_await store.remove(b, "z");
    co_await store.remove(b, "never");
    co_await store.remove(a, "tick");
    EXPECT_EQ(co_await store.next_due(), std::nullopt);
}

}  // namespace

TEST_F(RedisStore, MemoryStoreHasTheSemanticsTheRedisStoreIsCheckedAgainst) {
    corio_test::vrun([]() -> Task<void> {
        actors::MemoryStore m;
        co_await reminder_semantics(m);
        EXPECT_EQ(m.reminder_count(), 0u);
    }());
}

TEST_F(RedisStore, RemindersHaveMemoryStoresSemantics) {
    net_run([]() -> Task<void> {
        auto c = co_await redis::Client::connect(opts());
        actors::RedisReminderStore store(c, prefix());
        co_await reminder_semantics(store);
        EXPECT_EQ(co_await store.count(), 0u);
        // Strings that would break a naive member encoding stay apart.
        co_await store.upsert(rem("T", "a||b", "c", 1, 10, 0));
        co_await store.upsert(rem("T", "a", "b||c", 2, 10, 0));
        auto got = co_await store.claim_due(10, 100, 10);
        CO_ASSERT_EQ(got.size(), 2u);
        std::set<std::pair<std::string, std::string>> seen;
        for (auto& r : got)
            seen.emplace(r.actor.id, r.name);
        const std::set<std::pair<std::string, std::string>> apart{{"a||b", "c"}, {"a", "b||c"}};
        EXPECT_EQ(seen, apart);
    }());
}

TEST_F(RedisStore, TwoProcessesNeverClaimTheSameReminderWithinItsLease) {
    net_run([]() -> Task<void> {
        // Two clients: two connections, as two processes would have.
        auto c1 = co_await redis::Client::connect(opts());
        auto c2 = co_await redis::Client::connect(opts());
        actors::RedisReminderStore s1(c1, prefix()), s2(c2, prefix());
        constexpr int kReminders = 60;
        for (int i = 0; i < kReminders; ++i)
            co_await s1.upsert(rem("Counter", std::to_string(i), "r", i, 100 + i, 0));
        std::map<std::string, int> claims;
        auto claimer = [&](actors::RedisReminderStore& s) -> Task<void> {
            for (;;) {
                auto got = co_await s.claim_due(1000, 60'000, 4);
                if (got.empty())
                    co_return;
                for (auto& r : got)
                    ++claims[r.actor.id];
            }
        };
        // Four claimers, two per store, their commands interleaved on the
        // server.
        auto t1 = corio::create_task(claimer(s1));
        auto t2 = corio::create_task(claimer(s2));
        auto t3 = corio::create_task(claimer(s1));
        auto t4 = corio::create_task(claimer(s2));
        co_await t1;
        co_await t2;
        co_await t3;
        co_await t4;
        EXPECT_EQ(claims.size(), static_cast<std::size_t>(kReminders));
        for (auto& [id, n] : claims)
            EXPECT_EQ(n, 1) << id;
        // Once the lease lapses, another process gets what was never
        // completed (at least once); what s1 completed does not come back.
        auto first = co_await s2.claim_due(61'000, 1000, 100);
        EXPECT_EQ(first.size(), static_cast<std::size_t>(kReminders));
        for (std::size_t i = 0; i < first.size(); i += 2)
            co_await s1.complete(first[i], 61'000);
        auto second = co_await s1.claim_due(62'000, 1000, 100);
        EXPECT_EQ(second.size(), static_cast<std::size_t>(kReminders / 2));
    }());
}
