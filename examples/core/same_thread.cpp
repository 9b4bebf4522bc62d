// Mirrors the tutorial 《异步，并发，协程（旧版本折叠）》,
// "asyncio（两个hello并发，打印当前线程）": two coroutines interleave on the same (main) thread;
// the concurrency does not come from threads. Two lines at 0 s, two at 1 s.
//
//   @asyncio.coroutine
//   def hello():
//       print('Hello world! (%s)' % threading.currentThread())
//       yield from asyncio.sleep(1)
//       print('Hello again! (%s)' % threading.currentThread())
//   loop = asyncio.get_event_loop()
//   tasks = [hello(), hello()]
//   loop.run_until_complete(asyncio.wait(tasks))
//
// The seed's hello() needs the @asyncio.coroutine decorator (as on 3.6), and
// asyncio.wait of bare coroutines is refused since 3.11: here, as in corio's
// wait(), they are made tasks first. Python prints the thread object, whose
// id varies; this prints its name, deterministic.
#include <corio/corio.hpp>
#include <cstdio>
#include <thread>
#include <vector>

using namespace std::chrono_literals;

namespace {

const std::thread::id main_thread = std::this_thread::get_id();

const char* current_thread() {  // threading.currentThread()
    return std::this_thread::get_id() == main_thread ? "<MainThread>" : "<another thread>";
}

corio::Task<> hello() {
    std::printf("Hello world! (%s)\n", current_thread());
    co_await corio::sleep(1s);
    std::printf("Hello again! (%s)\n", current_thread());
}

}  // namespace

int main() {
    corio::EventLoop loop;
    std::vector tasks{loop.create_task(hello()), loop.create_task(hello())};
    loop.run_until_complete(corio::wait(tasks));
    loop.close();
}
