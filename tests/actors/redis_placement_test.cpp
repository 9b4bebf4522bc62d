// RedisPlacement against a real redis-server: one owner per actor among
// concurrent claimers, the owner cache, takeover only after the owner's
// lease expired, release, stop, and a lapsed lease (host key gone, Redis
// unreachable for longer than the lease) reported through on_lease_lost.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <map>
#include <memory>
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
using actors::RedisPlacement;
using corio::Task;
using corio_test::net_run;
using namespace std::chrono_literals;

namespace {

corio_test::RedisServer* server = nullptr;

class RedisPlacementTest : public ::testing::Test {
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
    static actors::RedisPlacementOptions options(corio::Duration lease = 10s) {
        actors::RedisPlacementOptions o;
        o.prefix = std::string("t:") +
                   ::testing::UnitTest::GetInstance()->current_test_info()->name() + ":";
        o.lease = lease;
        return o;
    }
};

// Polls `cond` every 10 ms for up to `limit`: waiting for something the
// server does in its own time (a key's expiry), not for a guess.
template <class F>
Task<bool> eventually(F cond, corio::Duration limit = 5s) {
    auto until = corio::get_running_loop().time() + limit;
    for (;;) {
        if (co_await cond())
            co_return true;
        if (corio::get_running_loop().time() > until)
            co_return false;
        co_await corio::sleep(10ms);
    }
}

}  // namespace

TEST_F(RedisPlacementTest, ConcurrentFirstCallsFromThreeProcessesAgreeOnOneOwner) {
    net_run([]() -> Task<void> {
        std::vector<std::unique_ptr<RedisPlacement>> ps;
        for (int i = 0; i < 3; ++i) {
            auto c = co_await redis::Client::connect(opts());  // a connection each
            ps.push_back(std::make_unique<RedisPlacement>(c, "10.0.0." + std::to_string(i) + ":80",
                                                          options()));
            co_await ps.back()->start();
        }
        constexpr int kActors = 40;
        // Every process asks for every actor at once (in one iteration, so
        // the three connections' scripts interleave on the server).
        std::vector<ActorId> ids;  // outlive the tasks, which take them by reference
        for (int id = 0; id < kActors; ++id)
            ids.push_back(ActorId{"Counter", std::to_string(id)});
        std::vector<std::vector<corio::TaskHandle<std::string>>> answers(3);
        for (int id = 0; id < kActors; ++id)
            for (int p = 0; p < 3; ++p)
                answers[p].push_back(corio::create_task(ps[p]->locate(ids[id])));
        auto c = co_await redis::Client::connect(opts());
        std::map<std::string, int> owned;
        for (int id = 0; id < kActors; ++id) {
            std::string first = co_await answers[0][id];
            for (int p = 1; p < 3; ++p)
                EXPECT_EQ(co_await answers[p][id], first) << id;
            ActorId actor{"Counter", std::to_string(id)};
            EXPECT_EQ(co_await c.get(ps[0]->place_key(actor)), first);
            ++owned[first];
            // owns() agrees, for the owner only.
            for (auto& p : ps)
                EXPECT_EQ(co_await p->owns(actor), p->self() == first) << p->self();
        }
        int total = 0;
        for (auto& [addr, n] : owned)
            total += n;
        EXPECT_EQ(total, kActors);
        for (auto& p : ps)
            co_await p->stop();
    }());
}

