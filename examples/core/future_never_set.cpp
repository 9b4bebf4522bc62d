// Mirrors the tutorial 《异步编程》, "asyncio详解 › future 对象 › 示例1": awaiting a Future that
// nobody resolves suspends forever.
//
//   async def main():
//       loop = asyncio.get_running_loop()
//       fut = loop.create_future()   # a future object; nothing is done with it
//       await fut                    # no result ever comes: waits forever
//   asyncio.run(main())
//
// The seed prints nothing and never ends (a run of it was stopped after
// 3 s). So that the tour goes on, this waits with a 3 s limit
// (wait_for) and prints what happened instead of hanging.
#include <corio/corio.hpp>
#include <cstdio>

using namespace std::chrono_literals;

namespace {

corio::Task<> amain() {
    auto& loop = corio::get_running_loop();
    corio::Future<> fut(loop);  // loop.create_future()
    auto start = loop.time();
    try {
        co_await corio::wait_for(fut, 3s);  // `await fut` would wait forever
        std::puts("the future got a result");
    } catch (const corio::TimeoutError&) {
        std::chrono::duration<double> waited = loop.time() - start;
        std::printf("TimeoutError after %.2f seconds: nobody set the future\n", waited.count());
    }
}

}  // namespace

int main() {
    corio::run(amain());
}
