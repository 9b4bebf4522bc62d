// Mirrors the tutorial 《异步，并发，协程（旧版本折叠）》, "asyncio（Hello world）" and
// "async/await （用新语法重新编写）" (the same program in the generator style and with
// async/await): while hello() waits on sleep, the thread goes back to the event loop instead of
// blocking.
//
//   @asyncio.coroutine                   async def hello():
//   def hello():                             print("Hello world!")
//       print("Hello world!")                r = await asyncio.sleep(1)
//       r = yield from asyncio.sleep(1)      print("Hello again!")
//       print("Hello again!")
//   loop = asyncio.get_event_loop(); loop.run_until_complete(hello()); loop.close()
//
// Both spellings are one C++ coroutine (the seed's generator version needs
// the @asyncio.coroutine decorator its prose mentions).
#include <corio/corio.hpp>
#include <cstdio>

using namespace std::chrono_literals;

namespace {

corio::Task<> hello() {
    std::puts("Hello world!");
    co_await corio::sleep(1s);
    std::puts("Hello again!");
}

}  // namespace

int main() {
    corio::EventLoop loop;  // get_event_loop()
    loop.run_until_complete(hello());
    loop.close();
}
