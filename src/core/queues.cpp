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

void QueueCore::wake_getter(std::size_t stored) noexcept {
    if (!getters_.empty() && available(stored) > 0) {
        auto& w = static_cast<QueueWaiter&>(getters_.pop_front());
        w.why = QueueWake::turn;
        w.epoch = epoch_;
        ++reserved_items_;
        w.wake();
    }
}

void QueueCore::wake_putter(std::size_t stored) noexcept {
    if (!putters_.empty() && has_room(stored)) {
        auto& w = static_cast<QueueWaiter&>(putters_.pop_front());
        w.why = QueueWake::turn;
        ++reserved_slots_;
        w.wake();
    }
}

void QueueCore::shut(bool drained) noexcept {
    if (drained) {
        ++epoch_;
    }
    for (WaitList* list : {&getters_, &putters_}) {
        while (!list->empty()) {
            auto& w = static_cast<QueueWaiter&>(list->pop_front());
            w.why = QueueWake::shutdown;
            w.wake();
        }
    }
}

}  // namespace corio::detail
