// http/chars.hpp (private) - character classes of RFC 9110 and RFC 3986 as
// 256-entry tables, shared by the codecs.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace corio::http::detail {

enum CharClass : std::uint8_t {
    kTchar = 1,       // token character (RFC 9110 5.6.2)
    kFieldVchar = 2,  // allowed in a field value: VCHAR, SP, HTAB, obs-text
    kHex = 4,         // hexadecimal digit
};

constexpr std::array<std::uint8_t, 256> make_char_classes() {
    std::array<std::uint8_t, 256> t{};
    for (int c = 0; c < 256; ++c) {
        std::uint8_t v = 0;
        bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
        bool digit = c >= '0' && c <= '9';
        bool tsym = c == '!' || c == '#' || c == '$' || c == '%' || c == '&' || c == '\'' ||
                    c == '*' || c == '+' || c == '-' || c == '.' || c == '^' || c == '_' ||
                    c == '`' || c == '|' || c == '~';
        if (alpha || digit || tsym) {
            v |= kTchar;
        }
        if ((c >= 0x21 && c <= 0x7e) || c == ' ' || c == '\t' || c >= 0x80) {
            v |= kFieldVchar;
        }
        if (digit || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')) {
            v |= kHex;
        }
        t[static_cast<std::size_t>(c)] = v;
    }
    return t;
}

inline constexpr std::array<std::uint8_t, 256> kCharClasses = make_char_classes();

constexpr bool has_class(char c, CharClass k) noexcept {
    return (kCharClasses[static_cast<unsigned char>(c)] & k) != 0;
}
constexpr bool is_tchar(char c) noexcept {
    return has_class(c, kTchar);
}
constexpr bool is_field_vchar(char c) noexcept {
    return has_class(c, kFieldVchar);
}
constexpr bool is_hex(char c) noexcept {
    return has_class(c, kHex);
}

/// Whether `c` is optional whitespace (OWS, RFC 9110 5.6.3): SP or HTAB.
constexpr bool is_ows(char c) noexcept {
    return c == ' ' || c == '\t';
}

/// `v` without the optional whitespace around it.
constexpr std::string_view trim_ows(std::string_view v) noexcept {
    while (!v.empty() && is_ows(v.front())) {
        v.remove_prefix(1);
    }
    while (!v.empty() && is_ows(v.back())) {
        v.remove_suffix(1);
    }
    return v;
}

/// Calls `fn(element)` for each non-empty element of the comma-separated
/// list `list` (RFC 9110 5.6.1: a Connection, Upgrade or Transfer-Encoding
/// value), without the optional whitespace around it; empty elements are
/// skipped, as the RFC says a recipient must. Stops at the first element
/// for which `fn` returns true, and returns whether one did.
template <class Fn>
constexpr bool any_list_element(std::string_view list, Fn&& fn) {
    while (!list.empty()) {
        const std::size_t comma = list.find(',');
        const std::string_view item = trim_ows(list.substr(0, comma));
        if (!item.empty() && fn(item)) {
            return true;
        }
        if (comma == std::string_view::npos) {
            break;
        }
        list.remove_prefix(comma + 1);
    }
    return false;
}

/// The value of a hexadecimal digit (is_hex(c) must hold).
constexpr int hex_value(char c) noexcept {
    if (c <= '9') {
        return c - '0';
    }
    return (c | 0x20) - 'a' + 10;
}

}  // namespace corio::http::detail
