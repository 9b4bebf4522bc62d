// Mirrors the tutorial 《Python中线程、进程与异步的介绍和实现》, "八、asyncio使用详解 ›
// 并发运行任务 ›
// 1. asyncio.gather": gather returns the results in
// argument order; with return_exceptions=True an exception takes its place
// in the list, with False the first exception is raised.
//
//   async def foo(): return 'foo'
//   async def bar(): raise RuntimeError('fake runtime error')
//   results = await asyncio.gather(task1, task2, return_exceptions=True)
//   print(results)            # ['foo', RuntimeError('fake runtime error')]
//   try:
//       results = await asyncio.gather(task1, task2, return_exceptions=False)
//       print(results)        # not reached
//   except RuntimeError as runtime_err:
//       print(runtime_err)    # fake runtime error
//
// return_exceptions=True is corio::gather_settled(); C++'s RuntimeError is
// std::runtime_error.
#include <corio/corio.hpp>
#include <cstdio>
#include <stdexcept>
#include <string>

#include "support/repr.hpp"

namespace {

corio::Task<std::string> foo() {
    co_return "foo";
}

corio::Task<std::string> bar() {
    throw std::runtime_error("fake runtime error");
    co_return "";
}

corio::Task<> amain() {
    auto task1 = corio::create_task(foo());
    auto task2 = corio::create_task(bar());

    // return_exceptions=True
    auto results = co_await corio::gather_settled(task1, task2);
    std::printf("%s\n", example::list_repr(results).c_str());
    // The results come in argument order.
    if (std::get<1>(results).has_value()) {
        throw std::logic_error("bar() should have failed");
    }

    // return_exceptions=False
    try {
        auto values = co_await corio::gather(task1, task2);
        // Not reached: values is never assigned.
        std::printf("%s\n", example::list_repr(values).c_str());
    } catch (const std::runtime_error& runtime_err) {
        std::printf("%s\n", runtime_err.what());
    }
}

}  // namespace

int main() {
    corio::run(amain());
}
