// W4 queue (bench/README.md): 4 producers x 250,000 items through a Queue of
// capacity 1024 to 4 consumers, with task_done/join. Prints one JSON line.
#include <vector>

#include "bench_common.hpp"
#include "corio/corio.hpp"

namespace {

corio::Task<void> consumer(corio::Queue<long>& q, long& received) {
    for (;;) {
        (void)co_await q.get();
        ++received;
        q.task_done();
    }
}

corio::Task<void> producer(corio::Queue<long>& q, long k) {
    for (long i = 0; i < k; ++i) {
        co_await q.put(i);
    }
}

corio::Task<void> amain(long producers, long consumers, long k) {
    corio::Queue<long> q(1024);
    long received = 0;
    auto t0 = bench::clock::now();
    std::vector<corio::TaskHandle<void>> cons;
    for (long c = 0; c < consumers; ++c) {
        cons.push_back(corio::create_task(consumer(q, received)));
    }
    std::vector<corio::Task<void>> prods;
    for (long p = 0; p < producers; ++p) {
        prods.push_back(producer(q, k));
    }
    co_await corio::gather(std::move(prods));
    co_await q.join();
    double wall = bench::seconds_between(t0, bench::clock::now());
    for (auto& c : cons) {
        c.cancel();
    }
    co_await corio::gather_settled(cons);
    if (received != producers * k) {
        std::fprintf(stderr, "w4_queue: received %ld of %ld items\n", received, producers * k);
        std::exit(1);
    }
    std::printf("{\"items\": %ld, \"wall_s\": %.6f, \"items_per_s\": %.0f}\n", producers * k, wall,
                static_cast<double>(producers * k) / wall);
}

}  // namespace

int main(int argc, char** argv) {
    corio::run(amain(4, 4, bench::flag(argc, argv, "--k", 250000)));
    return 0;
}
