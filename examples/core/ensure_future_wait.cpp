// Mirrors the tutorial 《异步编程》, "协程 › asyncio（py3.4 装饰器）" and "协程 ›
// async / await 关键字" (the same program with
// @asyncio.coroutine / yield from and with async / await): while one
// coroutine sleeps the loop runs the other, so the two 2 s waits overlap.
//
//   async def func1():            async def func2():
//       print(1)                      print(3)
//       await asyncio.sleep(2)        await asyncio.sleep(2)
//       print(2)                      print(4)
//   tasks = [asyncio.ensure_future(func1()), asyncio.ensure_future(func2())]
//   loop = asyncio.get_event_loop()
//   loop.run_until_complete(asyncio.wait(tasks))
//
// The tasks are made on the loop before it runs, as ensure_future does at
// module level.
#include <chrono>
#include <corio/corio.hpp>
#include <cstdio>
#include <vector>

using namespace std::chrono_literals;

namespace {

corio::Task<> func1() {
    std::puts("1");
    co_await corio::sleep(2s);
    std::puts("2");
}

corio::Task<> func2() {
    std::puts("3");
    co_await corio::sleep(2s);
    std::puts("4");
}

}  // namespace

int main() {
    corio::EventLoop loop;
    std::vector tasks{loop.create_task(func1()), loop.create_task(func2())};
    const auto start = loop.time();
    loop.run_until_complete(corio::wait(tasks));
    // The two 2 s sleeps overlapped.
    std::chrono::duration<double> elapsed = loop.time() - start;
    std::printf("elapsed: %.2f s\n", elapsed.count());
}
