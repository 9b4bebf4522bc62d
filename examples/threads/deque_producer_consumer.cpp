// Mirrors the tutorial 《python进阶之异步编程（基础篇）》, "协程中生产-消费模型设计（基于Python
// 内置双向队列）":
// the deque version of producer/consumer: the main
// thread produces a number every 2 s into a deque; a consumer thread takes
// each one and hands a coroutine for it to the loop running in a third thread.
//
//   def consumer():
//       while True:
//           if dp:
//               msg = dp.pop()
//               if msg:
//                   asyncio.run_coroutine_threadsafe(thread_example('Fosen_{}'.format(msg)),
//                   new_loop)
//   async def thread_example(name):
//       print ('正在执行：', name)
//       await asyncio.sleep(2)
//       return '返回结果：' + name
//   dp = deque()
//   new_loop = asyncio.new_event_loop()
//   loop_thread = Thread(target=start_thread_loop, args=(new_loop,))  # run_forever()
//   loop_thread.setDaemon(True)
//   loop_thread.start()
//   consumer_thread = Thread(target=consumer)
//   consumer_thread.setDaemon(True)
//   consumer_thread.start()
//   while True:
//       i = random.randint(1, 10)
//       dp.appendleft(str(i))
//       time.sleep(2)
//
// The seed's consumer body is fixed (indented). It spins
// on the deque at 100% CPU; here the deque is guarded by a mutex and the
// consumer sleeps on a condition variable until there is something to take.
// The seed produces random numbers forever; this produces two, the first
// two of the tutorial's output (6, 2), then waits for their coroutines and
// stops (4 s in all).
#include <chrono>
#include <condition_variable>
#include <corio/corio.hpp>
#include <cstdio>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;

namespace {

// The deque and its guard, shared by the producer and the consumer thread.
std::deque<std::string> dp;
std::mutex dp_mutex;
std::condition_variable dp_changed;
bool producer_done = false;

void start_thread_loop(corio::EventLoop& loop) {
    loop.run_forever();
}

corio::Task<std::string> thread_example(std::string name) {
    std::printf("正在执行： %s\n", name.c_str());
    co_await corio::sleep(2s);
    co_return "返回结果：" + name;
}

void consumer(corio::EventLoop& new_loop, std::vector<corio::ConcurrentFuture<std::string>>& sent) {
    for (;;) {
        std::unique_lock lock(dp_mutex);
        dp_changed.wait(lock, [] { return !dp.empty() || producer_done; });
        if (dp.empty()) {
            return;  // the producer is done and everything was taken
        }
        std::string msg = dp.back();  // dp.pop(): the right end, the oldest
        dp.pop_back();
        lock.unlock();
        sent.push_back(corio::run_coroutine_threadsafe(thread_example("Fosen_" + msg), new_loop));
    }
}

}  // namespace

int main() {
    corio::EventLoop new_loop;
    std::thread loop_thread(start_thread_loop, std::ref(new_loop));
    std::vector<corio::ConcurrentFuture<std::string>> sent;
    std::thread consumer_thread(consumer, std::ref(new_loop), std::ref(sent));
    for (int i : {6, 2}) {  // random.randint(1, 10)
        {
            std::lock_guard lock(dp_mutex);
            dp.push_front(std::to_string(i));  // dp.appendleft(str(i))
        }
        dp_changed.notify_one();
        std::this_thread::sleep_for(2s);
    }

    // Shut down: let the consumer finish, wait for the coroutines, stop the loop.
    {
        std::lock_guard lock(dp_mutex);
        producer_done = true;
    }
    dp_changed.notify_one();
    consumer_thread.join();
    for (auto& f : sent) {
        f.result();
    }
    new_loop.call_soon_threadsafe([&new_loop] { new_loop.stop(); });
    loop_thread.join();
}
