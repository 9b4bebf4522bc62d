// http/utf8.hpp (private) - incremental UTF-8 validation (RFC 3629, Unicode
// table 3-7): rejects overlong forms, surrogates (U+D800..U+DFFF), code
// points above U+10FFFF and stray continuation bytes, at any split of the
// input, failing on the first byte that cannot start or continue a
// well-formed sequence. WebSocket text messages use it across fragments.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace corio::http::detail {

class Utf8Validator {
public:
    /// Checks the next bytes. False once the input so far cannot be the
    /// start of valid UTF-8; that state is final until reset().
    bool feed(const char* p, std::size_t n) noexcept;
    bool feed(std::string_view s) noexcept { return feed(s.data(), s.size()); }
    /// Whether everything fed so far is valid and ends on a code point
    /// boundary.
    bool complete() const noexcept { return state_ == kAccept; }
    /// Whether the input has already failed.
    bool failed() const noexcept { return state_ == kReject; }
    void reset() noexcept { state_ = kAccept; }

private:
    // States: kAccept, or what the next byte must be and how many follow.
    enum : std::uint8_t {
        kAccept,
        kTail1,  // one more 80..BF
        kTail2,  // two more 80..BF
        kTail3,  // three more 80..BF
        kE0,     // A0..BF, then one more (no overlong 3-byte form)
        kED,     // 80..9F, then one more (no surrogates)
        kF0,     // 90..BF, then two more (no overlong 4-byte form)
        kF4,     // 80..8F, then two more (nothing above U+10FFFF)
        kReject,
    };
    std::uint8_t state_ = kAccept;
};

/// Whether `s` is entirely valid UTF-8.
bool is_valid_utf8(std::string_view s) noexcept;

}  // namespace corio::http::detail
