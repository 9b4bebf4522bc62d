// Mirrors the tutorial 《python进阶之异步编程（基础篇）》,
// "动态添加协程--异步方式（actor模型即为这种模式）":
// run_coroutine_threadsafe schedules a coroutine on a
// loop running in another thread and returns a concurrent future, which the
// caller may block on (result()) or not.
//
//   async def thread_example(name):
//       print ('正在执行：', name)
//       await asyncio.sleep(1)
//       return '返回结果：' + name
//   new_loop = asyncio.new_event_loop()
//   t = Thread(target=start_thread_loop, args=(new_loop,))   # run_forever()
//   t.setDaemon(True)
//   t.start()
//   future = asyncio.run_coroutine_threadsafe(thread_example('1'), new_loop)
//   print (future.result())
//   asyncio.run_coroutine_threadsafe(thread_example('2'), new_loop)
//   print ('主线程不阻塞')
//   asyncio.run_coroutine_threadsafe(thread_example('3'), new_loop)
//   print ('继续运行中...')
//
// 返回结果：1 comes 1 s after 正在执行： 1. Then the main thread's two lines
// and the loop's 正在执行： 2 / 3 interleave in any way. Python's program ends
// right there, killing its daemon loop thread, so 2 and 3 print or not at
// random; this main thread waits for them (2 s in all), then stops the loop.
#include <chrono>
#include <corio/corio.hpp>
#include <cstdio>
#include <functional>
#include <string>
#include <thread>

using namespace std::chrono_literals;

namespace {

void start_thread_loop(corio::EventLoop& loop) {
    loop.run_forever();
}

corio::Task<std::string> thread_example(std::string name) {
    std::printf("正在执行： %s\n", name.c_str());
    co_await corio::sleep(1s);
    co_return "返回结果：" + name;
}

}  // namespace

int main() {
    corio::EventLoop new_loop;
    std::thread t(start_thread_loop, std::ref(new_loop));
    auto future = corio::run_coroutine_threadsafe(thread_example("1"), new_loop);
    std::puts(future.result().c_str());  // blocks this thread for 1 s
    auto f2 = corio::run_coroutine_threadsafe(thread_example("2"), new_loop);
    std::puts("主线程不阻塞");
    auto f3 = corio::run_coroutine_threadsafe(thread_example("3"), new_loop);
    std::puts("继续运行中...");

    f2.result();
    f3.result();
    new_loop.call_soon_threadsafe([&new_loop] { new_loop.stop(); });
    t.join();
}
