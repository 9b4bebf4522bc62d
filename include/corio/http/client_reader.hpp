// corio/http/client_reader.hpp - ContentReader: a client response's body
// as a stream, read as it arrives from the connection.
//
// Mirrors aiohttp's `response.content` (an `aiohttp.StreamReader`): read(n),
// readany(), readline(), iter_chunked(n), iter_any(), at_eof(). Bodies
// framed by Content-Length, by chunked coding or by the end of the
// connection all read the same way (the decoded bytes). Backpressure: bytes
// are taken from the socket only when a read needs them, and the socket
// reader stops reading from the kernel while more than twice
// ClientSessionOptions::read_bufsize bytes wait in it, so the sender is
// held back by TCP flow control and memory stays bounded whatever the
// body's size.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <utility>

#include "corio/async_generator.hpp"
#include "corio/task.hpp"

namespace corio::http {

namespace detail {
struct ResponseBody;  // src/http/client_conn.hpp
struct ClientConn;
struct ClientPool;
}  // namespace detail

/// The body of a ClientResponse as a stream. A handle: copies read the
/// same body. One task at a time may read it. Every read suspends only
/// while no unread byte is buffered and the body has not ended; each
/// throws what reading the connection throws (ServerDisconnectedError when
/// the connection ends inside the body, ClientPayloadError for bad
/// framing or a body over max_body_size, TimeoutError after
/// ClientTimeout::sock_read, std::system_error); after such an error the
/// connection is closed and later reads throw it again.
/// ClientTimeout::total runs until the body ends: a read waiting for bytes
/// is cut at the deadline, and any read after it throws TimeoutError
/// (buffered bytes are dropped, the connection closed, later reads throw it
/// again). Cancelling a read that waits for the socket closes the
/// connection: bytes already buffered stay readable, reads past them throw
/// ClientPayloadError.
/// aiohttp: `aiohttp.StreamReader` (`response.content`).
class ContentReader {
public:
    explicit ContentReader(std::shared_ptr<detail::ResponseBody> body) noexcept
        : body_(std::move(body)) {}

    /// Up to `n` bytes (at least one unless the body ended: then ""), or
    /// with n = -1 everything left. aiohttp: `await content.read(n)`.
    Task<std::string> read(long n = -1) const;
    /// Whatever is buffered, waiting for at least one byte; "" at the end.
    /// aiohttp: `await content.readany()`.
    Task<std::string> readany() const;
    /// One line with its "\n" (the last may lack it; "" at the end). Throws
    /// std::invalid_argument (aiohttp's ValueError "Line is too long") for a
    /// line longer than twice read_bufsize, after dropping what was read of
    /// it. aiohttp: `await content.readline()`.
    Task<std::string> readline() const;
    /// Pieces of at most `n` bytes until the end (std::invalid_argument for
    /// n = 0). aiohttp: `async for piece in content.iter_chunked(n)`.
    AsyncGenerator<std::string> iter_chunked(std::size_t n) const;
    /// What each read brings, until the end.
    /// aiohttp: `async for piece in content.iter_any()`.
    AsyncGenerator<std::string> iter_any() const;
    /// Whether the body ended and every byte of it was read. Never
    /// suspends. aiohttp: `content.at_eof()`.
    bool at_eof() const noexcept;
    /// Body bytes received and not yet read (decoded ones, bytes not yet
    /// decoded, and what waits in the socket reader).
    std::size_t buffered() const noexcept;
    /// The largest buffered() seen so far (sampled before each read from
    /// the socket, when it is largest): what backpressure bounds.
    std::size_t peak_buffered() const noexcept;

private:
    std::shared_ptr<detail::ResponseBody> body_;
};

}  // namespace corio::http
