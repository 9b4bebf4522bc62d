// corio/async_generator.hpp - AsyncGenerator<T>: a coroutine that both
// co_awaits and co_yields, consumed with `co_await gen.next()`.
//
// Mirrors Python's async generators (`async def` with `yield`, `async for`,
// `aclose()`):
//   corio::AsyncGenerator<int> ticker(int n) {
//       for (int i = 0; i < n; ++i) {
//           co_await corio::sleep(1s);
//           co_yield i;
//       }
//   }
//   auto gen = ticker(3);
//   while (auto i = co_await gen.next()) { use(*i); }
// The generator runs inline in the task that calls next() (like `await` of a
// coroutine), so its awaits suspend that task and a cancellation of that task
// surfaces inside the generator at its current await.
#pragma once

#include <coroutine>
#include <exception>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

#include "corio/errors.hpp"
#include "corio/task.hpp"

namespace corio {

/// Thrown into an async generator at its co_yield by aclose(), so that it
/// cleans up; like CancelledError it is not a std::exception. A generator
/// that catches it must finish (return or throw), not yield again (aclose()
/// then throws RuntimeError). Python: `GeneratorExit`.
class GeneratorExit {
public:
    const char* what() const noexcept { return "GeneratorExit"; }
};

namespace detail {

// A generator dropped while suspended at a co_yield (asyncio's finalizer
// hook): if its loop is running on this thread, a task of that loop closes
// it (the registry owns the frame meanwhile) and true is returned; else it is
// reported in debug mode and false is returned (the caller destroys it).
bool finalize_dropped_generator(AsyncGenNode& node) noexcept;
// Registers a generator starting on the running loop (asyncio's firstiter hook).
void register_generator(AsyncGenNode& node) noexcept;

}  // namespace detail

/// An async generator: the C++ spelling of an `async def` with `yield`. The
/// coroutine runs inline in the task that calls next() (like `await` of a
/// coroutine), so its awaits suspend that task and a cancellation of that
/// task surfaces inside the generator at its current await.
///
/// Finalization follows asyncio's hooks: a generator that started on a loop
/// is registered there until it finishes; one destroyed while suspended at a
/// co_yield, its loop running, is closed by a new task of the loop (aclose(),
/// so its cleanup may await) on a later iteration; run() and Runner close the
/// ones still unfinished after cancelling the leftover tasks
/// (EventLoop::shutdown_asyncgens). One destroyed with no loop running can
/// only run its destructors (debug mode reports it). Python: async generator.
template <class T>
class [[nodiscard]] AsyncGenerator {
public:
    static_assert(!std::is_reference_v<T>, "AsyncGenerator<T&> is not supported");

    // PromiseBase first, at the promise's start, as in every corio coroutine:
    // `continuation_` is the consumer, `exception_` the error to rethrow, and
    // the frames of a task's await chain can be walked (graph.hpp).
    struct promise_type : detail::PromiseBase, detail::AsyncGenNode {
        explicit promise_type(detail::SourceLoc loc = detail::SourceLoc::current()) noexcept
            : PromiseBase(loc) {
            func = loc.func;
            close = &close_frame;
            destroy = &destroy_frame;
        }

        AsyncGenerator get_return_object() noexcept {
            return AsyncGenerator(std::coroutine_handle<promise_type>::from_promise(*this));
        }

        // An exception thrown in before the first step (athrow() of an
        // unstarted generator) is raised here, before the body runs.
        struct InitialAwaiter {
            promise_type* p;
            bool await_ready() const noexcept { return false; }
            void await_suspend(std::coroutine_handle<>) const noexcept {}
            void await_resume() const {
                if (p->thrown_in) {
                    std::rethrow_exception(std::exchange(p->thrown_in, nullptr));
                }
            }
        };
        InitialAwaiter initial_suspend() noexcept { return InitialAwaiter{this}; }

