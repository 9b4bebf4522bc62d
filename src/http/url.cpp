// Percent-decoding and query strings.
#include "corio/http/url.hpp"

#include "chars.hpp"

namespace corio::http {

namespace {

/// Appends the decoding of `s` to `out`; '+' becomes a space when `plus`.
/// False on a malformed escape.
bool decode_into(std::string_view s, bool plus, std::string& out) {
    out.reserve(out.size() + s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        char c = s[i];
        if (c == '%') {
            if (i + 2 >= s.size()) {
                return false;
            }
            if (!detail::is_hex(s[i + 1]) || !detail::is_hex(s[i + 2])) {
                return false;
            }
            out.push_back(
                static_cast<char>(detail::hex_value(s[i + 1]) * 16 + detail::hex_value(s[i + 2])));
            i += 2;
        } else if (c == '+' && plus) {
            out.push_back(' ');
        } else {
            out.push_back(c);
        }
    }
    return true;
}

}  // namespace

std::optional<std::string> percent_decode(std::string_view s) {
    std::string out;
    if (!decode_into(s, false, out)) {
        return std::nullopt;
    }
    return out;
}

std::optional<MultiDict> parse_query(std::string_view query) {
    MultiDict out;
    std::string key;
    std::string value;
    while (!query.empty()) {
        std::size_t amp = query.find('&');
        std::string_view pair = query.substr(0, amp);
        query.remove_prefix(amp == std::string_view::npos ? query.size() : amp + 1);
        if (pair.empty()) {
            continue;
        }
        std::size_t eq = pair.find('=');
        std::string_view k = pair.substr(0, eq);
        std::string_view v =
            eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
        key.clear();
        value.clear();
        if (!decode_into(k, true, key) || !decode_into(v, true, value)) {
            return std::nullopt;
        }
        out.add(key, value);
    }
    return out;
}

}  // namespace corio::http
