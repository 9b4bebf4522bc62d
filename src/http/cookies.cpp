// http/cookies.cpp - Cookie parsing, Set-Cookie formatting, CookieJar.
#include "corio/http/cookies.hpp"

#include <algorithm>
#include <charconv>
#include <stdexcept>

#include "chars.hpp"
#include "date.hpp"

namespace corio::http {

namespace {

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) {
        c = static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c);
    }
    return out;
}

// RFC 6265 4.1.1 cookie-octet.
bool is_cookie_value(std::string_view v) {
    if (v.size() >= 2 && v.front() == '"' && v.back() == '"') {
        v = v.substr(1, v.size() - 2);
    }
    for (unsigned char c : v) {
        if (c < 0x21 || c == 0x7f || c == '"' || c == ',' || c == ';' || c == '\\') {
            return false;
        }
    }
    return true;
}

bool is_attribute_value(std::string_view v) {
    for (unsigned char c : v) {
        if (c < 0x20 || c == 0x7f || c == ';') {
            return false;
        }
    }
    return true;
}

// The parts of a URL a cookie cares about.
struct UrlParts {
    bool secure = false;
    std::string host;  // lower case, no brackets, no port
    std::string path;  // starts with '/', no query
};

std::optional<UrlParts> split(std::string_view url) {
    UrlParts u;
    std::size_t scheme_end = url.find("://");
    if (scheme_end == std::string_view::npos) {
        return std::nullopt;
    }
    std::string scheme = lower(url.substr(0, scheme_end));
    u.secure = scheme == "https" || scheme == "wss";
    url.remove_prefix(scheme_end + 3);
    std::size_t path_start = url.find_first_of("/?#");
    std::string_view authority = url.substr(0, path_start);
    std::string_view rest = path_start == std::string_view::npos ? "" : url.substr(path_start);
    if (std::size_t at = authority.rfind('@'); at != std::string_view::npos) {
        authority.remove_prefix(at + 1);
    }
    if (authority.starts_with('[')) {
        std::size_t close = authority.find(']');
        if (close == std::string_view::npos) {
            return std::nullopt;
        }
        u.host = lower(authority.substr(1, close - 1));
    } else {
        u.host = lower(authority.substr(0, authority.find(':')));
    }
    rest = rest.substr(0, rest.find_first_of("?#"));
    u.path = rest.empty() ? "/" : std::string(rest);
    if (u.host.empty()) {
        return std::nullopt;
    }
    return u;
}

bool is_ip(std::string_view host) {
    if (host.find(':') != std::string_view::npos) {
        return true;  // IPv6
    }
    return !host.empty() && host.find_first_not_of("0123456789.") == std::string_view::npos;
}

// RFC 6265 5.1.3.
bool domain_match(std::string_view host, std::string_view domain) {
    if (host == domain) {
        return true;
    }
    return host.size() > domain.size() && host.ends_with(domain) &&
           host[host.size() - domain.size() - 1] == '.' && !is_ip(host);
}

// RFC 6265 5.1.4.
bool path_match(std::string_view request_path, std::string_view cookie_path) {
    if (request_path == cookie_path) {
        return true;
    }
    return request_path.starts_with(cookie_path) &&
           (cookie_path.ends_with('/') || request_path[cookie_path.size()] == '/');
}

std::string default_path(std::string_view path) {
    std::size_t slash = path.rfind('/');
    if (path.empty() || path.front() != '/' || slash == 0) {
        return "/";
    }
    return std::string(path.substr(0, slash));
}

}  // namespace

Cookies parse_cookie_header(std::string_view value) {
    Cookies out;
    while (!value.empty()) {
        std::size_t semi = value.find(';');
        std::string_view pair = detail::trim_ows(value.substr(0, semi));
        value = semi == std::string_view::npos ? std::string_view() : value.substr(semi + 1);
        std::size_t eq = pair.find('=');
        if (eq == std::string_view::npos) {
            continue;
        }
        std::string_view name = detail::trim_ows(pair.substr(0, eq));
        std::string_view v = detail::trim_ows(pair.substr(eq + 1));
        if (v.size() >= 2 && v.front() == '"' && v.back() == '"') {
            v = v.substr(1, v.size() - 2);
        }
        if (!name.empty()) {
            out.emplace(std::string(name), std::string(v));  // the first one wins
        }
    }
    return out;
}

std::string format_set_cookie(std::string_view name, std::string_view value,
                              const CookieOptions& o) {
    if (!is_token(name)) {
        throw std::invalid_argument("cookie name is not a token: " + std::string(name));
    }
    if (!is_cookie_value(value)) {
        throw std::invalid_argument("cookie value has a character cookies may not hold: " +
                                    std::string(name));
    }
    if (!is_attribute_value(o.domain) || !is_attribute_value(o.path) ||
        !is_attribute_value(o.samesite)) {
        throw std::invalid_argument("cookie attribute has ';' or a control character: " +
                                    std::string(name));
    }
    std::string out(name);
    out += '=';
    out += value;
    if (o.expires) {
        char date[detail::kHttpDateSize];
        detail::format_http_date(
            std::chrono::floor<std::chrono::seconds>(o.expires->time_since_epoch()).count(), date);
        out += "; Expires=";
        out.append(date, sizeof date);
    }
    if (!o.domain.empty()) {
        out += "; Domain=" + o.domain;
    }
    if (o.max_age) {
        out += "; Max-Age=" + std::to_string(*o.max_age);
    }
    if (!o.path.empty()) {
        out += "; Path=" + o.path;
    }
    if (o.secure) {
        out += "; Secure";
    }
    if (o.httponly) {
        out += "; HttpOnly";
    }
    if (!o.samesite.empty()) {
        out += "; SameSite=" + o.samesite;
    }
    return out;
}