        struct YieldAwaiter {
            promise_type* p;
            bool await_ready() const noexcept { return false; }
            std::coroutine_handle<> await_suspend(std::coroutine_handle<>) const noexcept {
                p->running = false;
                return p->continuation_;
            }
            // Raises what athrow() or aclose() threw in at this co_yield.
            void await_resume() const {
                if (p->thrown_in) {
                    std::rethrow_exception(std::exchange(p->thrown_in, nullptr));
                }
            }
        };
        template <class U = T>
        YieldAwaiter yield_value(U&& v) {
            value.emplace(std::forward<U>(v));
            return YieldAwaiter{this};
        }

        struct FinalAwaiter {
            bool await_ready() const noexcept { return false; }
            std::coroutine_handle<> await_suspend(
                std::coroutine_handle<promise_type> h) const noexcept {
                promise_type& p = h.promise();
                p.running = false;
                p.unlink();  // finished: out of the loop's registry
                p.loop = nullptr;
                return p.continuation_;
            }
            void await_resume() const noexcept {}
        };
        FinalAwaiter final_suspend() noexcept { return {}; }
        void return_void() noexcept {}

        std::optional<T> value;
        std::exception_ptr thrown_in;  // to raise at the co_yield (athrow, aclose)
    };

    AsyncGenerator() noexcept = default;
    AsyncGenerator(AsyncGenerator&& o) noexcept : h_(std::exchange(o.h_, nullptr)) {}
    AsyncGenerator& operator=(AsyncGenerator&& o) noexcept {
        if (this != &o) {
            drop();
            h_ = std::exchange(o.h_, nullptr);
        }
        return *this;
    }
    AsyncGenerator(const AsyncGenerator&) = delete;
    AsyncGenerator& operator=(const AsyncGenerator&) = delete;
    /// A generator suspended at a co_yield is handed to its loop, which
    /// closes it (aclose()) in a task of its own; otherwise the frame is
    /// destroyed (its destructors run; it cannot co_await any more).
    ~AsyncGenerator() { drop(); }

    /// Resumes the generator, first throwing `thrown` in at its co_yield if
    /// set; gives the next value, or nullopt once it has returned.
    struct ResumeAwaiter {
        std::coroutine_handle<promise_type> h;
        std::exception_ptr thrown;
        const char* what;
        bool await_ready() const noexcept { return !h || h.done(); }
        std::coroutine_handle<> await_suspend(std::coroutine_handle<> consumer) {
            promise_type& p = h.promise();
            if (p.running) {
                throw RuntimeError(std::string(what) +
                                   ": asynchronous generator is already running");
            }
            p.continuation_ = consumer;
            p.value.reset();
            p.running = true;
            if (!p.started) {
                p.started = true;
                if (!thrown) {
                    detail::register_generator(p);
                }
            }
            p.thrown_in = std::move(thrown);
            return h;
        }
        std::optional<T> await_resume() {
            if (!h) {
                return std::nullopt;
            }
            promise_type& p = h.promise();
            if (p.exception_) {
                std::rethrow_exception(std::exchange(p.exception_, nullptr));
            }
            if (h.done()) {
                return std::nullopt;
            }
            return std::move(p.value);
        }
    };
    using NextAwaiter = ResumeAwaiter;

    /// Runs the generator to its next co_yield and returns the value, or
    /// nullopt once it has returned (and on every later call). Suspends
    /// whenever the generator awaits. Rethrows the generator's exception
    /// (once; the generator is finished then). Throws RuntimeError if the
    /// generator is already running (next() from two tasks at once).
    /// Python: `await anext(gen)`, with StopAsyncIteration as nullopt.
    ResumeAwaiter next() noexcept { return ResumeAwaiter{h_, nullptr, "anext()"}; }

    /// Raises `e` inside the generator at the co_yield where it is suspended
    /// and runs it on: returns the value it yields next (if it caught `e`),
    /// nullopt if it returned, or rethrows what escaped it (`e` itself,
    /// usually; the generator is finished then). An unstarted generator
    /// raises `e` before running any of its body; a finished one returns
    /// nullopt (Python's StopAsyncIteration). Suspends while the generator
    /// awaits; throws RuntimeError if another task is inside next().
    /// Python: `await gen.athrow(e)`.
    ResumeAwaiter athrow(std::exception_ptr e) {
        if (!e) {
            throw std::invalid_argument("athrow: the exception is null");
        }
        return ResumeAwaiter{h_, std::move(e), "athrow()"};
    }
    /// athrow(std::make_exception_ptr(e)).
    template <class E,
              class = std::enable_if_t<!std::is_same_v<std::decay_t<E>, std::exception_ptr>>>
    ResumeAwaiter athrow(E&& e) {
        return athrow(std::make_exception_ptr(std::forward<E>(e)));
    }

