// W4 on a LoopGroup: how in-process work scales from one loop to several.
// Every loop of a LoopGroup of --loops N runs its own W4 (4 producers x
// --k items through a Queue of capacity 1024 to 4 consumers, task_done and
// join), all at once; nothing is shared between the loops. Prints one JSON
// line with the total items per second; the scaling is the ratio of two runs
// (--loops 2 against --loops 1); docs/benchmarks.md has the commands.
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

// One loop's W4; returns the items it moved.
corio::Task<long> w4(long k) {
    corio::Queue<long> q(1024);
    long received = 0;
    std::vector<corio::TaskHandle<void>> cons;
    for (int c = 0; c < 4; ++c) {
        cons.push_back(corio::create_task(consumer(q, received)));
    }
    std::vector<corio::Task<void>> prods;
    for (int p = 0; p < 4; ++p) {
        prods.push_back(producer(q, k));
    }
    co_await corio::gather(std::move(prods));
    co_await q.join();
    for (auto& c : cons) {
        c.cancel();
    }
    co_await corio::gather_settled(cons);
    co_return received;
}

}  // namespace

int main(int argc, char** argv) {
    const long loops = bench::flag(argc, argv, "--loops", 2);
    const long k = bench::flag(argc, argv, "--k", 250000);
    corio::LoopGroup group(corio::LoopGroupOptions{.threads = static_cast<std::size_t>(loops)});
    auto t0 = bench::clock::now();
    std::vector<long> moved = group.run([k](corio::EventLoop&, std::size_t) { return w4(k); });
    double wall = bench::seconds_between(t0, bench::clock::now());
    group.join();
    long total = 0;
    for (long m : moved) {
        if (m != 4 * k) {
            std::fprintf(stderr, "w4_loop_group: a loop moved %ld of %ld items\n", m, 4 * k);
            return 1;
        }
        total += m;
    }
    std::printf("{\"loops\": %ld, \"items\": %ld, \"wall_s\": %.6f, \"items_per_s\": %.0f}\n",
                loops, total, wall, static_cast<double>(total) / wall);
    return 0;
}
