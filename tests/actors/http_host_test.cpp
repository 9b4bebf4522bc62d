// The actor endpoints (Dapr's app API) driven through corio's HTTP client
// against a served Application, and two runtimes in one process on two
// ports forwarding calls to each other through HttpRemote, with a fixed
// placement (a table of who hosts what).
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <stdexcept>
#include <string>

#include "actors/outcome.hpp"
#include "corio/actors/http.hpp"
#include "corio/corio.hpp"
#include "corio/http/client.hpp"
#include "corio/http/server.hpp"
#include "net/net_fixture.hpp"

using namespace std::chrono_literals;
using corio::Task;
namespace actors = corio::actors;
namespace web = corio::http::web;
using actors::ActorId;
using actors::Json;
using corio::http::ClientResponse;
using corio::http::ClientSession;
using corio::http::Headers;
using corio_test::net_run;

namespace {

// What the actors saw, for the tests to check.
struct Seen {
    int deactivations = 0;
    int ticks = 0;
    std::string reminder;
    Json reminder_data;
    actors::Duration due{}, period{};
};
Seen seen;

struct Counter : actors::Actor {
    Task<int> add(int n) {
        int v = co_await state().get_or<int>("v", 0) + n;
        state().set("v", v);
        co_return v;
    }
    Task<int> get() { co_return co_await state().get_or<int>("v", 0); }
    Task<std::string> pair(int n, std::string s) { co_return s + std::to_string(n); }
    Task<void> fail(std::string why) {
        state().set("v", -1);  // dropped: the turn throws
        throw std::runtime_error(why);
        co_return;
    }
    Task<void> start_timer() {
        register_timer(
            "tick",
            [](Json) -> Task<void> {
                ++seen.ticks;
                co_return;
            },
            1h);
        co_return;
    }
    Task<void> receive_reminder(std::string name, Json data, actors::Duration due,
                                actors::Duration period) override {
        seen.reminder = std::move(name);
        seen.reminder_data = std::move(data);
        seen.due = due;
        seen.period = period;
        co_return;
    }
    Task<void> on_deactivate() override {
        ++seen.deactivations;
        co_return;
    }
};

// Ping x -> y -> x -> ...: "x" lives on one runtime, "y" on the other, so
// each hop is a forwarded call back into an actor whose turn the chain holds.
struct Ping : actors::Actor {
    Task<int> ping(int n) {
        if (n == 0)
            co_return 0;
        std::string other = id().id == "x" ? "y" : "x";
        co_return 1 + co_await runtime().proxy("Ping", other).call<int>("ping", n - 1);
    }
};

// Only on one of the two runtimes of the forwarding tests.
struct Echo : actors::Actor {
    Task<Json> echo(Json v) { co_return v; }
};

void register_counter(actors::Runtime& rt) {
    rt.register_actor<Counter>("Counter")
        .method("add", &Counter::add)
        .method("get", &Counter::get)
        .method("pair", &Counter::pair)
        .method("fail", &Counter::fail)
        .method("start_timer", &Counter::start_timer);
}

std::string base(const web::AppServer& s) {
    return "http://127.0.0.1:" + std::to_string(s.port());
}

Json parse(const std::string& body) {
    return body.empty() ? Json() : Json::parse(body);
}

Json field(const Json& j, const std::string& name) {
    return j.at(name);
}

// One runtime serving the endpoints; body(session, base URL, runtime).
template <class F>
void with_host(F body, actors::RuntimeOptions options = {}) {
    seen = Seen{};
    net_run([](F body, actors::RuntimeOptions options) -> Task<void> {
        actors::Runtime rt(std::move(options));
        register_counter(rt);
        web::Application app;
        actors::add_actor_routes(app, rt);
        web::AppServer server = co_await web::serve(app, "127.0.0.1", 0);
        ClientSession session;
        co_await body(session, base(server), rt);
        co_await session.close();
        co_await rt.stop();
        co_await server.shutdown(1s);
    }(std::move(body), std::move(options)));
}

Headers chain_header(std::string chain) {
    Headers h;
    h.add("Dapr-Reentrancy-Id", chain);
    return h;
}

Task<ClientResponse> put(ClientSession& s, std::string url, std::string body,
                         Headers headers = {}) {
    co_return co_await s.put(std::move(url), std::move(body), std::move(headers));
}

}  // namespace

