// W1 spawn (bench/README.md): N tasks park on one shared Event, then are woken and
// gathered. Prints one JSON line.
#include <vector>

#include "bench_common.hpp"
#include "corio/corio.hpp"

namespace {

corio::Task<void> waiter(corio::Event& ev) {
    co_await ev.wait();
}

corio::Task<void> amain(long n) {
    corio::Event ev;
    std::vector<corio::TaskHandle<void>> tasks;
    tasks.reserve(static_cast<std::size_t>(n));
    long rss_before = bench::rss_kb();
    auto t0 = bench::clock::now();
    for (long i = 0; i < n; ++i) {
        tasks.push_back(corio::create_task(waiter(ev)));
    }
    co_await corio::sleep(std::chrono::seconds(0));
    auto t1 = bench::clock::now();
    long rss_parked = bench::rss_kb();
    ev.set();
    co_await corio::gather(std::move(tasks));
    auto t2 = bench::clock::now();
    double spawn_park = bench::seconds_between(t0, t1);
    double wake_gather = bench::seconds_between(t1, t2);
    double total = spawn_park + wake_gather;
    std::printf(
        "{\"n\": %ld, \"total_s\": %.6f, \"ns_per_task\": %.1f, \"spawn_park_s\": %.6f, "
        "\"wake_gather_s\": %.6f, \"rss_before_kb\": %ld, \"rss_parked_kb\": %ld, "
        "\"bytes_per_task\": %.1f}\n",
        n, total, total * 1e9 / static_cast<double>(n), spawn_park, wake_gather, rss_before,
        rss_parked, static_cast<double>(rss_parked - rss_before) * 1024.0 / static_cast<double>(n));
}

}  // namespace

int main(int argc, char** argv) {
    corio::run(amain(bench::flag(argc, argv, "--n", 200000)));
    return 0;
}
