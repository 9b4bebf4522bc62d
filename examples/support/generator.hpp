// examples/support/generator.hpp - Python's generators, for the examples that
// show where coroutines come from (yield, send, yield from). No event loop.
//
// Generator<Y, S, R> is a synchronous, lazily started coroutine that yields
// Y values, receives S values through send(), returns an R (Python's
// StopIteration.value) and delegates with `yield from`: what is sent goes
// straight to the innermost generator, and its return value comes back.
//
//   Python                     C++ (a Generator<Y, S, R> body; g its caller's object)
//   yield v / x = yield v      co_yield v; / S x = co_yield v;
//   x = yield                  S x = co_yield example::none;
//   r = yield from sub()       auto r = co_yield example::from(sub());
//   yield from 'ACB'           co_yield example::from("ACB");   (any range)
//   yield from range(1, 3)     co_yield example::from(example::range{1, 3});
//   r = await sub()            auto r = co_await sub();   (generator-based coroutine)
//   return r                   co_return r;
//   next(g) / g.send(x)        g.next() / g.send(x): std::optional<Y>, nullopt once returned
//   StopIteration.value        g.result()
//   g.close()                  g.close()   (destroys the frames; their locals are destroyed)
//   for v in g: / list(g)      while (auto v = g.next()) / example::list(std::move(g))
//
// Example code, not corio API: single-threaded, move-only; a body may
// co_await only Generators with the same Y and S.
#pragma once

#include <concepts>
#include <coroutine>
#include <cstddef>
#include <exception>
#include <optional>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace example {

/// Python's None: what a bare `yield` yields and what next() sends.
struct None {};
inline constexpr None none{};

template <class Y, class S = None, class R = void>
class Generator;

/// `co_yield from(x)`: yield from a Generator, or from any range.
template <class T>
struct From {
    T inner;
};
template <class T>
From<std::decay_t<T>> from(T&& inner) {
    return {std::forward<T>(inner)};
}
inline From<std::string_view> from(const char* s) {
    return {std::string_view(s)};
}

/// Python's range(start, stop) for `yield from range(...)` (std::views::iota
/// does not build with clang 14 and libstdc++ 12).
struct range {
    int start, stop;
    struct Iterator {
        int i;
        int operator*() const noexcept { return i; }
        Iterator& operator++() noexcept { return ++i, *this; }
        bool operator!=(Iterator o) const noexcept { return i != o.i; }
    };
    Iterator begin() const noexcept { return {start}; }
    Iterator end() const noexcept { return {stop < start ? start : stop}; }
};

namespace detail {

template <class T>
inline constexpr bool is_generator = false;
template <class Y, class S, class R>
inline constexpr bool is_generator<Generator<Y, S, R>> = true;

// One frame's state. The root of a delegation chain also holds the chain's:
// the innermost frame to resume, the value yielded last, the value sent in.
template <class Y, class S>
struct PromiseCore {
    PromiseCore* root = this;
    std::coroutine_handle<> leaf;    // root only
    std::optional<Y> yielded;        // root only
    S sent{};                        // root only
    std::coroutine_handle<> parent;  // the delegating frame; null for a root
    std::exception_ptr error;

    std::suspend_always initial_suspend() noexcept { return {}; }
    struct Final {
        bool await_ready() noexcept { return false; }
        template <class P>
        std::coroutine_handle<> await_suspend(std::coroutine_handle<P> h) noexcept {
            PromiseCore& p = h.promise();
            if (p.parent) {  // a sub-generator returned: continue the delegating one
                p.root->leaf = p.parent;
                return p.parent;
            }
            return std::noop_coroutine();  // the root returned: back to next()/send()
        }
        void await_resume() noexcept {}
    };
    Final final_suspend() noexcept { return {}; }
    void unhandled_exception() noexcept { error = std::current_exception(); }

    struct YieldAwaiter {
        PromiseCore* root;
        bool await_ready() noexcept { return false; }
        void await_suspend(std::coroutine_handle<>) noexcept {}
        S await_resume() { return std::move(root->sent); }
    };
    template <class U>
    requires std::constructible_from<Y, U> YieldAwaiter yield_value(U&& v) {
        root->yielded.emplace(std::forward<U>(v));
        return {root};
    }

