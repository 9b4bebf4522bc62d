// Mirrors the tutorial 《Python中线程、进程与异步的介绍和实现》, "四 › (4)实现多进程":
// two processes run my_process("A") and my_process("B"); the main process
// starts both, joins both, then prints that all are finished.
//
//   def my_process(name):
//       print(f"Process {name} started")
//   if __name__ == "__main__":
//       process1 = multiprocessing.Process(target=my_process, args=("A",))
//       process2 = multiprocessing.Process(target=my_process, args=("B",))
//       process1.start()
//       process2.start()
//       process1.join()
//       process2.join()
//       print("All processes finished")
//
// Python finds my_process in the child by importing the module; in C++ the
// function is registered by name, and the child is this same program,
// started again: worker_main_if_child() at the top of main() plays the part
// of Python's `if __name__ == "__main__"` guard. The two children run at
// once, so their lines may come in either order.
#include <corio/process.hpp>
#include <cstdio>
#include <string>

namespace {

void my_process(std::string name) {
    std::printf("Process %s started\n", name.c_str());
}
CORIO_PROCESS_REGISTER(my_process);

}  // namespace

int main(int argc, char** argv) {
    corio::process::worker_main_if_child(argc, argv);  // a child runs my_process here

    // Create the process objects.
    corio::process::Process process1(my_process, "A");
    corio::process::Process process2(my_process, "B");

    // Start them.
    process1.start();
    process2.start();

    // Wait for both to finish.
    process1.join();
    process2.join();

    std::puts("All processes finished");
}
