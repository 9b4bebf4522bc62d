// http/url_encode.hpp (private) - percent-encoding for building URLs and
// form bodies: url_for's path segments and query, FormData's urlencoded
// body.
#pragma once

#include <string>
#include <string_view>

namespace corio::http::detail {

/// `s` for a path segment: unreserved characters and the sub-delimiters
/// RFC 3986 allows in a segment stay, everything else (including '/', '?',
/// '#', '%' and every non-ASCII byte) becomes %XX. yarl: `quote(safe=...)`.
inline std::string quote_segment(std::string_view s) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    static constexpr std::string_view kSafe = "-._~!$&'()*+,;=:@";
    std::string out;
    for (char ch : s) {
        auto c = static_cast<unsigned char>(ch);
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            kSafe.find(ch) != std::string_view::npos) {
            out += ch;
        } else {
            out += '%';
            out += kHex[c >> 4];
            out += kHex[c & 15];
        }
    }
    return out;
}

/// `s` form-urlencoded (application/x-www-form-urlencoded): space as '+',
/// only ALPHA DIGIT - . _ * kept. Python: `urllib.parse.quote_plus`.
inline std::string form_urlencode(std::string_view s) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string out;
    for (char ch : s) {
        auto c = static_cast<unsigned char>(ch);
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '.' || c == '_' || c == '*') {
            out += ch;
        } else if (c == ' ') {
            out += '+';
        } else {
            out += '%';
            out += kHex[c >> 4];
            out += kHex[c & 15];
        }
    }
    return out;
}

}  // namespace corio::http::detail