TEST(ActorRoutes, DaprConfigListsTypesAndDurations) {
    actors::RuntimeOptions o;
    o.idle_timeout = 90s;
    o.reentrancy = true;
    with_host(
        [](ClientSession& s, std::string url, actors::Runtime&) -> Task<void> {
            ClientResponse r = co_await s.get(url + "/dapr/config");
            EXPECT_EQ(r.status(), 200);
            Json j = parse(r.body());
            EXPECT_EQ(field(j, "entities"), Json(std::vector<std::string>{"Counter"}));
            EXPECT_EQ(field(j, "actorIdleTimeout"), Json("1m30s"));
            EXPECT_EQ(field(j, "actorScanInterval"), Json("30s"));
            EXPECT_EQ(field(j, "drainOngoingCallTimeout"), Json("60s"));
            EXPECT_EQ(field(j, "drainRebalancedActors"), Json(true));
            EXPECT_EQ(field(field(j, "reentrancy"), "enabled"), Json(true));
            r = co_await s.get(url + "/healthz");
            EXPECT_EQ(r.status(), 200);
        },
        o);
}

TEST(ActorRoutes, InvokesMethodsWithJsonBodies) {
    with_host([](ClientSession& s, std::string url, actors::Runtime& rt) -> Task<void> {
        ClientResponse r = co_await put(s, url + "/actors/Counter/c1/method/add", "5");
        EXPECT_EQ(r.status(), 200);
        EXPECT_EQ(parse(r.body()), Json(5));
        r = co_await put(s, url + "/actors/Counter/c1/method/add", "3");
        EXPECT_EQ(parse(r.body()), Json(8));
        // Several arguments: a JSON array.
        r = co_await put(s, url + "/actors/Counter/c1/method/pair", R"([7, "n"])");
        EXPECT_EQ(r.status(), 200);
        EXPECT_EQ(parse(r.body()), Json("n7"));
        // No arguments: the body is ignored, an empty one too.
        r = co_await put(s, url + "/actors/Counter/c1/method/get", "");
        EXPECT_EQ(parse(r.body()), Json(8));
        // An id with a space, percent-encoded on the wire.
        r = co_await put(s, url + "/actors/Counter/a%20b/method/add", "1");
        EXPECT_EQ(parse(r.body()), Json(1));
        EXPECT_TRUE(rt.is_active(ActorId{"Counter", "a b"}));
        // The reentrancy id comes back.
        r = co_await put(s, url + "/actors/Counter/c1/method/get", "", chain_header("chain-9"));
        EXPECT_EQ(r.headers().get("Dapr-Reentrancy-Id", ""), "chain-9");
    });
}

