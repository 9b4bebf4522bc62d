// A corio process hosting actors as an app under a Dapr sidecar: the actor
// endpoints on 127.0.0.1:PORT, state and reminders through the sidecar at
// $DAPR_HTTP_PORT. Driven by dapr_sidecar.py, which plays the sidecar.
//
// usage: actors_dapr_host PORT   (serves until SIGTERM or SIGINT)
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <stdexcept>
#include <string>

#include "corio/actors/dapr.hpp"
#include "corio/actors/http.hpp"
#include "corio/corio.hpp"
#include "corio/http/server.hpp"

using namespace std::chrono_literals;
using corio::Task;
namespace actors = corio::actors;
namespace web = corio::http::web;

namespace {

struct Counter : actors::Actor {
    Task<int> add(int n) {
        int v = co_await state().get_or<int>("v", 0) + n;
        state().set("v", v);
        co_return v;
    }
    Task<void> fail(std::string why) {
        throw std::runtime_error(why);
        co_return;
    }
    // Registers reminder `name` with `data`, due in `due_ms`, then every
    // `period_ms` (0: once).
    Task<void> set_reminder(std::string name, actors::Json data, int due_ms, int period_ms) {
        co_await register_reminder(std::move(name), std::move(data),
                                   std::chrono::milliseconds(due_ms),
                                   std::chrono::milliseconds(period_ms));
    }
    Task<void> forget(std::string name) { co_await unregister_reminder(std::move(name)); }
    Task<void> receive_reminder(std::string name, actors::Json data, actors::Duration due,
                                actors::Duration period) override {
        actors::Json seen;
        seen["name"] = name;
        seen["data"] = std::move(data);
        seen["due_ms"] = std::chrono::duration_cast<std::chrono::milliseconds>(due).count();
        seen["period_ms"] = std::chrono::duration_cast<std::chrono::milliseconds>(period).count();
        state().set("reminded", std::move(seen));
        co_return;
    }
    Task<void> on_deactivate() override {
        int n = co_await state().get_or<int>("deactivations", 0);
        state().set("deactivations", n + 1);
    }
};

Task<int> serve(int port) {
    auto state = std::make_shared<actors::DaprStateStore>();
    auto reminders = std::make_shared<actors::DaprReminderStore>();
    actors::RuntimeOptions options;
    options.state_store = state;
    options.reminder_store = reminders;
    options.idle_timeout = 10min;
    actors::Runtime rt(options);
    rt.register_actor<Counter>("Counter")
        .method("add", &Counter::add)
        .method("fail", &Counter::fail)
        .method("set_reminder", &Counter::set_reminder)
        .method("forget", &Counter::forget);
    web::Application app;
    actors::add_actor_routes(app, rt);
    co_await rt.start();
    std::printf("serving on %d\n", port);
    std::fflush(stdout);
    co_await web::run_app(app, "127.0.0.1", static_cast<std::uint16_t>(port), {}, 5s);
    co_await rt.stop();
    co_await state->close();
    co_await reminders->close();
    co_return 0;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s PORT\n", argv[0]);
        return 2;
    }
    return corio::run(serve(std::atoi(argv[1])));
}
