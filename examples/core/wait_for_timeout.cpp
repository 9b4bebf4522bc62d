// Mirrors the Python documentation's example for asyncio.wait_for
// ("Coroutines and Tasks › Timeouts › asyncio.wait_for"); the seeds only name
// wait_for in prose (《Python中线程、进程与异步的介绍和实现》, 八 › 队列: asyncio's queues
// have no timeout parameter, use asyncio.wait_for()). wait_for gives an
// awaitable at most so long; on expiry it cancels it, waits for it to
// unwind, and raises TimeoutError. Prints "timeout!" after 1 s.
//
//   async def eternity():
//       # Sleep for one hour
//       await asyncio.sleep(3600)
//       print('yay!')
//   async def main():
//       # Wait for at most 1 second
//       try:
//           await asyncio.wait_for(eternity(), timeout=1.0)
//       except TimeoutError:
//           print('timeout!')
//   asyncio.run(main())
#include <corio/corio.hpp>
#include <cstdio>

using namespace std::chrono_literals;

namespace {

corio::Task<> eternity() {
    // Sleep for one hour
    co_await corio::sleep(3600s);
    std::puts("yay!");
}

corio::Task<> amain() {
    // Wait for at most 1 second
    try {
        co_await corio::wait_for(eternity(), 1s);
    } catch (const corio::TimeoutError&) {
        std::puts("timeout!");
    }
}

}  // namespace

int main() {
    corio::run(amain());
}