TEST(ActorRoutes, AnswersErrorsAsDaprDoes) {
    with_host([](ClientSession& s, std::string url, actors::Runtime&) -> Task<void> {
        ClientResponse r = co_await put(s, url + "/actors/Nope/x/method/add", "1");
        EXPECT_EQ(r.status(), 404);
        EXPECT_EQ(r.headers().get("X-DaprErrorResponseHeader", ""), "true");
        EXPECT_EQ(field(parse(r.body()), "errorCode"), Json("ERR_ACTOR_NOT_FOUND"));
        r = co_await put(s, url + "/actors/Counter/c1/method/nosuch", "1");
        EXPECT_EQ(r.status(), 404);
        // Arguments that do not convert, and a body that is not JSON.
        r = co_await put(s, url + "/actors/Counter/c1/method/add", R"("five")");
        EXPECT_EQ(r.status(), 400);
        EXPECT_EQ(field(parse(r.body()), "errorCode"), Json("ERR_ACTOR_ARGUMENT"));
        r = co_await put(s, url + "/actors/Counter/c1/method/add", "{5");
        EXPECT_EQ(r.status(), 400);
        r = co_await put(s, url + "/actors/Counter/c1/method/pair", "[1]");
        EXPECT_EQ(r.status(), 400);
        // The method threw: 500 with its message; its state change dropped.
        r = co_await put(s, url + "/actors/Counter/c1/method/add", "4");
        r = co_await put(s, url + "/actors/Counter/c1/method/fail", R"("no funds")");
        EXPECT_EQ(r.status(), 500);
        EXPECT_EQ(r.headers().get("X-DaprErrorResponseHeader", ""), "true");
        Json err = parse(r.body());
        EXPECT_EQ(field(err, "errorCode"), Json("ERR_ACTOR_INVOKE_METHOD"));
        EXPECT_EQ(field(err, "message"), Json("no funds"));
        r = co_await put(s, url + "/actors/Counter/c1/method/get", "");
        EXPECT_EQ(parse(r.body()), Json(4));
        // Only PUT invokes.
        r = co_await s.get(url + "/actors/Counter/c1/method/get");
        EXPECT_EQ(r.status(), 405);
    });
}

TEST(ActorRoutes, TimerAndReminderCallbacks) {
    with_host([](ClientSession& s, std::string url, actors::Runtime&) -> Task<void> {
        // A timer fires only on an activation that registered it.
        ClientResponse r = co_await put(s, url + "/actors/Counter/c1/method/timer/tick", "");
        EXPECT_EQ(r.status(), 404);
        co_await put(s, url + "/actors/Counter/c1/method/start_timer", "");
        r = co_await put(s, url + "/actors/Counter/c1/method/timer/tick",
                         R"({"callback": "tick", "data": null, "dueTime": "1h", "period": ""})");
        EXPECT_EQ(r.status(), 200);
        EXPECT_EQ(seen.ticks, 1);
        // Dapr's reminder body, with both duration forms.
        r = co_await put(s, url + "/actors/Counter/c2/method/remind/wake",
                         R"({"data": {"n": 3}, "dueTime": "0h0m9s0ms", "period": "PT1M"})");
        EXPECT_EQ(r.status(), 200);
        EXPECT_EQ(seen.reminder, "wake");
        EXPECT_EQ(field(seen.reminder_data, "n"), Json(3));
        EXPECT_EQ(seen.due, 9s);
        EXPECT_EQ(seen.period, 60s);
        r = co_await put(s, url + "/actors/Counter/c2/method/remind/wake",
                         R"({"dueTime": "soon"})");
        EXPECT_EQ(r.status(), 400);
        r = co_await put(s, url + "/actors/Nope/c2/method/remind/wake", "{}");
        EXPECT_EQ(r.status(), 404);
    });
}

TEST(ActorRoutes, DeleteDeactivates) {
    with_host([](ClientSession& s, std::string url, actors::Runtime& rt) -> Task<void> {
        co_await put(s, url + "/actors/Counter/c1/method/add", "6");
        EXPECT_TRUE(rt.is_active(ActorId{"Counter", "c1"}));
        ClientResponse r = co_await s.delete_(url + "/actors/Counter/c1");
        EXPECT_EQ(r.status(), 200);
        EXPECT_FALSE(rt.is_active(ActorId{"Counter", "c1"}));
        EXPECT_EQ(seen.deactivations, 1);
        // Not active: still 200, nothing deactivated.
        r = co_await s.delete_(url + "/actors/Counter/c1");
        EXPECT_EQ(r.status(), 200);
        EXPECT_EQ(seen.deactivations, 1);
        r = co_await s.delete_(url + "/actors/Nope/c1");
        EXPECT_EQ(r.status(), 404);
        // The state was saved: a new activation reads it.
        r = co_await put(s, url + "/actors/Counter/c1/method/get", "");
        EXPECT_EQ(parse(r.body()), Json(6));
    });
}

