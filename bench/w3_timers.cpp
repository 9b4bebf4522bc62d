// W3 timers (bench/README.md): N tasks sleep for pseudo-random 0..1000 ms delays;
// the ideal wall time is exactly 1 s. Prints one JSON line.
#include <vector>

#include "bench_common.hpp"
#include "corio/corio.hpp"

namespace {

corio::Task<void> sleeper(int ms) {
    co_await corio::sleep(std::chrono::milliseconds(ms));
}

corio::Task<void> amain(long n) {
    std::vector<int> d(static_cast<std::size_t>(n));
    unsigned long long s = 42;
    for (auto& x : d) {
        s = (s * 1103515245ULL + 12345ULL) % (1ULL << 31);
        x = static_cast<int>(s % 1001);
    }
    d[0] = 1000;
    auto t0 = bench::clock::now();
    std::vector<corio::TaskHandle<void>> tasks;
    tasks.reserve(d.size());
    for (int ms : d) {
        tasks.push_back(corio::create_task(sleeper(ms)));
    }
    co_await corio::gather(std::move(tasks));
    double wall = bench::seconds_between(t0, bench::clock::now());
    std::printf("{\"n\": %ld, \"wall_s\": %.6f, \"overhead_ms\": %.3f}\n", n, wall,
                (wall - 1.0) * 1000.0);
}

}  // namespace

int main(int argc, char** argv) {
    corio::run(amain(bench::flag(argc, argv, "--n", 100000)));
    return 0;
}
