// src/redis/numbers.hpp - strict parsing of the numbers RESP carries
// (private to corio::redis): integers and lengths as decimal int64, doubles
// as RESP3 writes them. Shared by the decoder and Reply's conversions so both
// accept exactly the same text. Also the millisecond count that Lock and
// WorkQueue send.
#pragma once

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <limits>
#include <string_view>
#include <system_error>

namespace corio::redis::detail {

/// An optional sign ('+' or '-') and at least one decimal digit, nothing
/// else, within int64. False (and `out` untouched) otherwise.
inline bool parse_int64(std::string_view s, std::int64_t& out) noexcept {
    std::size_t i = 0;
    bool negative = false;
    if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
        negative = s[0] == '-';
        i = 1;
    }
    if (i == s.size()) {
        return false;
    }
    constexpr std::uint64_t max_positive = std::numeric_limits<std::int64_t>::max();
    const std::uint64_t limit = negative ? max_positive + 1 : max_positive;
    std::uint64_t v = 0;
    for (; i < s.size(); ++i) {
        unsigned digit = static_cast<unsigned char>(s[i]) - unsigned{'0'};
        if (digit > 9 || v > (limit - digit) / 10) {
            return false;
        }
        v = v * 10 + digit;
    }
    out = negative ? static_cast<std::int64_t>(0 - v) : static_cast<std::int64_t>(v);
    return true;
}

/// A decimal or exponent double ("1.5", "-2e10", ".5"), "inf", "-inf",
/// "nan" (any case; std::from_chars's general format), with an optional
/// leading '+'. Out-of-range values are rejected. False (and `out`
/// untouched) otherwise.
inline bool parse_double(std::string_view s, double& out) noexcept {
    if (s.size() >= 2 && s[0] == '+' && s[1] != '-' && s[1] != '+') {
        s.remove_prefix(1);
    }
    if (s.empty()) {
        return false;
    }
    double v = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || end != s.data() + s.size()) {
        return false;
    }
    out = v;
    return true;
}

/// An optional sign and at least one decimal digit, of any length: the text
/// of a RESP3 big number.
inline bool is_big_number_text(std::string_view s) noexcept {
    if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
        s.remove_prefix(1);
    }
    if (s.empty()) {
        return false;
    }
    for (char c : s) {
        if (c < '0' || c > '9') {
            return false;
        }
    }
    return true;
}

/// `d` in whole milliseconds, at least 1: the argument of PX, PEXPIRE,
/// BLOCK or IDLE, where 0 would mean "forever" or be refused.
inline std::int64_t millis(std::chrono::nanoseconds d) noexcept {
    return std::max<std::int64_t>(1,
                                  std::chrono::duration_cast<std::chrono::milliseconds>(d).count());
}

}  // namespace corio::redis::detail