TEST_F(RedisPlacementTest, KnownOwnersAreCachedUntilReportedStaleOrTooOld) {
    net_run([]() -> Task<void> {
        auto c = co_await redis::Client::connect(opts());
        RedisPlacement a(c, "a:1", options()), b(c, "b:1", options());
        co_await a.start();
        co_await b.start();
        ActorId x{"Counter", "x"};
        EXPECT_EQ(co_await a.locate(x), "a:1");
        EXPECT_EQ(co_await b.locate(x), "a:1");
        EXPECT_EQ(a.lookups(), 1u);
        EXPECT_EQ(b.lookups(), 1u);
        for (int i = 0; i < 10; ++i) {
            EXPECT_EQ(co_await a.locate(x), "a:1");
            EXPECT_EQ(co_await b.locate(x), "a:1");
        }
        EXPECT_EQ(a.lookups(), 1u);
        EXPECT_EQ(b.lookups(), 1u);
        // Reported stale: asked again; a's lease lives, so a it stays.
        EXPECT_EQ(co_await b.locate(x, std::string("a:1")), "a:1");
        EXPECT_EQ(b.lookups(), 2u);
        // A stale report naming someone else keeps the cache.
        EXPECT_EQ(co_await b.locate(x, std::string("c:1")), "a:1");
        EXPECT_EQ(b.lookups(), 2u);
        co_await a.stop();
        co_await b.stop();
        // Another's ownership is trusted for renew_every only (it may die
        // and nobody tells this process); one's own while the lease holds.
        RedisPlacement s(c, "s:1", options(300ms)), t(c, "t:1", options(300ms));
        co_await s.start();
        co_await t.start();
        ActorId y{"Counter", "y"};
        EXPECT_EQ(co_await s.locate(y), "s:1");
        EXPECT_EQ(co_await t.locate(y), "s:1");
        co_await corio::sleep(150ms);  // past renew_every (100 ms)
        EXPECT_EQ(co_await s.locate(y), "s:1");
        EXPECT_EQ(co_await t.locate(y), "s:1");
        EXPECT_EQ(s.lookups(), 1u);
        EXPECT_EQ(t.lookups(), 2u);
        co_await s.stop();
        co_await t.stop();
    }());
}

TEST_F(RedisPlacementTest, AnOwnerThatStopsRenewingIsTakenOverOnlyAfterItsLeaseExpires) {
    net_run([]() -> Task<void> {
        auto c = co_await redis::Client::connect(opts());
        RedisPlacement a(c, "a:1", options(300ms)), b(c, "b:1", options(300ms));
        co_await a.start();
        co_await b.start();
        ActorId x{"Counter", "x"};
        EXPECT_EQ(co_await a.locate(x), "a:1");
        // a keeps renewing: well past one lease, it still owns x.
        co_await corio::sleep(450ms);
        EXPECT_EQ(co_await b.locate(x, std::string("a:1")), "a:1");
        EXPECT_TRUE(co_await a.owns(x));
        // a dies (stops renewing without giving anything up).
        a.abandon();
        auto died = corio::get_running_loop().time();
        // When a's key expires, read after any renewal still in flight
        // (same connection, so after it).
        std::int64_t left = co_await c.pttl(a.host_key());
        EXPECT_GT(left, 0);
        std::vector<std::string> seen;
        bool moved = co_await eventually([&]() -> Task<bool> {
            std::string owner = co_await b.locate(x, std::string("a:1"));
            if (seen.empty() || seen.back() != owner)
                seen.push_back(owner);
            co_return owner == "b:1";
        });
        EXPECT_TRUE(moved);
        // a, then b: never anyone else, never back.
        EXPECT_EQ(seen, (std::vector<std::string>{"a:1", "b:1"}));
        // Not before a's key expired.
        EXPECT_GE(corio_test::ms_since(died), left - 5);
        EXPECT_EQ(co_await c.exists(a.host_key()), 0);
        EXPECT_EQ(co_await c.get(b.place_key(x)), "b:1");
        EXPECT_TRUE(co_await b.owns(x));
        // a's own view: its lease lapsed, so it owns nothing now.
        EXPECT_FALSE(a.lease_valid());
        EXPECT_FALSE(co_await a.owns(x));
        co_await b.stop();
        co_await a.stop();
    }());
}

