// http/serializer.hpp (private) - writes a response's status line, fields
// and (for a body known in advance) the body into one caller buffer, ready
// for a single write. The serializer owns the framing fields: it adds
// Content-Length or Transfer-Encoding, Connection and Date itself, and
// refuses them in the caller's headers so that the length on the wire is
// always the length sent. aiohttp: `StreamWriter.write_headers` with
// `_serialize_headers`.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "corio/http/message.hpp"

namespace corio::http::detail {

/// How the body after a response head is delimited.
enum class ResponseFraming : std::uint8_t {
    content_length,  // Content-Length: the body's size (or content_length for HEAD)
    chunked,         // Transfer-Encoding: chunked; chunks follow (chunked.hpp)
    close,           // no length: the body ends when the connection closes
    none,            // no body and no length field: 1xx, 204, 304
};

/// What a response head says besides its caller-supplied fields.
struct ResponseHeadOptions {
    int status = 200;
    /// Empty: the registered phrase (status.hpp), or "Unknown".
    std::string_view reason;
    /// The request's version: decides the status line's version and how
    /// keep-alive is spelled (HTTP/1.0 needs "Connection: keep-alive").
    HttpVersion version = HttpVersion11;
    /// Whether the connection stays open; false adds "Connection: close".
    bool keep_alive = true;
    ResponseFraming framing = ResponseFraming::content_length;
    /// Answer to a HEAD request: Content-Length says content_length, and no
    /// body bytes follow.
    bool head_request = false;
    /// For head_request: the length a GET would have had.
    std::uint64_t content_length = 0;
    /// The Date value (DateCache::get()); empty sends no Date.
    std::string_view date;
};

/// Appends the response head (and `body`, for content_length framing
/// outside HEAD) to `out`. With chunked framing `body` must be empty (send
/// it with append_chunk). Where the request version cannot carry chunked
/// framing (HTTP/1.0), it becomes close framing. Appending reuses `out`'s
/// capacity: no allocation once the buffer has grown to its working size.
/// Throws std::invalid_argument for a status outside 100..999, a reason
/// with control characters, a body where the status or framing has none,
/// or caller headers that set Content-Length or Transfer-Encoding.
void serialize_response(std::string& out, const ResponseHeadOptions& options,
                        const Headers& headers, std::string_view body = {});

}  // namespace corio::http::detail
