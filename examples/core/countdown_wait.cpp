// Mirrors the tutorial 《Python中线程、进程与异步的介绍和实现》, "六、异步编程 (2) 3、asyncio框架"
// (borrowed from curio's tutorial): two countdowns take turns at each sleep, so their lines
// interleave; the whole takes 3 s, not 5.
//
//   @asyncio.coroutine
//   def countdown(number, n):
//       while n > 0:
//           print('T-minus', n, '({})'.format(number))
//           yield from asyncio.sleep(1)
//           n -= 1
//   loop = asyncio.get_event_loop()
//   tasks = [asyncio.ensure_future(countdown("A", 2)),
//            asyncio.ensure_future(countdown("B", 3))]
//   loop.run_until_complete(asyncio.wait(tasks))
//   loop.close()
#include <corio/corio.hpp>
#include <cstdio>
#include <string>
#include <vector>

using namespace std::chrono_literals;

namespace {

corio::Task<> countdown(std::string number, int n) {
    while (n > 0) {
        std::printf("T-minus %d (%s)\n", n, number.c_str());
        co_await corio::sleep(1s);
        n -= 1;
    }
}

}  // namespace

int main() {
    corio::EventLoop loop;
    std::vector tasks{loop.create_task(countdown("A", 2)), loop.create_task(countdown("B", 3))};
    loop.run_until_complete(corio::wait(tasks));
    loop.close();
}
