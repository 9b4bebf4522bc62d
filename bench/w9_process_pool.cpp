// W9 process pool (bench/README.md): 2 worker processes. (a) 100,000 calls
// of add(a, b), submitted from one loop with run_in_executor and all
// awaited: calls per second. (b) 64 CPU-bound calls of about 20 ms each,
// timed on a pool of 1 worker and on a pool of 2. One JSON line.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "bench_common.hpp"
#include "corio/corio.hpp"
#include "corio/process.hpp"

namespace {

long add(long a, long b) {
    return a + b;
}

// A fixed number of rounds of a simple hash (FNV-1a over a counter).
std::uint64_t crunch(long rounds) {
    std::uint64_t h = 1469598103934665603ull;
    for (long i = 0; i < rounds; ++i) {
        h = (h ^ static_cast<std::uint64_t>(i)) * 1099511628211ull;
    }
    return h;
}

CORIO_PROCESS_REGISTER(add);
CORIO_PROCESS_REGISTER(crunch);

corio::Task<double> small_calls(corio::process::ProcessPoolExecutor& pool, long n) {
    auto t0 = bench::clock::now();
    std::vector<corio::Future<long>> futs;
    futs.reserve(static_cast<std::size_t>(n));
    for (long i = 0; i < n; ++i) {
        futs.push_back(corio::process::run_in_executor(pool, add, i, 1L));
    }
    long sum = 0;
    for (long v : co_await corio::gather(std::move(futs))) {
        sum += v;
    }
    if (sum != n * (n + 1) / 2) {
        std::fprintf(stderr, "w9_process_pool: wrong sum %ld\n", sum);
        std::exit(1);
    }
    co_return static_cast<double>(n) / bench::seconds_between(t0, bench::clock::now());
}

// The wall time of `calls` crunch(rounds) calls on `workers` processes.
corio::Task<double> cpu_batch(long workers, long calls, long rounds) {
    corio::process::ProcessPoolExecutor pool(workers);
    // Start the workers before the clock does.
    std::vector<corio::Future<long>> warm;
    for (long i = 0; i < workers; ++i) {
        warm.push_back(corio::process::run_in_executor(pool, add, i, 0L));
    }
    co_await corio::gather(std::move(warm));
    auto t0 = bench::clock::now();
    std::vector<corio::Future<std::uint64_t>> futs;
    for (long i = 0; i < calls; ++i) {
        futs.push_back(corio::process::run_in_executor(pool, crunch, rounds));
    }
    co_await corio::gather(std::move(futs));
    co_return bench::seconds_between(t0, bench::clock::now());
}

corio::Task<void> amain(long n, long cpu_calls, long rounds) {
    double per_s = 0;
    {
        corio::process::ProcessPoolExecutor pool(2);
        std::vector<corio::Future<long>> warm;
        warm.push_back(corio::process::run_in_executor(pool, add, 1L, 1L));
        warm.push_back(corio::process::run_in_executor(pool, add, 1L, 1L));
        co_await corio::gather(std::move(warm));
        per_s = co_await small_calls(pool, n);
    }
    double one = co_await cpu_batch(1, cpu_calls, rounds);
    double two = co_await cpu_batch(2, cpu_calls, rounds);
    std::printf(
        "{\"small_calls\": %ld, \"small_calls_per_s\": %.0f, \"cpu_calls\": %ld, "
        "\"cpu_wall_s_1worker\": %.3f, \"cpu_wall_s_2workers\": %.3f}\n",
        n, per_s, cpu_calls, one, two);
}

}  // namespace

int main(int argc, char** argv) {
    corio::process::worker_main_if_child(argc, argv);
    // --rounds: about 20 ms of crunch() per call on a 2020s core at -O2.
    corio::run(amain(bench::flag(argc, argv, "--n", 100000), bench::flag(argc, argv, "--cpu", 64),
                     bench::flag(argc, argv, "--rounds", 16000000)));
    return 0;
}
