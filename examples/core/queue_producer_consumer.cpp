// Mirrors the tutorial 《Python中线程、进程与异步的介绍和实现》, "八、asyncio使用详解 › 队列",
// the asyncio.Queue version of producer/consumer: two producer tasks put
// items into a queue, three consumer tasks take them; main waits for the
// producers, then for every item to be processed (join), then cancels the
// consumers, which wait forever otherwise. 11 s in all.
//
//   async def randsleep(a: int = 1, b: int = 5, caller=None) -> None:
//       i = await randint(a, b)
//       if caller:
//           print(f"{caller} sleeping for {i} seconds.")
//       await asyncio.sleep(i)
//   async def produce(name: int, q: asyncio.Queue) -> None:
//       n = await randint(1, 5)
//       for _ in it.repeat(None, n):
//           await randsleep(caller=f"Producer {name}")
//           i = await makeitem()          # os.urandom(5).hex()
//           t = time.perf_counter()
//           await q.put((i, t))
//           print(f"Producer {name} added <{i}> to queue.")
//   async def consume(name: int, q: asyncio.Queue) -> None:
//       while True:
//           await randsleep(caller=f"Consumer {name}")
//           i, t = await q.get()
//           now = time.perf_counter()
//           print(f"Consumer {name} got element <{i}>"
//                 f" in {now - t:0.5f} seconds.")
//           q.task_done()
//   async def main(nprod: int, ncon: int):
//       q = asyncio.Queue()
//       producers = [asyncio.create_task(produce(n, q)) for n in range(nprod)]
//       consumers = [asyncio.create_task(consume(n, q)) for n in range(ncon)]
//       await asyncio.gather(*producers)
//       await q.join()
//       for c in consumers:
//           c.cancel()
//   random.seed(444)
//   start = time.perf_counter()
//   asyncio.run(main(2, 3))
//   elapsed = time.perf_counter() - start
//   print(f"Program completed in {elapsed:0.5f} seconds.")
//
// Determinism: randint() returns, in call order, what CPython's
// random.randint(1, 5) returns after random.seed(444): 3, 3, 1, 3, 4, 3, 3,
// 5, 4, 5, 3, 4, 1 (a run under CPython), so the item counts and
// sleeps are the seed's. os.urandom cannot be replayed: makeitem() returns
// the items of that run in order. Times come from the loop's
// clock (virtual under test), so the waits print as 0.00000 s and the total
// as 11.00000 s; Python's show a few microseconds more.
//
// The subtle moment is at 8 s: Producer 0 puts an item while Consumer 0 has
// waited in get() since 4 s, and Consumer 2 wakes from its sleep at that same
// moment. The put wakes Consumer 0, but Consumer 2 runs first and takes the
// item, and Consumer 0 waits again (it never gets an item) - in corio exactly
// as in asyncio.
//
// asyncio.run cancels and awaits leftover tasks after main returns; here the
// queue lives in main's frame, so main awaits the cancelled consumers itself.
#include <chrono>
#include <corio/corio.hpp>
#include <cstddef>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace {

corio::Task<std::string> makeitem() {
    static const char* const recorded[] = {"b8cd8511c6", "8e34b78890", "6a971efc35", "143013b697"};
    static std::size_t next = 0;
    co_return recorded[next++ % 4];
}

corio::Task<int> randint(int /*a*/, int /*b*/) {  // random.randint after random.seed(444)
    static const int recorded[] = {3, 3, 1, 3, 4, 3, 3, 5, 4, 5, 3, 4, 1};
    static std::size_t next = 0;
    if (next == std::size(recorded)) {
        throw std::logic_error("randint: more calls than the recorded run made");
    }
    co_return recorded[next++];
}

double perf_counter() {  // seconds on the loop's clock
    return std::chrono::duration<double>(corio::get_running_loop().time().time_since_epoch())
        .count();
}

corio::Task<> randsleep(int a, int b, const std::string& caller) {
    int i = co_await randint(a, b);
    std::printf("%s sleeping for %d seconds.\n", caller.c_str(), i);
    co_await corio::sleep(std::chrono::seconds(i));
}

using Item = std::pair<std::string, double>;  // (item, time it was put)

corio::Task<> produce(int name, corio::Queue<Item>& q) {
    int n = co_await randint(1, 5);
    for (int k = 0; k < n; ++k) {
        co_await randsleep(1, 5, "Producer " + std::to_string(name));
        std::string i = co_await makeitem();
        double t = perf_counter();
        co_await q.put({i, t});
        std::printf("Producer %d added <%s> to queue.\n", name, i.c_str());
    }
}

corio::Task<> consume(int name, corio::Queue<Item>& q) {
    for (;;) {
        co_await randsleep(1, 5, "Consumer " + std::to_string(name));
        auto [i, t] = co_await q.get();
        double now = perf_counter();
        std::printf("Consumer %d got element <%s> in %0.5f seconds.\n", name, i.c_str(), now - t);
        q.task_done();
    }
}

corio::Task<double> amain(int nprod, int ncon) {
    const double start = perf_counter();
    corio::Queue<Item> q;
    std::vector<corio::TaskHandle<void>> producers;
    for (int n = 0; n < nprod; ++n) {
        producers.push_back(corio::create_task(produce(n, q)));
    }
    std::vector<corio::TaskHandle<void>> consumers;
    for (int n = 0; n < ncon; ++n) {
        consumers.push_back(corio::create_task(consume(n, q)));
    }
    co_await corio::gather(producers);  // wait for the producers to finish
    co_await q.join();                  // wait until every item was processed
    for (auto& c : consumers) {         // cancel the consumers
        c.cancel();
    }
    co_await corio::wait(consumers);  // they use q: let them finish before it goes
    co_return perf_counter() - start;
}

}  // namespace

int main() {
    double elapsed = corio::run(amain(2, 3));
    std::printf("Program completed in %0.5f seconds.\n", elapsed);
}
