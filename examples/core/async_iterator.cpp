// Mirrors the tutorial 《异步编程》, "asyncio详解 › 异步迭代器":
// an asynchronous iterator's next step is awaited on each turn of `async
// for`, and StopAsyncIteration ends the loop. Prints 1 to 99.
//
//   class Reader:
//       def __init__(self):
//           self.count = 0
//       async def readline(self):
//           self.count += 1
//           if self.count == 100:
//               return None
//           return self.count
//       def __aiter__(self):
//           return self
//       async def __anext__(self):
//           val = await self.readline()
//           if val == None:
//               raise StopAsyncIteration
//           return val
//   async def main():
//       reader = Reader()
//       async for item in reader:
//           print(item)
//   asyncio.run(main())
//
// The seed's indentation is fixed. C++ has no `async
// for`: the seed's class has an awaitable next() that returns the next item
// or nullopt (StopAsyncIteration), looped over with
// `while (auto item = co_await reader.next())`. async_generator.cpp writes
// the same as an async generator.
#include <corio/corio.hpp>
#include <cstdio>
#include <optional>

namespace {

class Reader {
public:
    corio::Task<std::optional<int>> readline() {
        ++count_;
        if (count_ == 100) {
            co_return std::nullopt;
        }
        co_return count_;
    }

    // __anext__: the next item, or nullopt where Python raises StopAsyncIteration.
    corio::Task<std::optional<int>> next() {
        std::optional<int> val = co_await readline();
        co_return val;
    }

private:
    int count_ = 0;
};

corio::Task<> amain() {
    Reader reader;
    // The tutorial prints every item, 1 to 99; this prints the first three
    // and the last, and counts them.
    int count = 0;
    int last = 0;
    while (std::optional<int> item = co_await reader.next()) {  // async for item in reader:
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
