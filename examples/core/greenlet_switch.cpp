// Mirrors the tutorial 《异步编程》, "协程 › greenlet实现":
// coroutines are user-space context switches: one thread jumps back and
// forth between two functions with explicit switch() calls.
//
//   def func1():            def func2():
//       print(1)                print(3)
//       gr2.switch()            gr1.switch()
//       print(2)                print(4)
//       gr2.switch()
//   gr1 = greenlet(func1); gr2 = greenlet(func2); gr1.switch()
//
// When func2 returns, control goes back to main (the greenlets' parent), so
// func1 never resumes after its second switch. The switches are C++20
// symmetric transfers (support/greenlet.hpp).
#include <cstdio>

#include "support/greenlet.hpp"

namespace {

example::Greenlet gr1;
example::Greenlet gr2;

example::Greenlet::Body func1() {
    std::puts("1");
    co_await gr2.switch_to();
    std::puts("2");
    co_await gr2.switch_to();
}

example::Greenlet::Body func2() {
    std::puts("3");
    co_await gr1.switch_to();
    std::puts("4");
}

}  // namespace

int main() {
    gr1 = example::Greenlet(func1);
    gr2 = example::Greenlet(func2);
    gr1.switch_from_main();
}
