// Mirrors the tutorial's producer/consumer on a Redis queue (《python进阶之异步编程（基础篇）》 ›
// 基于 Redis 队列的生产-消费模型), with RabbitMQ as the queue: a producer puts four
// items, the main thread takes them one by one and hands a coroutine for
// each to a loop running in another thread.
//
//   def producer():
//       for i in range(4):
//           redis_conn.lpush('Fosen', str(i))
//   async def thread_example(name):
//       print('正在执行：', name)
//       await asyncio.sleep(2)
//       return '返回结果：' + name
//   producer()
//   new_loop = asyncio.new_event_loop()
//   loop_thread = Thread(target=start_thread_loop, args=(new_loop,))  # run_forever()
//   loop_thread.start()
//   while True:
//       msg = redis_conn.rpop('Fosen')
//       if msg:
//           asyncio.run_coroutine_threadsafe(thread_example('Fosen_{}'.format(msg)), new_loop)
//
// The same program as examples/redis/work_queue_thread_consumer.cpp: only
// the URL differs. With an amqp:// URL (and enable_work_queue() once) the
// WorkQueue is a durable RabbitMQ queue: put() returns once the server has
// the persistent item (publisher confirms), get() takes deliveries with
// manual acks and prefetch, and an item whose consumer dies before acking is
// delivered again. The seed polls forever; this stops when the queue stays
// empty, and waits for the four coroutines (2 s). Needs a RabbitMQ server:
// AMQP_URL (default amqp://guest:guest@127.0.0.1:5672/).
#include <chrono>
#include <corio/amqp.hpp>
#include <corio/amqp/work_queue.hpp>
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
    const char* env = std::getenv("AMQP_URL");
    auto queue =
        co_await redis::WorkQueue::open(env ? env : "amqp://guest:guest@127.0.0.1:5672/", "Fosen");
    for (int i = 0; i < 4; ++i) {  // producer()
        co_await queue.put(std::to_string(i));
    }
    std::vector<corio::ConcurrentFuture<std::string>> sent;
    while (auto msg = co_await queue.get(300ms)) {  // rpop, until empty for 300 ms
        sent.push_back(
            corio::run_coroutine_threadsafe(thread_example("Fosen_" + msg->body), new_loop));
        co_await queue.ack(*msg);
    }
    queue.close();
    co_return sent;
}

int main() {
    corio::amqp::enable_work_queue();  // amqp:// and amqps:// URLs for WorkQueue
    corio::EventLoop new_loop;
    std::thread loop_thread([&new_loop] { new_loop.run_forever(); });
    int rc = 0;
    try {
        auto sent = corio::run(consume(new_loop));
        for (auto& f : sent) {
            f.result();  // the coroutines' 2 s, side by side
        }
    } catch (const corio::amqp::ConnectionError& e) {
        std::fprintf(
            stderr,
            "no RabbitMQ server: %s\n"
            "start one (rabbitmq-server) or set AMQP_URL=amqp://USER:PASSWORD@HOST:PORT/\n",
            e.what());
        rc = 1;
    }
    new_loop.call_soon_threadsafe([&new_loop] { new_loop.stop(); });
    loop_thread.join();
    return rc;
}
