// http/chunked.hpp (private) - the chunked transfer coding (RFC 9112 7.1):
// a sans-I/O decoder and the encoder's pieces.
//
// The decoder is strict where lenient parsers have been used for request
// smuggling: every line ends in CRLF (a bare LF or a CR without LF is an
// error), the chunk size is 1*HEXDIG with no sign, prefix or trailing
// space and must fit 64 bits, whitespace is allowed only before a ';'
// that starts an extension, extensions are checked for characters and
// then ignored, and the chunk-size line and the trailer section are bounded.
// Trailer fields are checked (token ':' value, no folding) and dropped.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "parse_error.hpp"

namespace corio::http::detail {

/// Bounds of one chunked body.
struct ChunkedLimits {
    /// Decoded body bytes allowed in total; body_too_large beyond.
    std::uint64_t max_body_size = UINT64_MAX;
    /// Bytes of one chunk-size line with its extensions, CRLF excluded.
    std::size_t max_line_size = 4096;
    /// Bytes of the trailer section, its final CRLF included.
    std::size_t max_trailer_size = 8192;
};

/// What one ChunkedDecoder::decode() call found.
struct ChunkedStep {
    enum Status : std::uint8_t {
        need_data,  // every byte consumed; call again with more
        data,       // `bytes` holds decoded body bytes (a view into the input)
        done,       // the body ended: last chunk, trailers and final CRLF consumed
        error,      // see ChunkedDecoder::error(); nothing more will decode
    };
    Status status = need_data;
    /// Input bytes used by this call (framing and data).
    std::size_t consumed = 0;
    std::string_view bytes;
};

/// Decodes one chunked body, byte-exact at any split of the input. Nothing
/// is copied: data comes back as views into the input. Not thread-safe.
class ChunkedDecoder {
public:
    explicit ChunkedDecoder(const ChunkedLimits& limits = {}) noexcept : limits_(limits) {}

    /// Decodes from the start of `in`, which follows the bytes consumed by
    /// earlier calls. Stops after the first data bytes it finds, at the end
    /// of the body, at an error, or at the end of `in`. After done or error
    /// it consumes nothing and repeats its status.
    ChunkedStep decode(std::string_view in) noexcept;

    /// Ready for a new body (the limits stay).
    void reset() noexcept;
    /// Changes the limits for the next body.
    void set_limits(const ChunkedLimits& limits) noexcept { limits_ = limits; }
    /// Why decoding failed (ParseError::none before an error).
    ParseError error() const noexcept { return error_; }
    /// Whether the whole body has been decoded.
    bool done() const noexcept { return state_ == State::done; }
    /// Decoded body bytes so far.
    std::uint64_t body_size() const noexcept { return body_size_; }

private:
    enum class State : std::uint8_t {
        size_first,     // first hex digit of a chunk-size
        size,           // more hex digits, or what follows them
        size_ws,        // BWS after the size: more whitespace or ';'
        ext,            // inside chunk extensions, until CR
        size_lf,        // CR seen after the size line, LF expected
        data,           // chunk data, `remaining_` bytes left
        data_cr,        // CR expected after chunk data
        data_lf,        // LF expected after chunk data
        trailer_start,  // start of a trailer line (or of the final CRLF)
        trailer_name,   // field name of a trailer line
        trailer_value,  // field value, until CR
        trailer_lf,     // LF expected after a trailer line
        final_lf,       // LF expected after the final CR
        done,
        error,
    };

    ChunkedStep fail(ParseError e, std::size_t at) noexcept;
    /// fail() for byte `c` where the grammar allows no such byte: a bare LF
    /// is reported as such, anything else as invalid_chunk.
    ChunkedStep unexpected(char c, std::size_t at) noexcept {
        return fail(c == '\n' ? ParseError::bare_lf : ParseError::invalid_chunk, at);
    }

    ChunkedLimits limits_;
    State state_ = State::size_first;
    ParseError error_ = ParseError::none;
    std::uint64_t remaining_ = 0;  // chunk-size being read, then data left in the chunk
    std::uint64_t body_size_ = 0;
    std::size_t line_size_ = 0;     // bytes of the current chunk-size line
    std::size_t trailer_size_ = 0;  // bytes of the trailer section so far
};

/// Longest chunk-size line chunk_header() writes: 16 hex digits and CRLF.
inline constexpr std::size_t kChunkHeaderMax = 18;
/// What ends every chunk's data.
inline constexpr std::string_view kChunkEnd = "\r\n";
/// The last chunk without trailers: ends a chunked body.
inline constexpr std::string_view kLastChunk = "0\r\n\r\n";

/// Writes "<size in hex>\r\n" into `buf` and returns it, for a gather write
/// of header, data and kChunkEnd without copying the data. `size` > 0 (a
/// zero size would end the body).
std::string_view chunk_header(std::uint64_t size, std::array<char, kChunkHeaderMax>& buf) noexcept;
/// Appends `data` as one chunk to `out`; nothing when `data` is empty.
void append_chunk(std::string& out, std::string_view data);
/// Appends the last chunk and the final CRLF to `out`.
inline void append_last_chunk(std::string& out) {
    out.append(kLastChunk);
}

}  // namespace corio::http::detail