TEST_F(RedisPlacementTest, ReleaseDeletesOnlyOwnPlacements) {
    net_run([]() -> Task<void> {
        auto c = co_await redis::Client::connect(opts());
        RedisPlacement a(c, "a:1", options()), b(c, "b:1", options());
        co_await a.start();
        co_await b.start();
        ActorId x{"Counter", "x"};
        EXPECT_EQ(co_await a.locate(x), "a:1");
        co_await a.release(x);
        EXPECT_EQ(co_await c.exists(a.place_key(x)), 0);
        EXPECT_FALSE(co_await a.owns(x));
        // Free again: the next locate claims it, whoever calls.
        EXPECT_EQ(co_await b.locate(x, std::string("a:1")), "b:1");
        // a's release of b's placement changes nothing.
        co_await a.release(x);
        EXPECT_EQ(co_await c.get(a.place_key(x)), "b:1");
        EXPECT_TRUE(co_await b.owns(x));
        co_await a.stop();
        co_await b.stop();
    }());
}

TEST_F(RedisPlacementTest, StopDeletesTheHostKeyAndItsPlacementsOnly) {
    net_run([]() -> Task<void> {
        auto c = co_await redis::Client::connect(opts());
        RedisPlacement a(c, "a:1", options()), b(c, "b:1", options());
        co_await a.start();
        co_await b.start();
        ActorId x{"Counter", "x"}, y{"Counter", "y"}, z{"Counter", "z"};
        EXPECT_EQ(co_await a.locate(x), "a:1");
        EXPECT_EQ(co_await a.locate(y), "a:1");
        EXPECT_EQ(co_await b.locate(z), "b:1");
        EXPECT_EQ(co_await c.exists(a.host_key()), 1);
        co_await a.stop();
        co_await a.stop();  // idempotent
        EXPECT_EQ(co_await c.exists(a.host_key(), a.place_key(x), a.place_key(y)), 0);
        EXPECT_EQ(co_await c.get(b.place_key(z)), "b:1");
        EXPECT_EQ(co_await c.exists(b.host_key()), 1);
        // Its actors are free at once, without waiting for a lease.
        EXPECT_EQ(co_await b.locate(x), "b:1");
        co_await b.stop();
        EXPECT_EQ(co_await c.exists(b.host_key(), b.place_key(x), b.place_key(z)), 0);
    }());
}

TEST_F(RedisPlacementTest, HostKeyFoundGoneMeansTheLeaseWasLost) {
    net_run([]() -> Task<void> {
        auto c = co_await redis::Client::connect(opts());
        RedisPlacement a(c, "a:1", options(300ms));
        int lost = 0;
        a.on_lease_lost = [&] { ++lost; };
        co_await a.start();
        ActorId x{"Counter", "x"};
        EXPECT_EQ(co_await a.locate(x), "a:1");
        auto lookups = a.lookups();
        // Somebody (an operator, a failover that lost it) deletes the key.
        co_await c.del(a.host_key());
        EXPECT_TRUE(co_await eventually([&]() -> Task<bool> { co_return lost == 1; }));
        EXPECT_EQ(a.leases_lost(), 1u);
        // Registered again at once; the cache was dropped.
        EXPECT_TRUE(co_await eventually(
            [&]() -> Task<bool> { co_return co_await c.exists(a.host_key()) == 1; }));
        EXPECT_TRUE(a.lease_valid());
        EXPECT_EQ(co_await a.locate(x), "a:1");
        EXPECT_EQ(a.lookups(), lookups + 1);
        EXPECT_EQ(lost, 1);
        co_await a.stop();
    }());
}

