// Mirrors the tutorial 《AsyncIO实现Python异步并发》, "异步版本(asynchronous version)", async.py:
// two coroutines that each sleep 2 s finish together.
//
//   async def async_print():
//       print("Hello"); await asyncio.sleep(2); print("World")
//   async def main():
//       await asyncio.gather(async_print(), async_print())
//   ... print(f"{__file__} executed in {elapsed:0.2f} seconds.")
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
    auto& loop = corio::get_running_loop();
    auto start = loop.time();
    co_await corio::gather(async_print(), async_print());
    std::chrono::duration<double> elapsed = loop.time() - start;
    std::printf("sync_vs_async_async executed in %0.2f seconds.\n", elapsed.count());
}

}  // namespace

int main() {
    corio::run(amain());
}
