// IMF-fixdate formatting on the C++20 calendar types.
#include "date.hpp"

#include <algorithm>

namespace corio::http::detail {

namespace {

void two_digits(char* out, unsigned v) noexcept {
    out[0] = static_cast<char>('0' + v / 10);
    out[1] = static_cast<char>('0' + v % 10);
}

}  // namespace

void format_http_date(std::int64_t unix_seconds, char* out) noexcept {
    using namespace std::chrono;
    static constexpr char kDays[] = "SunMonTueWedThuFriSat";
    static constexpr char kMonths[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    // 0000-01-01 and 9999-12-31 23:59:59 in Unix seconds.
    unix_seconds = std::clamp<std::int64_t>(unix_seconds, -62167219200, 253402300799);
    const sys_seconds t{seconds(unix_seconds)};
    const sys_days day = floor<days>(t);
    const year_month_day ymd(day);
    const hh_mm_ss<seconds> hms(t - day);
    const unsigned wd = weekday(day).c_encoding();  // 0 = Sunday
    const unsigned month = static_cast<unsigned>(ymd.month()) - 1;
    const int year = static_cast<int>(ymd.year());
    std::copy_n(kDays + 3 * wd, 3, out);
    out[3] = ',';
    out[4] = ' ';
    two_digits(out + 5, static_cast<unsigned>(ymd.day()));
    out[7] = ' ';
    std::copy_n(kMonths + 3 * month, 3, out + 8);
    out[11] = ' ';
    two_digits(out + 12, static_cast<unsigned>(year / 100));
    two_digits(out + 14, static_cast<unsigned>(year % 100));
    out[16] = ' ';
    two_digits(out + 17, static_cast<unsigned>(hms.hours().count()));
    out[19] = ':';
    two_digits(out + 20, static_cast<unsigned>(hms.minutes().count()));
    out[22] = ':';
    two_digits(out + 23, static_cast<unsigned>(hms.seconds().count()));
    std::copy_n(" GMT", 4, out + 25);
}

std::optional<std::int64_t> parse_http_date(std::string_view s) noexcept {
    using namespace std::chrono;
    static constexpr std::string_view kDays = "SunMonTueWedThuFriSat";
    static constexpr std::string_view kMonths = "JanFebMarAprMayJunJulAugSepOctNovDec";
    if (s.size() != kHttpDateSize || s[3] != ',' || s[4] != ' ' || s[7] != ' ' || s[11] != ' ' ||
        s[16] != ' ' || s[19] != ':' || s[22] != ':' || s.substr(25) != " GMT") {
        return std::nullopt;
    }
    std::size_t wd = kDays.find(s.substr(0, 3));
    std::size_t mon = kMonths.find(s.substr(8, 3));
    if (wd == std::string_view::npos || wd % 3 != 0 || mon == std::string_view::npos ||
        mon % 3 != 0) {
        return std::nullopt;
    }
    auto num = [&](std::size_t at, std::size_t n) -> int {
        int v = 0;
        for (std::size_t i = at; i < at + n; ++i) {
            if (s[i] < '0' || s[i] > '9') {
                return -1;
            }
            v = v * 10 + (s[i] - '0');
        }
        return v;
    };
    const int d = num(5, 2), y = num(12, 4), h = num(17, 2), mi = num(20, 2), se = num(23, 2);
    if (d < 0 || y < 0 || h < 0 || h > 23 || mi < 0 || mi > 59 || se < 0 || se > 60) {
        return std::nullopt;
    }
    const year_month_day ymd{year(y), month(static_cast<unsigned>(mon / 3 + 1)),
                             day(static_cast<unsigned>(d))};
    if (!ymd.ok()) {
        return std::nullopt;
    }
    const sys_days days_since = ymd;
    return days_since.time_since_epoch().count() * std::int64_t{86400} + h * 3600 + mi * 60 + se;
}

std::string_view DateCache::get(std::chrono::system_clock::time_point now) noexcept {
    const std::int64_t s = std::chrono::floor<std::chrono::seconds>(now.time_since_epoch()).count();
    if (s != second_) {
        format_http_date(s, buf_);
        second_ = s;
    }
    return std::string_view(buf_, kHttpDateSize);
}

}  // namespace corio::http::detail
