// Cross-loop calls (W8's shape, between two loops of a LoopGroup; not one of
// the workloads of bench/README.md): a task
// on loop 0 sends a trivial coroutine to loop 1 and gets its result back.
//   sequential: one call at a time (each a full round trip: two wake-ups);
//   batched:    100 batches of 1,000 submit_to calls, each batch gathered;
//   wrap_future: the same batches as wrap_future(run_coroutine_threadsafe()),
//               asyncio's spelling, for comparison.
// On a 2-core machine the two loops own both cores. One JSON line.
#include <vector>

#include "bench_common.hpp"
#include "corio/corio.hpp"

namespace {

corio::Task<long> one() {
    co_return 1;
}

void check(long sum, long want) {
    if (sum != want) {
        std::fprintf(stderr, "loop_group_submit_to: wrong sum %ld, want %ld\n", sum, want);
        std::exit(1);
    }
}

corio::Task<double> sequential(corio::EventLoop* target, long n) {
    auto t0 = bench::clock::now();
    long sum = 0;
    for (long i = 0; i < n; ++i) {
        sum += co_await corio::submit_to(*target, one());
    }
    check(sum, n);
    co_return static_cast<double>(n) / bench::seconds_between(t0, bench::clock::now());
}

corio::Task<double> batched(corio::EventLoop* target, long n, long batch) {
    auto t0 = bench::clock::now();
    for (long done = 0; done < n; done += batch) {
        std::vector<corio::TaskHandle<long>> calls;
        calls.reserve(static_cast<std::size_t>(batch));
        for (long i = 0; i < batch; ++i) {
            calls.push_back(corio::create_task(corio::submit_to(*target, one())));
        }
        long sum = 0;
        for (long v : co_await corio::gather(std::move(calls))) {
            sum += v;
        }
        check(sum, batch);
    }
    co_return static_cast<double>(n) / bench::seconds_between(t0, bench::clock::now());
}

corio::Task<double> wrapped(corio::EventLoop* target, long n, long batch) {
    auto t0 = bench::clock::now();
    for (long done = 0; done < n; done += batch) {
        std::vector<corio::Future<long>> calls;
        calls.reserve(static_cast<std::size_t>(batch));
        for (long i = 0; i < batch; ++i) {
            calls.push_back(corio::wrap_future(corio::run_coroutine_threadsafe(one(), *target)));
        }
        long sum = 0;
        for (long v : co_await corio::gather(std::move(calls))) {
            sum += v;
        }
        check(sum, batch);
    }
    co_return static_cast<double>(n) / bench::seconds_between(t0, bench::clock::now());
}

corio::Task<void> amain(corio::LoopGroup* group, long n, long batch) {
    corio::EventLoop* target = &group->loop(1);
    co_await batched(target, 10 * batch, batch);  // warm-up: frames, threads, caches
    double seq = co_await sequential(target, n / 10);
    double bat = co_await batched(target, n, batch);
    double wrap = co_await wrapped(target, n, batch);
    std::printf(
        "{\"n\": %ld, \"batch\": %ld, \"sequential_round_trips_s\": %.0f, "
        "\"submit_to_ops_s\": %.0f, \"wrap_future_ops_s\": %.0f}\n",
        n, batch, seq, bat, wrap);
}

}  // namespace

int main(int argc, char** argv) {
    long n = bench::flag(argc, argv, "--n", 100000);
    long batch = bench::flag(argc, argv, "--batch", 1000);
    corio::LoopGroup group(corio::LoopGroupOptions{.threads = 2});
    group.run([&](corio::EventLoop&, std::size_t i) -> corio::Task<void> {
        if (i == 0) {
            return amain(&group, n, batch);
        }
        return []() -> corio::Task<void> { co_return; }();
    });
    return 0;
}
