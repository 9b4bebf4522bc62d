// Dapr's virtual actors on a cluster of hosts that share a Redis server:
// each actor lives in one host at a time (RedisPlacement), its state in a
// Redis hash (RedisStateStore), and a call made in any host reaches it
// there (HttpRemote, to the other host's actor endpoints). Two hosts run
// in this one process here, each with its own runtime, port and lease, as
// two processes would. Needs a Redis server: REDIS_URL (default
// redis://127.0.0.1:6379).
//
// Python (Dapr): the same Counter, with the sidecar's placement service
// and a Redis state store component (actorStateStore: true):
//
//   class Counter(Actor, CounterInterface):
//       async def add(self, n: int) -> int:
//           v = (await self._state_manager.get_or_add_state("v", 0)) + n
//           await self._state_manager.set_state("v", v)
//           return v
//
//   proxy = ActorProxy.create("Counter", ActorId("c1"), CounterInterface)
//   await proxy.add(1)      # from whichever app instance: Dapr finds the host
#include <corio/actors/http.hpp>
#include <corio/actors/redis.hpp>
#include <corio/corio.hpp>
#include <corio/http/server.hpp>
#include <corio/redis.hpp>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

namespace actors = corio::actors;
namespace redis = corio::redis;
namespace web = corio::http::web;
using corio::Task;

struct Counter : actors::Actor {
    Task<int> add(int n) {
        int v = co_await state().get_or<int>("v", 0) + n;
        state().set("v", v);
        co_return v;
    }
};

// One host: a runtime on Redis, serving the actor endpoints on a free port.
struct Host {
    std::string name;
    web::Application app;
    std::unique_ptr<actors::Runtime> runtime;
    std::unique_ptr<web::AppServer> server;
    std::shared_ptr<actors::RedisPlacement> placement;
};

Task<void> start_host(Host& h, redis::Client client, std::string prefix) {
    h.server = std::make_unique<web::AppServer>(co_await web::serve(h.app, "127.0.0.1", 0));
    actors::RedisStoreOptions stores;
    stores.prefix = prefix;
    actors::RedisPlacementOptions placement;
    placement.prefix = prefix;
    h.placement = std::make_shared<actors::RedisPlacement>(
        client, "127.0.0.1:" + std::to_string(h.server->port()), placement);
    actors::RuntimeOptions options;
    options.state_store = std::make_shared<actors::RedisStateStore>(client, stores);
    options.reminder_store = std::make_shared<actors::RedisReminderStore>(client, stores);
    options.placement = h.placement;
    options.remote = std::make_shared<actors::HttpRemote>();
    h.runtime = std::make_unique<actors::Runtime>(options);
    h.runtime->register_actor<Counter>("Counter").method("add", &Counter::add);
    actors::add_actor_routes(h.app, *h.runtime);
    co_await h.runtime->start();
}

Task<void> stop_host(Host& h) {
    co_await h.runtime->stop();  // deactivates, gives its placements up
    co_await h.server->shutdown(std::chrono::seconds(1));
}

// Which host `c1` lives on, by name.
Task<std::string> home(redis::Client& c, const std::string& prefix, Host& a, Host& b) {
    auto owner = co_await c.get(prefix + "place:Counter||c1");
    if (owner && *owner == a.placement->self())
        co_return a.name;
    if (owner && *owner == b.placement->self())
        co_return b.name;
    co_return "nowhere";
}

Task<int> amain() {
    const char* env = std::getenv("REDIS_URL");
    redis::ClientOptions ro = redis::parse_url(env ? env : "redis://127.0.0.1:6379");
    ro.connect_attempts = 1;
    redis::Client c;
    try {
        c = co_await redis::Client::connect(ro);
    } catch (const redis::ConnectionError& e) {
        std::fprintf(stderr,
                     "no Redis server: %s\n"
                     "start one (redis-server --port 6379 --save '') or set REDIS_URL\n",
                     e.what());
        co_return 1;
    }
    // Keys of this run apart from any other's.
    const std::string prefix =
        "example:actors:" + std::to_string(co_await c.incr("example:actors:runs")) + ":";
    Host a{"a", {}, {}, {}, {}}, b{"b", {}, {}, {}, {}};
    co_await start_host(a, c, prefix);
    co_await start_host(b, c, prefix);

    auto via_a = a.runtime->proxy("Counter", "c1");
    auto via_b = b.runtime->proxy("Counter", "c1");
    std::printf("add(1) via a -> %d\n", co_await via_a.call<int>("add", 1));
    std::printf("c1 lives on %s\n", (co_await home(c, prefix, a, b)).c_str());
    std::printf("add(1) via b -> %d (forwarded to a over HTTP)\n",
                co_await via_b.call<int>("add", 1));
    std::printf("add(1) via a -> %d\n", co_await via_a.call<int>("add", 1));
    std::printf("a forwarded %llu calls, b %llu\n",
                static_cast<unsigned long long>(a.runtime->stats().forwarded_calls),
                static_cast<unsigned long long>(b.runtime->stats().forwarded_calls));

    std::printf("host a stops\n");
    co_await stop_host(a);
    std::printf("add(1) via b -> %d (activated on b, state read from Redis)\n",
                co_await via_b.call<int>("add", 1));
    std::printf("c1 lives on %s\n", (co_await home(c, prefix, a, b)).c_str());
    co_await stop_host(b);
    co_await c.del(prefix + "state:Counter||c1");
    co_return 0;
}

int main() {
    return corio::run(amain());
}
