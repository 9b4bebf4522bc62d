// Mirrors the tutorial 《异步编程》, "asyncio详解 › Task 对象 › 示例1": create_task schedules both
// coroutines at once, so awaiting the two tasks in turn still overlaps their 2 s waits: 2 s in all.
//
//   async def main():
//       print("main开始")
//       task1 = asyncio.create_task(func())
//       task2 = asyncio.create_task(func())
//       ret1 = await task1
//       ret2 = await task2
//       print(ret1, ret2)
//       print("main结束")
#include <corio/corio.hpp>
#include <cstdio>
#include <string>

using namespace std::chrono_literals;

namespace {

corio::Task<std::string> func() {
    std::puts("1");
    co_await corio::sleep(2s);
    std::puts("2");
    co_return "返回值";
}

corio::Task<> amain() {
    std::puts("main开始");

    auto task1 = corio::create_task(func());
    auto task2 = corio::create_task(func());

    // While one task waits for IO the loop switches to the other; each await
    // here waits until its task is done and takes its result.
    std::string ret1 = co_await task1;
    std::string ret2 = co_await task2;
    std::printf("%s %s\n", ret1.c_str(), ret2.c_str());
    std::puts("main结束");
}

}  // namespace

int main() {
    corio::run(amain());
}
