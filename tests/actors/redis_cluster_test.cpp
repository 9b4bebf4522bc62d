// A cluster of real processes (actors_redis_host, 2-3 at once) on one
// redis-server: exactly one activation per actor under concurrent first
// calls from every host, no lost state update when the owner is SIGKILLed
// between turns (its actors move once its lease expires), and reminders
// delivered at least once across a host kill. The test talks to the hosts
// through their actor endpoints (HttpRemote) and reads Redis directly.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "corio/actors/http.hpp"
#include "corio/actors/redis.hpp"
#include "corio/corio.hpp"
#include "corio/redis/commands.hpp"
#include "net/net_fixture.hpp"
#include "support/server_fixture.hpp"

namespace redis = corio::redis;
namespace actors = corio::actors;
using actors::ActorId;
using actors::Json;
using corio::Task;
using corio_test::net_run;
using namespace std::chrono_literals;

namespace {

corio_test::RedisServer* server = nullptr;

struct Host {
    pid_t pid = -1;
    std::string address;
};

class RedisCluster : public ::testing::Test {
protected:
    static void SetUpTestSuite() { server = new corio_test::RedisServer(); }
    static void TearDownTestSuite() {
        delete server;
        server = nullptr;
    }
    void TearDown() override {
        for (auto& h : hosts_)
            stop(h);
    }
    static redis::ClientOptions opts() {
        redis::ClientOptions o;
        o.port = server->port();
        return o;
    }
    static std::string prefix() {
        return std::string("t:") + ::testing::UnitTest::GetInstance()->current_test_info()->name() +
               ":";
    }

    // Starts a host on a free port and waits until it answers /healthz
    // (its start-up time, blocking, before the test's loop runs).
    Host& start_host(int lease_ms) {
        std::uint16_t port = corio_test::free_loopback_port();
        std::string redis_port = std::to_string(server->port());
        std::string port_s = std::to_string(port);
        std::string prefix_s = prefix();
        std::string lease_s = std::to_string(lease_ms);
        pid_t pid = ::fork();
        if (pid == 0) {
            ::prctl(PR_SET_PDEATHSIG, SIGKILL);
            ::execl(CORIO_ACTORS_REDIS_HOST, CORIO_ACTORS_REDIS_HOST, redis_port.c_str(),
                    port_s.c_str(), prefix_s.c_str(), lease_s.c_str(), nullptr);
            ::_exit(127);
        }
        hosts_.push_back(Host{pid, "127.0.0.1:" + port_s});
        auto until = std::chrono::steady_clock::now() + 15s;
        while (!corio_test::tcp_probe(port, "GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n",
                                      "HTTP/1.1 200")) {
            if (std::chrono::steady_clock::now() > until)
                throw std::runtime_error("actors_redis_host did not start");
            std::this_thread::sleep_for(10ms);
        }
        return hosts_.back();
    }
    static void kill_host(Host& h) {
        if (h.pid > 0) {
            ::kill(h.pid, SIGKILL);
            ::waitpid(h.pid, nullptr, 0);
            h.pid = -1;
        }
    }
    // SIGTERM: the host stops its runtime (gives its placements up) and
    // exits 0 - within 15 s, or it is killed and the test fails.
    static void stop(Host& h) {
        if (h.pid <= 0)
            return;
        ::kill(h.pid, SIGTERM);
        int status = 0;
        auto until = std::chrono::steady_clock::now() + 15s;
        while (::waitpid(h.pid, &status, WNOHANG) == 0) {
            if (std::chrono::steady_clock::now() > until) {
                ADD_FAILURE() << h.address << " did not stop on SIGTERM";
                ::kill(h.pid, SIGKILL);
                ::waitpid(h.pid, &status, 0);
                break;
            }
            std::this_thread::sleep_for(5ms);
        }
        EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
            << h.address << " status " << status;
        h.pid = -1;
    }

    std::vector<Host> hosts_;
};

// Calls through `address` until it hosts the actor (NotOwner: another's
// lease still holds it), for up to `limit`. Returns the result.
Task<Json> call_until_hosted(actors::HttpRemote& remote, std::string address, ActorId actor,
                             std::string method, Json body, corio::Duration limit = 10s) {
    auto until = corio::get_running_loop().time() + limit;
    for (;;) {
        try {
            co_return co_await remote.invoke(address, actor, method, body, "");
        } catch (const actors::NotOwner&) {
            if (corio::get_running_loop().time() > until)
                throw;
        }
        co_await corio::sleep(20ms);
    }
}

}  // namespace

