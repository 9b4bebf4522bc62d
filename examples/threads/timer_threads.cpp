// Mirrors the tutorial 《python进阶之异步编程（基础篇）》, "✨ 异步的实现方式 › 通过
// threading.Thread 实现":
// two threads run the same blocking function at once, so
// their sleeps overlap and their lines interleave: Thread-1 prints every
// delay, Thread-2 every second delay, five lines each.
//
//   def print_time( threadName, delay):
//      count = 0
//      while count < 5:
//         time.sleep(delay)
//         count += 1
//         print "%s: %s" % ( threadName, time.ctime(time.time()) )
//   thread.start_new_thread( print_time, ("Thread-1", 2, ) )
//   thread.start_new_thread( print_time, ("Thread-2", 4, ) )
//   while 1:
//      pass
//
// Five times shorter, so that the tour stays quick: delays of 0.4 s and 0.8 s,
// 4 s in all (the seed takes 20 s, then spins forever; this main thread joins
// the two threads instead). time.ctime() shows whole seconds, too coarse for
// that, so each line shows the seconds since the start. At 0.8 s and 1.6 s
// both threads print at the same moment, in either order (the tutorial's own
// output shows both orders). Real threads sleep for real: no virtual time.
#include <chrono>
#include <cstdio>
#include <thread>

using namespace std::chrono_literals;

namespace {

const auto start = std::chrono::steady_clock::now();

void print_time(const char* thread_name, std::chrono::milliseconds delay) {
    for (int count = 0; count < 5; ++count) {
        std::this_thread::sleep_for(delay);
        std::chrono::duration<double> now = std::chrono::steady_clock::now() - start;
        std::printf("%s: %.2f s\n", thread_name, now.count());
    }
}

}  // namespace

int main() {
    std::thread t1(print_time, "Thread-1", 400ms);
    std::thread t2(print_time, "Thread-2", 800ms);
    t1.join();
    t2.join();
}
