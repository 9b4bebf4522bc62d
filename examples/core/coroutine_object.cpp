// Mirrors the tutorial 《异步编程》, "asyncio详解 › 快速上手" and "执行协程对象":
// calling a coroutine function runs nothing,
// it only makes a coroutine object; an event loop runs it. The seed (given
// its missing `import asyncio`) then runs the same object a second time with
// asyncio.run, which fails ("cannot reuse already awaited coroutine"); in C++
// the first run consumed the Task, and running it again fails the same way
// (printed here instead of a traceback).
//
//   async def func():
//       print("执行协程函数")
//   result = func()                      # a coroutine object: nothing printed
//   loop = asyncio.get_event_loop()
//   loop.run_until_complete(result)
//   asyncio.run(result)                  # py3.7+: "essentially the same"
#include <corio/corio.hpp>
#include <cstdio>
#include <exception>
#include <utility>

namespace {

corio::Task<> func() {
    std::puts("执行协程函数");
    co_return;
}

}  // namespace

int main() {
    corio::Task<> result = func();  // lazy: the body has not run

    corio::EventLoop loop;
    loop.run_until_complete(std::move(result));

    try {
        corio::run(std::move(result));  // already consumed
    } catch (...) {
        std::printf("the tutorial's error, on purpose: %s\n",
                    corio::describe_exception(std::current_exception()).c_str());
    }
}
