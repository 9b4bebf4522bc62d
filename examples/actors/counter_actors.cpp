// The tutorial's "adding coroutines dynamically, the asynchronous way" ends
// on the remark that this is the actor model, and points at Dapr's Python
// actors. Here it is with corio::actors, in Dapr's model: work is sent to
// actors by address while the program runs; each actor is activated by its
// first call, runs one call at a time, and keeps its state between calls.
//
//   class CounterActor(Actor, CounterInterface):          # Dapr's Python SDK
//       async def _on_activate(self):
//           print(f"activate {self.id}")
//       async def add(self, n: int) -> int:
//           v = (await self._state_manager.get_or_add_state("v", 0)) + n
//           await self._state_manager.set_state("v", v)
//           return v
//
//   proxy = ActorProxy.create("Counter", ActorId("page-1"), CounterInterface)
//   await proxy.add(1)
//
// Three clients send clicks to two page counters at once; the counters see
// them one at a time and none is lost.
#include <corio/actors.hpp>
#include <corio/corio.hpp>
#include <cstdio>
#include <string>
#include <vector>

using namespace std::chrono_literals;
namespace actors = corio::actors;

struct Counter : actors::Actor {
    corio::Task<void> on_activate() override {
        std::printf("activate %s\n", id().str().c_str());
        co_return;
    }
    corio::Task<void> on_deactivate() override {
        std::printf("deactivate %s (v=%d)\n", id().str().c_str(),
                    co_await state().get_or<int>("v", 0));
    }
    corio::Task<int> add(int n) {
        int v = co_await state().get_or<int>("v", 0) + n;
        state().set("v", v);
        co_return v;
    }
};

corio::Task<void> client(actors::Runtime& rt, std::string name, std::string page, int clicks) {
    auto counter = rt.proxy("Counter", page);
    for (int i = 0; i < clicks; ++i) {
        int v = co_await counter.call<int>("add", 1);
        std::printf("%s clicked %s: now %d\n", name.c_str(), page.c_str(), v);
        co_await corio::sleep(1s);
    }
}

corio::Task<void> amain() {
    actors::Runtime rt({.idle_timeout = 10s, .scan_interval = 1s});
    rt.register_actor<Counter>("Counter").method("add", &Counter::add);
    co_await rt.start();
    co_await corio::gather(client(rt, "alice", "page-1", 3), client(rt, "bob", "page-1", 2),
                           client(rt, "carol", "page-2", 2));
    std::printf("page-1 total: %d\n", co_await rt.proxy("Counter", "page-1").call<int>("add", 0));
    co_await corio::sleep(15s);  // idle: both are deactivated, their state kept
    std::printf("page-1 after reactivation: %d\n",
                co_await rt.proxy("Counter", "page-1").call<int>("add", 0));
    co_await rt.stop();
}

int main() {
    corio::run(amain());
}