// --------------------------------------------------------------------------
// Forwarding between two runtimes

namespace {

// The placement seam as a fixed table: an actor lives where the table says,
// else here. Nothing to start or renew.
class FixedPlacement final : public actors::Placement {
public:
    std::string self_;
    std::map<std::string, std::string> where;  // id -> address
    const std::string& self() const noexcept override { return self_; }
    Task<void> start() override { co_return; }
    Task<void> stop() override { co_return; }
    Task<std::string> locate(const ActorId& actor, std::optional<std::string>, bool) override {
        auto it = where.find(actor.id);
        co_return it == where.end() ? self_ : it->second;
    }
    Task<bool> owns(const ActorId& actor) override {
        auto it = where.find(actor.id);
        co_return it == where.end() || it->second == self_;
    }
    Task<void> release(const ActorId&) override { co_return; }
};

struct Node {
    std::shared_ptr<FixedPlacement> placement = std::make_shared<FixedPlacement>();
    std::shared_ptr<actors::HttpRemote> remote = std::make_shared<actors::HttpRemote>();
    std::unique_ptr<actors::Runtime> rt;
    web::Application app;
    std::optional<web::AppServer> server;

    explicit Node(bool with_echo, bool reentrancy = false) {
        actors::RuntimeOptions o;
        o.reentrancy = reentrancy;
        o.placement = placement;
        o.remote = remote;
        o.placement_timeout = 300ms;
        rt = std::make_unique<actors::Runtime>(std::move(o));
        register_counter(*rt);
        rt->register_actor<Ping>("Ping").method("ping", &Ping::ping);
        if (with_echo)
            rt->register_actor<Echo>("Echo").method("echo", &Echo::echo);
        actors::add_actor_routes(app, *rt);
    }
    Task<void> start() {
        server.emplace(co_await web::serve(app, "127.0.0.1", 0));
        placement->self_ = "127.0.0.1:" + std::to_string(server->port());
    }
    Task<void> stop() {
        co_await rt->stop();
        co_await server->shutdown(1s);
    }
};

template <class F>
void with_two_nodes(F body, bool reentrancy = false) {
    seen = Seen{};
    net_run([](F body, bool reentrancy) -> Task<void> {
        Node a(false, reentrancy), b(true, reentrancy);
        co_await a.start();
        co_await b.start();
        // "b*" ids live on B, "a*" ids on A, whichever runtime is asked.
        for (const char* id : {"b1", "b2", "y"}) {
            a.placement->where[id] = b.placement->self();
            b.placement->where[id] = b.placement->self();
        }
        for (const char* id : {"a1", "x"}) {
            a.placement->where[id] = a.placement->self();
            b.placement->where[id] = a.placement->self();
        }
        co_await body(a, b);
        co_await a.stop();
        co_await b.stop();
    }(std::move(body), reentrancy));
}

// What a call threw, as "<kind>: <what>", or its result as JSON text.
Task<std::string> outcome(actors::ActorProxy p, std::string method, Json body) {
    std::exception_ptr error;
    try {
        Json out = co_await p.call_json(std::move(method), std::move(body));
        co_return out.dump();
    } catch (...) {
        error = std::current_exception();
    }
    co_return corio_test::describe_actor_error(error);
}

using corio_test::starts_with;

}  // namespace

