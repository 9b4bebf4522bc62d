// src/core/threads.cpp - the loop's default executor.
#include "corio/threads.hpp"

namespace corio::detail {

Executor& default_executor(EventLoop& loop) {
    std::shared_ptr<Executor>& slot = LoopAccess::default_executor(loop);
    if (!slot) {
        slot = std::make_shared<ThreadPoolExecutor>(0, "asyncio");
    }
    return *slot;
}

}  // namespace corio::detail

namespace corio {

void EventLoop::set_default_executor(std::shared_ptr<Executor> executor) {
    detail::LoopAccess::default_executor(*this) = std::move(executor);
}

}  // namespace corio
