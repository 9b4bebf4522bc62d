// Mirrors the tutorial 《Python中线程、进程与异步的介绍和实现》, "简单顺序执行": awaiting
// task1() (2 s) then task2() (1 s) runs them one after the other: 3 s.
//
//   async def main():
//       await task1()
//       await task2()
//   def run_main():
//       loop = asyncio.get_event_loop()
//       try:
//           loop.run_until_complete(main())
//       finally:
//           loop.close()
#include <chrono>
#include <corio/corio.hpp>
#include <cstdio>

using namespace std::chrono_literals;

namespace {

corio::Task<> task1() {
    std::puts("Task 1 started");
    co_await corio::sleep(2s);  // a slow operation
    std::puts("Task 1 completed");
}

corio::Task<> task2() {
    std::puts("Task 2 started");
    co_await corio::sleep(1s);  // a slow operation
    std::puts("Task 2 completed");
}

corio::Task<> amain() {
    auto& loop = corio::get_running_loop();
    const auto start = loop.time();
    // One after the other.
    co_await task1();
    co_await task2();
    std::chrono::duration<double> elapsed = loop.time() - start;
    std::printf("elapsed: %.2f s\n", elapsed.count());
}

void run_main() {
    corio::EventLoop loop;
    loop.run_until_complete(amain());
}  // ~EventLoop closes the loop, whatever happened: Python's finally: loop.close()

}  // namespace

int main() {
    run_main();
}
