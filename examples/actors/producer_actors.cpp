// The tutorial's producer/consumer on a deque: a producer makes a random
// number every 2 s, and a consumer thread turns each into a coroutine on a
// loop. Recast as actors: the producer sends each number to the actor of
// its bucket (number % 3), so the numbers of one bucket are handled one at
// a time and in order, while different buckets run at once. Each actor
// keeps a running count and sum in its state.
//
//   while True:
//       task = random.randint(1, 100)       # the tutorial's producer
//       dq.append(task)
//       time.sleep(2)
#include <corio/actors.hpp>
#include <corio/corio.hpp>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

using namespace std::chrono_literals;
namespace actors = corio::actors;

struct Bucket : actors::Actor {
    corio::Task<std::string> handle(int number) {
        int count = co_await state().get_or<int>("count", 0) + 1;
        int sum = co_await state().get_or<int>("sum", 0) + number;
        co_await corio::sleep(3s);  // slower than the producer: calls queue up
        state().set("count", count);
        state().set("sum", sum);
        co_return id().id + " got " + std::to_string(number) + " (count " + std::to_string(count) +
            ", sum " + std::to_string(sum) + ")";
    }
};

corio::Task<void> send(actors::Runtime& rt, int number) {
    auto bucket = rt.proxy("Bucket", "bucket-" + std::to_string(number % 3));
    std::string reply = co_await bucket.call<std::string>("handle", number);
    auto t = std::chrono::duration_cast<std::chrono::seconds>(
        corio::get_running_loop().time().time_since_epoch());
    std::printf("t=%2llds %s\n", static_cast<long long>(t.count()), reply.c_str());
}

corio::Task<void> amain() {
    actors::Runtime rt;
    rt.register_actor<Bucket>("Bucket").method("handle", &Bucket::handle);
    std::minstd_rand rng(2024);
    std::uniform_int_distribution<int> pick(1, 100);
    corio::TaskGroup tg;
    for (int i = 0; i < 8; ++i) {
        int number = pick(rng);
        auto t = std::chrono::duration_cast<std::chrono::seconds>(
            corio::get_running_loop().time().time_since_epoch());
        std::printf("t=%2llds produced %d\n", static_cast<long long>(t.count()), number);
        tg.create_task(send(rt, number));  // added while the loop runs
        co_await corio::sleep(2s);
    }
    co_await tg.join();
    co_await rt.stop();
}

int main() {
    corio::run(amain());
}
