// src/core/io.cpp - tasks waiting for fd readiness.
#include <string>

#include "corio/detail/io_state.hpp"

namespace corio::detail {

void IoWait::await_suspend(std::coroutine_handle<> h) {
    TaskState& t = current_task();
    if (st->loop != &t.loop()) {
        throw RuntimeError(st->loop == nullptr ? "I/O on a closed socket or pipe"
                                               : "I/O on a socket or pipe of another event loop");
    }
    Waiter*& s = slot();
    if (s != nullptr) {
        throw RuntimeError(std::string("fd ") + std::to_string(st->fd) +
                           (write ? ": another task is already waiting to write"
                                  : ": another task is already waiting to read"));
    }
    s = this;
    on_cancel = [](Waiter* w) {
        auto* self = static_cast<IoWait*>(w);
        if (self->slot() == self) {
            self->slot() = nullptr;
        }
        return self->cancel_and_wake();
    };
    suspend(t, h);
}

}  // namespace corio::detail