TEST_F(RedisPlacementTest, RedisUnreachableForLongerThanTheLeaseMeansTheLeaseWasLost) {
    net_run([]() -> Task<void> {
        auto c = co_await redis::Client::connect(opts());
        auto admin = co_await redis::Client::connect(opts());
        RedisPlacement a(c, "a:1", options(300ms));
        int lost = 0;
        a.on_lease_lost = [&] { ++lost; };
        co_await a.start();
        ActorId x{"Counter", "x"};
        EXPECT_EQ(co_await a.locate(x), "a:1");
        EXPECT_TRUE(co_await a.owns(x));  // from the cache: no round trip
        // The server answers nobody but admin for 800 ms: renewals hang.
        (co_await admin.execute("CLIENT", "PAUSE", 800, "ALL")).throw_if_error();
        auto paused = corio::get_running_loop().time();
        // owns() needs no server to say no once the lease may have lapsed.
        EXPECT_TRUE(co_await eventually([&]() -> Task<bool> { co_return !co_await a.owns(x); }));
        EXPECT_EQ(lost, 1);
        EXPECT_LE(corio_test::ms_since(paused), 700);  // not waiting for the server
        EXPECT_GE(corio_test::ms_since(paused), 150);  // not before the lease could lapse
        // Once the server answers, the lease is registered again and x,
        // which nobody took, is a's again.
        EXPECT_TRUE(co_await eventually([&]() -> Task<bool> { co_return a.lease_valid(); }));
        EXPECT_TRUE(co_await a.owns(x));
        EXPECT_EQ(lost, 1);
        co_await a.stop();
    }());
}

TEST_F(RedisPlacementTest, WithoutALeaseNothingIsClaimed) {
    net_run([]() -> Task<void> {
        auto c = co_await redis::Client::connect(opts());
        RedisPlacement a(c, "a:1", options()), b(c, "b:1", options());
        ActorId x{"Counter", "x"};
        // b never started: it may not claim, but finds a live owner.
        EXPECT_THROW(co_await b.locate(x), actors::ActorUnavailable);
        co_await a.start();
        EXPECT_EQ(co_await a.locate(x), "a:1");
        EXPECT_EQ(co_await b.locate(x), "a:1");
        EXPECT_FALSE(co_await b.owns(x));
        EXPECT_THROW(RedisPlacement(c, "", options()), std::invalid_argument);
        actors::RedisPlacementOptions bad = options(100ms);
        bad.renew_every = 100ms;
        EXPECT_THROW(RedisPlacement(c, "z:1", bad), std::invalid_argument);
        co_await a.stop();
    }());
}

// Real processes: forked children, each with its own loop, connection and
// RedisPlacement, as the hosts of a cluster would be.
namespace {

// In a child: every actor located at once; each one it wins counts an
// activation in Redis, and what it was told is recorded. Exits 0 if all
// went well.
[[noreturn]] void locate_all_child(redis::ClientOptions o, std::string prefix, int index,
                                   int actors) {
    int code = 0;
    try {
        corio::run(
            [](redis::ClientOptions o, std::string prefix, int index, int actors) -> Task<void> {
                auto c = co_await redis::Client::connect(o);
                actors::RedisPlacementOptions po;
                po.prefix = prefix;
                RedisPlacement p(c, "p" + std::to_string(index) + ":1", po);
                co_await p.start();
                // Start together: wait for the parent's go.
                while (co_await c.exists(prefix + "go") == 0)
                    co_await corio::sleep(1ms);
                std::vector<ActorId> ids;
                for (int i = 0; i < actors; ++i)
                    ids.push_back(ActorId{"Counter", std::to_string(i)});
                std::vector<corio::TaskHandle<std::string>> answers;
                for (auto& id : ids)
                    answers.push_back(corio::create_task(p.locate(id)));
                for (int i = 0; i < actors; ++i) {
                    std::string owner = co_await answers[i];
                    if (owner == p.self())
                        co_await c.incr(prefix + "activations:" + ids[i].id);
                    co_await c.hset(prefix + "seen:" + std::to_string(i), p.self(), owner);
                }
                p.abandon();  // exits as a crash would: the lease lapses by itself
            }(o, prefix, index, actors));
    } catch (...) {
        code = 1;
    }
    ::_exit(code);
}

}  // namespace

