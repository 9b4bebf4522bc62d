// Mirrors the tutorial 《Python中线程、进程与异步的介绍和实现》, "七、asyncio工作原理 (3)
// Future对象" (a fragment made runnable): an exception raised in a task is stored in it; read it
// with result() (which raises it) or exception() (which returns it). One that nobody reads is
// reported when the task goes away
// ("Task exception was never retrieved", on stderr).
//
//   try:
//       my_promise.result()       # raises the task's exception
//   catch Exception:              # (the seed's pseudo-Python for except)
//       pass
//   my_promise.exception()        # returns it
//
// The fragment prints nothing; this program prints what the two calls give.
#include <corio/corio.hpp>
#include <cstdio>
#include <exception>
#include <stdexcept>
#include <vector>

#include "support/repr.hpp"

namespace {

corio::Task<> fails() {
    throw std::runtime_error("boom");
    co_return;
}

corio::Task<> amain() {
    auto my_promise = corio::create_task(fails());
    auto forgotten = corio::create_task(fails());
    std::vector both{my_promise, forgotten};
    co_await corio::wait(both);  // both done; nothing read yet

    try {
        my_promise.result();
    } catch (const std::exception&) {
        std::printf("result() raised %s\n",
                    corio::describe_exception(std::current_exception()).c_str());
    }
    std::printf("exception() returned %s\n", example::repr(my_promise.exception()).c_str());

    // Nobody reads forgotten's exception: dropping the last handle reports it
    // through the loop's exception handler (stderr).
    std::puts("next, on purpose: \"Task exception was never retrieved\" for the forgotten task");
    std::fflush(stdout);
    forgotten = {};
}

}  // namespace

int main() {
    corio::run(amain());
}
