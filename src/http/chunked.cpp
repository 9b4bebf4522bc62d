// The chunked transfer coding: a byte-at-a-time state machine for the
// framing, whole spans for the data.
#include "chunked.hpp"

#include <algorithm>

#include "chars.hpp"

namespace corio::http::detail {

ChunkedStep ChunkedDecoder::fail(ParseError e, std::size_t at) noexcept {
    state_ = State::error;
    error_ = e;
    return ChunkedStep{ChunkedStep::error, at, {}};
}

void ChunkedDecoder::reset() noexcept {
    state_ = State::size_first;
    error_ = ParseError::none;
    remaining_ = 0;
    body_size_ = 0;
    line_size_ = 0;
    trailer_size_ = 0;
}

// One function on purpose: the byte loop and its switch over the states read
// as the grammar of RFC 9112 7.1, line by line, and stay the hot path.
ChunkedStep ChunkedDecoder::decode(std::string_view in) noexcept {
    if (state_ == State::done) {
        return ChunkedStep{ChunkedStep::done, 0, {}};
    }
    if (state_ == State::error) {
        return ChunkedStep{ChunkedStep::error, 0, {}};
    }
    const std::size_t n = in.size();
    std::size_t i = 0;
    while (i < n) {
        const char c = in[i];
        // The chunk-size line (size, BWS, extensions) is bounded as a whole.
        if (state_ == State::size || state_ == State::size_ws || state_ == State::ext) {
            if (c != '\r' && ++line_size_ > limits_.max_line_size) {
                return fail(ParseError::invalid_chunk, i);
            }
        } else if (state_ >= State::trailer_start && state_ <= State::final_lf) {
            if (++trailer_size_ > limits_.max_trailer_size) {
                return fail(ParseError::trailer_too_large, i);
            }
        }
        switch (state_) {
            case State::size_first:
                if (!is_hex(c)) {
                    return unexpected(c, i);
                }
                remaining_ = static_cast<std::uint64_t>(hex_value(c));
                line_size_ = 1;
                state_ = State::size;
                break;
            case State::size:
                if (is_hex(c)) {
                    if (remaining_ > (UINT64_MAX >> 4)) {
                        return fail(ParseError::chunk_size_overflow, i);
                    }
                    remaining_ = remaining_ * 16 + static_cast<std::uint64_t>(hex_value(c));
                } else if (c == '\r') {
                    state_ = State::size_lf;
                } else if (c == ';') {
                    state_ = State::ext;
                } else if (is_ows(c)) {
                    state_ = State::size_ws;
                } else {
                    return unexpected(c, i);
                }
                break;
            case State::size_ws:
                // RFC 9112 7.1.1: BWS only before the ';' of an extension.
                if (c == ';') {
                    state_ = State::ext;
                } else if (!is_ows(c)) {
                    return unexpected(c, i);
                }
                break;
            case State::ext:
                if (c == '\r') {
                    state_ = State::size_lf;
                } else if (!is_field_vchar(c)) {
                    return unexpected(c, i);
                }
                break;
            case State::size_lf:
                if (c != '\n') {
                    return fail(ParseError::bare_cr, i);
                }
                if (remaining_ == 0) {
                    state_ = State::trailer_start;
                    trailer_size_ = 0;
                } else {
                    if (remaining_ > limits_.max_body_size - body_size_) {
                        return fail(ParseError::body_too_large, i);
                    }
                    state_ = State::data;
                }
                break;
            case State::data: {
                const std::size_t take = static_cast<std::size_t>(
                    std::min<std::uint64_t>(remaining_, static_cast<std::uint64_t>(n - i)));
                remaining_ -= take;
                body_size_ += take;
                if (remaining_ == 0) {
                    state_ = State::data_cr;
                }
                return ChunkedStep{ChunkedStep::data, i + take, in.substr(i, take)};
            }
            case State::data_cr:
                if (c != '\r') {
                    return unexpected(c, i);
                }
                state_ = State::data_lf;
                break;
            case State::data_lf:
                if (c != '\n') {
                    return fail(ParseError::bare_cr, i);
                }
                state_ = State::size_first;
                break;
            case State::trailer_start:
                if (c == '\r') {
                    state_ = State::final_lf;
                } else if (is_ows(c)) {
                    return fail(ParseError::obs_fold, i);
                } else if (is_tchar(c)) {
                    state_ = State::trailer_name;
                } else {
                    return unexpected(c, i);
                }
                break;
            case State::trailer_name:
                if (c == ':') {
                    state_ = State::trailer_value;
                } else if (!is_tchar(c)) {
                    return unexpected(c, i);
                }
                break;
            case State::trailer_value:
                if (c == '\r') {
                    state_ = State::trailer_lf;
                } else if (!is_field_vchar(c)) {
                    return unexpected(c, i);
                }
                break;
            case State::trailer_lf:
                if (c != '\n') {
                    return fail(ParseError::bare_cr, i);
                }
                state_ = State::trailer_start;
                break;
            case State::final_lf:
                if (c != '\n') {
                    return fail(ParseError::bare_cr, i);
                }
                state_ = State::done;
                return ChunkedStep{ChunkedStep::done, i + 1, {}};
            case State::done:
            case State::error:
                break;  // handled before the loop
        }
        ++i;
    }
    return ChunkedStep{ChunkedStep::need_data, n, {}};
}

std::string_view chunk_header(std::uint64_t size, std::array<char, kChunkHeaderMax>& buf) noexcept {
    static constexpr char kDigits[] = "0123456789abcdef";
    char tmp[16];
    std::size_t len = 0;
    do {
        tmp[len++] = kDigits[size & 0xf];
        size >>= 4;
    } while (size != 0);
    for (std::size_t i = 0; i < len; ++i) {
        buf[i] = tmp[len - 1 - i];
    }
    buf[len] = '\r';
    buf[len + 1] = '\n';
    return std::string_view(buf.data(), len + 2);
}

void append_chunk(std::string& out, std::string_view data) {
    if (data.empty()) {
        return;
    }
    std::array<char, kChunkHeaderMax> buf;
    std::string_view head = chunk_header(data.size(), buf);
    out.reserve(out.size() + head.size() + data.size() + kChunkEnd.size());
    out.append(head).append(data).append(kChunkEnd);
}

}  // namespace corio::http::detail
