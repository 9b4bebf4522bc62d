// http/date.hpp (private) - the Date header's IMF-fixdate (RFC 9110
// 5.6.7), formatted without locale or libc time functions, and a cache that
// formats it at most once per second (aiohttp's server does the same).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

namespace corio::http::detail {

/// Length of an IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT".
inline constexpr std::size_t kHttpDateSize = 29;

/// Writes the IMF-fixdate of `unix_seconds` (UTC) into `out`, which has
/// room for kHttpDateSize bytes. Years outside 0..9999 are clamped.
void format_http_date(std::int64_t unix_seconds, char* out) noexcept;

/// Parses an IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT", the only form
/// a sender may generate) into Unix seconds; nothing for anything else
/// (RFC 9110 5.6.7: an invalid date in a condition is ignored).
std::optional<std::int64_t> parse_http_date(std::string_view s) noexcept;

/// The current Date value, formatted at most once per second. The server
/// refreshes it from a once-per-second timer (or calls get() with the loop's
/// clock); reading it is a load. Not thread-safe: one per loop.
class DateCache {
public:
    /// The value for `now`, formatted again only when its second differs
    /// from the cached one's.
    std::string_view get(std::chrono::system_clock::time_point now) noexcept;
    /// The value last formatted (empty before the first get()).
    std::string_view value() const noexcept {
        return second_ == kNever ? std::string_view() : std::string_view(buf_, kHttpDateSize);
    }

private:
    static constexpr std::int64_t kNever = INT64_MIN;
    std::int64_t second_ = kNever;
    char buf_[kHttpDateSize] = {};
};

}  // namespace corio::http::detail
