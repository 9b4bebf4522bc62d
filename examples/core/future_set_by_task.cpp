// Mirrors the tutorial 《异步编程》, "asyncio详解 › future 对象 › 示例2": a Future is a placeholder
// that another task fills with set_result, which wakes whoever awaits it. Prints 666 after 2 s.
//
//   async def set_after(fut):
//       await asyncio.sleep(2)
//       fut.set_result("666")
//   async def main():
//       loop = asyncio.get_running_loop()
//       fut = loop.create_future()
//       await loop.create_task(set_after(fut))
//       data = await fut
//       print(data)
#include <corio/corio.hpp>
#include <cstdio>
#include <string>

using namespace std::chrono_literals;

namespace {

corio::Task<> set_after(corio::Future<std::string> fut) {
    co_await corio::sleep(2s);
    fut.set_result("666");
}

corio::Task<> amain() {
    auto& loop = corio::get_running_loop();
    // A future: nothing is done with it yet.
    corio::Future<std::string> fut(loop);
    // Wait for the task that sets it, then for the future's result.
    co_await loop.create_task(set_after(fut));

    std::string data = co_await fut;
    std::puts(data.c_str());
}

}  // namespace

int main() {
    corio::run(amain());
}
