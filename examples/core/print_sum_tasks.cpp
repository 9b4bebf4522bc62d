// Mirrors the tutorial 《Python中线程、进程与异步的介绍和实现》, "七、asyncio工作原理 (3) Task对象
// › 例子":
// three tasks each await a nested 2 s computation; they
// run concurrently, so all three are done in 2 s.
//
//   async def compute(x, y):
//       print("Compute {} + {}...".format(x, y))
//       await asyncio.sleep(2.0)
//       return x+y
//   async def print_sum(x, y):
//       result = await compute(x, y)
//       print("{} + {} = {}".format(x, y, result))
//   start = time.time(); loop = asyncio.get_event_loop()
//   tasks = [asyncio.ensure_future(print_sum(0, 0)), ... (1, 1), ... (2, 2)]
//   loop.run_until_complete(asyncio.wait(tasks)); loop.close()
//   print("Total elapsed time {}".format(time.time() - start))
//
// The elapsed time is the loop's clock, printed as Python prints a float.
#include <corio/corio.hpp>
#include <cstdio>
#include <vector>

#include "support/repr.hpp"

using namespace std::chrono_literals;

namespace {

corio::Task<int> compute(int x, int y) {
    std::printf("Compute %d + %d...\n", x, y);
    co_await corio::sleep(2.0s);
    co_return x + y;
}

corio::Task<> print_sum(int x, int y) {
    int result = co_await compute(x, y);
    std::printf("%d + %d = %d\n", x, y, result);
}

}  // namespace

int main() {
    corio::EventLoop loop;
    auto start = loop.time();
    std::vector tasks{
        loop.create_task(print_sum(0, 0)),
        loop.create_task(print_sum(1, 1)),
        loop.create_task(print_sum(2, 2)),
    };
    loop.run_until_complete(corio::wait(tasks));
    std::chrono::duration<double> elapsed = loop.time() - start;
    loop.close();
    std::printf("Total elapsed time %s\n", example::py_float(elapsed.count()).c_str());
}
