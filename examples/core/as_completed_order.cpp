// Mirrors the tutorial 《Python中线程、进程与异步的介绍和实现》, "八、asyncio使用详解 ›
// 并发运行任务 ›
// 3. asyncio.as_completed": as_completed hands out the
// results in the order the tasks finish, not the order they were passed:
// bar (1 s), then foo (2 s).
//
//   async def foo(): await asyncio.sleep(2); return 'foo'
//   async def bar(): await asyncio.sleep(1); return 'bar'
//   for fut in asyncio.as_completed({foo(), bar()}):
//       earliest_result = await fut
//       print(earliest_result)
#include <corio/corio.hpp>
#include <cstdio>
#include <string>
#include <vector>

using namespace std::chrono_literals;

namespace {

corio::Task<std::string> foo() {
    co_await corio::sleep(2s);
    co_return "foo";
}

corio::Task<std::string> bar() {
    co_await corio::sleep(1s);
    co_return "bar";
}

corio::Task<> amain() {
    std::vector<corio::Task<std::string>> aws;
    aws.push_back(foo());
    aws.push_back(bar());
    auto ac = corio::as_completed(std::move(aws));
    while (auto fut = co_await ac.next()) {
        std::string earliest_result = co_await *fut;
        // bar first: it finishes earlier.
        std::puts(earliest_result.c_str());
    }
}

}  // namespace

int main() {
    corio::run(amain());
}
