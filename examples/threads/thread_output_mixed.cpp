// Mirrors the tutorial 《Python中线程、进程与异步的介绍和实现》, "四、线程的实现 › (3)实现多线程 ›
// 1、实例1":
// a started thread runs alongside the main thread, so
// the order of their lines is up to the scheduler ("混乱", mixed).
//
//   def task1():
//       for i in range(3):
//           print('当前时间{}:'.format(i), time.strftime("%Y-%m-%d %H:%M:%S", time.localtime()))
//   def task2():
//       for i in range(5):
//           print('与2023年兔年告别,向2024年龙年致敬')
//   t = Thread(target=task1)
//   t.start()
//   task2()
//   print('Over!')
//
// Each thread's own lines keep their order, and Over! follows the main
// thread's greetings; the two groups may interleave in any way, and the test
// accepts every interleaving. Python joins the thread at exit; so does this.
#include <cstdio>
#include <ctime>
#include <latch>
#include <thread>

namespace {

void task1() {
    for (int i = 0; i < 3; ++i) {
        std::time_t now = std::time(nullptr);
        char buf[32];
        std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", std::localtime(&now));
        std::printf("当前时间%d: %s\n", i, buf);
    }
}

void task2() {
    for (int i = 0; i < 5; ++i) {
        std::puts("与2023年兔年告别,向2024年龙年致敬");
    }
}

}  // namespace

int main() {
    // Python's Thread.start() returns once the new thread is running; then
    // which thread prints when is up to the scheduler.
    std::latch running(1);
    std::thread t([&running] {
        running.count_down();
        task1();
    });
    running.wait();
    task2();
    std::puts("Over!");
    t.join();
}
