// Mirrors the tutorial 《异步编程》, "asyncio详解 › await 关键字 › 示例1":
// await suspends the coroutine at an IO-like wait and
// resumes it afterwards: "byebye" comes 2 s after "hello".
//
//   async def func():
//       print("hello")
//       await asyncio.sleep(2)
//       print("byebye")
//   asyncio.run(func())
#include <chrono>
#include <corio/corio.hpp>
#include <cstdio>

using namespace std::chrono_literals;

namespace {

corio::Task<> func() {
    auto& loop = corio::get_running_loop();
    const auto start = loop.time();
    std::puts("hello");
    co_await corio::sleep(2s);
    std::puts("byebye");
    std::chrono::duration<double> elapsed = loop.time() - start;
    std::printf("elapsed: %.2f s\n", elapsed.count());
}

}  // namespace

int main() {
    corio::run(func());
}
