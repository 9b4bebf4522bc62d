// Mirrors the tutorial 《Python中线程、进程与异步的介绍和实现》, "四、线程的实现 (2)实现单线程" (a
// synchronous baseline): code in a single thread runs strictly in order: task1, then task2, then
// the final print.
//
//   def task1():
//       for i in range(3):
//           print('当前时间{}:'.format(i), time.strftime("%Y-%m-%d %H:%M:%S", time.localtime()))
//   def task2():
//       for i in range(5):
//           print('与2023年兔年告别,向2024年龙年致敬')
//   task1(); task2(); print('Over!')
#include <cstdio>
#include <ctime>

namespace {

void task1() {
    for (int i = 0; i < 3; ++i) {
        std::time_t t = std::time(nullptr);
        char now[32];
        std::strftime(now, sizeof now, "%Y-%m-%d %H:%M:%S", std::localtime(&t));
        std::printf("当前时间%d: %s\n", i, now);
    }
}

void task2() {
    for (int i = 0; i < 5; ++i) {
        std::puts("与2023年兔年告别,向2024年龙年致敬");
    }
}

}  // namespace

int main() {
    task1();
    task2();
    std::puts("Over!");
}