TEST(ActorForwarding, CallsReachTheHostingRuntimeBothWays) {
    with_two_nodes([](Node& a, Node& b) -> Task<void> {
        // A asks for b1: it runs on B.
        int v = co_await a.rt->proxy("Counter", "b1").call<int>("add", 5);
        EXPECT_EQ(v, 5);
        v = co_await a.rt->proxy("Counter", "b1").call<int>("add", 2);
        EXPECT_EQ(v, 7);
        EXPECT_TRUE(b.rt->is_active(ActorId{"Counter", "b1"}));
        EXPECT_FALSE(a.rt->is_active(ActorId{"Counter", "b1"}));
        EXPECT_EQ(a.rt->stats().forwarded_calls, 2u);
        // B sees the same actor locally.
        EXPECT_EQ(co_await b.rt->proxy("Counter", "b1").call<int>("get"), 7);
        // And B asks for a1, which runs on A.
        EXPECT_EQ(
            co_await b.rt->proxy("Counter", "a1").call<std::string>("pair", 1, std::string("x")),
            "x1");
        EXPECT_TRUE(a.rt->is_active(ActorId{"Counter", "a1"}));
        // A type registered only on B is reachable from A.
        Json echoed = co_await a.rt->proxy("Echo", "b2").call<Json>("echo", Json::object());
        EXPECT_TRUE(echoed.is_object());
        // One pooled connection carried A's calls.
        EXPECT_EQ(a.remote->connections_opened(), 1u);
    });
}

TEST(ActorForwarding, RemoteErrorsComeBackAsActorErrors) {
    with_two_nodes([](Node& a, Node&) -> Task<void> {
        actors::ActorProxy b1 = a.rt->proxy("Counter", "b1");
        std::string r = co_await outcome(b1, "fail", Json("overdrawn"));
        EXPECT_EQ(r, "ActorMethodError: overdrawn");
        r = co_await outcome(b1, "add", Json("five"));
        EXPECT_TRUE(starts_with(r, "ActorArgumentError: ")) << r;
        r = co_await outcome(a.rt->proxy("Echo", "b2"), "nosuch", Json());
        EXPECT_TRUE(starts_with(r, "ActorNotFound: ")) << r;
        // The typed path reports the same.
        std::string typed = "none";
        try {
            co_await b1.call<void>("fail", std::string("again"));
        } catch (const actors::ActorMethodError& e) {
            typed = e.what();
        }
        EXPECT_EQ(typed, "again");
    });
}

TEST(ActorForwarding, HostThatDoesNotOwnAnswersNotOwner) {
    with_two_nodes([](Node& a, Node& b) -> Task<void> {
        // A's placement says b1 is B's: a forwarded call for it to A fails.
        actors::HttpRemote remote;
        const ActorId b1{"Counter", "b1"};
        std::string what = "none";
        try {
            co_await remote.invoke(a.placement->self(), b1, "get", Json(), "");
        } catch (const actors::NotOwner& e) {
            what = e.what();
        }
        EXPECT_NE(what, "none");
        EXPECT_FALSE(a.rt->is_active(b1));
        // B owns it and answers.
        Json v = co_await remote.invoke(b.placement->self(), b1, "get", Json(), "");
        EXPECT_EQ(v, Json(0));
        co_await remote.close();
    });
}

TEST(ActorForwarding, DeadOwnerIsActorUnavailable) {
    with_two_nodes([](Node& a, Node&) -> Task<void> {
        corio::net::Socket holder;
        std::uint16_t port = corio_test::refused_port(holder);
        a.placement->where["gone"] = "127.0.0.1:" + std::to_string(port);
        std::string r = co_await outcome(a.rt->proxy("Counter", "gone"), "get", Json());
        EXPECT_TRUE(starts_with(r, "ActorUnavailable: ")) << r;
        holder.close();
    });
}

TEST(ActorForwarding, ReentrantChainCrossesProcessesBothWays) {
    with_two_nodes(
        [](Node& a, Node& b) -> Task<void> {
            // x (on A) -> y (on B) -> x (on A, its turn still held) -> y -> x:
            // the call chain travels in Dapr-Reentrancy-Id each way.
            int hops = co_await a.rt->proxy("Ping", "x").call<int>("ping", 4);
            EXPECT_EQ(hops, 4);
            EXPECT_TRUE(a.rt->is_active(ActorId{"Ping", "x"}));
            EXPECT_TRUE(b.rt->is_active(ActorId{"Ping", "y"}));
            EXPECT_EQ(a.rt->stats().forwarded_calls, 2u);
            EXPECT_EQ(b.rt->stats().forwarded_calls, 2u);
        },
        /*reentrancy=*/true);
}
