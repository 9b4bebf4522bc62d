// Mirrors the tutorial 《AsyncIO实现Python异步并发》, "同步版本(synchronous version)", sync.py:
// the synchronous baseline.
//
//   def sync_print():
//       print("Hello"); time.sleep(2); print("World")
//   def main():
//       for _ in range(2): sync_print()
//   ... print(f"{__file__} executed in {elapsed:0.2f} seconds.")
#include <chrono>
#include <cstdio>

#include "support/clock.hpp"

using namespace std::chrono_literals;

namespace {

void sync_print() {
    std::puts("Hello");
    example::blocking_sleep(2s);
    std::puts("World");
}

}  // namespace

int main() {
    example::Stopwatch clock;
    for (int i = 0; i < 2; ++i) {
        sync_print();
    }
    std::printf("sync_vs_async_sync executed in %0.2f seconds.\n", clock.seconds());
}