TEST_F(RedisPlacementTest, ConcurrentFirstCallsFromProcessesActivateEachActorOnce) {
    const std::string prefix = options().prefix;
    constexpr int kProcs = 3, kActors = 50;
    std::vector<pid_t> children;
    for (int i = 0; i < kProcs; ++i) {
        pid_t pid = ::fork();
        if (pid == 0)
            locate_all_child(opts(), prefix, i, kActors);
        ASSERT_GT(pid, 0);
        children.push_back(pid);
    }
    net_run([&]() -> Task<void> {
        auto c = co_await redis::Client::connect(opts());
        co_await c.set(prefix + "go", 1);
    }());
    for (pid_t pid : children) {
        int status = 0;
        ::waitpid(pid, &status, 0);
        EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
    }
    net_run([&]() -> Task<void> {
        auto c = co_await redis::Client::connect(opts());
        std::map<std::string, int> per_owner;
        for (int i = 0; i < kActors; ++i) {
            auto id = std::to_string(i);
            EXPECT_EQ(co_await c.get(prefix + "activations:" + id), "1") << id;
            auto owner = co_await c.get(prefix + "place:Counter||" + id);
            CO_ASSERT_TRUE(owner.has_value());
            ++per_owner[*owner];
            // Every process was told the same owner.
            auto seen = co_await c.hgetall(prefix + "seen:" + id);
            EXPECT_EQ(seen.size(), static_cast<std::size_t>(kProcs));
            for (auto& [who, told] : seen)
                EXPECT_EQ(told, *owner) << who << " about " << id;
        }
        int total = 0;
        for (auto& [owner, n] : per_owner)
            total += n;
        EXPECT_EQ(total, kActors);
    }());
}

TEST_F(RedisPlacementTest, AKilledProcessesActorsMoveOnlyAfterItsLeaseExpires) {
    const std::string prefix = options().prefix;
    constexpr int kActors = 10;
    pid_t pid = ::fork();
    if (pid == 0) {
        // The host to kill: claims the actors, says so, renews forever.
        int code = 0;
        try {
            corio::run([](redis::ClientOptions o, std::string prefix) -> Task<void> {
                auto c = co_await redis::Client::connect(o);
                actors::RedisPlacementOptions po;
                po.prefix = prefix;
                po.lease = 300ms;
                RedisPlacement p(c, "victim:1", po);
                co_await p.start();
                for (int i = 0; i < kActors; ++i) {
                    ActorId id{"Counter", std::to_string(i)};
                    if (co_await p.locate(id) != p.self())
                        throw std::runtime_error("not claimed");
                }
                co_await c.set(prefix + "ready", 1);
                co_await corio::sleep(60s);
            }(opts(), prefix));
        } catch (...) {
            code = 1;
        }
        ::_exit(code);
    }
    ASSERT_GT(pid, 0);
    net_run([&]() -> Task<void> {
        auto c = co_await redis::Client::connect(opts());
        EXPECT_TRUE(co_await eventually(
            [&]() -> Task<bool> { co_return co_await c.exists(prefix + "ready") == 1; }, 15s));
        RedisPlacement b(c, "b:1", options(300ms));
        co_await b.start();
        std::vector<ActorId> ids;
        for (int i = 0; i < kActors; ++i)
            ids.push_back(ActorId{"Counter", std::to_string(i)});
        // The victim renews from its own process: past several leases, its
        // actors stay its own.
        co_await corio::sleep(700ms);
        for (auto& id : ids)
            EXPECT_EQ(co_await b.locate(id, std::string("victim:1")), "victim:1");
        ::kill(pid, SIGKILL);
        int status = 0;
        ::waitpid(pid, &status, 0);
        auto killed = corio::get_running_loop().time();
        std::int64_t left = co_await c.pttl(prefix + "host:victim:1");  // dead: no renewal now
        EXPECT_GT(left, 0);
        bool moved = co_await eventually([&]() -> Task<bool> {
            co_return co_await b.locate(ids[0], std::string("victim:1")) == "b:1";
        });
        EXPECT_TRUE(moved);
        // Not before the victim's key expired.
        EXPECT_GE(corio_test::ms_since(killed), left - 5);
        for (auto& id : ids)
            EXPECT_EQ(co_await b.locate(id, std::string("victim:1")), "b:1");
        co_await b.stop();
    }());
}
