// Mirrors the tutorial 《Python中线程、进程与异步的介绍和实现》, "五 › (3)实现进程池":
// the thread pool example with ProcessPoolExecutor instead: each submitted
// call runs in a worker process; result() blocks until it is done.
//
//   def my_task(name):
//       print(f"Task {name} started")
//       # 执行任务的代码
//       print(f"Task {name} finished")
//   if __name__ == "__main__":
//       with concurrent.futures.ProcessPoolExecutor(max_workers=60) as executor:
//           task1 = executor.submit(my_task, "A")
//           task2 = executor.submit(my_task, "B")
//           task3 = executor.submit(my_task, "C")
//           result1 = task1.result()
//           result2 = task2.result()
//           result3 = task3.result()
//           print("All tasks finished")
//
// Workers start on demand (three calls start at most three of the sixty),
// so the tasks' lines may interleave; each task's "started" comes before
// its "finished", and "All tasks finished" comes last.
#include <corio/process.hpp>
#include <cstdio>
#include <string>

namespace {

void my_task(std::string name) {
    std::printf("Task %s started\n", name.c_str());
    // the task's work goes here
    std::printf("Task %s finished\n", name.c_str());
}
CORIO_PROCESS_REGISTER(my_task);

}  // namespace

int main(int argc, char** argv) {
    corio::process::worker_main_if_child(argc, argv);

    {  // with ProcessPoolExecutor(max_workers=60) as executor:
        corio::process::ProcessPoolExecutor executor(60);
        // Hand the calls to the pool; each submit() returns at once.
        auto task1 = executor.submit(my_task, "A");
        auto task2 = executor.submit(my_task, "B");
        auto task3 = executor.submit(my_task, "C");

        // Block until each is done (my_task returns nothing: result() is void).
        task1.result();
        task2.result();
        task3.result();

        std::puts("All tasks finished");
    }  // leaving the block shuts the pool down: its workers exit and are reaped
}
