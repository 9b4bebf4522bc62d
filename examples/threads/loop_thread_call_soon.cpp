// Mirrors the tutorial 《python进阶之异步编程（基础篇）》, "动态添加协程--同步方式":
// a loop runs forever in a background thread, and the main thread hands it
// plain functions with call_soon_threadsafe, without waiting for them; the
// returned Handle can cancel one before it runs.
//
//   def start_thread_loop(loop):
//       asyncio.set_event_loop(loop)
//       loop.run_forever()
//   def thread_example(name):
//       print ('正在执行：', name)
//       return '返回结果：' + name
//   new_loop = asyncio.new_event_loop()
//   t = Thread(target=start_thread_loop, args=(new_loop,))
//   t.start()
//   handle = new_loop.call_soon_threadsafe(thread_example, '1')
//   handle.cancel()
//   new_loop.call_soon_threadsafe(thread_example, '2')
//   print ('主线程不阻塞')
//   new_loop.call_soon_threadsafe(thread_example, '3')
//   print ('继续运行中...')
//
// In Python the loop thread sometimes runs callback 1 before handle.cancel()
// (1 run in 6 printed "正在执行： 1"); here the loop thread waits for a latch
// that the main thread opens right after the cancel, so 1 never runs. The
// rest is the seed's race: the main thread's lines and the loop's lines
// interleave in any way, and 2 comes before 3. The seed never stops its loop
// (it hangs); this stops it with a last threadsafe callback and joins.
#include <corio/corio.hpp>
#include <cstdio>
#include <functional>
#include <latch>
#include <string>
#include <thread>

namespace {

void start_thread_loop(corio::EventLoop& loop, std::latch& cancelled) {
    cancelled.wait();
    loop.run_forever();
}

std::string thread_example(const std::string& name) {
    std::printf("正在执行： %s\n", name.c_str());
    return "返回结果：" + name;  // the loop drops a callback's return value
}

}  // namespace

int main() {
    corio::EventLoop new_loop;
    std::latch cancelled(1);
    std::thread t(start_thread_loop, std::ref(new_loop), std::ref(cancelled));
    corio::Handle handle = new_loop.call_soon_threadsafe([] { thread_example("1"); });
    handle.cancel();
    cancelled.count_down();
    new_loop.call_soon_threadsafe([] { thread_example("2"); });
    std::puts("主线程不阻塞");
    new_loop.call_soon_threadsafe([] { thread_example("3"); });
    std::puts("继续运行中...");

    // Callbacks run in FIFO order: stop() comes after 2 and 3.
    new_loop.call_soon_threadsafe([&new_loop] { new_loop.stop(); });
    t.join();
}
