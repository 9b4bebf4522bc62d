// Mirrors the tutorial 《异步编程》, "asyncio详解 › concurrent.future.Future 对象
// (线程池与协程交叉使用)" with its two commented-out variants switched on: the
// same blocking func() run by run_in_executor on the default executor, on a
// custom thread pool and on a custom process pool. (The default-executor
// line alone is the example run_in_default_executor.) Here the three run at
// once, with gather, so the three 2 s sleeps take 2 s.
//
//   def func():
//       time.sleep(2)
//       return "aa"
//   async def main():
//       loop = asyncio.get_running_loop()
//       fut = loop.run_in_executor(None, func)
//       res = await fut
//       # 2. run in a custom thread pool:
//       # with concurrent.futures.ThreadPoolExecutor() as pool:
//       #     res = await loop.run_in_executor(pool, func)
//       # 3. run in a custom process pool:
//       # with concurrent.futures.ProcessPoolExecutor() as pool:
//       #     res = await loop.run_in_executor(pool, func)
//
// A process pool runs functions registered by name (CORIO_PROCESS_REGISTER)
// in worker processes started from this same program.
#include <chrono>
#include <corio/corio.hpp>
#include <corio/process.hpp>
#include <cstdio>
#include <string>
#include <thread>

#include "support/clock.hpp"

using namespace std::chrono_literals;

namespace {

std::string func() {
    std::this_thread::sleep_for(2s);  // blocks its thread or worker process, not the loop
    return "aa";
}
CORIO_PROCESS_REGISTER(func);

corio::Task<> amain() {
    auto& loop = corio::get_running_loop();
    corio::ThreadPoolExecutor threads;                 // ThreadPoolExecutor()
    corio::process::ProcessPoolExecutor processes(1);  // ProcessPoolExecutor()
    example::Stopwatch watch;
    auto [a, b, c] = co_await corio::gather(
        loop.run_in_executor(nullptr, func),                // 1. the default executor
        loop.run_in_executor(&threads, func),               // 2. a custom thread pool
        corio::process::run_in_executor(processes, func));  // 3. a custom process pool
    std::printf("default thread pool %s\n", a.c_str());
    std::printf("custom thread pool %s\n", b.c_str());
    std::printf("custom process pool %s\n", c.c_str());
    std::printf("all three after %.0f s\n", watch.seconds());
    processes.shutdown();
}

}  // namespace

int main(int argc, char** argv) {
    corio::process::worker_main_if_child(argc, argv);
    corio::run(amain());
}
