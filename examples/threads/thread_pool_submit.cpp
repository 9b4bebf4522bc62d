// Mirrors the tutorial 《异步编程》, "asyncio详解 › concurrent.future.Future 对象":
// submit() hands a blocking call to a thread pool and
// returns its Future at once; five 1 s calls on five workers take 1 s, not 5.
//
//   def func(value):
//       time.sleep(1)
//       print(value)
//   pool = ThreadPoolExecutor(max_workers=5)
//   for i in range(5):
//       future = pool.submit(func, i)
//       print(future)
//
// Each future is printed as Python prints it, <Future at 0x... state=...>:
// the address varies, and the state is running, or pending if no worker has
// picked the call up yet. The numbers come 1 s later, in any order. As Python
// waits for the pool's threads at exit, the pool's destructor joins them.
#include <chrono>
#include <corio/corio.hpp>
#include <cstdio>
#include <thread>

#include "support/repr.hpp"

using namespace std::chrono_literals;

namespace {

void func(int value) {
    std::this_thread::sleep_for(1s);
    std::printf("%d\n", value);
}

}  // namespace

int main() {
    const auto start = std::chrono::steady_clock::now();
    {
        corio::ThreadPoolExecutor pool(5);
        for (int i = 0; i < 5; ++i) {
            auto future = pool.submit(func, i);
            std::printf("%s\n", example::repr(future).c_str());
        }
    }  // ~ThreadPoolExecutor waits for the calls: shutdown(wait=True)
    // Five 1 s calls on five threads: 1 s, not 5.
    std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
    std::printf("elapsed: %.2f s\n", elapsed.count());
}
