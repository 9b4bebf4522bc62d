// corio/amqp/errors.hpp - the exceptions of corio::amqp.
//
// Mirrors aioamqp's aioamqp/exceptions.py: AmqpError is the base of every
// error, ProtocolError is a byte stream that is not AMQP 0-9-1 (aioamqp's
// AioamqpException for a bad frame), ConnectionError a connection that could
// not be made or broke (aioamqp's AmqpClosedConnection), ChannelClosed a
// channel the server closed (aioamqp's ChannelClosed, with code and text),
// PublishFailed a publish the server nacked or returned.
#pragma once

#include <cstdint>
#include <string>

#include "corio/errors.hpp"

namespace corio::amqp {

/// Base class of every error corio::amqp throws. aioamqp: `AioamqpException`.
class AmqpError : public corio::Error {
public:
    using corio::Error::Error;
};

/// The bytes from the peer are not AMQP 0-9-1 (a bad frame end, an unknown
/// method, a frame longer than the negotiated frame-max, a truncated field
/// table): the connection cannot stay in step and is closed. The message
/// says what was wrong and at which byte of the frame.
class ProtocolError : public AmqpError {
public:
    using AmqpError::AmqpError;
};

/// The connection could not be made, was closed (by us, or by the server
/// with connection.close), or its peer stopped answering (heartbeats
/// missed). reply_code() is the server's AMQP reply code when it closed the
/// connection (320 CONNECTION_FORCED, 403 ACCESS_REFUSED, 501 FRAME_ERROR,
/// ...), else 0. aioamqp: `AmqpClosedConnection`.
class ConnectionError : public AmqpError {
public:
    explicit ConnectionError(const std::string& message, std::uint16_t reply_code = 0)
        : AmqpError(message), reply_code_(reply_code) {}
    std::uint16_t reply_code() const noexcept { return reply_code_; }

private:
    std::uint16_t reply_code_;
};

/// The channel was closed: by the server (channel.close, e.g. 404 NOT_FOUND
/// for a queue that does not exist, 406 PRECONDITION_FAILED for a queue
/// redeclared with other arguments), by the user, or with its connection.
/// Every call pending on the channel fails with it, and every later call.
/// aioamqp: `ChannelClosed(code, message)`.
class ChannelClosed : public AmqpError {
public:
    ChannelClosed(const std::string& message, std::uint16_t reply_code, std::string reply_text)
        : AmqpError(message), reply_code_(reply_code), reply_text_(std::move(reply_text)) {}
    /// The server's reply code (0 when the channel was closed on our side).
    std::uint16_t reply_code() const noexcept { return reply_code_; }
    /// The server's reply text ("NOT_FOUND - no queue 'q' in vhost '/'").
    const std::string& reply_text() const noexcept { return reply_text_; }

private:
    std::uint16_t reply_code_;
    std::string reply_text_;
};

/// A publish with confirms that the server did not take: it nacked it
/// (basic.nack: reply_code() 0), or returned it as unroutable (mandatory set
/// and basic.return: reply_code() 312 NO_ROUTE, with the reply text).
class PublishFailed : public AmqpError {
public:
    PublishFailed(const std::string& message, std::uint16_t reply_code = 0)
        : AmqpError(message), reply_code_(reply_code) {}
    std::uint16_t reply_code() const noexcept { return reply_code_; }

private:
    std::uint16_t reply_code_;
};

}  // namespace corio::amqp
