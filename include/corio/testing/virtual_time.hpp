// corio/testing/virtual_time.hpp - run code on virtual time.
//
// Like asyncio's test loop: when the loop has nothing ready, no I/O came in
// and no executor work is outstanding, its clock jumps to the next timer. A
// test of a 30 s timeout then takes microseconds and never flakes.
#pragma once

#include "corio/run.hpp"

namespace corio::testing {

/// corio::run(main) on a loop with virtual time.
template <class T>
T run_virtual(Task<T> main, bool debug = false) {
    return run(std::move(main), LoopOptions{.virtual_time = true, .debug = debug});
}

}  // namespace corio::testing
