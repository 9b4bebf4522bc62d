// Mirrors the tutorial 《异步编程》, "Task 对象": a task
// can be given a name when it is created; get_name() and set_name() read and
// change it, and it shows in the task's repr and in every report about it
// (an exception never retrieved, the task dump). Unnamed tasks are Task-N.
//
//   asyncio.create_task(func(), name="apple")
#include <corio/corio.hpp>
#include <cstdio>

#include "support/repr.hpp"

namespace {

corio::Task<> func() {
    co_await corio::sleep(std::chrono::seconds(1));
}

corio::Task<> amain() {
    auto apple = corio::create_task(func(), "apple");
    auto unnamed = corio::create_task(func());
    std::printf("%s\n", example::repr(apple).c_str());
    std::printf("%s\n", unnamed.get_name().c_str());
    unnamed.set_name("pear");
    co_await apple;
    co_await unnamed;
    std::printf("%s\n", example::repr(apple).c_str());
    std::printf("%s\n", example::repr(unnamed).c_str());
}

}  // namespace

int main() {
    corio::run(amain());
}
