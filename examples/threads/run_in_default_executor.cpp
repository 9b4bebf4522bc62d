// Mirrors the tutorial 《异步编程》, "asyncio详解 › concurrent.future.Future 对象
// (线程池与协程交叉使用)": run_in_executor runs a blocking
// function on a pool thread and gives the coroutine a future to await, so the
// loop is not blocked meanwhile. Prints after 2 s.
//
//   def func():
//       time.sleep(2)
//       return "aa"
//   async def main():
//       loop = asyncio.get_running_loop()
//       # 默认等于None， 内部创建的就是线程池
//       fut = loop.run_in_executor(None, func)
//       res = await fut
//       print("defult thread pool", res)
//       # 2. run in a custom thread pool:
//       # with concurrent.futures.ThreadPoolExecutor() as pool:
//       #     res = await loop.run_in_executor(pool, func)
//   asyncio.run(main())
//
// The seed's get_runnning_loop (three n's) is fixed; "defult" is the seed's
// own spelling. The custom-pool variant is `corio::ThreadPoolExecutor pool;
// co_await loop.run_in_executor(&pool, func);`; run_in_executor_three_ways
// runs all three variants, the process pool too.
#include <chrono>
#include <corio/corio.hpp>
#include <cstdio>
#include <string>
#include <thread>

using namespace std::chrono_literals;

namespace {

std::string func() {
    std::this_thread::sleep_for(2s);  // blocks its pool thread, not the loop
    return "aa";
}

corio::Task<> amain() {
    auto& loop = corio::get_running_loop();
    // nullptr (Python's None): the loop's default executor, a thread pool.
    corio::Future<std::string> fut = loop.run_in_executor(nullptr, func);
    std::string res = co_await fut;
    std::puts("(the tutorial's own line, its misspelling \"defult\" kept:)");
    std::printf("defult thread pool %s\n", res.c_str());
}

}  // namespace

int main() {
    corio::run(amain());
}
