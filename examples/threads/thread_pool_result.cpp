// Mirrors the tutorial 《Python中线程、进程与异步的介绍和实现》, "五、线程池与进程池 ›
// (2)实现线程池":
// a thread pool runs submitted functions on reused
// worker threads; each Future's result() blocks until its call is done.
// Plain synchronous code: no event loop.
//
//   def my_task(name):
//       print(f"Task {name} started")
//       # 执行任务的代码
//       print(f"Task {name} finished")
//   with concurrent.futures.ThreadPoolExecutor(max_workers=60) as executor:
//       task1 = executor.submit(my_task, "A")
//       task2 = executor.submit(my_task, "B")
//       task3 = executor.submit(my_task, "C")
//       result1 = task1.result()
//       result2 = task2.result()
//       result3 = task3.result()
//       print("All tasks finished")
//
// The tasks run on several threads at once, so their lines may interleave
// (the tutorial shows two different orders); each task's "started" comes
// before its "finished", and "All tasks finished" comes last.
#include <corio/corio.hpp>
#include <cstdio>

namespace {

void my_task(const char* name) {
    std::printf("Task %s started\n", name);
    // the task's work goes here
    std::printf("Task %s finished\n", name);
}

}  // namespace

int main() {
    {  // with ThreadPoolExecutor(max_workers=60) as executor:
        corio::ThreadPoolExecutor executor(60);
        // Hand the calls to the pool; each submit() returns at once.
        auto task1 = executor.submit(my_task, "A");
        auto task2 = executor.submit(my_task, "B");
        auto task3 = executor.submit(my_task, "C");

        // Block until each is done (my_task returns nothing: result() is void).
        task1.result();
        task2.result();
        task3.result();

        std::puts("All tasks finished");
    }  // leaving the block shuts the pool down and joins its threads
}
