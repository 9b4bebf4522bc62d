// Method names, field-syntax checks and Headers' insertion check.
#include "corio/http/message.hpp"

#include <array>
#include <stdexcept>
#include <string>

#include "chars.hpp"

namespace corio::http {

namespace {

constexpr std::array<std::string_view, 9> kMethodNames = {
    "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH",
};

}  // namespace

std::string_view method_name(Method m) noexcept {
    auto i = static_cast<std::size_t>(m);
    return i < kMethodNames.size() ? kMethodNames[i] : std::string_view();
}

std::optional<Method> parse_method(std::string_view name) noexcept {
    for (std::size_t i = 0; i < kMethodNames.size(); ++i) {
        if (kMethodNames[i] == name) {
            return static_cast<Method>(i);
        }
    }
    if (!is_token(name)) {
        return std::nullopt;
    }
    return Method::other;
}

bool is_token(std::string_view s) noexcept {
    if (s.empty()) {
        return false;
    }
    for (char c : s) {
        if (!detail::is_tchar(c)) {
            return false;
        }
    }
    return true;
}

bool is_field_value(std::string_view s) noexcept {
    for (char c : s) {
        if (!detail::is_field_vchar(c)) {
            return false;
        }
    }
    return true;
}

bool has_token(std::string_view list, std::string_view token) noexcept {
    return detail::any_list_element(
        list, [token](std::string_view item) { return iequals(item, token); });
}

void detail::HeaderTraits::check(std::string_view name, std::string_view value) {
    if (!is_token(name)) {
        throw std::invalid_argument("header name: not an HTTP token: \"" + std::string(name) +
                                    "\"");
    }
    if (!is_field_value(value)) {
        throw std::invalid_argument("header value of " + std::string(name) +
                                    ": contains CR, LF, NUL or another control character");
    }
}

}  // namespace corio::http
