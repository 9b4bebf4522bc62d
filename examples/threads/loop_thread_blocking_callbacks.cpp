// Mirrors the tutorial 《Python中线程、进程与异步的介绍和实现》, "八 › 结合线程和进程 › 多线程 ›
// 方法二： loop.call_soon_threadsafe()": the main thread hands plain functions to a loop running in
// another thread; they run there one after the other, and a blocking one stalls that loop, not the
// main thread.
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
//   def more_work(x):
//       print('More work {}'.format(x))
//       time.sleep(x)
//       print('Finished more work {}'.format(x))
//   new_loop = asyncio.new_event_loop()
//   t = Thread(target=start_loop, args=(new_loop,))
//   t.start()
//   new_loop.call_soon_threadsafe(more_work, 1)
//   new_loop.call_soon_threadsafe(more_work, 3)
//   for i in range(10):
//       print(i)
//
// more_work(1) then more_work(3) block the loop thread for 4 s, during which
// the hello tasks' timers come due; main() ends at 4 s. Python's loop thread
// usually starts main() before the callbacks arrive, and then the hello lines
// come first; if not, the More-work lines do. Here the main thread waits
// until the loop has started (a latch the loop opens first thing), so the
// loop's lines always come in the first order. The main thread's 0..9 may
// interleave with them in any way. Python joins the thread at exit.
#include <chrono>
#include <corio/corio.hpp>
#include <cstdio>
#include <functional>
#include <latch>
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

void start_loop(corio::EventLoop& loop, std::latch& started) {
    loop.call_soon([&started] { started.count_down(); });
    loop.run_until_complete(amain());
}

void more_work(int x) {
    std::printf("More work %d\n", x);
    std::this_thread::sleep_for(std::chrono::seconds(x));  // blocks the loop's thread
    std::printf("Finished more work %d\n", x);
}

}  // namespace

int main() {
    // Create the loop in the main thread, and run it in another one.
    corio::EventLoop new_loop;
    std::latch started(1);
    std::thread t(start_loop, std::ref(new_loop), std::ref(started));
    started.wait();
    // Register callbacks from the main thread; the loop thread runs them in order.
    new_loop.call_soon_threadsafe([] { more_work(1); });
    new_loop.call_soon_threadsafe([] { more_work(3); });
    // The main thread is not blocked.
    for (int i = 0; i < 10; ++i) {
        std::printf("%d\n", i);
    }
    t.join();
}