void CookieJar::update_cookies(const Headers& response_headers, std::string_view url) {
    for (std::string_view v : response_headers.get_all("Set-Cookie")) {
        update_cookie(v, url);
    }
}

void CookieJar::update_cookie(std::string_view set_cookie, std::string_view url) {
    std::optional<UrlParts> u = split(url);
    if (!u) {
        return;
    }
    const auto now = std::chrono::system_clock::now();
    std::size_t semi = set_cookie.find(';');
    std::string_view pair = detail::trim_ows(set_cookie.substr(0, semi));
    std::size_t eq = pair.find('=');
    if (eq == std::string_view::npos) {
        return;
    }
    Cookie c;
    c.name = std::string(detail::trim_ows(pair.substr(0, eq)));
    std::string_view value = detail::trim_ows(pair.substr(eq + 1));
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
        value = value.substr(1, value.size() - 2);
    }
    c.value = std::string(value);
    if (c.name.empty()) {
        return;
    }
    c.domain = u->host;
    c.path = default_path(u->path);
    bool expired = false;
    std::optional<std::int64_t> max_age;
    std::string_view attrs = semi == std::string_view::npos ? "" : set_cookie.substr(semi + 1);
    while (!attrs.empty()) {
        std::size_t next = attrs.find(';');
        std::string_view attr = detail::trim_ows(attrs.substr(0, next));
        attrs = next == std::string_view::npos ? std::string_view() : attrs.substr(next + 1);
        std::size_t aeq = attr.find('=');
        std::string key = lower(detail::trim_ows(attr.substr(0, aeq)));
        std::string_view av =
            aeq == std::string_view::npos ? "" : detail::trim_ows(attr.substr(aeq + 1));
        if (key == "domain" && !av.empty()) {
            std::string d = lower(av.starts_with('.') ? av.substr(1) : av);
            if (!domain_match(u->host, d)) {
                return;  // a cookie for another site: ignored
            }
            c.domain = d;
            c.host_only = false;
        } else if (key == "path" && av.starts_with('/')) {
            c.path = std::string(av);
        } else if (key == "secure") {
            c.secure = true;
        } else if (key == "httponly") {
            c.httponly = true;
        } else if (key == "max-age") {
            std::int64_t n = 0;
            auto [end, ec] = std::from_chars(av.data(), av.data() + av.size(), n);
            if (ec == std::errc() && end == av.data() + av.size()) {
                max_age = n;
            }
        } else if (key == "expires") {
            if (std::optional<std::int64_t> t = detail::parse_http_date(av)) {
                c.expires = std::chrono::system_clock::time_point(std::chrono::seconds(*t));
            }
        }
    }
    if (max_age) {  // Max-Age wins over Expires (RFC 6265 5.3 step 3)
        expired = *max_age <= 0;
        c.expires = now + std::chrono::seconds(std::max<std::int64_t>(*max_age, 0));
    } else if (c.expires && *c.expires <= now) {
        expired = true;
    }
    std::erase_if(cookies_, [&](const Cookie& o) {
        return o.name == c.name && o.domain == c.domain && o.path == c.path;
    });
    if (!expired) {
        cookies_.push_back(std::move(c));
    }
}

Cookies CookieJar::filter_cookies(std::string_view url) const {
    Cookies out;
    std::optional<UrlParts> u = split(url);
    if (!u) {
        return out;
    }
    const auto now = std::chrono::system_clock::now();
    std::vector<const Cookie*> matching;
    for (const Cookie& c : cookies_) {
        if (c.expires && *c.expires <= now) {
            continue;
        }
        if (c.host_only ? u->host != c.domain : !domain_match(u->host, c.domain)) {
            continue;
        }
        if (!path_match(u->path, c.path) || (c.secure && !u->secure)) {
            continue;
        }
        matching.push_back(&c);
    }
    std::stable_sort(matching.begin(), matching.end(), [](const Cookie* a, const Cookie* b) {
        return a->path.size() > b->path.size();
    });
    for (const Cookie* c : matching) {
        out.emplace(c->name, c->value);
    }
    return out;
}

std::string CookieJar::cookie_header(std::string_view url) const {
    std::string out;
    for (const auto& [name, value] : filter_cookies(url)) {
        if (!out.empty()) {
            out += "; ";
        }
        out += name + "=" + value;
    }
    return out;
}

std::vector<CookieJar::Cookie> CookieJar::cookies() const {
    std::vector<Cookie> out;
    const auto now = std::chrono::system_clock::now();
    for (const Cookie& c : cookies_) {
        if (!c.expires || *c.expires > now) {
            out.push_back(c);
        }
    }
    return out;
}

}  // namespace corio::http
