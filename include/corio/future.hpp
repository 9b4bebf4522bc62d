// corio/future.hpp - Future<T>: a result that somebody sets later.
//
// Mirrors asyncio's futures.py (`loop.create_future()`). Low level: most code
// awaits tasks; futures bridge callbacks and coroutines.
#pragma once

#include <exception>
#include <optional>
#include <string_view>
#include <type_traits>
#include <utility>

#include "corio/detail/future_state.hpp"
#include "corio/errors.hpp"
#include "corio/event_loop.hpp"
#include "corio/task.hpp"

namespace corio {

namespace detail {

// The record of a Future<T>. Records that do more (gather's) derive from it
// and pass their own deleter.
template <class T>
class FutureState : public FutureRecord {
public:
    explicit FutureState(EventLoop& loop) noexcept : FutureRecord(loop, &destroy) {}
    std::optional<T> value;

protected:
    FutureState(EventLoop& loop, void (*destroy)(FutureRecord*) noexcept) noexcept
        : FutureRecord(loop, destroy) {}

private:
    static void destroy(FutureRecord* r) noexcept { delete static_cast<FutureState*>(r); }
};

template <>
class FutureState<void> : public FutureRecord {
public:
    explicit FutureState(EventLoop& loop) noexcept : FutureRecord(loop, &destroy) {}

protected:
    FutureState(EventLoop& loop, void (*destroy)(FutureRecord*) noexcept) noexcept
        : FutureRecord(loop, destroy) {}

private:
    static void destroy(FutureRecord* r) noexcept { delete static_cast<FutureState*>(r); }
};

}  // namespace detail

/// A result that is set later, by a callback or another task. Copies refer to
/// the same future (reference counted, loop thread only). Awaiting it suspends
/// until it is done and returns the value (a reference for an lvalue future,
/// moved out by `co_await std::move(f)`), rethrows the exception, or throws
/// CancelledError if it was cancelled. Cancelling the awaiting task cancels the
/// future. asyncio: `asyncio.Future`.
template <class T = void>
class Future {
public:
    /// A pending future on the running loop; throws RuntimeError if none runs.
    /// asyncio: `loop.create_future()`.
    Future() : Future(detail::running_loop_for("Future()")) {}
    /// A pending future on `loop`.
    explicit Future(EventLoop& loop) : s_(new detail::FutureState<T>(loop)) {}
    Future(const Future& o) noexcept : s_(o.s_) { s_->add_ref(); }
    Future(Future&& o) noexcept : s_(std::exchange(o.s_, nullptr)) {}
    Future& operator=(Future o) noexcept {
        std::swap(s_, o.s_);
        return *this;
    }
    ~Future() {
        if (s_) {
            s_->release();
        }
    }

    /// Marks the future done with `value` and schedules its callbacks and
    /// awaiters. Throws InvalidStateError if it is already done.
    template <class U = T, class = std::enable_if_t<!std::is_void_v<U>>>
    void set_result(U value) {
        check_pending();
        s_->value.emplace(std::move(value));
        s_->set_result_status();
    }
    /// Marks a Future<void> done.
    template <class U = T, class = std::enable_if_t<std::is_void_v<U>>>
    void set_result() {
        check_pending();
        s_->set_result_status();
    }
    /// Marks the future failed with `e`. Throws InvalidStateError if it is
    /// already done, std::invalid_argument if `e` is null.
    void set_exception(std::exception_ptr e) {
        check_pending();
        if (!e) {
            throw std::invalid_argument("set_exception: exception is null");
        }
        s_->set_exception(std::move(e));
    }
    /// set_exception(std::make_exception_ptr(e)).
    template <class E,
              class = std::enable_if_t<!std::is_same_v<std::decay_t<E>, std::exception_ptr>>>
    void set_exception(E&& e) {
        set_exception(std::make_exception_ptr(std::forward<E>(e)));
    }
    /// Cancels the future: false if it is already done, else marks it
    /// cancelled (awaiters get CancelledError(msg)) and returns true.
    bool cancel(std::string_view msg = {}) { return s_->cancel(msg); }

    bool done() const noexcept { return s_->done(); }
    bool cancelled() const noexcept {
        return s_->status() == detail::FutureBase::Status::cancelled;
    }
    /// The value; rethrows the exception; CancelledError if cancelled;
    /// InvalidStateError if not done.
    detail::result_ref_t<T> result() const& {
        s_->check_result();
        if constexpr (!std::is_void_v<T>) {
            return *s_->value;
        }
    }
    /// Like result(), but moves the value out (copies it while another
    /// Future shares the state; see detail::take_value_of).
    T result() && {
        s_->check_result();
        if constexpr (!std::is_void_v<T>) {
            return detail::take_value_of(*s_->value, *s_);
        }
    }
    /// The exception (null on success); CancelledError if cancelled;
    /// InvalidStateError if not done.
    std::exception_ptr exception() const { return s_->exception(); }

    /// Calls `fn(future)` through call_soon() once done. Returns an id for
    /// remove_done_callback(). asyncio: `Future.add_done_callback`.
    template <class F>
    std::uint64_t add_done_callback(F fn) {
        return s_->add_done_callback([fn = std::move(fn)](detail::FutureBase& f) mutable {
            f.add_ref();
            fn(Future(static_cast<detail::FutureState<T>*>(&f)));
        });
    }
    std::size_t remove_done_callback(std::uint64_t id) noexcept {
        return s_->remove_done_callback(id);
    }
    EventLoop& get_loop() const noexcept { return s_->loop(); }

    struct Awaiter : detail::FutureAwaiter {
        using FutureAwaiter::FutureAwaiter;
        T await_resume() {
            check_cancelled();
            fut->check_result();
            if constexpr (!std::is_void_v<T>) {
                return detail::take_value_of(*static_cast<detail::FutureState<T>*>(fut)->value,
                                             *fut);
            }
        }
    };
    struct RefAwaiter : detail::FutureAwaiter {
        using FutureAwaiter::FutureAwaiter;
        detail::result_ref_t<T> await_resume() {
            check_cancelled();
            fut->check_result();
            if constexpr (!std::is_void_v<T>) {
                return *static_cast<detail::FutureState<T>*>(fut)->value;
            }
        }
    };
    RefAwaiter operator co_await() const& noexcept { return RefAwaiter(s_); }
    Awaiter operator co_await() && noexcept { return Awaiter(s_); }

    friend bool operator==(const Future& a, const Future& b) noexcept { return a.s_ == b.s_; }

    /// The underlying record (internal).
    detail::FutureBase* state() const noexcept { return s_; }
    /// Adopts one reference to `s` (internal: records derived from
    /// FutureState, such as gather's).
    static Future adopt(detail::FutureState<T>* s) noexcept { return Future(s); }

private:
    explicit Future(detail::FutureState<T>* s) noexcept : s_(s) {}
    void check_pending() const {
        if (s_->done()) {
            throw InvalidStateError("invalid state: the future is already done");
        }
    }

    detail::FutureState<T>* s_;
};

/// ensure_future() of a Future: returns it unchanged, as asyncio does.
/// asyncio: `asyncio.ensure_future(fut)`.
template <class T>
Future<T> ensure_future(Future<T> future) {
    return future;
}

template <class T>
T EventLoop::run_until_complete(Future<T> future) {
    run_until_done(*future.state());
    return std::move(future).result();
}

}  // namespace corio
