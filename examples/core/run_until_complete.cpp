// Mirrors the tutorial 《python进阶之异步编程（基础篇）》, "asyncio 中的几个概念 ›
// 最简单的实例代码":
// run_until_complete blocks until the coroutine is done;
// asyncio.sleep suspends it without blocking the loop. Prints "Fosen" after
// 1 s. (The seed's code is mis-indented; this is the fixed version.)
//
//   async def coroutine_example():
//       await asyncio.sleep(1)
//       print('Fosen')
//   coro = coroutine_example()
//   loop = asyncio.get_event_loop()
//   loop.run_until_complete(coro)
//   loop.close()
#include <corio/corio.hpp>
#include <cstdio>

using namespace std::chrono_literals;

namespace {

corio::Task<> coroutine_example() {
    co_await corio::sleep(1s);
    std::puts("Fosen");
}

}  // namespace

int main() {
    corio::Task<> coro = coroutine_example();
    corio::EventLoop loop;
    loop.run_until_complete(std::move(coro));
    loop.close();
}
