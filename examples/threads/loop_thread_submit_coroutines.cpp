// Mirrors the tutorial 《Python中线程、进程与异步的介绍和实现》, "八 › 结合线程和进程 › 多线程 ›
// 方法三： asyncio.run_coroutine_threadsafe()": the main thread hands coroutines to a loop running
// in another thread, where they run concurrently with the loop's own tasks.
//
//   async def hello(i):
//       print("hello", i)
//       await asyncio.sleep(i)
//       return i
//   async def main():
//       tasks = [asyncio.create_task(hello(i)) for i in range(5)]
//       await asyncio.gather(*tasks)
//   def start_loop(loop):
//       asyncio.set_event_loop(loop)
//       loop.run_until_complete(main())
//   new_loop = asyncio.new_event_loop()
//   t = Thread(target=start_loop, args=(new_loop,))
//   t.start()
//   asyncio.run_coroutine_threadsafe(hello(3.5), new_loop)
//   asyncio.run_coroutine_threadsafe(hello(1.5), new_loop)
//   for i in range(10):
//       print(i)
//
// hello(3.5) and hello(1.5) end before main() does, at 4 s. Python's loop
// thread usually starts main() before the coroutines arrive; here the main
// thread waits until the loop has started (a latch the loop opens first
// thing), so hello 0..4 always come before hello 3.5 and hello 1.5. The main
// thread's 0..9 may interleave with them in any way. Python joins the thread
// at exit.
#include <chrono>
#include <corio/corio.hpp>
#include <cstdio>
#include <functional>
#include <latch>
#include <thread>
#include <vector>

namespace {

corio::Task<double> hello(double i) {
    std::printf("hello %g\n", i);
    co_await corio::sleep(std::chrono::duration<double>(i));
    co_return i;
}

corio::Task<> amain() {
    std::vector<corio::TaskHandle<double>> tasks;
    for (int i = 0; i < 5; ++i) {
        tasks.push_back(corio::create_task(hello(i)));
    }
    co_await corio::gather(tasks);
}

void start_loop(corio::EventLoop& loop, std::latch& started) {
    loop.call_soon([&started] { started.count_down(); });
    loop.run_until_complete(amain());
}

}  // namespace

int main() {
    // Create the loop in the main thread, and run it in another one.
    corio::EventLoop new_loop;
    std::latch started(1);
    std::thread t(start_loop, std::ref(new_loop), std::ref(started));
    started.wait();
    // Hand coroutines to the loop thread, which runs them concurrently.
    corio::run_coroutine_threadsafe(hello(3.5), new_loop);
    corio::run_coroutine_threadsafe(hello(1.5), new_loop);
    // The main thread is not blocked.
    for (int i = 0; i < 10; ++i) {
        std::printf("%d\n", i);
    }
    t.join();
}
