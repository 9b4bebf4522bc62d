// Mirrors the tutorial 《Python中线程、进程与异步的介绍和实现》, "八、asyncio使用详解 ›
// 并发运行任务 ›
// 2. asyncio.wait": wait returns (done, pending), and
// return_when / timeout decide when: FIRST_COMPLETED after 1 s, ALL_COMPLETED
// after 3 s, timeout=2 after 2 s. It never cancels what is still pending.
//
//   async def foo(): await asyncio.sleep(3); return 'foo'
//   async def bar(): await asyncio.sleep(1); return 'bar'
//   done, pending = await asyncio.wait({foo(), bar()}, return_when=asyncio.FIRST_COMPLETED)
//   print(f'done: {done}'); print(f'pending: {pending}')
//   ... return_when=asyncio.ALL_COMPLETED ...
//   ... timeout=2, return_when=asyncio.ALL_COMPLETED ...
//
// The seed passes bare coroutines, which 3.11+ refuse; as in the fixed
// version run under Python, they are made tasks first, foo then bar, so the task names are fixed
// (Python's set order made them vary).
#include <chrono>
#include <corio/corio.hpp>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "support/repr.hpp"

using namespace std::chrono_literals;

namespace {

corio::Task<std::string> foo() {
    co_await corio::sleep(3s);
    co_return "foo";
}

corio::Task<std::string> bar() {
    co_await corio::sleep(1s);
    co_return "bar";
}

std::vector<corio::TaskHandle<std::string>> foo_and_bar() {
    return {corio::create_task(foo()), corio::create_task(bar())};
}

// Prints what wait() returned, and how long it took since `start`.
void print(const corio::WaitResult<corio::TaskHandle<std::string>>& r, corio::TimePoint start) {
    std::chrono::duration<double> elapsed = corio::get_running_loop().time() - start;
    std::printf("done: %s\n", example::set_repr(r.done).c_str());
    std::printf("pending: %s\n", example::set_repr(r.pending).c_str());
    std::printf("elapsed: %.2f s\n", elapsed.count());
}

corio::Task<> amain() {
    auto& loop = corio::get_running_loop();
    // Returns when one task is done: 1 s. done holds bar, pending holds foo.
    // (Every option is spelled out: GCC 12's -Wextra warns when a designated
    // initializer leaves out a member before the ones it names.)
    auto start = loop.time();
    print(co_await corio::wait(foo_and_bar(),
                               {.timeout = std::nullopt, .return_when = corio::FIRST_COMPLETED}),
          start);

    // Returns when all are done: 3 s. pending is empty.
    start = loop.time();
    print(co_await corio::wait(foo_and_bar(),
                               {.timeout = std::nullopt, .return_when = corio::ALL_COMPLETED}),
          start);

    // All of them, but for at most 2 s: done holds bar, pending holds foo.
    start = loop.time();
    print(co_await corio::wait(foo_and_bar(), {.timeout = 2s, .return_when = corio::ALL_COMPLETED}),
          start);
}

}  // namespace

int main() {
    corio::run(amain());
}
