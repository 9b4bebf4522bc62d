// corio/sql/url.hpp - database URLs, one parser for both drivers.
//
//   postgresql://user:password@host:5432/dbname?sslmode=verify-full
//   postgres://...                     (the same)
//   mysql://user:password@host:3306/dbname?ssl=true
//   mariadb://...                      (the same)
//
// Every part but the scheme may be left out; user and password are
// percent-decoded; an IPv6 host is written in brackets ([::1]). The query
// string carries driver options, which each driver documents (its connect
// options take precedence over them). SQLAlchemy's URLs have this shape.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace corio::sql {

/// A parsed database URL.
struct Url {
    /// "postgresql" or "mysql" ("postgres" and "mariadb" are folded in).
    std::string scheme;
    std::string user;
    std::string password;
    /// Empty when the URL names none (the driver's default).
    std::string host;
    /// 0 when the URL names none (the driver's default).
    std::uint16_t port = 0;
    /// The path without its leading '/', percent-decoded; may be empty.
    std::string database;
    /// The query string's key=value pairs, percent-decoded, in order.
    std::vector<std::pair<std::string, std::string>> params;

    /// The last value given for `key`, if any.
    std::optional<std::string> param(std::string_view key) const;
};

/// Parses `url`. Throws std::invalid_argument naming the bad part (an
/// unknown scheme, a port that is not 1-65535, a bad percent-escape).
Url parse_url(std::string_view url);

/// A URL option's value as a boolean: true/1/yes/on or false/0/no/off.
/// Throws std::invalid_argument naming `scheme`, the key and the value.
bool url_bool(std::string_view scheme, std::string_view key, std::string_view value);

/// A URL option's value as a number of seconds (fractions allowed, not
/// negative), to the millisecond. Throws std::invalid_argument as url_bool.
std::chrono::milliseconds url_seconds(std::string_view scheme, std::string_view key,
                                      std::string_view value);

}  // namespace corio::sql
