// Mirrors the tutorial 《python进阶之异步编程（基础篇）》, "通过 yield 实现协程": a
// generator pauses at each yield; `yield from` hands the iteration to a
// sub-iterable and produces the same sequence. The seed's code has an
// indentation error and prints nothing; this is the fixed version, run
// under Python (indented, plus the two prints its output shows).
//
//   def for_test():
//       for i in range(3):
//           yield i
//   def yield_yield_test():
//       yield from range(3)
//   print(list(for_test())); print(list(yield_yield_test()))
//
// C++20 coroutines are the same machinery: co_yield suspends the function,
// and example::from() delegates (see support/generator.hpp).
#include <cstdio>

#include "support/generator.hpp"
#include "support/repr.hpp"

namespace {

example::Generator<int> for_test() {
    for (int i = 0; i < 3; ++i) {
        co_yield i;
    }
}

example::Generator<int> yield_yield_test() {
    co_yield example::from(example::range{0, 3});
}

}  // namespace

int main() {
    std::printf("%s\n", example::list_repr(example::list(for_test())).c_str());
    std::printf("%s\n", example::list_repr(example::list(yield_yield_test())).c_str());
}
