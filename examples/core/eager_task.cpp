// Beside the tutorial 《异步编程》, "asyncio详解 › Task 对象": create_task schedules a
// task, whose body starts when the loop next runs its ready callbacks;
// create_eager_task runs the body at once, inside the call, up to its first
// await that suspends (Python 3.12's eager_task_factory). A body that never
// suspends, like a lookup answered from a cache, is done when the call
// returns and never waits in the loop's queue; one that suspends goes on as
// an ordinary task. corio's HTTP server starts request handlers this way.
//
//   loop.set_task_factory(asyncio.eager_task_factory)
//   task = asyncio.create_task(lookup("eager", cached=True))
//   print(task.done())   # True
#include <corio/corio.hpp>
#include <cstdio>

namespace {

corio::Task<int> lookup(const char* who, bool cached) {
    std::printf("%s: started\n", who);
    if (!cached) {
        co_await corio::sleep(std::chrono::seconds(1));
    }
    std::printf("%s: finished\n", who);
    co_return 42;
}

const char* yes_no(bool b) {
    return b ? "yes" : "no";
}

corio::Task<> amain() {
    auto lazy = corio::create_task(lookup("lazy", true));
    std::printf("after create_task: lazy done? %s\n", yes_no(lazy.done()));
    auto eager = corio::create_eager_task(lookup("eager", true));
    std::printf("after create_eager_task: eager done? %s, result %d\n", yes_no(eager.done()),
                eager.result());
    auto slow = corio::create_eager_task(lookup("slow", false));
    std::printf("after create_eager_task: slow done? %s\n", yes_no(slow.done()));
    co_await lazy;
    co_await slow;
    std::printf("all done\n");
}

}  // namespace

int main() {
    corio::run(amain());
}
