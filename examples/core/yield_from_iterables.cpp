// Mirrors the tutorial 《Python中线程、进程与异步的介绍和实现》, "六、异步编程 (2) 2、yield from":
// `yield from iterable` is shorthand for looping over it and yielding each item.
//
//   def gen():                        def gen():
//       for j in 'ACB': yield j           yield from 'ACB'
//       for i in range(1, 3): yield i     yield from range(1, 3)
//   print(list(gen()))                print(list(gen()))
//
// Python's list mixes str and int; the C++ generator yields a variant of the
// two, printed the way Python prints them.
#include <cstdio>
#include <string_view>
#include <variant>

#include "support/generator.hpp"
#include "support/repr.hpp"

namespace {

using Item = std::variant<char, int>;

// With yield statements.
example::Generator<Item> gen_with_yield() {
    for (char j : std::string_view("ACB")) {
        co_yield j;
    }
    for (int i = 1; i < 3; ++i) {
        co_yield i;
    }
}

// The same with yield from.
example::Generator<Item> gen_with_yield_from() {
    co_yield example::from("ACB");
    co_yield example::from(example::range{1, 3});
}

}  // namespace

int main() {
    std::printf("%s\n", example::list_repr(example::list(gen_with_yield())).c_str());
    std::printf("%s\n", example::list_repr(example::list(gen_with_yield_from())).c_str());
}
