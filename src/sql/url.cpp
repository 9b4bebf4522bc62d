// src/sql/url.cpp - parse_url for postgresql:// and mysql:// URLs.
#include "corio/sql/url.hpp"

#include <charconv>
#include <stdexcept>

namespace corio::sql {
namespace {

[[noreturn]] void bad(const std::string& what) {
    throw std::invalid_argument("sql::parse_url: " + what);
}

std::string decode(std::string_view s, const char* part) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] != '%') {
            out += s[i];
            continue;
        }
        unsigned v = 0;
        if (i + 2 >= s.size() ||
            std::from_chars(s.data() + i + 1, s.data() + i + 3, v, 16).ptr != s.data() + i + 3) {
            bad(std::string("bad percent-escape in the ") + part);
        }
        out += static_cast<char>(v);
        i += 2;
    }
    return out;
}

}  // namespace

std::optional<std::string> Url::param(std::string_view key) const {
    std::optional<std::string> found;
    for (const auto& [k, v] : params) {
        if (k == key) {
            found = v;
        }
    }
    return found;
}

bool url_bool(std::string_view scheme, std::string_view key, std::string_view v) {
    if (v == "true" || v == "1" || v == "yes" || v == "on") {
        return true;
    }
    if (v == "false" || v == "0" || v == "no" || v == "off") {
        return false;
    }
    throw std::invalid_argument(std::string(scheme) + " URL: " + std::string(key) + "=" +
                                std::string(v) + " is not a boolean");
}

std::chrono::milliseconds url_seconds(std::string_view scheme, std::string_view key,
                                      std::string_view v) {
    double secs = 0;
    auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), secs);
    if (ec != std::errc() || p != v.data() + v.size() || !(secs >= 0) || secs > 1e9) {
        throw std::invalid_argument(std::string(scheme) + " URL: " + std::string(key) + "=" +
                                    std::string(v) + " is not a number of seconds");
    }
    return std::chrono::milliseconds(static_cast<long long>(secs * 1000));
}

Url parse_url(std::string_view url) {
    Url out;
    std::size_t colon = url.find("://");
    if (colon == std::string_view::npos) {
        bad("'" + std::string(url) + "' has no scheme (postgresql:// or mysql://)");
    }
    std::string_view scheme = url.substr(0, colon);
    if (scheme == "postgresql" || scheme == "postgres") {
        out.scheme = "postgresql";
    } else if (scheme == "mysql" || scheme == "mariadb") {
        out.scheme = "mysql";
    } else {
        bad("unknown scheme '" + std::string(scheme) + "' (postgresql:// or mysql://)");
    }
    std::string_view rest = url.substr(colon + 3);
    std::string_view query;
    if (std::size_t q = rest.find('?'); q != std::string_view::npos) {
        query = rest.substr(q + 1);
        rest = rest.substr(0, q);
    }
    std::string_view path;
    if (std::size_t slash = rest.find('/'); slash != std::string_view::npos) {
        path = rest.substr(slash + 1);
        rest = rest.substr(0, slash);
    }
    if (std::size_t at = rest.rfind('@'); at != std::string_view::npos) {
        std::string_view userinfo = rest.substr(0, at);
        rest = rest.substr(at + 1);
        std::size_t c = userinfo.find(':');
        out.user = decode(userinfo.substr(0, c), "user");
        if (c != std::string_view::npos) {
            out.password = decode(userinfo.substr(c + 1), "password");
        }
    }
    std::string_view port;
    if (!rest.empty() && rest.front() == '[') {
        std::size_t close = rest.find(']');
        if (close == std::string_view::npos) {
            bad("unclosed '[' in the host");
        }
        out.host = std::string(rest.substr(1, close - 1));
        rest = rest.substr(close + 1);
        if (!rest.empty()) {
            if (rest.front() != ':') {
                bad("junk after the IPv6 host");
            }
            port = rest.substr(1);
        }
    } else if (std::size_t c = rest.rfind(':'); c != std::string_view::npos) {
        out.host = decode(rest.substr(0, c), "host");
        port = rest.substr(c + 1);
    } else {
        out.host = decode(rest, "host");
    }
    if (!port.empty()) {
        unsigned v = 0;
        auto [p, ec] = std::from_chars(port.data(), port.data() + port.size(), v);
        if (ec != std::errc() || p != port.data() + port.size() || v == 0 || v > 65535) {
            bad("bad port '" + std::string(port) + "'");
        }
        out.port = static_cast<std::uint16_t>(v);
    }
    out.database = decode(path, "database name");
    while (!query.empty()) {
        std::size_t amp = query.find('&');
        std::string_view pair = query.substr(0, amp);
        query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
        if (pair.empty()) {
            continue;
        }
        std::size_t eq = pair.find('=');
        out.params.emplace_back(
            decode(pair.substr(0, eq), "query"),
            eq == std::string_view::npos ? std::string() : decode(pair.substr(eq + 1), "query"));
    }
    return out;
}

}  // namespace corio::sql
