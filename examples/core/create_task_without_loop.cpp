// Mirrors the tutorial 《异步编程》, "asyncio详解 › Task 对象 › 示例3（会报错）":
// tasks can only be created while an event loop runs.
// Python ends with a traceback, "RuntimeError: no running event loop", and
// warns that coroutine 'func' was never awaited; here the error is caught and
// printed (corio's debug mode, CORIO_DEBUG=1, also reports the coroutine that
// was never awaited).
//
//   tasks = [
//       asyncio.create_task(func()),
//       asyncio.create_task(func())
//   ]
//   done, pending = asyncio.run(asyncio.wait(tasks))
#include <corio/corio.hpp>
#include <cstdio>
#include <exception>
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

}  // namespace

int main() {
    try {
        std::vector tasks{corio::create_task(func()), corio::create_task(func())};
        auto [done, pending] = corio::run(corio::wait(tasks));  // never reached
    } catch (...) {
        std::printf("the tutorial's error, on purpose: %s\n",
                    corio::describe_exception(std::current_exception()).c_str());
    }
}
