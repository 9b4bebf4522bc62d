// src/core/executor_batch.cpp - how a loop hands run_in_executor calls to
// executors: the calls of one iteration go to each executor in one batch
// (one lock, at most one wake-up), from an end-of-iteration hook, instead
// of one hand-off per call (W8).
//
// A Batch collects the items of one (loop, executor) pair during an
// iteration; its hook hands them over and frees it for reuse. Batches live
// in a per-thread pool (one loop runs per thread at a time, but several
// loops may take turns), so steady state allocates nothing.
#include <memory>
#include <vector>

#include "corio/event_loop.hpp"
#include "corio/executor.hpp"

namespace corio::detail {

namespace {

struct Batch : IterationHook {
    EventLoop* loop = nullptr;
    Executor* executor = nullptr;
    WorkItem* first = nullptr;
    WorkItem* last = nullptr;
    std::size_t n = 0;  // 0: free

    static void hand_over(IterationHook* hook, bool) noexcept {
        auto* b = static_cast<Batch*>(hook);
        WorkItem* first = std::exchange(b->first, nullptr);
        WorkItem* last = std::exchange(b->last, nullptr);
        std::size_t n = std::exchange(b->n, 0);
        try {
            b->executor->execute_batch(first, last, n);
        } catch (...) {
            // The executor was shut down since the call: the work is
            // cancelled (each item reports it to its own loop future).
            for (WorkItem* w = first; w != nullptr;) {
                WorkItem* next = w->next;
                w->fn(w, false);
                w = next;
            }
        }
    }
};

thread_local std::vector<std::unique_ptr<Batch>> tls_batches;

Batch& batch_for(EventLoop& loop, Executor& executor) {
    Batch* free = nullptr;
    for (auto& b : tls_batches) {
        if (b->n == 0) {
            free = free ? free : b.get();
        } else if (b->loop == &loop && b->executor == &executor) {
            return *b;
        }
    }
    if (free == nullptr) {
        free = tls_batches.emplace_back(std::make_unique<Batch>()).get();
        free->run = &Batch::hand_over;
    }
    free->loop = &loop;
    free->executor = &executor;
    return *free;
}

}  // namespace

void LoopAccess::queue_work(EventLoop& loop, Executor& executor, WorkItem& item) {
    Batch& b = batch_for(loop, executor);
    item.next = nullptr;
    if (b.n == 0) {
        b.first = &item;
        at_end_of_iteration(loop, b);
    } else {
        b.last->next = &item;
    }
    b.last = &item;
    ++b.n;
}

void shutdown_executor(Executor& executor) noexcept {
    try {
        executor.shutdown(true);
    } catch (...) {
    }
}

}  // namespace corio::detail
