// Mirrors the tutorial 《异步编程》, "asyncio详解 › await 关键字 › 示例2":
// awaiting a coroutine runs it to completion and gives
// back its return value.
//
//   async def others():
//       print("start"); await asyncio.sleep(2); print("end")
//       return "返回值"
//   async def func():
//       print("执行协程函数内部代码")
//       response = await others()
//       print("IO 请求结束，结果为：", response)
//   asyncio.run(func())
#include <corio/corio.hpp>
#include <cstdio>
#include <string>

using namespace std::chrono_literals;

namespace {

corio::Task<std::string> others() {
    std::puts("start");
    co_await corio::sleep(2s);
    std::puts("end");
    co_return "返回值";
}

corio::Task<> func() {
    std::puts("执行协程函数内部代码");
    // At an IO wait the coroutine (task) is suspended, and the loop can run
    // other coroutines (tasks) meanwhile.
    std::string response = co_await others();
    std::printf("IO 请求结束，结果为： %s\n", response.c_str());
}

}  // namespace

int main() {
    corio::run(func());
}
