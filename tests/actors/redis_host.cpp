// One host of a corio actor cluster on Redis: a Runtime with a Counter
// actor, RedisStateStore + RedisReminderStore + RedisPlacement, HttpRemote
// to forward, and the actor endpoints on 127.0.0.1:PORT. Driven by
// redis_cluster_test.cpp, which starts several and kills some.
//
// usage: actors_redis_host REDIS_PORT PORT PREFIX LEASE_MS
//        (serves until SIGTERM or SIGINT)
//
// What the test reads back, besides the actors' state:
//   {PREFIX}activations:{id}   INCR by each on_activate
//   {PREFIX}reminded:{id}      hash: host address -> deliveries it made
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "corio/actors/http.hpp"
#include "corio/actors/redis.hpp"
#include "corio/corio.hpp"
#include "corio/http/server.hpp"
#include "corio/redis/commands.hpp"

using namespace std::chrono_literals;
using corio::Task;
namespace actors = corio::actors;
namespace redis = corio::redis;
namespace web = corio::http::web;

namespace {

redis::Client* g_redis = nullptr;
std::string g_prefix;
std::string g_self;

struct Counter : actors::Actor {
    Task<void> on_activate() override {
        co_await g_redis->incr(g_prefix + "activations:" + id().id);
    }
    Task<int> add(int n) {
        int v = co_await state().get_or<int>("v", 0) + n;
        state().set("v", v);
        co_return v;
    }
    Task<int> get() { co_return co_await state().get_or<int>("v", 0); }
    // A reminder `name` due in `due_ms`, then every `period_ms`.
    Task<void> remind(std::string name, int due_ms, int period_ms) {
        co_await register_reminder(std::move(name), actors::Json("r"),
                                   std::chrono::milliseconds(due_ms),
                                   std::chrono::milliseconds(period_ms));
    }
    Task<void> receive_reminder(std::string, actors::Json, actors::Duration,
                                actors::Duration) override {
        co_await g_redis->execute("HINCRBY", g_prefix + "reminded:" + id().id, g_self, 1);
    }
};

Task<int> serve(std::uint16_t redis_port, std::uint16_t port, std::string prefix, int lease_ms) {
    redis::ClientOptions ro;
    ro.port = redis_port;
    auto client = co_await redis::Client::connect(ro);
    g_redis = &client;
    g_prefix = prefix;
    g_self = "127.0.0.1:" + std::to_string(port);

    actors::RedisStoreOptions so;
    so.prefix = prefix;
    actors::RedisPlacementOptions po;
    po.prefix = prefix;
    po.lease = std::chrono::milliseconds(lease_ms);
    actors::HttpRemoteOptions remote_options;
    remote_options.connect_timeout = 1s;
    remote_options.call_timeout = 5s;

    actors::RuntimeOptions options;
    options.state_store = std::make_shared<actors::RedisStateStore>(client, so);
    options.reminder_store = std::make_shared<actors::RedisReminderStore>(client, so);
    options.placement = std::make_shared<actors::RedisPlacement>(client, g_self, po);
    options.remote = std::make_shared<actors::HttpRemote>(remote_options);
    options.reminder_poll = 50ms;
    options.reminder_lease = 2s;
    options.placement_timeout = 10s;
    actors::Runtime rt(options);
    rt.register_actor<Counter>("Counter")
        .method("add", &Counter::add)
        .method("get", &Counter::get)
        .method("remind", &Counter::remind);
    web::Application app;
    actors::add_actor_routes(app, rt);
    co_await rt.start();
    std::printf("ready %s\n", g_self.c_str());
    std::fflush(stdout);
    co_await web::run_app(app, "127.0.0.1", port, {}, 2s);
    co_await rt.stop();
    co_return 0;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 5) {
        std::fprintf(stderr, "usage: %s REDIS_PORT PORT PREFIX LEASE_MS\n", argv[0]);
        return 2;
    }
    return corio::run(serve(static_cast<std::uint16_t>(std::atoi(argv[1])),
                            static_cast<std::uint16_t>(std::atoi(argv[2])), argv[3],
                            std::atoi(argv[4])));
}
