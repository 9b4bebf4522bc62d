// Mirrors the tutorial 《异步，并发，协程（旧版本折叠）》, "【Python系列】4、协程与异步并发 ›
// generator": producer and consumer hand control to each other through yield/send in one thread,
// with no locks. The seed's `def ():` lost the name `consumer`; this is the fixed version, run
// under Python.
//
//   def consumer():
//       r = ''
//       while True:
//           n = yield r
//           if not n:
//               return
//           print('[CONSUMER] Consuming %s...' % n)
//           r = '200 OK'
//   def produce(c):
//       c.send(None)
//       n = 0
//       while n < 5:
//           n = n + 1
//           print('[PRODUCER] Producing %s...' % n)
//           r = c.send(n)
//           print('[PRODUCER] Consumer return: %s' % r)
//       c.close()
//   c = consumer(); produce(c)
#include <cstdio>
#include <optional>
#include <string>

#include "support/generator.hpp"

namespace {

example::Generator<std::string, std::optional<int>> consumer() {
    std::string r;
    while (true) {
        std::optional<int> n = co_yield r;
        if (!n || *n == 0) {
            co_return;
        }
        std::printf("[CONSUMER] Consuming %d...\n", *n);
        r = "200 OK";
    }
}

void produce(example::Generator<std::string, std::optional<int>>& c) {
    c.send(std::nullopt);
    int n = 0;
    while (n < 5) {
        n = n + 1;
        std::printf("[PRODUCER] Producing %d...\n", n);
        std::optional<std::string> r = c.send(n);
        std::printf("[PRODUCER] Consumer return: %s\n", r->c_str());
    }
    c.close();
}

}  // namespace

int main() {
    auto c = consumer();
    produce(c);
}
