// Durations as Dapr writes them: Go's time.Duration strings ("1h0m0s",
// "0h0m9s0ms") and ISO 8601 ("PT9S", "R5/PT1M").
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

#include "corio/actors/http.hpp"

namespace corio::actors {

namespace {

constexpr std::int64_t kSecond = 1'000'000'000;

// `v` / 10^prec with the fraction's trailing zeros trimmed ("1.5", "30").
std::string decimal(std::uint64_t v, int prec) {
    std::uint64_t scale = 1;
    for (int i = 0; i < prec; ++i)
        scale *= 10;
    std::string out = std::to_string(v / scale);
    std::uint64_t frac = v % scale;
    if (frac == 0)
        return out;
    std::string digits = std::to_string(frac);
    digits.insert(0, static_cast<std::size_t>(prec) - digits.size(), '0');
    while (digits.back() == '0')
        digits.pop_back();
    return out + "." + digits;
}

[[noreturn]] void bad(std::string_view text, std::string_view why) {
    throw std::invalid_argument("invalid Dapr duration \"" + std::string(text) +
                                "\": " + std::string(why));
}

// A decimal number ("12", "1.5", ".5") at `s`; advances past it.
double number(std::string_view text, std::string_view& s) {
    std::size_t i = 0;
    bool digits = false;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
        ++i;
        digits = true;
    }
    if (i < s.size() && s[i] == '.') {
        ++i;
        while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
            ++i;
            digits = true;
        }
    }
    if (!digits)
        bad(text, "expected a number");
    double v = 0;
    try {
        v = std::stod(std::string(s.substr(0, i)));
    } catch (const std::out_of_range&) {
        bad(text, "a number out of range");
    }
    s.remove_prefix(i);
    return v;
}

// `ns` nanoseconds, rounded; beyond what a Duration holds (292 years) is an
// error, not an overflow.
Duration to_duration(std::string_view text, double ns) {
    if (!(ns < 9.2e18))
        bad(text, "too long");
    return Duration(static_cast<Duration::rep>(ns + 0.5));
}

// Go: time.ParseDuration, without a sign.
Duration parse_go(std::string_view text) {
    std::string_view s = text;
    if (s == "0")
        return Duration::zero();
    double total = 0;
    while (!s.empty()) {
        double v = number(text, s);
        struct Unit {
            std::string_view name;
            double ns;
        };
        static constexpr Unit units[] = {
            {"ns", 1},   {"us", 1e3}, {"\xc2\xb5s", 1e3}, {"\xce\xbcs", 1e3},
            {"ms", 1e6}, {"s", 1e9},  {"m", 60e9},        {"h", 3600e9},
        };
        const Unit* unit = nullptr;
        for (const Unit& u : units) {  // "ms" is tried before "m"
            if (s.substr(0, u.name.size()) == u.name) {
                unit = &u;
                break;
            }
        }
        if (!unit)
            bad(text, "missing or unknown unit");
        s.remove_prefix(unit->name.size());
        total += v * unit->ns;
    }
    return to_duration(text, total);
}

// ISO 8601: P[nW][nD][T[nH][nM][nS]], after an optional "Rn/".
Duration parse_iso(std::string_view text) {
    std::string_view s = text;
    if (!s.empty() && s[0] == 'R') {
        std::size_t slash = s.find('/');
        if (slash == std::string_view::npos)
            bad(text, "a repetition needs '/'");
        s.remove_prefix(slash + 1);
    }
    if (s.empty() || s[0] != 'P')
        bad(text, "expected 'P'");
    s.remove_prefix(1);
    double total = 0;
    bool time = false;
    bool any = false;
    while (!s.empty()) {
        if (s[0] == 'T') {
            if (time)
                bad(text, "a second 'T'");
            time = true;
            s.remove_prefix(1);
            continue;
        }
        double v = number(text, s);
        if (s.empty())
            bad(text, "missing unit");
        char u = s[0];
        s.remove_prefix(1);
        double ns = 0;
        if (!time && u == 'W')
            ns = 7 * 86400e9;
        else if (!time && u == 'D')
            ns = 86400e9;
        else if (time && u == 'H')
            ns = 3600e9;
        else if (time && u == 'M')
            ns = 60e9;
        else if (time && u == 'S')
            ns = 1e9;
        else
            bad(text, "unsupported unit (years and months have no fixed length)");
        total += v * ns;
        any = true;
    }
    if (!any)
        bad(text, "no value");
    return to_duration(text, total);
}

}  // namespace

std::string format_go_duration(Duration d) {
    std::int64_t ns = d.count();
    if (ns == 0)
        return "0s";
    std::string sign = ns < 0 ? "-" : "";
    std::uint64_t u = ns < 0 ? 0 - static_cast<std::uint64_t>(ns) : static_cast<std::uint64_t>(ns);
    if (u < 1000)
        return sign + std::to_string(u) + "ns";
    if (u < 1'000'000)
        return sign + decimal(u, 3) + "\xc2\xb5s";
    if (u < static_cast<std::uint64_t>(kSecond))
        return sign + decimal(u, 6) + "ms";
    std::uint64_t secs = u / kSecond;
    std::string out = decimal((secs % 60) * kSecond + u % kSecond, 9) + "s";
    std::uint64_t mins = secs / 60;
    if (mins > 0) {
        out = std::to_string(mins % 60) + "m" + out;
        if (mins / 60 > 0)
            out = std::to_string(mins / 60) + "h" + out;
    }
    return sign + out;
}

std::string format_dapr_duration(Duration d) {
    std::int64_t ms = std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
    if (ms < 0)
        ms = 0;
    return std::to_string(ms / 3'600'000) + "h" + std::to_string(ms / 60'000 % 60) + "m" +
           std::to_string(ms / 1000 % 60) + "s" + std::to_string(ms % 1000) + "ms";
}

Duration parse_dapr_duration(std::string_view text) {
    if (text.empty())
        return Duration::zero();
    if (text[0] == 'P' || text[0] == 'R')
        return parse_iso(text);
    if (text[0] == '-' || text[0] == '+')
        bad(text, "a sign is not allowed");
    return parse_go(text);
}

}  // namespace corio::actors
