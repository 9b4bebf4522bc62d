// corio/http/message.hpp - the vocabulary of HTTP/1.1 messages: Method,
// HttpVersion and Headers, plus the field-syntax checks they rely on.
//
// Mirrors aiohttp's `hdrs` (METH_GET, ...), `aiohttp.HttpVersion` /
// `HttpVersion11` and the CIMultiDict it uses for headers, and Python's
// `http.HTTPMethod`. Status codes are in status.hpp, URL pieces in url.hpp.
// Nothing here does I/O or suspends.
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string_view>

#include "corio/http/multidict.hpp"

namespace corio::http {

/// The request methods HTTP defines (RFC 9110 9.3, RFC 5789), named as
/// Python's `http.HTTPMethod` names them; `other` stands for any extension
/// method (WebDAV's PROPFIND, ...), whose name the request keeps as text.
enum class Method : std::uint8_t {
    GET,
    HEAD,
    POST,
    PUT,
    DELETE,
    CONNECT,
    OPTIONS,
    TRACE,
    PATCH,
    other,
};

/// The method's name as sent on the wire ("GET"); "" for Method::other.
/// Python: `http.HTTPMethod.GET.value`.
std::string_view method_name(Method m) noexcept;
/// The Method whose name is exactly `name` (case-sensitive, as RFC 9110
/// 9.1 says), or Method::other for any other valid token; nothing when
/// `name` is not a token. Python: `http.HTTPMethod(name)`.
std::optional<Method> parse_method(std::string_view name) noexcept;

/// An HTTP version, "HTTP/<major>.<minor>". aiohttp: `HttpVersion`.
struct HttpVersion {
    std::uint8_t major = 1;
    std::uint8_t minor = 1;
    friend constexpr auto operator<=>(HttpVersion, HttpVersion) = default;
};
/// HTTP/1.0. aiohttp: `HttpVersion10`.
inline constexpr HttpVersion HttpVersion10{1, 0};
/// HTTP/1.1. aiohttp: `HttpVersion11`.
inline constexpr HttpVersion HttpVersion11{1, 1};

/// Whether `s` is a non-empty RFC 9110 token (5.6.2): a field name, a
/// method, a transfer coding. Letters, digits and !#$%&'*+-.^_`|~ only.
bool is_token(std::string_view s) noexcept;
/// Whether `s` may be sent as a field value (RFC 9110 5.5): visible ASCII,
/// SP, HTAB and obs-text (bytes >= 0x80); no CR, LF, NUL or other control
/// character, so a value can never end a line or smuggle a header.
bool is_field_value(std::string_view s) noexcept;
/// Whether the comma-separated list `list` (a Connection, Upgrade or
/// Transfer-Encoding value) has an element equal to `token`, ignoring ASCII
/// case and the optional whitespace around elements.
bool has_token(std::string_view list, std::string_view token) noexcept;

namespace detail {

/// Headers' keys: field names compared case-insensitively; add() and set()
/// reject what could not be sent safely.
struct HeaderTraits {
    static bool equal(std::string_view a, std::string_view b) noexcept { return iequals(a, b); }
    /// Throws std::invalid_argument naming `name` or `value` when the name
    /// is not a token or the value is not a field value.
    static void check(std::string_view name, std::string_view value);
};

}  // namespace detail

/// A message's header fields: an ordered multi-map with case-insensitive
/// names that keeps each name's original spelling (get/get_all/contains/
/// add/set/remove, see BasicMultiDict). add() and set() throw
/// std::invalid_argument for a name that is not a token or a value with CR,
/// LF, NUL or another control character, so a header can never inject a
/// line into a serialized message. aiohttp: `CIMultiDict` as
/// `request.headers` / `response.headers`.
using Headers = BasicMultiDict<detail::HeaderTraits>;

}  // namespace corio::http
