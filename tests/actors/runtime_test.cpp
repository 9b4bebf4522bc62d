// The actor runtime in one process, in virtual time: activation, turns,
// state, timers, reminders, deactivation, reentrancy.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "corio/actors.hpp"
#include "corio/corio.hpp"
#include "support/loop_fixture.hpp"

using namespace std::chrono_literals;
using corio::Task;
using corio_test::vrun;
namespace actors = corio::actors;
using actors::Json;

namespace {

struct Log {
    int activations = 0;
    int deactivations = 0;
    int in_turn = 0;
    int max_in_turn = 0;
    std::vector<std::string> events;
};
Log* g_log = nullptr;

struct Account : actors::Actor {
    Task<void> on_activate() override {
        ++g_log->activations;
        co_await corio::sleep(0ms);  // activation suspends: others must queue
    }
    Task<void> on_deactivate() override {
        ++g_log->deactivations;
        g_log->events.push_back("deactivate " + id().id);
        co_return;
    }
    // Reads, suspends, writes: only safe if turns never overlap.
    Task<std::int64_t> deposit(std::int64_t amount) {
        g_log->max_in_turn = std::max(g_log->max_in_turn, ++g_log->in_turn);
        auto balance = co_await state().get_or<std::int64_t>("balance", 0);
        co_await corio::sleep(0ms);
        state().set("balance", balance + amount);
        --g_log->in_turn;
        co_return balance + amount;
    }
    Task<std::int64_t> balance() { co_return co_await state().get_or<std::int64_t>("balance", 0); }
    Task<void> fail_after_set(std::int64_t amount) {
        state().set("balance", amount);
        throw std::runtime_error("refused");
        co_return;
    }
    Task<void> slow_set(std::int64_t amount) {
        state().set("balance", amount);
        co_await corio::sleep(10s);
    }
    Task<std::string> tag(std::string who, int n) {
        g_log->events.push_back(who + std::to_string(n));
        co_return who + ":" + std::to_string(n);
    }
};

actors::Runtime& register_account(actors::Runtime& rt) {
    rt.register_actor<Account>("Account")
        .method("deposit", &Account::deposit)
        .method("balance", &Account::balance)
        .method("fail_after_set", &Account::fail_after_set)
        .method("slow_set", &Account::slow_set)
        .method("tag", &Account::tag);
    return rt;
}

class ActorRuntime : public ::testing::Test {
protected:
    void SetUp() override { g_log = &log; }
    void TearDown() override { g_log = nullptr; }
    Log log;
};

}  // namespace

TEST_F(ActorRuntime, ActivatesOnceUnderConcurrentFirstCallsAndKeepsState) {
    vrun([&]() -> Task<void> {
        actors::Runtime rt;
        register_account(rt);
        auto proxy = rt.proxy("Account", "a1");
        std::vector<corio::TaskHandle<std::int64_t>> calls;
        for (int i = 0; i < 50; ++i)
            calls.push_back(corio::create_task(proxy.call<std::int64_t>("deposit", 2)));
        for (auto& c : calls)
            co_await c;
        EXPECT_EQ(log.activations, 1);
        EXPECT_EQ(co_await proxy.call<std::int64_t>("balance"), 100);
        EXPECT_TRUE(rt.is_active({"Account", "a1"}));
        EXPECT_EQ(rt.stats().activations, 1u);
        co_await rt.stop();
        EXPECT_EQ(log.deactivations, 1);
    }());
}

TEST_F(ActorRuntime, TurnsNeverOverlapUnderTenThousandConcurrentDeposits) {
    vrun([&]() -> Task<void> {
        actors::Runtime rt;
        register_account(rt);
        auto proxy = rt.proxy("Account", "bank");
        corio::TaskGroup group;
        for (int i = 0; i < 10000; ++i)
            group.create_task(proxy.call<void>("deposit", std::int64_t{1}));
        co_await group.join();
        EXPECT_EQ(log.max_in_turn, 1);
        EXPECT_EQ(co_await proxy.call<std::int64_t>("balance"), 10000);
        co_await rt.stop();
    }());
}

TEST_F(ActorRuntime, TurnsRunInArrivalOrder) {
    vrun([&]() -> Task<void> {
        actors::Runtime rt;
        register_account(rt);
        auto proxy = rt.proxy("Account", "order");
        std::vector<corio::TaskHandle<std::string>> calls;
        for (int i = 0; i < 5; ++i)
            calls.push_back(
                corio::create_task(proxy.call<std::string>("tag", std::string("t"), i)));
        for (int i = 0; i < 5; ++i)
            EXPECT_EQ(co_await calls[i], "t:" + std::to_string(i));
        EXPECT_EQ(log.events, (std::vector<std::string>{"t0", "t1", "t2", "t3", "t4"}));
        co_await rt.stop();
    }());
}

