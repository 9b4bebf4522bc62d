// W2 chain (bench/README.md): create_task + await of a trivial coroutine, then a
// plain nested co_await of it. Prints one JSON line.
#include "bench_common.hpp"
#include "corio/corio.hpp"

namespace {

corio::Task<long> trivial() {
    co_return 1;
}

corio::Task<void> amain(long n_task, long n_await) {
    long acc = 0;
    auto t0 = bench::clock::now();
    for (long i = 0; i < n_task; ++i) {
        acc += co_await corio::create_task(trivial());
    }
    auto t1 = bench::clock::now();
    for (long i = 0; i < n_await; ++i) {
        acc += co_await trivial();
    }
    auto t2 = bench::clock::now();
    if (acc != n_task + n_await) {
        std::fprintf(stderr, "w2_chain: wrong sum %ld\n", acc);
        std::exit(1);
    }
    std::printf(
        "{\"n_task\": %ld, \"n_await\": %ld, \"task_ns_per_op\": %.2f, \"await_ns_per_op\": "
        "%.2f}\n",
        n_task, n_await, bench::seconds_between(t0, t1) * 1e9 / static_cast<double>(n_task),
        bench::seconds_between(t1, t2) * 1e9 / static_cast<double>(n_await));
}

}  // namespace

int main(int argc, char** argv) {
    corio::run(amain(bench::flag(argc, argv, "--n-task", 1000000),
                     bench::flag(argc, argv, "--n-await", 10000000)));
    return 0;
}
