// src/core/shutdown.hpp - what corio::run() and LoopGroup share to end a
// loop's life (private).
#pragma once

#include "corio/event_loop.hpp"

namespace corio::detail {

/// asyncio.run's _cancel_all_tasks: cancels every pending task of `loop`
/// and runs the loop until they are all done; tasks created while unwinding
/// are cancelled in the next round (16 rounds at most). Errors other than
/// CancelledError go to the exception handler as "unhandled exception
/// during <what> shutdown". Call it on the loop's thread, outside
/// run_forever().
void cancel_all_tasks(EventLoop& loop, const char* what);

}  // namespace corio::detail