TEST_F(ActorRuntime, AFailedTurnSavesNothing) {
    vrun([&]() -> Task<void> {
        actors::Runtime rt;
        register_account(rt);
        auto proxy = rt.proxy("Account", "f");
        co_await proxy.call<void>("deposit", std::int64_t{5});
        EXPECT_THROW(co_await proxy.call<void>("fail_after_set", std::int64_t{99}),
                     std::runtime_error);
        EXPECT_EQ(co_await proxy.call<std::int64_t>("balance"), 5);
        co_await rt.stop();
    }());
}

TEST_F(ActorRuntime, CancellingACallDuringItsTurnDropsItsChangesAndFreesTheTurn) {
    vrun([&]() -> Task<void> {
        actors::Runtime rt;
        register_account(rt);
        auto proxy = rt.proxy("Account", "c");
        co_await proxy.call<void>("deposit", std::int64_t{7});
        auto slow = corio::create_task(proxy.call<void>("slow_set", std::int64_t{1000}));
        auto queued = corio::create_task(proxy.call<void>("deposit", std::int64_t{100}));
        auto after = corio::create_task(proxy.call<std::int64_t>("deposit", std::int64_t{1}));
        co_await corio::sleep(1s);
        queued.cancel();  // waiting for its turn: leaves the queue
        slow.cancel();    // in its turn: the method is cancelled
        EXPECT_THROW(co_await slow, corio::CancelledError);
        EXPECT_THROW(co_await queued, corio::CancelledError);
        EXPECT_EQ(co_await after, 8);  // neither 1000 nor the +100 landed
        co_await rt.stop();
    }());
}

TEST_F(ActorRuntime, JsonCallsAndErrors) {
    vrun([&]() -> Task<void> {
        actors::Runtime rt;
        register_account(rt);
        auto proxy = rt.proxy("Account", "j");
        // Types that do not match the method's go through JSON.
        EXPECT_EQ(co_await proxy.call<int>("deposit", 3), 3);
        EXPECT_EQ(co_await proxy.call<Json>("deposit", 4), Json(7));
        const Json two_args = Json::array({"x", 1});
        const Json one_arg = "only one";
        EXPECT_EQ(co_await proxy.call_json("tag", two_args), Json("x:1"));
        const actors::ActorId j{"Account", "j"}, nobody{"Nobody", "x"};
        EXPECT_EQ(co_await rt.invoke_local(j, "balance", Json()), Json(7));
        EXPECT_THROW(co_await proxy.call_json("tag", one_arg), actors::ActorArgumentError);
        EXPECT_THROW(co_await proxy.call<int>("deposit", std::string("ten")),
                     actors::ActorArgumentError);
        EXPECT_THROW(co_await proxy.call<void>("nope"), actors::ActorNotFound);
        EXPECT_THROW(co_await rt.proxy("Nobody", "x").call<void>("m"), actors::ActorNotFound);
        EXPECT_THROW(co_await rt.invoke_local(nobody, "m", Json()), actors::ActorNotFound);
        EXPECT_EQ(rt.types(), std::vector<std::string>{"Account"});
        EXPECT_THROW(register_account(rt), corio::RuntimeError);
        co_await rt.stop();
    }());
}

TEST_F(ActorRuntime, IdleActorsAreDeactivatedAndComeBackWithTheirState) {
    vrun([&]() -> Task<void> {
        actors::Runtime rt({.idle_timeout = 60s, .scan_interval = 10s});
        register_account(rt);
        co_await rt.start();
        auto a = rt.proxy("Account", "idle");
        auto b = rt.proxy("Account", "busy");
        co_await a.call<void>("deposit", std::int64_t{11});
        for (int i = 0; i < 10; ++i) {  // b is called every 20 s: never idle
            co_await b.call<void>("deposit", std::int64_t{1});
            co_await corio::sleep(20s);
        }
        EXPECT_FALSE(rt.is_active({"Account", "idle"}));
        EXPECT_TRUE(rt.is_active({"Account", "busy"}));
        EXPECT_EQ(log.events, std::vector<std::string>{"deactivate idle"});
        EXPECT_EQ(co_await a.call<std::int64_t>("balance"), 11);  // from the store
        EXPECT_EQ(log.activations, 3);
        co_await rt.stop();
        EXPECT_EQ(rt.stats().active, 0u);
    }());
}

