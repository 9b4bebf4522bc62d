// examples/support/greenlet.hpp - the greenlet package's explicit switching,
// with C++20 coroutines, for the example that shows coroutines as user-space
// context switches.
//
//   Python                          C++
//   def func1(): ...                example::Greenlet::Body func1() { ... }
//   gr1 = greenlet(func1)           gr1 = example::Greenlet(func1);
//   gr2.switch()   (in a greenlet)  co_await gr2.switch_to();
//   gr1.switch()   (in main)        gr1.switch_from_main();
//
// switch_to() jumps straight into the other greenlet (symmetric transfer: no
// scheduler, no stack growth): it starts it on the first switch and resumes
// it where it last switched away afterwards. A greenlet that returns goes
// back to its parent, which here is always the main code (greenlets made at
// top level, as in the seed); switch_from_main() returns then. A greenlet
// that never finishes is destroyed with its Greenlet object.
//
// Example code, not corio API: single-threaded; a switch may only name a
// Greenlet that stays where it is (not moved) while it runs.
#pragma once

#include <coroutine>
#include <exception>
#include <functional>
#include <utility>

namespace example {

class Greenlet {
public:
    struct promise_type;
    /// What a greenlet's function returns (the coroutine type).
    class Body {
    public:
        using promise_type = Greenlet::promise_type;
        explicit Body(std::coroutine_handle<promise_type> h) noexcept : h_(h) {}
        Body(Body&& o) noexcept : h_(std::exchange(o.h_, nullptr)) {}
        Body& operator=(Body&&) = delete;
        ~Body() {
            if (h_) {
                h_.destroy();
            }
        }
        std::coroutine_handle<promise_type> release() noexcept {
            return std::exchange(h_, nullptr);
        }

    private:
        std::coroutine_handle<promise_type> h_;
    };

    struct promise_type {
        Body get_return_object() noexcept {
            return Body(std::coroutine_handle<promise_type>::from_promise(*this));
        }
        std::suspend_always initial_suspend() noexcept { return {}; }
        struct Final {
            bool await_ready() noexcept { return false; }
            // Back to the parent: the main code's switch_from_main() returns.
            std::coroutine_handle<> await_suspend(std::coroutine_handle<>) noexcept {
                return std::noop_coroutine();
            }
            void await_resume() noexcept {}
        };
        Final final_suspend() noexcept { return {}; }
        void return_void() noexcept {}
        // An exception leaves the greenlet for its parent (main).
        void unhandled_exception() noexcept { pending_error() = std::current_exception(); }
    };

    Greenlet() = default;
    /// A greenlet that will run `run()` on its first switch.
    explicit Greenlet(std::function<Body()> run) : run_(std::move(run)) {}
    Greenlet(Greenlet&& o) noexcept : run_(std::move(o.run_)), h_(std::exchange(o.h_, nullptr)) {}
    Greenlet& operator=(Greenlet o) noexcept {
        std::swap(run_, o.run_);
        std::swap(h_, o.h_);
        return *this;
    }
    ~Greenlet() {
        if (h_) {
            h_.destroy();
        }
    }

    /// True once its function returned.
    bool dead() const noexcept { return h_ && h_.done(); }

    struct Switch {
        Greenlet* target;
        bool await_ready() noexcept { return false; }
        std::coroutine_handle<> await_suspend(std::coroutine_handle<>) { return target->handle(); }
        void await_resume() noexcept {}
    };
    /// Inside a greenlet: `co_await other.switch_to();` suspends this one and
    /// continues `other`. Switching to a dead greenlet goes back to main.
    Switch switch_to() noexcept { return Switch{this}; }

    /// From the main (plain) code: runs this greenlet until control comes
    /// back to main, i.e. until some greenlet returns. Rethrows an exception
    /// that left a greenlet.
    void switch_from_main() {
        std::coroutine_handle<> h = handle();
        if (h != std::noop_coroutine()) {
            h.resume();
        }
        if (std::exception_ptr e = std::exchange(pending_error(), nullptr)) {
            std::rethrow_exception(e);
        }
    }

private:
    static std::exception_ptr& pending_error() {
        thread_local std::exception_ptr e;
        return e;
    }
    // Where a switch to this greenlet lands; created on the first switch.
    std::coroutine_handle<> handle() {
        if (!h_) {
            h_ = run_().release();
        }
        if (h_.done()) {
            return std::noop_coroutine();
        }
        return h_;
    }

    std::function<Body()> run_;
    std::coroutine_handle<promise_type> h_;
};

}  // namespace example
