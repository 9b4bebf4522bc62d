// Mirrors the tutorial 《异步编程》, "asyncio详解 › 事件循环": the seed describes the event loop in
// pseudocode. corio's loop is that loop: each run_once() is one pass of the seed's `while True` -
// it runs the tasks that can run now, skips the ones waiting (for I/O or, here, a timer), and drops
// the finished ones from the task list; the loop ends when the list is empty.
//
//   任务列表 = [任务1, 任务2, 任务3, ...]          # the task list
//   while True:
//       可执行的任务列表, 已完成的任务列表 = 去任务列表检查所有任务
//       for 就绪任务 in 可执行的任务列表: 执行已就绪的任务     # run the ready ones
//       for 已完成的任务 in 已完成的任务列表: 在任务列表中移除   # drop the finished
//       如果 任务列表 中的任务都已完成，则终止循环            # stop when all are done
//
// The three tasks wait 1, 2 and 3 (virtual) seconds between their steps.
#include <corio/corio.hpp>
#include <cstdio>
#include <string>
#include <vector>

using namespace std::chrono_literals;

namespace {

corio::Task<> job(std::string name, int steps, corio::Duration io) {
    for (int i = 1; i <= steps; ++i) {
        std::printf("  %s: step %d\n", name.c_str(), i);
        co_await corio::sleep(io);  // "waiting for I/O": skipped by the loop meanwhile
    }
}

}  // namespace

int main() {
    corio::EventLoop loop;
    std::vector<corio::TaskHandle<>> tasks{loop.create_task(job("task 1", 2, 1s), "task 1"),
                                           loop.create_task(job("task 2", 2, 2s), "task 2"),
                                           loop.create_task(job("task 3", 1, 3s), "task 3")};
    for (int pass = 1;; ++pass) {  // while True:
        loop.run_once();           //     run what is ready; the waiting ones are skipped
        std::string left;
        for (auto it = tasks.begin(); it != tasks.end();) {
            if (it->done()) {  // drop the finished ones from the task list
                it = tasks.erase(it);
            } else {
                left += (left.empty() ? "'" : ", '") + it->get_name() + "'";
                ++it;
            }
        }
        std::printf("pass %d at %llds: task list [%s]\n", pass,
                    static_cast<long long>(std::chrono::duration_cast<std::chrono::seconds>(
                                               loop.time().time_since_epoch())
                                               .count()),
                    left.c_str());
        if (tasks.empty()) {  // every task is done: leave the loop
            break;
        }
    }
    loop.close();
}
