// Mirrors the tutorial 《Python中线程、进程与异步的介绍和实现》, "八 › 结合线程和进程 › 多线程 ›
// 方法四： loop.run_in_executor(executor, func, *args)": six blocking calls of 0.1 s go to a pool
// of three threads and are awaited together: 0.2 s in all (two rounds of three), not 0.6 s.
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
//   executor = concurrent.futures.ThreadPoolExecutor(max_workers=3)
//   event_loop = asyncio.get_event_loop()
//   try:
//       event_loop.run_until_complete(run_blocking_tasks(executor))
//   finally:
//       event_loop.close()
//
// asyncio.wait returns sets, so Python prints the squares in a varying order;
// corio::wait keeps the order the futures were given: [0, 1, 4, 9, 16, 25].
#include <chrono>
#include <corio/corio.hpp>
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

corio::Task<> run_blocking_tasks(corio::ThreadPoolExecutor& executor) {
    auto& loop = corio::get_running_loop();
    const auto start = loop.time();
    // Run the blocking calls in the pool.
    std::vector<corio::Future<int>> blocking_tasks;
    for (int i = 0; i < 6; ++i) {
        blocking_tasks.push_back(loop.run_in_executor(&executor, blocks, i));
    }
    auto [completed, pending] = co_await corio::wait(std::move(blocking_tasks));
    std::vector<int> results;
    for (auto& t : completed) {
        results.push_back(t.result());
    }
    std::printf("%s\n", example::list_repr(results).c_str());
    // Six 0.1 s calls, three at a time: 0.2 s, not 0.6.
    std::chrono::duration<double> elapsed = loop.time() - start;
    std::printf("elapsed: %.2f s\n", elapsed.count());
}

}  // namespace

int main() {
    corio::ThreadPoolExecutor executor(3);
    corio::EventLoop event_loop;
    // The loop's destructor closes it if run_until_complete throws (the finally).
    event_loop.run_until_complete(run_blocking_tasks(executor));
    event_loop.close();
}
