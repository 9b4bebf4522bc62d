// http/parse_error.hpp (private) - why an HTTP/1.1 message was rejected,
// and the status a server answers with.
//
// Every error here also means: close the connection after answering (the
// framing can no longer be trusted). Codecs report these as values; the
// connection turns them into a response and a close.
#pragma once

#include <cstdint>
#include <string_view>

namespace corio::http::detail {

/// A rejected message's fault, one kind per answer a server gives or per
/// smuggling shape the tests check.
enum class ParseError : std::uint8_t {
    none,
    bad_request,               // malformed syntax not covered below
    invalid_method,            // not a method llhttp knows
    invalid_target,            // bad request-target characters or form
    invalid_version,           // not HTTP/1.0 or HTTP/1.1 (505)
    invalid_status,            // bad status line (responses)
    invalid_header,            // bad field name or value character, space before ':'
    bare_lf,                   // LF without CR in the head or chunk framing
    bare_cr,                   // CR not followed by LF
    obs_fold,                  // a line starting with SP/HTAB in the head (line folding)
    invalid_host,              // HTTP/1.1 request without Host, or with two
    invalid_content_length,    // not 1*DIGIT, or overflows 64 bits
    duplicate_content_length,  // two Content-Length fields (even equal ones)
    content_length_with_transfer_encoding,
    invalid_transfer_encoding,    // request TE not ending in chunked; TE in HTTP/1.0
    unsupported_transfer_coding,  // request TE "gzip, chunked" and the like (501)
    invalid_chunk,                // bad chunk-size line, extension, data CRLF or trailer
    chunk_size_overflow,          // chunk-size beyond 64 bits
    uri_too_long,                 // 414
    header_too_large,             // head beyond max_head_size (431)
    too_many_headers,             // more than max_headers fields (431)
    trailer_too_large,            // trailer section beyond max_trailer_size (431)
    body_too_large,               // body beyond max_body_size (413)
    unexpected_eof,               // the stream ended inside a message
};

/// The status a server answers `e` with: 400, 413, 414, 431, 501 or 505.
int error_status(ParseError e) noexcept;
/// A short name for logs and tests ("bare_lf").
std::string_view error_name(ParseError e) noexcept;

}  // namespace corio::http::detail