TEST_F(RedisCluster, ConcurrentFirstCallsFromEveryHostActivateEachActorOnce) {
    std::vector<std::string> addrs;
    for (int i = 0; i < 3; ++i)
        addrs.push_back(start_host(10'000).address);
    const std::string pre = prefix();
    net_run([&]() -> Task<void> {
        auto c = co_await redis::Client::connect(opts());
        actors::HttpRemote remote;
        constexpr int kActors = 15;
        std::vector<ActorId> ids;
        for (int i = 0; i < kActors; ++i)
            ids.push_back(ActorId{"Counter", std::to_string(i)});
        // Every host gets the first call of every actor at once.
        std::vector<std::vector<corio::TaskHandle<Json>>> calls(kActors);
        for (int i = 0; i < kActors; ++i)
            for (auto& a : addrs)
                calls[i].push_back(
                    corio::create_task(remote.invoke(a, ids[i], "add", Json(1), "")));
        for (int i = 0; i < kActors; ++i) {
            int served = 0;
            for (auto& t : calls[i]) {
                try {
                    EXPECT_EQ(co_await t, Json(1));
                    ++served;
                } catch (const actors::NotOwner&) {
                }
            }
            EXPECT_EQ(served, 1) << ids[i].id;
            auto owner = co_await c.get(pre + "place:Counter||" + ids[i].id);
            CO_ASSERT_TRUE(owner.has_value());
            // The others' calls, sent to the owner, land on the one
            // activation.
            EXPECT_EQ(co_await remote.invoke(*owner, ids[i], "add", Json(1), ""), Json(2));
            EXPECT_EQ(co_await remote.invoke(*owner, ids[i], "add", Json(1), ""), Json(3));
            EXPECT_EQ(co_await c.get(pre + "activations:" + ids[i].id), "1") << ids[i].id;
        }
        co_await remote.close();
    }());
}

TEST_F(RedisCluster, AHostKilledBetweenTurnsLosesNoCommittedUpdate) {
    std::string a_addr = start_host(500).address;
    std::string b_addr = start_host(500).address;
    const std::string pre = prefix();
    net_run([&]() -> Task<void> {
        auto c = co_await redis::Client::connect(opts());
        actors::HttpRemote remote;
        ActorId k{"Counter", "k"};
        for (int i = 1; i <= 10; ++i)
            EXPECT_EQ(co_await remote.invoke(a_addr, k, "add", Json(1), ""), Json(i));
        EXPECT_EQ(co_await c.get(pre + "place:Counter||k"), a_addr);
        kill_host(hosts_[0]);  // between turns: every add above was answered
        auto killed = corio::get_running_loop().time();
        std::int64_t left = co_await c.pttl(pre + "host:" + a_addr);  // dead: no renewal now
        EXPECT_GT(left, 0);
        // b refuses (a's lease holds) until the lease expires, then takes
        // k over and sees all ten increments.
        Json v = co_await call_until_hosted(remote, b_addr, k, "add", Json(1));
        EXPECT_EQ(v, Json(11));
        EXPECT_GE(corio_test::ms_since(killed), left - 5);
        EXPECT_EQ(co_await c.get(pre + "place:Counter||k"), b_addr);
        EXPECT_EQ(co_await c.get(pre + "activations:k"), "2");
        co_await remote.close();
    }());
}

TEST_F(RedisCluster, RemindersAreDeliveredAcrossAHostKill) {
    std::string a_addr = start_host(500).address;
    std::string b_addr = start_host(500).address;
    const std::string pre = prefix();
    net_run([&]() -> Task<void> {
        auto c = co_await redis::Client::connect(opts());
        actors::HttpRemote remote;
        ActorId r{"Counter", "r"};
        const Json args = Json::array({"tick", 0, 200});
        co_await remote.invoke(a_addr, r, "remind", args, "");
        auto deliveries = [&](std::string host) -> Task<std::int64_t> {
            auto v = co_await c.execute("HGET", pre + "reminded:r", host);
            co_return v.is_null() ? 0 : std::stoll(v.to_string());
        };
        // Delivered by a, which hosts r (whichever host claimed the firing).
        auto until = corio::get_running_loop().time() + 10s;
        while (co_await deliveries(a_addr) < 2 && corio::get_running_loop().time() < until)
            co_await corio::sleep(20ms);
        EXPECT_GE(co_await deliveries(a_addr), 2);
        kill_host(hosts_[0]);
        // b takes r over once a's lease expires, and the reminder goes on.
        // (A call activates r on b first: the runtime delivers a reminder
        // only to an actor active where the poller claimed it - see the
        // report on deliver_reminder's placement path.)
        co_await call_until_hosted(remote, b_addr, r, "get", Json());
        until = corio::get_running_loop().time() + 15s;
        while (co_await deliveries(b_addr) < 2 && corio::get_running_loop().time() < until)
            co_await corio::sleep(20ms);
        EXPECT_GE(co_await deliveries(b_addr), 2);
        EXPECT_EQ(co_await c.get(pre + "place:Counter||r"), b_addr);
        co_await remote.close();
    }());
}