namespace {

struct Ticker : actors::Actor {
    Task<void> start(int period_s) {
        register_timer(
            "tick",
            [this](Json data) -> Task<void> {
                g_log->max_in_turn = std::max(g_log->max_in_turn, ++g_log->in_turn);
                auto n = co_await state().get_or<int>("ticks", 0);
                co_await corio::sleep(0ms);
                state().set("ticks", n + data.get<int>());
                --g_log->in_turn;
            },
            std::chrono::seconds(period_s), std::chrono::seconds(period_s), Json(1));
        co_return;
    }
    Task<void> stop() {
        unregister_timer("tick");
        co_return;
    }
    Task<int> ticks() { co_return co_await state().get_or<int>("ticks", 0); }
    Task<void> busy() {
        g_log->max_in_turn = std::max(g_log->max_in_turn, ++g_log->in_turn);
        co_await corio::sleep(3s);
        --g_log->in_turn;
    }
    Task<void> remind(std::string name, int due_s, int period_s) {
        Json data = {{"by", name}};
        co_await register_reminder(name, std::move(data), std::chrono::seconds(due_s),
                                   std::chrono::seconds(period_s));
    }
    Task<void> forget(std::string name) { co_await unregister_reminder(name); }
    Task<void> receive_reminder(std::string name, Json data, actors::Duration,
                                actors::Duration) override {
        g_log->events.push_back(id().id + " " + name + " " + data["by"].get<std::string>());
        auto n = co_await state().get_or<int>("reminded", 0);
        state().set("reminded", n + 1);
    }
    Task<int> reminded() { co_return co_await state().get_or<int>("reminded", 0); }
};

void register_ticker(actors::Runtime& rt) {
    rt.register_actor<Ticker>("Ticker")
        .method("start", &Ticker::start)
        .method("stop", &Ticker::stop)
        .method("ticks", &Ticker::ticks)
        .method("busy", &Ticker::busy)
        .method("remind", &Ticker::remind)
        .method("forget", &Ticker::forget)
        .method("reminded", &Ticker::reminded);
}

}  // namespace

TEST_F(ActorRuntime, TimersFireAsTurnsAndEndWithTheActivation) {
    vrun([&]() -> Task<void> {
        actors::Runtime rt({.idle_timeout = 100s, .scan_interval = 1s});
        register_ticker(rt);
        co_await rt.start();
        auto t = rt.proxy("Ticker", "t");
        co_await t.call<void>("start", 2);
        for (int i = 0; i < 4; ++i)
            co_await t.call<void>("busy");  // 12 s of turns the timer must not cut into
        EXPECT_EQ(log.max_in_turn, 1);
        // Due at 2 s, the first tick waits for the turn until 3 s; each tick
        // comes back 2 s after the last and waits for the turn again: 3, 6, 9, 12.
        const int ticks = co_await t.call<int>("ticks");
        EXPECT_EQ(ticks, 4);
        co_await t.call<void>("stop");
        co_await corio::sleep(10s);
        EXPECT_EQ(co_await t.call<int>("ticks"), ticks);
        // Timers end with the activation.
        co_await t.call<void>("start", 2);
        const actors::ActorId tid{"Ticker", "t"};
        EXPECT_TRUE(co_await rt.deactivate(tid));
        co_await corio::sleep(10s);
        EXPECT_EQ(co_await t.call<int>("ticks"), ticks);
        co_await rt.stop();
    }());
}

TEST_F(ActorRuntime, RemindersFireWhileTheActorIsInactiveAndSurviveARestart) {
    vrun([&]() -> Task<void> {
        auto store = std::make_shared<actors::MemoryStore>();
        {
            actors::Runtime rt({.idle_timeout = 5s,
                                .scan_interval = 1s,
                                .reminder_poll = 1s,
                                .state_store = store,
                                .reminder_store = store});
            register_ticker(rt);
            co_await rt.start();
            co_await rt.proxy("Ticker", "r").call<void>("remind", std::string("once"), 30, 0);
            co_await rt.proxy("Ticker", "r").call<void>("remind", std::string("every"), 10, 10);
            co_await corio::sleep(25s);  // idle after 5 s: the reminders wake it
            EXPECT_EQ(log.events, (std::vector<std::string>{"r every every", "r every every"}));
            co_await rt.stop();
        }
        // A new runtime on the same store (a restarted process) fires them.
        log.events.clear();
        actors::Runtime rt({.reminder_poll = 1s, .state_store = store, .reminder_store = store});
        register_ticker(rt);
        co_await rt.start();
        co_await corio::sleep(10s);
        std::vector<std::string> fired;
        for (auto& e : log.events)
            if (e.rfind("r ", 0) == 0)
                fired.push_back(e);
        EXPECT_EQ(fired, (std::vector<std::string>{"r every every", "r once once"}));
        co_await rt.proxy("Ticker", "r").call<void>("forget", std::string("every"));
        EXPECT_EQ(store->reminder_count(), 0u);
        const int n = co_await rt.proxy("Ticker", "r").call<int>("reminded");
        co_await corio::sleep(30s);
        EXPECT_EQ(co_await rt.proxy("Ticker", "r").call<int>("reminded"), n);
        EXPECT_EQ(n, 4);  // 10, 20, 30 (with "once"): every firing saved its state
        co_await rt.stop();
    }());
}

