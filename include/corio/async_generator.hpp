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
#include <type_traits>
#include <utility>

#include "corio/errors.hpp"
#include "corio/task.hpp"

namespace corio {

/// Thrown into an async generator at its co_yield by aclose(), so that it
/// cleans up; like CancelledError it is not a std::exception. A generator
/// that catches it must finish (return or throw), not yield again.
/// Python: `GeneratorExit`.
class GeneratorExit {
public:
    const char* what() const noexcept { return "GeneratorExit"; }
};

template <class T>
class [[nodiscard]] AsyncGenerator {
public:
    static_assert(!std::is_reference_v<T>, "AsyncGenerator<T&> is not supported");

    struct promise_type {
        explicit promise_type(detail::SourceLoc loc = detail::SourceLoc::current()) noexcept
            : func(loc.func) {}

        AsyncGenerator get_return_object() noexcept {
            return AsyncGenerator(std::coroutine_handle<promise_type>::from_promise(*this));
        }
        std::suspend_always initial_suspend() noexcept { return {}; }

        struct YieldAwaiter {
            promise_type* p;
            bool await_ready() const noexcept { return false; }
            std::coroutine_handle<> await_suspend(std::coroutine_handle<>) const noexcept {
                p->running = false;
                return p->consumer;
            }
            void await_resume() const {
                if (p->closing) {
                    throw GeneratorExit();
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
                h.promise().running = false;
                return h.promise().consumer;
            }
            void await_resume() const noexcept {}
        };
        FinalAwaiter final_suspend() noexcept { return {}; }
        void return_void() noexcept {}
        void unhandled_exception() noexcept { error = std::current_exception(); }

        static void* operator new(std::size_t size) { return detail::frame_allocate(size); }
        static void operator delete(void* p, std::size_t size) noexcept {
            detail::frame_deallocate(p, size);
        }

        std::coroutine_handle<> consumer;
        std::optional<T> value;
        std::exception_ptr error;
        const char* func;
        bool running = false;
        bool started = false;
        bool closing = false;
    };

    AsyncGenerator() noexcept = default;
    AsyncGenerator(AsyncGenerator&& o) noexcept : h_(std::exchange(o.h_, nullptr)) {}
    AsyncGenerator& operator=(AsyncGenerator&& o) noexcept {
        if (this != &o) {
            destroy();
            h_ = std::exchange(o.h_, nullptr);
        }
        return *this;
    }
    AsyncGenerator(const AsyncGenerator&) = delete;
    AsyncGenerator& operator=(const AsyncGenerator&) = delete;
    /// Destroys the frame; the generator's destructors run, but it cannot
    /// co_await any more (call aclose() for an asynchronous cleanup).
    ~AsyncGenerator() { destroy(); }

    struct NextAwaiter {
        std::coroutine_handle<promise_type> h;
        bool await_ready() const noexcept { return !h || h.done(); }
        std::coroutine_handle<> await_suspend(std::coroutine_handle<> consumer) {
            promise_type& p = h.promise();
            if (p.running) {
                throw RuntimeError("anext(): asynchronous generator is already running");
            }
            p.consumer = consumer;
            p.value.reset();
            p.running = true;
            p.started = true;
            return h;
        }
        std::optional<T> await_resume() {
            if (!h) {
                return std::nullopt;
            }
            promise_type& p = h.promise();
            if (p.error) {
                std::rethrow_exception(std::exchange(p.error, nullptr));
            }
            if (h.done()) {
                return std::nullopt;
            }
            return std::move(p.value);
        }
    };

    /// Runs the generator to its next co_yield and returns the value, or
    /// nullopt once it has returned (and on every later call). Suspends
    /// whenever the generator awaits. Rethrows the generator's exception
    /// (once; the generator is finished then). Throws RuntimeError if the
    /// generator is already running (next() from two tasks at once).
    /// Python: `await anext(gen)`, with StopAsyncIteration as nullopt.
    NextAwaiter next() noexcept { return NextAwaiter{h_}; }

    /// Closes the generator: if it is suspended at a co_yield, GeneratorExit
    /// is thrown there and the generator runs its cleanup (which may
    /// co_await) until it finishes. Throws RuntimeError if it yields again,
    /// or (leaving the generator untouched) if another task is inside
    /// next(); rethrows any other exception from the cleanup. Closing an unstarted or
    /// finished generator just destroys it. Python: `await gen.aclose()`.
    Task<void> aclose() {
        if (!h_) {
            co_return;
        }
        promise_type& p = h_.promise();
        if (!p.started || h_.done()) {
            destroy();
            co_return;
        }
        if (p.running) {  // another task is inside next(): leave the generator alone
            throw RuntimeError("aclose(): asynchronous generator is already running");
        }
        p.closing = true;
        bool yielded = false;
        try {
            yielded = static_cast<bool>(co_await next());
        } catch (const GeneratorExit&) {
        }
        destroy();
        if (yielded) {
            throw RuntimeError("async generator ignored GeneratorExit");
        }
    }

    /// True once the generator has returned, failed or been closed.
    bool done() const noexcept { return !h_ || h_.done(); }

private:
    explicit AsyncGenerator(std::coroutine_handle<promise_type> h) noexcept : h_(h) {}
    void destroy() noexcept {
        if (h_) {
            h_.destroy();
            h_ = nullptr;
        }
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
