// Mirrors the tutorial 《Python中线程、进程与异步的介绍和实现》, "简单并发执行": gather
// runs task1() (2 s) and task2() (1 s) concurrently, so the shorter one
// finishes first and the whole takes 2 s.
//
//   async def main():
//       await asyncio.gather(task1(), task2())
//   asyncio.run(main())
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
    // Concurrently.
    co_await corio::gather(task1(), task2());
    std::chrono::duration<double> elapsed = loop.time() - start;
    std::printf("elapsed: %.2f s\n", elapsed.count());
}

}  // namespace

int main() {
    corio::run(amain());
}
