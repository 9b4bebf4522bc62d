// src/core/queues.cpp - the type-independent half of the queues.
#include "corio/queues.hpp"

#include <stdexcept>

namespace corio::detail {

void QueueCore::task_done() {
    if (unfinished_ == 0) {
        throw std::invalid_argument("task_done() called too many times");
    }
    if (--unfinished_ == 0) {
        finished_.set();
    }
}

}  // namespace corio::detail
