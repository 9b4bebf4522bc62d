// Mirrors the tutorial 《Python中线程、进程与异步的介绍和实现》, "八、asyncio使用详解 › 回调": a
// done callback runs on the loop, with the finished task as its argument, once the task completes
// (before `await task` returns in main).
//
//   def callback(task):
//       print(task, "done")
//   async def hello():
//       print("hello")
//       await asyncio.sleep(0)
//   async def main():
//       task = asyncio.create_task(hello())
//       task.add_done_callback(callback)
//       await task
//
// Python prints the Task's repr; corio's is a short description of name,
// state and result (support/repr.hpp).
#include <corio/corio.hpp>
#include <cstdio>

#include "support/repr.hpp"

namespace {

void callback(corio::TaskHandle<> task) {
    std::printf("%s done\n", example::repr(task).c_str());
}

corio::Task<> hello() {
    std::puts("hello");
    co_await corio::sleep(std::chrono::seconds(0));
}

corio::Task<> amain() {
    auto task = corio::create_task(hello());
    task.add_done_callback(callback);
    co_await task;
}

}  // namespace

int main() {
    corio::run(amain());
}
