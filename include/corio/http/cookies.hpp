// corio/http/cookies.hpp - HTTP cookies (RFC 6265): the Cookie header a
// server reads, the Set-Cookie attributes it writes, and the client's
// cookie jar.
//
// Mirrors aiohttp: `request.cookies`, `response.set_cookie(...)` /
// `del_cookie(...)` (web.hpp uses these), and `aiohttp.CookieJar`
// (update_cookies, filter_cookies, clear) that every ClientSession has.
// Nothing here does I/O or suspends.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "corio/http/message.hpp"

namespace corio::http {

/// Name -> value of the cookies a request carries.
using Cookies = std::map<std::string, std::string, std::less<>>;

/// Parses Cookie header values ("a=1; b=2"): pairs separated by ';',
/// whitespace around them dropped, double quotes around a value removed.
/// A pair without '=' or with an empty name is skipped; the first of two
/// cookies with one name wins (the more specific, RFC 6265 5.4). Never
/// throws for malformed input. aiohttp: `request.cookies`.
Cookies parse_cookie_header(std::string_view value);

/// The attributes of a Set-Cookie. aiohttp: the keyword arguments of
/// `response.set_cookie`. Every member is optional; `path` defaults to "/".
struct CookieOptions {
    /// `Expires=` (formatted as an IMF-fixdate).
    std::optional<std::chrono::system_clock::time_point> expires;
    /// `Domain=`.
    std::string domain;
    /// `Max-Age=` in seconds.
    std::optional<std::int64_t> max_age;
    /// `Path=` (empty: no attribute).
    std::string path = "/";
    bool secure = false;
    bool httponly = false;
    /// `SameSite=` ("Lax", "Strict", "None"; empty: no attribute).
    std::string samesite;
};

/// The Set-Cookie value for `name`=`value` with `options`. Throws
/// std::invalid_argument when `name` is not a token, `value` has a
/// character a cookie value may not hold (RFC 6265 4.1.1: control
/// characters, space, '"', ',', ';', '\\'), or an attribute holds ';' or a
/// control character.
std::string format_set_cookie(std::string_view name, std::string_view value,
                              const CookieOptions& options = {});

/// A client's cookies: what Set-Cookie answers stored, sent back in the
/// Cookie header of later requests whose URL matches (RFC 6265 5.1.3
/// domain match, 5.1.4 path match, Secure only over https, expired ones
/// dropped). Cookies from an IP-address host or without Domain are
/// host-only. Cookies are kept in memory only. Not thread-safe (one
/// session, one loop). aiohttp: `aiohttp.CookieJar`.
class CookieJar {
public:
    /// One stored cookie.
    struct Cookie {
        std::string name, value;
        std::string domain;  // lower case, without a leading dot
        std::string path;
        bool host_only = true;
        bool secure = false;
        bool httponly = false;
        /// Null: a session cookie.
        std::optional<std::chrono::system_clock::time_point> expires;
    };

    /// Stores the cookies of `response_headers`' Set-Cookie fields, set by
    /// `url` (http:// or https://). A cookie whose Domain does not
    /// domain-match the URL's host is ignored, as are malformed ones; one
    /// with Max-Age <= 0 or an Expires in the past deletes the stored one.
    /// aiohttp: `jar.update_cookies(cookies, response_url)`.
    void update_cookies(const Headers& response_headers, std::string_view url);
    /// Stores one cookie as if `url` had answered `Set-Cookie: <set_cookie>`.
    void update_cookie(std::string_view set_cookie, std::string_view url);
    /// The cookies to send to `url`: name -> value (longer paths first when
    /// two share a name). aiohttp: `jar.filter_cookies(url)`.
    Cookies filter_cookies(std::string_view url) const;
    /// The Cookie header value for `url` ("a=1; b=2"), empty when none.
    std::string cookie_header(std::string_view url) const;
    /// Every cookie stored and not expired.
    std::vector<Cookie> cookies() const;
    /// How many cookies are stored (expired ones included until next use).
    std::size_t size() const noexcept { return cookies_.size(); }
    /// Forgets every cookie. aiohttp: `jar.clear()`.
    void clear() noexcept { cookies_.clear(); }

private:
    std::vector<Cookie> cookies_;
};

}  // namespace corio::http
