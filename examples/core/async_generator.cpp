// Mirrors the tutorial 《异步编程》, "asyncio详解 › 异步迭代器",
// written the way Python code usually writes such an iterator: an async
// generator (PEP 525), whose body both awaits and yields. Prints 1 to 99,
// as async_iterator.cpp does with the seed's class.
//
//   async def readline(count):
//       return None if count == 100 else count
//   async def lines():
//       count = 0
//       while True:
//           count += 1
//           val = await readline(count)
//           if val is None:
//               return
//           yield val
//   async def main():
//       async for item in lines():
//           print(item)
//   asyncio.run(main())
//
// corio::AsyncGenerator is the async generator; `co_await gen.next()` is
// `anext()`, with nullopt for StopAsyncIteration.
#include <corio/corio.hpp>
#include <cstdio>
#include <optional>

namespace {

corio::Task<std::optional<int>> readline(int count) {
    if (count == 100) {
        co_return std::nullopt;
    }
    co_return count;
}

corio::AsyncGenerator<int> lines() {
    for (int count = 1;; ++count) {
        std::optional<int> val = co_await readline(count);
        if (!val) {
            co_return;
        }
        co_yield *val;
    }
}

corio::Task<> amain() {
    corio::AsyncGenerator<int> gen = lines();
    // The tutorial prints every item, 1 to 99; this prints the first three
    // and the last, and counts them.
    int count = 0;
    int last = 0;
    while (std::optional<int> item = co_await gen.next()) {  // async for item in lines():
        ++count;
        last = *item;
        if (count <= 3) {
            std::printf("%d\n", *item);
        }
    }
    std::printf("...\n%d\n(%d items)\n", last, count);
}

}  // namespace

int main() {
    corio::run(amain());
}
