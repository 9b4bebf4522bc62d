// Mirrors the tutorial's producer/consumer on a Redis queue (《python进阶之异步编程（基础篇）》 ›
// 基于 Redis 队列的生产-消费模型): a producer lpushes four items, the main
// thread takes them one by one and hands a coroutine for each to a loop
// running in another thread.
//
//   def producer():
//       for i in range(4):
//           redis_conn.lpush('Fosen', str(i))
//   async def thread_example(name):
//       print('正在执行：', name)
//       await asyncio.sleep(2)
//       return '返回结果：' + name
//   redis_conn = get_redis()            # redis.Redis(connection_pool=...)
//   producer()
//   new_loop = asyncio.new_event_loop()
//   loop_thread = Thread(target=start_thread_loop, args=(new_loop,))  # run_forever()
//   loop_thread.start()
//   while True:
//       msg = redis_conn.rpop('Fosen')
//       if msg:
//           asyncio.run_coroutine_threadsafe(thread_example('Fosen_{}'.format(msg)), new_loop)
//
// The queue is a WorkQueue: in this process by default (memory://, so the
// tour runs it without a server), on Redis when CORIO_QUEUE_URL names one
// (CORIO_QUEUE_URL=redis://127.0.0.1:6379): the same program, across
// machines. Unlike rpop, an item is acked once handed over, and one whose
// consumer dies first is delivered again. The seed polls forever; this stops
// when the queue stays empty, and waits for the four coroutines (2 s).
#include <chrono>
#include <corio/corio.hpp>
#include <corio/redis.hpp>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
namespace redis = corio::redis;

corio::Task<std::string> thread_example(std::string name) {
    std::printf("正在执行： %s\n", name.c_str());
    std::fflush(stdout);
    co_await corio::sleep(2s);
    co_return "返回结果：" + name;
}

corio::Task<std::vector<corio::ConcurrentFuture<std::string>>> consume(corio::EventLoop& new_loop) {
    const char* env = std::getenv("CORIO_QUEUE_URL");
    auto queue = co_await redis::WorkQueue::open(env ? env : "memory://", "Fosen");
    for (int i = 0; i < 4; ++i) {  // producer()
        co_await queue.put(std::to_string(i));
    }
    std::vector<corio::ConcurrentFuture<std::string>> sent;
    while (auto msg = co_await queue.get(100ms)) {  // rpop, until empty for 100 ms
        sent.push_back(
            corio::run_coroutine_threadsafe(thread_example("Fosen_" + msg->body), new_loop));
        co_await queue.ack(*msg);
    }
    queue.close();
    co_return sent;
}

int main() {
    corio::EventLoop new_loop;
    std::thread loop_thread([&new_loop] { new_loop.run_forever(); });
    auto sent = corio::run(consume(new_loop));
    for (auto& f : sent) {
        f.result();  // the coroutines' 2 s, side by side
    }
    new_loop.call_soon_threadsafe([&new_loop] { new_loop.stop(); });
    loop_thread.join();
}
