// Mirrors the tutorial 《异步编程》, "asyncio详解 › Task 对象 › 示例2": asyncio.wait waits for a
// group of tasks and returns the finished and the unfinished ones; with no timeout every task ends
// up in done.
//
//   tasks = [asyncio.create_task(func()), asyncio.create_task(func())]
//   done, pending = await asyncio.wait(tasks, timeout=None)
//   print(done)
//
// Python prints a set of Task reprs (main is Task-1, so they are Task-2 and
// Task-3), in no fixed order; corio returns them in the order given and the
// example prints a short description of each (support/repr.hpp).
#include <corio/corio.hpp>
#include <cstdio>
#include <string>
#include <vector>

#include "support/repr.hpp"

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

    std::vector tasks{corio::create_task(func()), corio::create_task(func())};

    // No timeout: pending is always empty.
    auto [done, pending] = co_await corio::wait(tasks, {.timeout = std::nullopt});
    std::printf("%s\n", example::set_repr(done).c_str());
    std::puts("main结束");
}

}  // namespace

int main() {
    corio::run(amain());
}
