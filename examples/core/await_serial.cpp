// Mirrors the tutorial 《异步编程》, "asyncio详解 › await 关键字 › 示例3":
// awaiting coroutines one after another is sequential;
// await alone adds no concurrency, so the two 2 s waits take 4 s.
//
//   async def func():
//       print("执行协程函数内部代码")
//       response1 = await others()
//       print("IO 请求结束，结果为：", response1)
//       # the next line does not run before the one above is done!
//       response2 = await others()
//       print("IO 请求结束，结果为：", response2)
#include <chrono>
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
    auto& loop = corio::get_running_loop();
    const auto start = loop.time();
    std::puts("执行协程函数内部代码");
    std::string response1 = co_await others();
    std::printf("IO 请求结束，结果为： %s\n", response1.c_str());
    // This one does not start before the one above is done.
    std::string response2 = co_await others();
    std::printf("IO 请求结束，结果为： %s\n", response2.c_str());
    // 2 s + 2 s: the second await started when the first had finished.
    std::chrono::duration<double> elapsed = loop.time() - start;
    std::printf("elapsed: %.2f s\n", elapsed.count());
}

}  // namespace

int main() {
    corio::run(func());
}
