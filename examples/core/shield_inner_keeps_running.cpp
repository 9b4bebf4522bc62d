// Mirrors the Python documentation's asyncio.shield ("Coroutines and Tasks ›
// Shielding From Cancellation"); the seeds have no shield code. If the task
// awaiting `shield(task)` is cancelled, it gets CancelledError at once, but
// the shielded task goes on as if nothing happened, and its result can still
// be retrieved (the docs: keep a reference to the task).
//
//   task = asyncio.create_task(something())
//   res = await shield(task)
//
// made a whole program:
//
//   async def something():
//       await asyncio.sleep(2)
//       print('something() finished')
//       return 'result'
//   async def caller(task):
//       return await asyncio.shield(task)
//   async def main():
//       task = asyncio.create_task(something())
//       outer = asyncio.create_task(caller(task))
//       await asyncio.sleep(1)
//       outer.cancel()
//       try:
//           await outer
//       except asyncio.CancelledError:
//           print('outer cancelled; something() still running:', not task.done())
//       print('result:', repr(await task))
//
// Each line also shows the loop time it was printed at: 1 s, then 2 s.
#include <corio/corio.hpp>
#include <cstdio>
#include <string>

#include "support/repr.hpp"

using namespace std::chrono_literals;

namespace {

corio::TimePoint start;

double elapsed() {  // seconds on the loop's clock since main() started
    return std::chrono::duration<double>(corio::get_running_loop().time() - start).count();
}

corio::Task<std::string> something() {
    co_await corio::sleep(2s);
    std::printf("something() finished at %.2f s\n", elapsed());
    co_return "result";
}

corio::Task<std::string> caller(corio::TaskHandle<std::string> task) {
    co_return co_await corio::shield(task);
}

corio::Task<> amain() {
    start = corio::get_running_loop().time();
    auto task = corio::create_task(something());  // keep a reference to the task
    auto outer = corio::create_task(caller(task));
    co_await corio::sleep(1s);
    outer.cancel();
    try {
        co_await outer;
    } catch (const corio::CancelledError&) {
        std::printf("outer cancelled at %.2f s; something() still running: %s\n", elapsed(),
                    example::repr(!task.done()).c_str());
    }
    std::string res = co_await task;
    std::printf("result at %.2f s: %s\n", elapsed(), example::repr(res).c_str());
}

}  // namespace

int main() {
    corio::run(amain());
}
