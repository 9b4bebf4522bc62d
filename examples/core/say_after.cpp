// Mirrors the tutorial 《Python中线程、进程与异步的介绍和实现》, "八、asyncio使用详解 ›
// 三种运行方式":
// awaiting coroutines directly runs them one after the
// other (3 s); wrapping them in tasks first runs them concurrently (2 s).
//
//   async def say_after(delay, what):
//       await asyncio.sleep(delay); print(what); return delay
//   async def main():
//       print(f"started at {time.strftime('%X')}")
//       result1 = await say_after(2, 'hello'); result2 = await say_after(1, 'world')
//       print(result1, result2)
//       task1 = asyncio.create_task(say_after(2, 'hello2'))
//       task2 = asyncio.create_task(say_after(1, 'world2'))
//       result3 = await task1; result4 = await task2
//       print(result3, result4)
//       print(f"finished at {time.strftime('%X')}")
//
// The clock times are the wall clock at start plus the loop's elapsed time,
// so "finished" is 5 s after "started" on virtual time too.
#include <corio/corio.hpp>
#include <cstdio>
#include <ctime>
#include <string>

using namespace std::chrono_literals;

namespace {

corio::Task<int> say_after(int delay, std::string what) {
    co_await corio::sleep(std::chrono::seconds(delay));
    std::puts(what.c_str());
    co_return delay;
}

corio::Task<> amain() {
    auto& loop = corio::get_running_loop();
    const auto wall_start = std::chrono::system_clock::now();
    const auto loop_start = loop.time();
    auto strftime_X = [&] {  // time.strftime('%X')
        auto now = wall_start + std::chrono::duration_cast<std::chrono::system_clock::duration>(
                                    loop.time() - loop_start);
        std::time_t t = std::chrono::system_clock::to_time_t(now);
        char buf[16];
        std::strftime(buf, sizeof buf, "%X", std::localtime(&t));
        return std::string(buf);
    };

    std::printf("started at %s\n", strftime_X().c_str());
    // Awaited directly: the two run one after the other.
    int result1 = co_await say_after(2, "hello");
    int result2 = co_await say_after(1, "world");
    std::printf("%d %d\n", result1, result2);
    // Wrapped in tasks first: the two run concurrently.
    auto task1 = corio::create_task(say_after(2, "hello2"));
    auto task2 = corio::create_task(say_after(1, "world2"));
    int result3 = co_await task1;
    int result4 = co_await task2;
    std::printf("%d %d\n", result3, result4);
    std::printf("finished at %s\n", strftime_X().c_str());
}

}  // namespace

int main() {
    corio::run(amain());  // asyncio.run(main())
}
