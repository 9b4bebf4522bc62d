// src/redis/url.cpp - parse_url (redis:// and unix:// URLs) and Script's SHA1.
#include <openssl/evp.h>

#include <charconv>
#include <stdexcept>

#include "corio/redis/client.hpp"
#include "corio/redis/commands.hpp"

namespace corio::redis {
namespace {

std::string percent_decode(std::string_view s, const char* what) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] != '%') {
            out += s[i];
            continue;
        }
        unsigned v = 0;
        if (i + 2 >= s.size() ||
            std::from_chars(s.data() + i + 1, s.data() + i + 3, v, 16).ptr != s.data() + i + 3) {
            throw std::invalid_argument(std::string("parse_url: bad percent-escape in the ") +
                                        what);
        }
        out += static_cast<char>(v);
        i += 2;
    }
    return out;
}

int parse_int(std::string_view s, const char* what, int lo, int hi) {
    int v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || ec != std::errc() || p != s.data() + s.size() || v < lo || v > hi) {
        throw std::invalid_argument(std::string("parse_url: bad ") + what + " '" + std::string(s) +
                                    "'");
    }
    return v;
}

}  // namespace

ClientOptions parse_url(std::string_view url) {
    ClientOptions o;
    std::string_view rest;
    bool unix_socket = false;
    if (url.starts_with("redis://")) {
        rest = url.substr(8);
    } else if (url.starts_with("rediss://")) {
        rest = url.substr(9);
        o.tls = true;
    } else if (url.starts_with("unix://")) {
        rest = url.substr(7);
        unix_socket = true;
    } else {
        throw std::invalid_argument(
            "parse_url: the scheme must be redis://, rediss:// or unix://, got '" +
            std::string(url) + "'");
    }
    std::string_view query;
    if (auto q = rest.find('?'); q != std::string_view::npos) {
        query = rest.substr(q + 1);
        rest = rest.substr(0, q);
    }
    if (auto at = rest.rfind('@'); at != std::string_view::npos) {
        std::string_view userinfo = rest.substr(0, at);
        rest = rest.substr(at + 1);
        auto colon = userinfo.find(':');
        if (colon == std::string_view::npos) {
            o.password = percent_decode(userinfo, "password");  // redis://secret@host
        } else {
            o.username = percent_decode(userinfo.substr(0, colon), "user name");
            o.password = percent_decode(userinfo.substr(colon + 1), "password");
        }
    }
    if (unix_socket) {
        if (rest.empty() || rest[0] != '/') {
            throw std::invalid_argument("parse_url: unix:// needs an absolute socket path");
        }
        o.unix_socket = std::string(rest);
    } else {
        std::string_view hostport = rest.substr(0, rest.find('/'));
        std::string_view path =
            rest.size() > hostport.size() ? rest.substr(hostport.size() + 1) : "";
        std::string_view host = hostport;
        if (!hostport.empty() && hostport[0] == '[') {  // [::1]:6379
            auto close = hostport.find(']');
            if (close == std::string_view::npos) {
                throw std::invalid_argument("parse_url: unclosed '[' in the host");
            }
            host = hostport.substr(1, close - 1);
            std::string_view after = hostport.substr(close + 1);
            if (after.starts_with(":")) {
                o.port = static_cast<std::uint16_t>(parse_int(after.substr(1), "port", 1, 65535));
            }
        } else if (auto colon = hostport.rfind(':'); colon != std::string_view::npos) {
            host = hostport.substr(0, colon);
            o.port =
                static_cast<std::uint16_t>(parse_int(hostport.substr(colon + 1), "port", 1, 65535));
        }
        if (!host.empty()) {
            o.host = std::string(host);
        }
        if (!path.empty()) {
            o.db = parse_int(path, "database number", 0, 1 << 20);
        }
    }
    while (!query.empty()) {
        std::string_view item = query.substr(0, query.find('&'));
        query = item.size() < query.size() ? query.substr(item.size() + 1) : "";
        if (item.starts_with("db=")) {
            o.db = parse_int(item.substr(3), "database number", 0, 1 << 20);
        } else if (item.starts_with("protocol=")) {
            o.protocol = parse_int(item.substr(9), "protocol", 2, 3);
        } else if (item.starts_with("client_name=")) {
            o.client_name = percent_decode(item.substr(12), "client name");
        } else if (item.starts_with("ssl_ca_certs=")) {
            o.ssl_ca_certs = percent_decode(item.substr(13), "ssl_ca_certs");
        } else if (item.starts_with("ssl_cert_reqs=")) {
            std::string v = percent_decode(item.substr(14), "ssl_cert_reqs");
            if (v == "none" || v == "CERT_NONE") {
                o.ssl_cert_reqs = net::VerifyMode::none;
            } else if (v == "optional" || v == "CERT_OPTIONAL") {
                o.ssl_cert_reqs = net::VerifyMode::optional;
            } else if (v == "required" || v == "CERT_REQUIRED") {
                o.ssl_cert_reqs = net::VerifyMode::required;
            } else {
                throw std::invalid_argument("parse_url: bad ssl_cert_reqs '" + v +
                                            "' (none, optional or required)");
            }
        } else if (item.starts_with("ssl_check_hostname=")) {
            std::string v = percent_decode(item.substr(19), "ssl_check_hostname");
            if (v == "true" || v == "1" || v == "True") {
                o.ssl_check_hostname = true;
            } else if (v == "false" || v == "0" || v == "False") {
                o.ssl_check_hostname = false;
            } else {
                throw std::invalid_argument("parse_url: bad ssl_check_hostname '" + v + "'");
            }
        }
    }
    return o;
}

Script::Script(std::string source) : source_(std::move(source)) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (EVP_Digest(source_.data(), source_.size(), digest, &len, EVP_sha1(), nullptr) != 1) {
        throw RedisError("Script: SHA1 failed");
    }
    static const char hex[] = "0123456789abcdef";
    for (unsigned i = 0; i < len; ++i) {
        sha_ += hex[digest[i] >> 4];
        sha_ += hex[digest[i] & 15];
    }
}

}  // namespace corio::redis
