// A Dapr-style reminder outlives the process that registered it: the first
// process has an actor register a reminder in Redis (RedisReminderStore)
// and exits before it is due; the program then replaces itself with a new
// process image (execv, the same as a restart), whose runtime finds the
// reminder in Redis and delivers it, activating the actor there. Needs a
// Redis server: REDIS_URL (default redis://127.0.0.1:6379).
//
// Python (Dapr): the reminder is kept by Dapr's scheduler, so it fires
// even if the app restarted in between:
//
//   class Kettle(Actor, Remindable):
//       async def boil(self):
//           await self.register_reminder("ring", b"", timedelta(seconds=0.5),
//                                        timedelta(seconds=0.5))
//       async def receive_reminder(self, name, state, due_time, period, ttl):
//           ...
#include <unistd.h>

#include <corio/actors/redis.hpp>
#include <corio/corio.hpp>
#include <corio/redis.hpp>
#include <cstdio>
#include <cstdlib>
#include <string>

using namespace std::chrono_literals;
namespace actors = corio::actors;
namespace redis = corio::redis;
using corio::Task;

corio::Event* g_done = nullptr;  // set by the second ring

struct Kettle : actors::Actor {
    Task<void> boil() { co_await register_reminder("ring", actors::Json("whistle"), 500ms, 500ms); }
    Task<void> receive_reminder(std::string name, actors::Json data, actors::Duration,
                                actors::Duration) override {
        int rings = co_await state().get_or<int>("rings", 0) + 1;
        state().set("rings", rings);
        std::printf("restarted process: %s %d for %s (%s)\n", name.c_str(), rings,
                    id().str().c_str(), data.get<std::string>().c_str());
        if (rings == 2) {
            co_await unregister_reminder(name);
            std::printf("restarted process: %s unregisters '%s'\n", id().id.c_str(), name.c_str());
            g_done->set();
        }
    }
};

std::unique_ptr<actors::Runtime> make_runtime(redis::Client& c, const std::string& prefix) {
    actors::RedisStoreOptions stores;
    stores.prefix = prefix;
    actors::RuntimeOptions options;
    options.state_store = std::make_shared<actors::RedisStateStore>(c, stores);
    options.reminder_store = std::make_shared<actors::RedisReminderStore>(c, stores);
    options.reminder_poll = 100ms;
    auto rt = std::make_unique<actors::Runtime>(options);
    rt->register_actor<Kettle>("Kettle").method("boil", &Kettle::boil);
    return rt;
}

Task<int> amain(std::string* out_prefix) {
    std::string& prefix = *out_prefix;
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
    if (prefix.empty()) {
        // The first process: register, and leave before the reminder is due.
        prefix =
            "example:reminder:" + std::to_string(co_await c.incr("example:reminder:runs")) + ":";
        auto rt = make_runtime(c, prefix);
        co_await rt->start();
        co_await rt->proxy("Kettle", "kettle").call<void>("boil");
        std::printf(
            "first process: kettle registered reminder 'ring' (due in 0.5 s, then every 0.5 s)\n");
        co_await rt->stop();
        std::printf("first process: exits before it is due\n");
        std::fflush(stdout);
        co_return 2;  // main() restarts the program
    }
    corio::Event done;
    g_done = &done;
    auto rt = make_runtime(c, prefix);
    co_await rt->start();  // finds the reminder in Redis
    co_await corio::wait_for(done.wait(), 30s);
    co_await rt->stop();
    co_await c.del(prefix + "state:Kettle||kettle");
    co_return 0;
}

int main(int argc, char** argv) {
    std::string prefix = argc > 2 && std::string(argv[1]) == "--restarted" ? argv[2] : "";
    int rc = corio::run(amain(&prefix));
    if (rc != 2)
        return rc;
    // A new process image: nothing of the first one's memory survives.
    std::string flag = "--restarted";
    char* args[] = {argv[0], flag.data(), prefix.data(), nullptr};
    ::execv("/proc/self/exe", args);
    std::perror("execv");
    return 1;
}
