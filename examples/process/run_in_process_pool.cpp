// Mirrors the tutorial 《Python中线程、进程与异步的介绍和实现》, "八 › 结合多进程 ›
// 方法二 loop.run_in_executor(executor, func, *args)": the thread pool
// example with a pool of three processes: six blocking calls of 0.1 s,
// awaited together with wait, take 0.2 s (two rounds of three).
//
//   def blocks(n):
//       time.sleep(0.1)
//       return n ** 2
//   async def run_blocking_tasks(executor):
//       loop = asyncio.get_event_loop()
//       blocking_tasks = [loop.run_in_executor(executor, blocks, i) for i in range(6)]
//       completed, pending = await asyncio.wait(blocking_tasks)
//       results = [t.result() for t in completed]
//       print(results)
//   executor = concurrent.futures.ProcessPoolExecutor(max_workers=3)
//   event_loop = asyncio.get_event_loop()
//   try:
//       event_loop.run_until_complete(run_blocking_tasks(executor))
//   finally:
//       event_loop.close()
//
// asyncio.wait returns sets, so Python prints the squares in a varying order;
// corio::wait keeps the order the futures were given: [0, 1, 4, 9, 16, 25].
// The elapsed time includes starting the three workers.
#include <chrono>
#include <corio/corio.hpp>
#include <corio/process.hpp>
#include <cstdio>
#include <thread>
#include <vector>

#include "support/repr.hpp"

using namespace std::chrono_literals;

namespace {

int blocks(int n) {
    std::this_thread::sleep_for(100ms);  // a blocking call
    return n * n;
}
CORIO_PROCESS_REGISTER(blocks);

corio::Task<> run_blocking_tasks(corio::process::ProcessPoolExecutor& executor) {
    auto& loop = corio::get_running_loop();
    const auto start = loop.time();
    // Run the blocking calls in the process pool.
    std::vector<corio::Future<int>> blocking_tasks;
    for (int i = 0; i < 6; ++i) {
        blocking_tasks.push_back(corio::process::run_in_executor(executor, blocks, i));
    }
    auto [completed, pending] = co_await corio::wait(std::move(blocking_tasks));
    std::vector<int> results;
    for (auto& t : completed) {
        results.push_back(t.result());
    }
    std::printf("%s\n", example::list_repr(results).c_str());
    std::chrono::duration<double> elapsed = loop.time() - start;
    std::printf("elapsed: %.2f s\n", elapsed.count());
}

}  // namespace

int main(int argc, char** argv) {
    corio::process::worker_main_if_child(argc, argv);

    corio::process::ProcessPoolExecutor executor(3);
    corio::EventLoop event_loop;
    event_loop.run_until_complete(run_blocking_tasks(executor));
    event_loop.close();
}