    /// Closes the generator: if it is suspended at a co_yield, GeneratorExit
    /// is thrown there and the generator runs its cleanup (which may
    /// co_await) until it finishes. Throws RuntimeError("async generator
    /// ignored GeneratorExit") if it yields again, or (leaving the generator
    /// untouched) if another task is inside next(); rethrows any other
    /// exception from the cleanup. Closing an unstarted or finished generator
    /// just destroys it. Python: `await gen.aclose()`.
    Task<void> aclose() {
        if (!h_) {
            co_return;
        }
        promise_type& p = h_.promise();
        if (!p.started || h_.done()) {
            destroy_now();
            co_return;
        }
        if (p.running) {  // another task is inside next(): leave the generator alone
            throw RuntimeError("aclose(): asynchronous generator is already running");
        }
        bool yielded = false;
        std::exception_ptr error;
        try {
            yielded = co_await close_frame(&p);
        } catch (...) {
            error = std::current_exception();
        }
        destroy_now();
        if (error) {
            std::rethrow_exception(error);
        }
        if (yielded) {
            throw RuntimeError("async generator ignored GeneratorExit");
        }
    }

    /// True once the generator has returned, failed or been closed.
    bool done() const noexcept { return !h_ || h_.done(); }

private:
    explicit AsyncGenerator(std::coroutine_handle<promise_type> h) noexcept : h_(h) {}

    // Throws GeneratorExit in and runs the generator to its end (see
    // AsyncGenNode::close); GeneratorExit escaping it counts as closed.
    static Task<bool> close_frame(detail::AsyncGenNode* node) {
        auto h =
            std::coroutine_handle<promise_type>::from_promise(static_cast<promise_type&>(*node));
        bool yielded = false;
        // Named first: GCC 12 destroys an aggregate built inside co_await twice.
        ResumeAwaiter resume{h, std::make_exception_ptr(GeneratorExit()), "aclose()"};
        try {
            yielded = static_cast<bool>(co_await resume);
        } catch (const GeneratorExit&) {
        }
        co_return yielded;
    }
    static void destroy_frame(detail::AsyncGenNode* node) noexcept {
        node->unlink();
        std::coroutine_handle<promise_type>::from_promise(static_cast<promise_type&>(*node))
            .destroy();
    }

    void destroy_now() noexcept {
        if (h_) {
            destroy_frame(&std::exchange(h_, nullptr).promise());
        }
    }
    // The destructor's path: a generator suspended at a co_yield goes to its
    // loop for an asynchronous close when it can.
    void drop() noexcept {
        if (!h_) {
            return;
        }
        promise_type& p = h_.promise();
        if (p.started && !h_.done() && !p.running && p.loop != nullptr &&
            detail::finalize_dropped_generator(p)) {
            h_ = nullptr;  // the loop owns the frame now
            return;
        }
        destroy_now();
    }

    std::coroutine_handle<promise_type> h_;
};

/// Calls `fn(value)` for every value of `gen`, awaiting `fn` when it returns
/// a Task: `async for x in gen: await fn(x)`. Rethrows the generator's and
/// fn's exceptions; on an exception from `fn` the generator is closed first.
template <class T, class F>
Task<void> for_each(AsyncGenerator<T>& gen, F fn) {
    std::exception_ptr error;
    while (auto v = co_await gen.next()) {
        try {
            if constexpr (std::is_same_v<std::invoke_result_t<F&, T&&>, Task<void>>) {
                co_await fn(std::move(*v));
            } else {
                fn(std::move(*v));
            }
        } catch (...) {
            error = std::current_exception();
            break;
        }
    }
    if (error) {
        co_await gen.aclose();
        std::rethrow_exception(error);
    }
}

}  // namespace corio
