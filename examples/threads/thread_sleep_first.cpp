// Mirrors the tutorial 《Python中线程、进程与异步的介绍和实现》, "四、线程的实现 › (3)实现多线程 ›
// 2、实例2":
// a sleep blocks only the thread that calls it, so the
// main thread's greetings and Over! come first, the time lines 1 s later.
//
//   def task1():
//       time.sleep(1)  # 使用time.sleep()函数来设置线程的睡眠时间
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
// Python joins the thread at exit, after 1 s; so does this.
#include <chrono>
#include <cstdio>
#include <ctime>
#include <thread>

using namespace std::chrono_literals;

namespace {

void task1() {
    std::this_thread::sleep_for(1s);  // sleeps this thread only
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
    std::thread t(task1);
    task2();
    std::puts("Over!");
    t.join();
}
