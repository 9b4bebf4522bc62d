// Mirrors the tutorial 《Python中线程、进程与异步的介绍和实现》, "八 › 结合多进程 ›
// 方法一 启动一个子进程，在子进程中运行异步代码": a child process runs an event
// loop of its own (hello(3)) while the main process prints 0..9; neither
// disturbs the other.
//
//   async def hello(i):
//       print("hello", i)
//       await asyncio.sleep(1)
//   def strap(tx, rx):
//       loop = asyncio.new_event_loop()
//       asyncio.set_event_loop(loop)
//       loop.run_until_complete(hello(3))
//   p = multiprocessing.Process(target=strap, args=(1, 3))
//   p.start()
//   for i in range(10):
//       print(i)
//
// The child's line and the main process's numbers interleave in any order.
// Python joins the child at exit; Process's destructor does the same, so
// the program ends after the child's 1 s sleep.
#include <chrono>
#include <corio/corio.hpp>
#include <corio/process.hpp>
#include <cstdio>

using namespace std::chrono_literals;

namespace {

corio::Task<> hello(int i) {
    std::printf("hello %d\n", i);
    std::fflush(stdout);
    co_await corio::sleep(1s);
}

void strap(int /*tx*/, int /*rx*/) {
    corio::EventLoop loop;  // new_event_loop(), the child's own
    loop.run_until_complete(hello(3));
    loop.close();
}
CORIO_PROCESS_REGISTER(strap);

}  // namespace

int main(int argc, char** argv) {
    corio::process::worker_main_if_child(argc, argv);

    corio::process::Process p(strap, 1, 3);
    p.start();
    // The child and the main process do not disturb each other.
    for (int i = 0; i < 10; ++i) {
        std::printf("%d\n", i);
    }
}
