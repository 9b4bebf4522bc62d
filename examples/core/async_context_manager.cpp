// Mirrors the tutorial 《异步编程》, "asyncio详解 › 异步上下文管理器": `async with` awaits an
// asynchronous set-up and tear-down (say, opening and closing a database connection) around a
// block. Prints 666 after 1 s (the set-up); ends at 2 s (the tear-down).
//
//   class AsyncContextManager:
//       async def do_something(self): return 666
//       async def __aenter__(self): self.conn = await asyncio.sleep(1); return self
//       async def __aexit__(self, exc_type, exc, tb): await asyncio.sleep(1)
//   async def main():
//       async with AsyncContextManager() as f:
//           result = await f.do_something()
//           print(result)
//
// The seed's __init__ (`self.conn = conn`, undefined) and __aenter__ (no
// self) are fixed. C++ has no `async with` and
// destructors cannot co_await, so a scoped helper awaits enter, runs the
// body, and awaits exit whether or not the body threw.
#include <corio/corio.hpp>
#include <cstdio>
#include <exception>

using namespace std::chrono_literals;

namespace {

class AsyncContextManager {
public:
    corio::Task<int> do_something() {
        co_return 666;  // work with the database, asynchronously
    }
    corio::Task<> aenter() {
        co_await corio::sleep(1s);  // connect to the database, asynchronously
        connected_ = true;
    }
    corio::Task<> aexit(std::exception_ptr /*error*/) {
        co_await corio::sleep(1s);  // close the connection, asynchronously
        connected_ = false;
    }

private:
    bool connected_ = false;
};

// async with cm as f: body(f)
template <class Body>
corio::Task<> async_with(AsyncContextManager cm, Body body) {
    co_await cm.aenter();
    std::exception_ptr error;
    try {
        co_await body(cm);
    } catch (...) {
        error = std::current_exception();  // no co_await inside a catch block
    }
    co_await cm.aexit(error);
    if (error) {
        std::rethrow_exception(error);
    }
}

corio::Task<> amain() {
    co_await async_with(AsyncContextManager(), [](AsyncContextManager& f) -> corio::Task<> {
        int result = co_await f.do_something();
        std::printf("%d\n", result);
    });
}

}  // namespace

int main() {
    corio::run(amain());
}