    template <class R>
    struct Delegate {  // owns the sub-generator until the yield from ends
        Generator<Y, S, R> inner;
        PromiseCore* root;
        bool await_ready() noexcept { return false; }
        std::coroutine_handle<> await_suspend(std::coroutine_handle<> self) noexcept {
            auto h = inner.h_;
            h.promise().parent = self;
            h.promise().root = root;
            root->leaf = h;
            return h;
        }
        R await_resume() { return inner.take_result(); }
    };
    template <class R>
    Delegate<R> yield_value(From<Generator<Y, S, R>> f) {
        return {std::move(f.inner), root};
    }
    template <class Range>
    requires(!is_generator<Range>) Delegate<void> yield_value(From<Range> f) {
        return {each(std::move(f.inner)), root};
    }
    template <class R>
    Delegate<R> await_transform(Generator<Y, S, R>&& g) {
        return {std::move(g), root};
    }

    template <class Range>
    static Generator<Y, S, void> each(Range items) {
        for (auto&& x : items) {
            co_yield Y(x);
        }
    }
};

template <class Y, class S, class R>
struct Promise : PromiseCore<Y, S> {
    Generator<Y, S, R> get_return_object() noexcept { return Generator<Y, S, R>(*this); }
    template <class U>
    void return_value(U&& v) {
        value.emplace(std::forward<U>(v));
    }
    std::optional<R> value;
};
template <class Y, class S>
struct Promise<Y, S, void> : PromiseCore<Y, S> {
    Generator<Y, S, void> get_return_object() noexcept { return Generator<Y, S, void>(*this); }
    void return_void() noexcept {}
};

}  // namespace detail

template <class Y, class S, class R>
class [[nodiscard]] Generator {
public:
    using promise_type = detail::Promise<Y, S, R>;

    explicit Generator(promise_type& p) noexcept
        : h_(std::coroutine_handle<promise_type>::from_promise(p)) {
        p.leaf = h_;
    }
    Generator(Generator&& o) noexcept : h_(std::exchange(o.h_, nullptr)) {}
    Generator& operator=(Generator o) noexcept {
        std::swap(h_, o.h_);
        return *this;
    }
    ~Generator() { close(); }

    /// Resumes the body, `value` being the result of its pending co_yield
    /// (the first call starts it). Returns the next yielded value, or nullopt
    /// once the body returned; rethrows what the body threw.
    std::optional<Y> send(S value) {
        if (done()) {
            return std::nullopt;
        }
        auto& p = h_.promise();
        p.sent = std::move(value);
        p.yielded.reset();
        p.leaf.resume();
        if (h_.done() && p.error) {
            std::rethrow_exception(std::exchange(p.error, nullptr));
        }
        return std::move(p.yielded);
    }
    /// send(S{}): Python's next(g) sends None.
    std::optional<Y> next() { return send(S{}); }

    bool done() const noexcept { return !h_ || h_.done(); }
    /// The value of co_return (StopIteration.value), once done().
    decltype(auto) result() {
        if constexpr (!std::is_void_v<R>) {
            return (*h_.promise().value);
        }
    }
    /// Destroys the frame and those of the sub-generators it delegates to.
    void close() noexcept {
        if (h_) {
            std::exchange(h_, nullptr).destroy();
        }
    }

private:
    template <class, class>
    friend struct detail::PromiseCore;

    // A finished sub-generator's return value, or its exception (yield from).
    R take_result() {
        auto& p = h_.promise();
        if (p.error) {
            std::rethrow_exception(p.error);
        }
        if constexpr (!std::is_void_v<R>) {
            return std::move(*p.value);
        }
    }

    std::coroutine_handle<promise_type> h_;
};

/// Python's list(g): runs the generator to its end and collects what it yields.
template <class Y, class S, class R>
std::vector<Y> list(Generator<Y, S, R> g) {
    std::vector<Y> out;
    while (auto v = g.next()) {
        out.push_back(std::move(*v));
    }
    return out;
}

}  // namespace example
