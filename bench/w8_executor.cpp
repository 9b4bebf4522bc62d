// W8 executor (bench/README.md): 100 batches of 1,000 run_in_executor calls of a
// trivial function on a 4-thread pool, each batch gathered; then the same
// with to_thread (the pool set as the default executor). One JSON line.
#include <memory>
#include <vector>

#include "bench_common.hpp"
#include "corio/corio.hpp"

namespace {

long blocking() {
    return 1;
}

template <class Submit>
corio::Task<double> measure(long n, long batch, Submit submit) {
    auto t0 = bench::clock::now();
    for (long done = 0; done < n; done += batch) {
        std::vector<corio::Future<long>> futs;
        futs.reserve(static_cast<std::size_t>(batch));
        for (long i = 0; i < batch; ++i) {
            futs.push_back(submit());
        }
        long sum = 0;
        for (long v : co_await corio::gather(std::move(futs))) {
            sum += v;
        }
        if (sum != batch) {
            std::fprintf(stderr, "w8_executor: wrong sum %ld\n", sum);
            std::exit(1);
        }
    }
    co_return static_cast<double>(n) / bench::seconds_between(t0, bench::clock::now());
}

corio::Task<void> amain(long n, long batch, std::size_t threads) {
    auto pool = std::make_shared<corio::ThreadPoolExecutor>(threads);
    auto& loop = corio::get_running_loop();
    std::vector<corio::Future<long>> warm;
    for (int i = 0; i < 16; ++i) {
        warm.push_back(loop.run_in_executor(pool.get(), blocking));
    }
    co_await corio::gather(std::move(warm));
    double rie =
        co_await measure(n, batch, [&] { return loop.run_in_executor(pool.get(), blocking); });
    loop.set_default_executor(pool);
    double tt = co_await measure(n, batch, [] { return corio::to_thread(blocking); });
    std::printf(
        "{\"n\": %ld, \"batch\": %ld, \"threads\": %zu, \"run_in_executor_ops_s\": %.0f, "
        "\"to_thread_ops_s\": %.0f}\n",
        n, batch, threads, rie, tt);
}

}  // namespace

int main(int argc, char** argv) {
    corio::run(
        amain(bench::flag(argc, argv, "--n", 100000), bench::flag(argc, argv, "--batch", 1000), 4));
    return 0;
}