namespace {

struct Ping : actors::Actor {
    // Calls the other actor, which calls back into this one.
    Task<std::string> ping(std::string other) {
        co_return "ping>" +
            co_await runtime().proxy("Pong", other).call<std::string>("pong", id().id);
    }
    Task<std::string> hello() { co_return "hello from " + id().id; }
};
struct Pong : actors::Actor {
    Task<std::string> pong(std::string back) {
        co_return "pong>" + co_await runtime().proxy("Ping", back).call<std::string>("hello");
    }
};

void register_ping_pong(actors::Runtime& rt) {
    rt.register_actor<Ping>("Ping").method("ping", &Ping::ping).method("hello", &Ping::hello);
    rt.register_actor<Pong>("Pong").method("pong", &Pong::pong);
}

}  // namespace

TEST_F(ActorRuntime, ReentrancyLetsACallChainBackIn) {
    vrun([&]() -> Task<void> {
        actors::Runtime rt({.reentrancy = true});
        register_ping_pong(rt);
        auto out = co_await rt.proxy("Ping", "p").call<std::string>("ping", std::string("q"));
        EXPECT_EQ(out, "ping>pong>hello from p");
        EXPECT_EQ(actors::Runtime::current_call_chain(), "");
        co_await rt.stop();
    }());
}

TEST_F(ActorRuntime, WithoutReentrancyACallChainBackInWaitsForever) {
    vrun([&]() -> Task<void> {
        actors::Runtime rt;
        register_ping_pong(rt);
        EXPECT_THROW(co_await corio::wait_for(
                         rt.proxy("Ping", "p").call<std::string>("ping", std::string("q")), 60s),
                     corio::TimeoutError);
        // The timeout cancelled the chain: the actors are free again.
        EXPECT_EQ(co_await rt.proxy("Ping", "p").call<std::string>("hello"), "hello from p");
        co_await rt.stop();
    }());
}

namespace {

// Placement that always answers "here", and a Remote nobody should reach:
// the seams, for the runtime's side of a lost lease.
struct HerePlacement final : actors::Placement {
    std::string me = "here";
    const std::string& self() const noexcept override { return me; }
    Task<void> start() override { co_return; }
    Task<void> stop() override { co_return; }
    Task<std::string> locate(const actors::ActorId&, std::optional<std::string>, bool) override {
        co_return me;
    }
    Task<bool> owns(const actors::ActorId&) override { co_return true; }
    Task<void> release(const actors::ActorId&) override { co_return; }
};

struct NoRemote final : actors::Remote {
    Task<Json> invoke(const std::string&, const actors::ActorId&, std::string, Json,
                      std::string) override {
        throw actors::ActorUnavailable("no remote here");
        co_return Json();
    }
    Task<void> remind(const std::string&, const actors::ActorId&, std::string, Json) override {
        throw actors::ActorUnavailable("no remote here");
        co_return;
    }
    Task<void> close() override { co_return; }
};

}  // namespace

TEST_F(ActorRuntime, ATurnThatOutlivesItsLeaseSavesNothingAndFails) {
    vrun([&]() -> Task<void> {
        auto placement = std::make_shared<HerePlacement>();
        actors::Runtime rt({.placement = placement, .remote = std::make_shared<NoRemote>()});
        register_account(rt);
        co_await rt.start();
        auto proxy = rt.proxy("Account", "l");
        co_await proxy.call<void>("deposit", std::int64_t{7});
        auto slow = corio::create_task(proxy.call<void>("slow_set", std::int64_t{1000}));
        co_await corio::sleep(1s);
        placement->on_lease_lost();  // another process may own it now
        EXPECT_FALSE(rt.is_active({"Account", "l"}));
        EXPECT_THROW(co_await slow, actors::ActorUnavailable);
        // A new activation reads what the store holds: the 1000 never landed.
        EXPECT_EQ(co_await proxy.call<std::int64_t>("balance"), 7);
        EXPECT_EQ(log.activations, 2);
        co_await rt.stop();
    }());
}
