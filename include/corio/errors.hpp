// corio/errors.hpp - every exception type corio throws.
//
// Mirrors asyncio's exceptions.py. Where asyncio raises ValueError, corio
// throws std::invalid_argument (C++'s nearest kin). All corio errors derive
// from corio::Error
// (a std::runtime_error) except CancelledError, which, like asyncio's since
// Python 3.8, is *not* an ordinary error: it does not derive from
// std::exception, so `catch (const std::exception&)` cannot swallow a
// cancellation by accident. Catch it by name, or with `catch (...)` and
// rethrow.
#pragma once

#include <cstddef>
#include <exception>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace corio {

/// Base class of corio's errors (not of CancelledError). Thrown directly only
/// where asyncio raises a bare error.
class Error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// The operation was cancelled. Thrown at the suspension point of a task that
/// was cancelled, and by result() of a cancelled task or future. May be caught
/// to clean up; a task that swallows it keeps running (asyncio semantics).
/// Deliberately not derived from std::exception. asyncio: `CancelledError`.
class CancelledError {
public:
    CancelledError() = default;
    explicit CancelledError(std::string message) : message_(std::move(message)) {}
    /// The message given to cancel(msg); empty when none was given.
    const std::string& message() const noexcept { return message_; }
    /// A printable description (never empty).
    const char* what() const noexcept {
        return message_.empty() ? "CancelledError" : message_.c_str();
    }

private:
    std::string message_;
};

/// run() was interrupted by SIGINT (Ctrl-C): main was cancelled and did not
/// swallow the cancellation. Like Python's, it is not an ordinary error (not
/// a std::exception). Python: `KeyboardInterrupt`.
class KeyboardInterrupt {
public:
    const char* what() const noexcept { return "KeyboardInterrupt"; }
};

/// A deadline passed: wait_for, timeout scopes, as_completed, and
/// ThreadPoolExecutor results. asyncio: `TimeoutError`. The one raised by
/// wait_for() and timeout() carries the CancelledError that the deadline
/// caused as its nested exception (Python's `raise TimeoutError from exc`):
/// exception_cause(), std::rethrow_if_nested() and format_exception() reach it.
class TimeoutError : public Error {
public:
    TimeoutError() : Error("TimeoutError") {}
    using Error::Error;
};

/// An operation is not allowed in the object's current state, e.g. result()
/// of a pending future or set_result() on a done one. asyncio: `InvalidStateError`.
class InvalidStateError : public Error {
public:
    using Error::Error;
};

/// Misuse of the runtime where asyncio raises RuntimeError: no running event
/// loop, run() inside a running loop, a closed loop, a task awaited from
/// another loop.
class RuntimeError : public Error {
public:
    using Error::Error;
};

/// A lookup found nothing: ContextVar::get() of a variable with no value and
/// no default. Python: `LookupError`.
class LookupError : public Error {
public:
    using Error::Error;
};

/// get_nowait() on an empty queue. asyncio: `QueueEmpty`.
class QueueEmpty : public Error {
public:
    QueueEmpty() : Error("QueueEmpty") {}
};

/// put_nowait() on a full queue. asyncio: `QueueFull`.
class QueueFull : public Error {
public:
    QueueFull() : Error("QueueFull") {}
};

/// put/get on a queue that was shut down (Python 3.13). asyncio: `QueueShutDown`.
class QueueShutDown : public Error {
public:
    QueueShutDown() : Error("QueueShutDown") {}
};

/// A Barrier was aborted or reset while a task waited. asyncio: `BrokenBarrierError`.
class BrokenBarrierError : public Error {
public:
    using Error::Error;
};

/// The stream ended before the requested bytes arrived: readexactly() and
/// readuntil(). `partial` holds what was read. asyncio: `IncompleteReadError`.
class IncompleteReadError : public Error {
public:
    IncompleteReadError(std::string partial, std::optional<std::size_t> expected)
        : Error(std::to_string(partial.size()) + " bytes read on a total of " +
                (expected ? std::to_string(*expected) : std::string("undefined")) +
                " expected bytes"),
          partial(std::move(partial)),
          expected(expected) {}
    std::string partial;
    std::optional<std::size_t> expected;
};

/// readuntil() found no separator within the stream's limit; the data stays
/// in the buffer. `consumed` is how many bytes can be skipped. asyncio:
/// `LimitOverrunError`.
class LimitOverrunError : public Error {
public:
    LimitOverrunError(const std::string& message, std::size_t consumed)
        : Error(message), consumed(consumed) {}
    std::size_t consumed;
};

/// Several errors at once, raised by TaskGroup with every child error it
/// collected (and the body's own, if it failed). asyncio: `ExceptionGroup`.
class ExceptionGroup : public Error {
public:
    ExceptionGroup(std::string message, std::vector<std::exception_ptr> exceptions);
    /// The collected errors, in the order they happened.
    const std::vector<std::exception_ptr>& exceptions() const noexcept { return exceptions_; }
    /// The message without the list of sub-errors.
    const std::string& message() const noexcept { return message_; }

private:
    std::string message_;
    std::vector<std::exception_ptr> exceptions_;
};

/// Describes an in-flight or stored exception as "type: what()", demangled;
/// CancelledError and non-standard exceptions are described too. An
/// exception thrown with std::throw_with_nested is named by its own type.
std::string describe_exception(const std::exception_ptr& e);

/// The exception that directly caused `e`: the one nested in it by
/// std::throw_with_nested (what Python keeps in `__cause__`), or null.
std::exception_ptr exception_cause(const std::exception_ptr& e);

/// `e` and its chain of causes as Python prints them (without the stack
/// frames): the innermost cause first, each followed by "The above exception
/// was the direct cause of the following exception:", one describe_exception()
/// line each, separated by blank lines, ending in a newline. Python:
/// `traceback.format_exception(e)`.
std::string format_exception(const std::exception_ptr& e);

}  // namespace corio
