// corio/http/body_reader.hpp - BodyReader: a request body read as it
// arrives (the server's side of `request.content()`).
//
// Mirrors aiohttp's `StreamReader` as `request.content`: read(n),
// readany(), readexactly(n), readline(), iter_chunked(n), iter_any(),
// at_eof(). The server feeds it from the connection while the handler runs;
// while more than ServerOptions::body_buffer_limit bytes wait unread, the
// server stops reading the connection, and it reads again as the handler
// takes bytes out (backpressure), so a body of any size up to
// ServerOptions::max_body_size goes through a bounded buffer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <exception>
#include <string>
#include <string_view>

#include "corio/async_generator.hpp"
#include "corio/locks.hpp"
#include "corio/task.hpp"

namespace corio::http::web {

namespace detail {

/// What a BodyReader tells the connection that feeds it (internal;
/// implemented by the server).
class BodySource {
public:
    /// The handler waits for body bytes: the first call answers
    /// `Expect: 100-continue`.
    virtual void body_wanted() = 0;
    /// The handler took bytes out: the connection may read again.
    virtual void body_consumed() = 0;

protected:
    ~BodySource() = default;
};

}  // namespace detail

/// A request body as a stream. One task reads it at a time. Every read
/// suspends only while no byte (or not enough) has arrived and the body has
/// not ended. Errors: when the body exceeds ServerOptions::max_body_size the
/// read throws HTTPException(413) (uncaught, the handler answers 413); a
/// malformed chunked body HTTPException(400); a connection lost or
/// half-closed before the body's end std::system_error(ECONNRESET). Once
/// failed, every later read throws the same error. Cancelling a read leaves
/// the buffered bytes in place. aiohttp: `aiohttp.StreamReader`
/// (`request.content`).
class BodyReader {
public:
    /// An empty body not yet ended (feed it with feed_data()/feed_eof()).
    explicit BodyReader(std::size_t limit = 64 * 1024) noexcept : limit_(limit) {}
    BodyReader(const BodyReader&) = delete;
    BodyReader& operator=(const BodyReader&) = delete;

    /// Up to `n` bytes (at least one, unless the body ended: then ""), or
    /// with n < 0 everything up to the end of the body. aiohttp:
    /// `await content.read(n=-1)`.
    Task<std::string> read(std::ptrdiff_t n = -1);
    /// Whatever is buffered (waiting for at least one byte); "" at the end.
    /// aiohttp: `await content.readany()`.
    Task<std::string> readany();
    /// Exactly `n` bytes. Throws IncompleteReadError (with the bytes read)
    /// when the body ends first. aiohttp: `await content.readexactly(n)`.
    Task<std::string> readexactly(std::size_t n);
    /// One line, '\n' included (the last one may lack it); "" at the end.
    /// Throws LimitOverrunError when more than the buffer limit arrives
    /// without a '\n' (the bytes stay buffered). aiohttp: `await content.readline()`.
    Task<std::string> readline();
    /// The body in pieces of `n` bytes (the last may be shorter). aiohttp:
    /// `async for data in content.iter_chunked(n)`.
    AsyncGenerator<std::string> iter_chunked(std::size_t n);
    /// The body in the pieces it arrives in. aiohttp: `content.iter_any()`.
    AsyncGenerator<std::string> iter_any();
    /// Whether the body ended and every byte was read. aiohttp: `content.at_eof()`.
    bool at_eof() const noexcept { return eof_ && buffered() == 0; }
    /// Whether the body's last byte arrived (it may still be buffered).
    bool eof_received() const noexcept { return eof_; }
    /// Whether the body failed (see the class comment).
    bool failed() const noexcept { return error_ != nullptr; }
    /// Bytes that arrived and are not read yet.
    std::size_t buffered() const noexcept { return buf_.size() - pos_; }
    /// The most bytes ever buffered at once: stays near the limit however
    /// large the body (for tests and tuning).
    std::size_t buffered_peak() const noexcept { return peak_; }
    /// Body bytes that arrived so far. aiohttp: `content.total_bytes`.
    std::uint64_t total_bytes() const noexcept { return total_; }
    /// The buffer limit the server reads ahead to (ServerOptions::body_buffer_limit).
    std::size_t limit() const noexcept { return limit_; }

    // The feeding side (the server; tests of handlers).

    /// Appends body bytes and wakes a waiting read.
    void feed_data(std::string_view data);
    /// Ends the body and wakes a waiting read.
    void feed_eof() noexcept;
    /// Fails the body: waiting and later reads throw `error`.
    void set_exception(std::exception_ptr error) noexcept;
    /// Drops the buffered bytes and every later one (the handler is done
    /// with the request).
    void discard() noexcept;
    /// Where body_wanted()/body_consumed() go (null: nowhere).
    void set_source(detail::BodySource* source) noexcept { source_ = source; }

private:
    Task<void> wait_data();
    std::string take(std::size_t n);
    void consumed();

    std::size_t limit_;
    std::string buf_;
    std::size_t pos_ = 0;  // buf_[pos_, size) is unread
    std::size_t peak_ = 0;
    std::uint64_t total_ = 0;
    bool eof_ = false;
    bool discarding_ = false;
    std::exception_ptr error_;
    Event data_;
    detail::BodySource* source_ = nullptr;
};

}  // namespace corio::http::web
