// Mirrors the tutorial 《Python中线程、进程与异步的介绍和实现》, "八 › 结合线程和进程 › 多线程 ›
// 方法一：启动一个 子线程，在子线程中运行异步代码": an event loop runs in a child thread, so the
// main thread goes on with its own work meanwhile.
//
//   async def hello(i):
//       print("hello", i)
//       await asyncio.sleep(i)
//       return i
//   async def main():
//       tasks = [asyncio.create_task(hello(i)) for i in range(5)]
//       await asyncio.gather(*tasks)
//   def async_main():
//       asyncio.run(main())
//   t = Thread(target=async_main)
//   t.start()
//   for i in range(3):
//       print(i)
//
// The two threads' lines interleave in any way (each thread's own lines keep
// their order). Python joins the thread at exit, when hello(4) is done: 4 s.
#include <chrono>
#include <corio/corio.hpp>
#include <cstdio>
#include <thread>
#include <vector>

namespace {

corio::Task<int> hello(int i) {
    std::printf("hello %d\n", i);
    co_await corio::sleep(std::chrono::seconds(i));
    co_return i;
}

corio::Task<> amain() {
    std::vector<corio::TaskHandle<int>> tasks;
    for (int i = 0; i < 5; ++i) {
        tasks.push_back(corio::create_task(hello(i)));
    }
    co_await corio::gather(tasks);
}

void async_main() {
    corio::run(amain());  // a loop of this thread's own
}

}  // namespace

int main() {
    // Run the asynchronous tasks in a child thread...
    std::thread t(async_main);
    // ...which does not get in the main thread's way.
    for (int i = 0; i < 3; ++i) {
        std::printf("%d\n", i);
    }
    t.join();
}
