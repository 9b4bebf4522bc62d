// corio/process/errors.hpp - the errors of corio::process.
//
// Mirrors concurrent.futures.process.BrokenProcessPool and the way Python
// re-raises a worker's exception in the parent. The codec's CodecError is
// in codec.hpp.
#pragma once

#include <string>
#include <utility>

#include "corio/errors.hpp"

namespace corio::process {

/// An exception thrown by a function running in another process, carried
/// back by type name and message (C++ cannot send the object itself). what()
/// reads "<type>: <message>", e.g. "std::invalid_argument: n must be >= 0".
/// Python re-raises the worker's exception; corio raises this.
class RemoteError : public Error {
public:
    RemoteError(std::string type, std::string message)
        : Error(type + ": " + message), type_(std::move(type)), message_(std::move(message)) {}
    /// The exception's type as the worker saw it (demangled), e.g.
    /// "std::runtime_error", or "unknown exception" for a non-class throw.
    const std::string& type() const noexcept { return type_; }
    /// The exception's what(), as the worker saw it.
    const std::string& message() const noexcept { return message_; }

private:
    std::string type_;
    std::string message_;
};

/// A worker process died (crashed, was killed, or exited) while it held
/// work, or the pool's initializer failed. The futures of the work it held
/// fail with this error. A process pool replaces a dead worker for later
/// submissions; only a failed initializer breaks the pool for good.
/// Python: `concurrent.futures.process.BrokenProcessPool`.
class BrokenProcessPool : public RuntimeError {
public:
    using RuntimeError::RuntimeError;
};

}  // namespace corio::process
