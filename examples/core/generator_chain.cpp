// Mirrors the tutorial 《异步编程》, "协程 › yield关键字实现":
// `yield from` delegates to a sub-generator, so the values come out in
// call-chain order: 1, 3, 4, 2. (The seed's needless `from greenlet import
// greenlet` has no counterpart.)
//
//   def func1():                  def func2():
//       yield 1                       yield 3
//       yield from func2()            yield 4
//       yield 2
//   for item in func1(): print(item)
#include <cstdio>

#include "support/generator.hpp"

namespace {

example::Generator<int> func2() {
    co_yield 3;
    co_yield 4;
}

example::Generator<int> func1() {
    co_yield 1;
    co_yield example::from(func2());
    co_yield 2;
}

}  // namespace

int main() {
    auto f1 = func1();
    while (auto item = f1.next()) {  // for item in f1
        std::printf("%d\n", *item);
    }
}
