// Mirrors the tutorial 《异步编程》, "asyncio详解 › 事件循环": get a loop, put a task on it, and
// run the loop until the task is done. The seed's fragment leaves `task` undefined; here it is a
// task made from a coroutine that sleeps and returns a value, which run_until_complete returns.
//
//   loop = asyncio.get_event_loop()        # 去生成或获取一个事件循环
//   loop.run_until_complete(task)          # 将任务放到"任务列表"
#include <corio/corio.hpp>
#include <cstdio>

using namespace std::chrono_literals;

namespace {

corio::Task<int> func() {
    std::puts("the task runs");
    co_await corio::sleep(1s);
    co_return 42;
}

}  // namespace

int main() {
    corio::EventLoop loop;  // get a loop
    corio::TaskHandle<int> task = loop.create_task(func());
    std::printf("task done before the loop runs: %s\n", task.done() ? "True" : "False");
    int result = loop.run_until_complete(task);  // put it on the task list and run
    std::printf("task done: %s, result: %d\n", task.done() ? "True" : "False", result);
    loop.close();
}
