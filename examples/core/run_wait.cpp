// Mirrors the tutorial 《异步编程》, "asyncio详解 › Task 对象 › 示例4":
// asyncio.run(asyncio.wait([func(), func()])): the two coroutines run concurrently.
//
//   tasks = [func(), func()]
//   done, pending = asyncio.run(asyncio.wait(tasks))
//
// Python 3.8-3.10 wrap the bare coroutines in tasks inside wait(); 3.11+
// refuse them ("Passing coroutines is forbidden, use tasks explicitly").
// corio::wait() takes tasks only, as 3.11+ does (a vector of Task<> does not
// compile), so the coroutine given to run() makes the tasks itself.
#include <corio/corio.hpp>
#include <cstdio>
#include <string>
#include <vector>

using namespace std::chrono_literals;

namespace {

corio::Task<std::string> func() {
    std::puts("1");
    co_await corio::sleep(2s);
    std::puts("2");
    co_return "返回值";
}

corio::Task<> wait_funcs() {
    std::vector tasks{corio::create_task(func()), corio::create_task(func())};
    auto [done, pending] = co_await corio::wait(tasks);
}

}  // namespace

int main() {
    corio::run(wait_funcs());
}
