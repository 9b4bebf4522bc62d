// corio/redis/errors.hpp - the exceptions of corio::redis.
//
// Mirrors redis-py's redis/exceptions.py: RedisError is the base of every
// Redis error, ReplyError is an error reply from the server (redis-py's
// ResponseError), ProtocolError is a byte stream that is not RESP (redis-py's
// InvalidResponse). ReplyTypeError is C++'s own: a reply read as a type it
// does not have (Python would hand back whatever object came and fail later).
#pragma once

#include <string>
#include <string_view>

#include "corio/errors.hpp"

namespace corio::redis {

/// Base class of every error corio::redis throws. redis-py: `RedisError`.
class RedisError : public corio::Error {
public:
    using corio::Error::Error;
};

/// An error reply from the server (`-ERR ...`, `-WRONGTYPE ...`, `!...`),
/// thrown when such a reply is converted to a value (`Reply::as_string`,
/// `Reply::to<T>`, `Reply::throw_if_error`). The decoder itself returns error
/// replies as values: a server error is not a protocol error. what() is the
/// server's whole message. redis-py: `ResponseError`.
class ReplyError : public RedisError {
public:
    /// An error reply with the server's message `message`, e.g.
    /// "WRONGTYPE Operation against a key holding the wrong kind of value".
    explicit ReplyError(std::string message);

    /// The server's whole message, prefix included.
    const std::string& message() const noexcept { return message_; }
    /// The error's code: the message's first word when it is written in
    /// capitals, digits, '_' or '-' ("ERR", "WRONGTYPE", "MOVED", "ASK",
    /// "NOSCRIPT", "BUSYGROUP", ...), else empty. A view into message().
    std::string_view prefix() const noexcept;

private:
    std::string message_;
};

/// The bytes from the server are not RESP: the connection cannot stay in
/// step and must be dropped. The message says what was wrong and where.
/// redis-py: `InvalidResponse`.
class ProtocolError : public RedisError {
public:
    using RedisError::RedisError;
};

/// The connection to the server could not be made, or broke while a
/// command waited for its reply (which the server may or may not have run).
/// The message names the server and the cause. redis-py: `ConnectionError`.
class ConnectionError : public RedisError {
public:
    using RedisError::RedisError;
};

/// A reply was read as a type it does not have, e.g. as_integer() of a bulk
/// string, or to_string_map() of an array of odd length. The message names
/// the accessor and the reply's type.
class ReplyTypeError : public RedisError {
public:
    using RedisError::RedisError;
};

}  // namespace corio::redis
