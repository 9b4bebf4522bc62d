// Mirrors the Python documentation's example for asyncio.timeout
// ("Coroutines and Tasks › Timeouts › asyncio.timeout"). The scope cancels
// the task when the deadline passes and turns the CancelledError into
// TimeoutError, raised `from` it: a traceback of the TimeoutError shows the
// CancelledError first, then "The above exception was the direct cause of
// the following exception:". corio nests the cause in the TimeoutError
// (std::throw_with_nested); print_traceback shows the chain like Python.
//
//   async def main():
//       try:
//           async with asyncio.timeout(10):
//               await long_running_task()
//       except TimeoutError as exc:
//           print("The long operation timed out, but we've handled it.")
//           traceback.print_exception(exc)
//       print("This statement will run regardless.")
#include <corio/corio.hpp>
#include <cstdio>
#include <exception>

#include "support/repr.hpp"

using namespace std::chrono_literals;

namespace {

corio::Task<> long_running_task() {
    co_await corio::sleep(3600s);
}

corio::Task<> amain() {
    std::exception_ptr exc;
    try {
        auto scope = corio::timeout(10s);  // async with asyncio.timeout(10):
        co_await scope.run(long_running_task());
    } catch (const corio::TimeoutError&) {
        std::puts("The long operation timed out, but we've handled it.");
        exc = std::current_exception();
    }
    if (exc) {
        example::print_traceback(exc);
    }
    std::puts("This statement will run regardless.");
}

}  // namespace

int main() {
    corio::run(amain());
}
