// Mirrors the tutorial 《AsyncIO实现Python异步并发》, "事件循环异步", async_loop.py: the same two 2
// s jobs as async.py, driven through an explicit event loop object instead of asyncio.run: the same
// concurrency, 2 s.
//
//   loop = asyncio.get_event_loop()
//   start = time.perf_counter()
//   loop.run_until_complete(main())
//   elapsed = time.perf_counter() - start
//   print(f"{__file__} executed in {elapsed:0.2f} seconds.")
#include <corio/corio.hpp>
#include <cstdio>

using namespace std::chrono_literals;

namespace {

corio::Task<> async_print() {
    std::puts("Hello");
    co_await corio::sleep(2s);
    std::puts("World");
}

corio::Task<> amain() {
    co_await corio::gather(async_print(), async_print());
}

}  // namespace

int main() {
    corio::EventLoop loop;
    auto start = loop.time();  // the loop's clock, as perf_counter around the run
    loop.run_until_complete(amain());
    std::chrono::duration<double> elapsed = loop.time() - start;
    std::printf("sync_vs_async_loop executed in %0.2f seconds.\n", elapsed.count());
}
