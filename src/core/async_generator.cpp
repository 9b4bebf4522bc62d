// src/core/async_generator.cpp - the loop's side of async generators:
// asyncio's firstiter and finalizer hooks and shutdown_asyncgens().
//
// Ownership. A generator's frame belongs to its AsyncGenerator object. Once
// started on a loop, its promise (an AsyncGenNode) is in that loop's
// registry until the frame finishes or is destroyed. When the object is
// destroyed while the generator is suspended at a co_yield and its loop runs
// on this thread, the node is marked orphaned and the registry owns the
// frame: a task of the loop closes it (close_orphan) and destroys it. A node
// still registered when the loop closes is forgotten, and an orphan's frame
// destroyed (drop_asyncgens).
#include "corio/async_generator.hpp"

#include <memory>
#include <string>
#include <vector>

#include "corio/gather.hpp"
#include "loop_impl.hpp"

namespace corio {
namespace detail {

namespace {

// Closes one registered generator: aclose() on its frame. An orphan's frame
// is destroyed afterwards (even when the task is cancelled or destroyed
// before it gets there: see drop_asyncgens); an owned one is left finished
// for its owner.
Task<void> close_generator(AsyncGenNode* node) {
    std::exception_ptr error;
    bool yielded = false;
    try {
        yielded = co_await node->close(node);
    } catch (...) {
        error = std::current_exception();
    }
    EventLoop* loop = node->loop != nullptr ? node->loop : tls_running_loop;
    std::string func = node->func;
    if (node->orphaned) {
        node->destroy(node);
    }
    if (yielded) {
        error = std::make_exception_ptr(RuntimeError("async generator ignored GeneratorExit"));
    }
    if (error) {
        bool cancelled = false;
        try {
            std::rethrow_exception(error);
        } catch (const CancelledError&) {
            cancelled = true;
        } catch (...) {
        }
        if (cancelled) {
            std::rethrow_exception(error);
        }
        report(loop, ExceptionContext{"an error occurred during closing of asynchronous "
                                      "generator '" +
                                          func + "'",
                                      error,
                                      {},
                                      {}});
    }
}

}  // namespace

void register_generator(AsyncGenNode& node) noexcept {
    if (EventLoop* loop = tls_running_loop) {
        node.loop = loop;
        LoopAccess::asyncgens(*loop).push_back(node);
    }
}

bool finalize_dropped_generator(AsyncGenNode& node) noexcept {
    EventLoop* loop = node.loop;
    if (loop != nullptr && tls_running_loop == loop && !loop->is_closed()) {
        try {
            node.orphaned = true;
            loop->create_task(close_generator(&node), std::string("asyncgen finalizer"));
            return true;
        } catch (...) {
            node.orphaned = false;  // could not schedule it: destroyed at once below
        }
    }
    EventLoop* alive = loop != nullptr && loop_alive(loop) ? loop : nullptr;
    if (alive != nullptr ? alive->get_debug() : debug_enabled()) {
        report(alive,
               ExceptionContext{std::string("asynchronous generator '") + node.func +
                                    "' was destroyed while suspended at a co_yield, with no "
                                    "running loop to close it: its cleanup did not run (call "
                                    "aclose())",
                                nullptr,
                                {},
                                {}});
    }
    return false;
}

void drop_asyncgens(EventLoop& loop) noexcept {
    IntrusiveList<AsyncGenNode>& gens = LoopAccess::asyncgens(loop);
    while (!gens.empty()) {
        AsyncGenNode& node = gens.pop_front();
        node.loop = nullptr;
        if (node.orphaned) {
            if (loop.get_debug()) {
                loop.call_exception_handler(
                    ExceptionContext{std::string("asynchronous generator '") + node.func +
                                         "' was never closed: the loop closed first (call "
                                         "shutdown_asyncgens(), as run() does)",
                                     nullptr,
                                     {},
                                     {}});
            }
            node.destroy(&node);
        }
    }
}

}  // namespace detail

Task<void> EventLoop::shutdown_asyncgens() {
    std::vector<TaskHandle<void>> closing;
    detail::IntrusiveList<detail::AsyncGenNode>& gens = detail::LoopAccess::asyncgens(*this);
    std::vector<detail::AsyncGenNode*> nodes;
    gens.for_each([&](detail::AsyncGenNode& n) {
        if (!n.running) {  // one inside next() of a task still running is left alone
            nodes.push_back(&n);
        }
    });
    for (detail::AsyncGenNode* n : nodes) {
        closing.push_back(create_task(detail::close_generator(n)));
    }
    if (!closing.empty()) {
        co_await gather_settled(std::move(closing));
    }
}

}  // namespace corio
