// Mirrors the tutorial 《Python中线程、进程与异步的介绍和实现》, "六(2) 3、asyncio框架 › 原生协程"
// (declaring a native coroutine) and "七(3) Future对象" (create_task and ensure_future). An `async
// def` function is a coroutine even without an await in it; its C++ spelling is a function
// returning corio::Task<T>. create_task wraps a coroutine in a task; ensure_future does the same
// for a coroutine, but hands a task or future back unchanged.
//
//   async def read_data(db): pass
//   future1 = asyncio.create_task(my_coroutine)     # a Task
//   future2 = asyncio.ensure_future(my_coroutine)   # a Task too
//   asyncio.ensure_future(future2) is future2       # True: returned as is
#include <corio/corio.hpp>
#include <cstdio>
#include <string>

#include "support/repr.hpp"

namespace {

struct Db {
    std::string name;
};

// async def read_data(db): pass - a coroutine, though nothing in it awaits.
corio::Task<> read_data(Db db) {
    std::printf("read_data(%s) runs\n", db.name.c_str());
    co_return;
}

corio::Task<> amain() {
    corio::Task<> my_coroutine = read_data(Db{"orders"});
    std::puts("calling read_data() ran nothing yet");
    corio::TaskHandle<> future1 = corio::create_task(std::move(my_coroutine));
    corio::TaskHandle<> future2 = corio::ensure_future(read_data(Db{"users"}));
    std::printf("ensure_future(future2) is future2: %s\n",
                corio::ensure_future(future2) == future2 ? "True" : "False");
    corio::Future<int> plain;
    std::printf("ensure_future(a future) is that future: %s\n",
                corio::ensure_future(plain) == plain ? "True" : "False");
    plain.cancel();
    co_await future1;
    co_await future2;
    std::printf("%s\n%s\n", example::repr(future1).c_str(), example::repr(future2).c_str());
}

}  // namespace

int main() {
    corio::run(amain());
}
