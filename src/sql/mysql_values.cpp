// src/sql/mysql_values.cpp - the MariaDB driver's values: text results
// converted to C++ types (Row::get), parameters written as SQL literals,
// and the `?` marker substitution.
#include <mysql.h>

#include <charconv>
#include <cmath>
#include <cstdio>
#include <limits>
#include <string>

#include "corio/sql/mysql.hpp"

namespace corio::sql::mysql {

namespace {

[[noreturn]] void bad_value(std::string_view text, const Column& c, const char* type) {
    std::string shown(text.substr(0, 64));
    throw InterfaceError("mysql: column '" + c.name + "' value '" + shown + "' is not a valid " +
                         type);
}

template <class T>
T parse_int(std::string_view text, const Column& c, const char* type) {
    T v{};
    const char* first = text.data();
    const char* last = text.data() + text.size();
    if (first != last && *first == '+') {
        ++first;
    }
    auto [p, ec] = std::from_chars(first, last, v);
    if (ec != std::errc() || p != last || first == last) {
        bad_value(text, c, type);
    }
    return v;
}

template <class T>
T parse_float(std::string_view text, const Column& c, const char* type) {
    T v{};
    auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc() || p != text.data() + text.size() || text.empty()) {
        bad_value(text, c, type);
    }
    return v;
}

// Reads exactly `n` digits at text[at..] into v; false if not digits.
bool digits(std::string_view text, std::size_t at, std::size_t n, int& v) {
    if (at + n > text.size()) {
        return false;
    }
    v = 0;
    for (std::size_t i = at; i < at + n; ++i) {
        if (text[i] < '0' || text[i] > '9') {
            return false;
        }
        v = v * 10 + (text[i] - '0');
    }
    return true;
}

bool parse_date(std::string_view text, Date& out) {
    int y = 0, m = 0, d = 0;
    if (text.size() != 10 || !digits(text, 0, 4, y) || text[4] != '-' || !digits(text, 5, 2, m) ||
        text[7] != '-' || !digits(text, 8, 2, d)) {
        return false;
    }
    out = Date{std::chrono::year(y), std::chrono::month(static_cast<unsigned>(m)),
               std::chrono::day(static_cast<unsigned>(d))};
    return true;
}

// "[-]H+:MM:SS[.ffffff]" -> microseconds.
bool parse_time(std::string_view text, Time& out) {
    bool neg = !text.empty() && text[0] == '-';
    std::size_t at = neg ? 1 : 0;
    long long h = 0;
    std::size_t start = at;
    while (at < text.size() && text[at] >= '0' && text[at] <= '9') {
        h = h * 10 + (text[at] - '0');
        ++at;
    }
    int m = 0, s = 0;
    if (at == start || at - start > 4 || at >= text.size() || text[at] != ':' ||
        !digits(text, at + 1, 2, m) || at + 3 >= text.size() || text[at + 3] != ':' ||
        !digits(text, at + 4, 2, s)) {
        return false;
    }
    at += 6;
    long long us = 0;
    if (at < text.size()) {
        if (text[at] != '.') {
            return false;
        }
        std::size_t n = text.size() - at - 1;
        int f = 0;
        if (n == 0 || n > 6 || !digits(text, at + 1, n, f)) {
            return false;
        }
        us = f;
        for (std::size_t i = n; i < 6; ++i) {
            us *= 10;
        }
    }
    long long total = ((h * 60 + m) * 60 + s) * 1000000LL + us;
    out = Time(neg ? -total : total);
    return true;
}

bool parse_datetime(std::string_view text, std::chrono::sys_time<std::chrono::microseconds>& out) {
    Date d;
    Time t;
    if (text.size() < 19 || (text[10] != ' ' && text[10] != 'T') ||
        !parse_date(text.substr(0, 10), d) || !parse_time(text.substr(11), t) || t < Time::zero() ||
        text[11] == '-') {
        return false;
    }
    out = std::chrono::sys_days(d) + t;
    return true;
}

void append_two(std::string& out, unsigned v) {
    out += static_cast<char>('0' + v / 10 % 10);
    out += static_cast<char>('0' + v % 10);
}

void append_date(std::string& out, const Date& d) {
    if (!d.ok()) {
        throw InterfaceError("mysql: parameter is not a valid date");
    }
    char buf[16];
    int y = static_cast<int>(d.year());
    if (y < 0 || y > 9999) {
        throw InterfaceError("mysql: parameter date's year is out of range");
    }
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", y, static_cast<unsigned>(d.month()),
                  static_cast<unsigned>(d.day()));
    out += buf;
}

// HH:MM:SS[.ffffff] of a non-negative duration (hours may exceed 24).
void append_clock(std::string& out, Time t) {
    long long us = t.count();
    long long s = us / 1000000;
    long long frac = us % 1000000;
    out += std::to_string(s / 3600);
    if (s / 3600 < 10) {
        out.insert(out.size() - 1, "0");
    }
    out += ':';
    append_two(out, static_cast<unsigned>(s / 60 % 60));
    out += ':';
    append_two(out, static_cast<unsigned>(s % 60));
    if (frac != 0) {
        char buf[16];
        std::snprintf(buf, sizeof buf, ".%06lld", frac);
        out += buf;
    }
}

void append_instant(std::string& out, std::chrono::sys_time<std::chrono::microseconds> t) {
    auto day = std::chrono::floor<std::chrono::days>(t);
    out += '\'';
    append_date(out, Date(day));
    out += ' ';
    append_clock(out, t - day);
    out += '\'';
}

}  // namespace

namespace detail {

[[noreturn]] void throw_null_column(std::size_t i) {
    throw InterfaceError("mysql: column " + std::to_string(i) +
                         " is NULL; read it as a std::optional");
}

#define CORIO_INT(T)                                                 \
    T FromText<T>::convert(std::string_view text, const Column& c) { \
        return parse_int<T>(text, c, #T);                            \
    }
CORIO_INT(signed char)
CORIO_INT(unsigned char)
CORIO_INT(short)
CORIO_INT(unsigned short)
CORIO_INT(int)
CORIO_INT(unsigned int)
CORIO_INT(long)
CORIO_INT(unsigned long)
CORIO_INT(long long)
CORIO_INT(unsigned long long)
#undef CORIO_INT

bool FromText<bool>::convert(std::string_view text, const Column& c) {
    if (c.type == MYSQL_TYPE_BIT && text.size() == 1) {
        return text[0] != 0;
    }
    return parse_int<long long>(text, c, "bool") != 0;
}
float FromText<float>::convert(std::string_view text, const Column& c) {
    return parse_float<float>(text, c, "float");
}
double FromText<double>::convert(std::string_view text, const Column& c) {
    return parse_float<double>(text, c, "double");
}
std::string FromText<std::string>::convert(std::string_view text, const Column&) {
    return std::string(text);
}
std::string_view FromText<std::string_view>::convert(std::string_view text, const Column&) {
    return text;
}
Bytes FromText<Bytes>::convert(std::string_view text, const Column&) {
    const auto* p = reinterpret_cast<const std::byte*>(text.data());
    return Bytes(p, p + text.size());
}
Decimal FromText<Decimal>::convert(std::string_view text, const Column& c) {
    if (text.empty() || text.find_first_not_of("0123456789.-+eE") != std::string_view::npos) {
        bad_value(text, c, "decimal");
    }
    return Decimal{std::string(text)};
}
Date FromText<Date>::convert(std::string_view text, const Column& c) {
    Date d;
    if (!parse_date(text, d)) {
        bad_value(text, c, "date");
    }
    return d;
}
Time FromText<Time>::convert(std::string_view text, const Column& c) {
    Time t;
    if (!parse_time(text, t)) {
        bad_value(text, c, "time");
    }
    return t;
}
DateTime FromText<DateTime>::convert(std::string_view text, const Column& c) {
    std::chrono::sys_time<std::chrono::microseconds> t;
    if (!parse_datetime(text, t)) {
        bad_value(text, c, "datetime");
    }
    return DateTime(t.time_since_epoch());
}
Timestamp FromText<Timestamp>::convert(std::string_view text, const Column& c) {
    std::chrono::sys_time<std::chrono::microseconds> t;
    if (!parse_datetime(text, t)) {
        bad_value(text, c, "timestamp");
    }
    return t;
}

void Escaper::escape(std::string& out, std::string_view v) const {
    if (mysql == nullptr) {
        throw InterfaceError("mysql: the connection is closed");
    }
    std::size_t at = out.size();
    out.resize(at + v.size() * 2 + 1);
    unsigned long n = mysql_real_escape_string(static_cast<MYSQL*>(mysql), out.data() + at,
                                               v.data(), static_cast<unsigned long>(v.size()));
    if (n == static_cast<unsigned long>(-1)) {
        throw InterfaceError("mysql: cannot escape a parameter in this character set");
    }
    out.resize(at + n);
}

void append_literal(std::string& out, const Escaper&, std::nullopt_t) {
    out += "NULL";
}
void append_literal(std::string& out, const Escaper&, bool v) {
    out += v ? "TRUE" : "FALSE";
}
void append_literal(std::string& out, const Escaper&, long long v) {
    out += std::to_string(v);
}
void append_literal(std::string& out, const Escaper&, unsigned long long v) {
    out += std::to_string(v);
}
void append_literal(std::string& out, const Escaper&, double v) {
    if (!std::isfinite(v)) {
        throw InterfaceError("mysql: NaN and infinity cannot be sent to MariaDB");
    }
    char buf[32];
    auto [p, ec] = std::to_chars(buf, buf + sizeof buf, v);
    std::string_view s(buf, static_cast<std::size_t>(p - buf));
    out += s;
    // A literal with an exponent is a DOUBLE for MariaDB; 1.5 would be a
    // DECIMAL. Keep floats floating.
    if (s.find_first_of("eE") == std::string_view::npos) {
        out += "e0";
    }
}
void append_literal(std::string& out, const Escaper& e, std::string_view v) {
    out += '\'';
    e.escape(out, v);
    out += '\'';
}
void append_literal(std::string& out, const Escaper&, const Bytes& v) {
    static constexpr char hex[] = "0123456789abcdef";
    if (v.empty()) {
        out += "''";
        return;
    }
    out += "X'";
    for (std::byte b : v) {
        auto u = static_cast<unsigned>(b);
        out += hex[u >> 4];
        out += hex[u & 15];
    }
    out += '\'';
}
void append_literal(std::string& out, const Escaper&, const Decimal& v) {
    // Digits, one point, a sign and an exponent only: then it is a number.
    std::string_view t = v.text;
    std::size_t at = 0;
    if (at < t.size() && (t[at] == '-' || t[at] == '+')) {
        ++at;
    }
    bool digit = false, point = false;
    for (; at < t.size(); ++at) {
        if (t[at] >= '0' && t[at] <= '9') {
            digit = true;
        } else if (t[at] == '.' && !point) {
            point = true;
        } else {
            break;
        }
    }
    if (digit && at < t.size() && (t[at] == 'e' || t[at] == 'E')) {
        ++at;
        if (at < t.size() && (t[at] == '-' || t[at] == '+')) {
            ++at;
        }
        bool exp_digit = false;
        for (; at < t.size() && t[at] >= '0' && t[at] <= '9'; ++at) {
            exp_digit = true;
        }
        digit = exp_digit;
    }
    if (!digit || at != t.size()) {
        throw InterfaceError("mysql: parameter '" + v.text + "' is not a decimal number");
    }
    out += t;
}
void append_literal(std::string& out, const Escaper&, const Date& v) {
    out += '\'';
    append_date(out, v);
    out += '\'';
}
void append_literal(std::string& out, const Escaper&, const Time& v) {
    out += '\'';
    if (v < Time::zero()) {
        out += '-';
    }
    append_clock(out, v < Time::zero() ? -v : v);
    out += '\'';
}
void append_literal(std::string& out, const Escaper&, const DateTime& v) {
    append_instant(out, std::chrono::sys_time<std::chrono::microseconds>(v.time_since_epoch()));
}
void append_literal(std::string& out, const Escaper&, const Timestamp& v) {
    append_instant(out, v);
}

std::string substitute(std::string_view sql, const std::vector<std::string>& literals) {
    std::string out;
    std::size_t extra = 0;
    for (const auto& l : literals) {
        extra += l.size();
    }
    out.reserve(sql.size() + extra);
    std::size_t next = 0;
    std::size_t i = 0;
    const std::size_t n = sql.size();
    auto copy_quoted = [&](char q) {
        out += sql[i++];
        while (i < n) {
            char c = sql[i];
            out += c;
            ++i;
            if (c == '\\' && q != '`' && i < n) {
                out += sql[i++];
            } else if (c == q) {
                if (i < n && sql[i] == q) {  // doubled quote
                    out += sql[i++];
                } else {
                    return;
                }
            }
        }
    };
    while (i < n) {
        char c = sql[i];
        if (c == '\'' || c == '"' || c == '`') {
            copy_quoted(c);
        } else if (c == '#' || (c == '-' && i + 1 < n && sql[i + 1] == '-' &&
                                (i + 2 == n || sql[i + 2] == ' ' || sql[i + 2] == '\t' ||
                                 sql[i + 2] == '\n' || sql[i + 2] == '\r'))) {
            std::size_t end = sql.find('\n', i);
            end = end == std::string_view::npos ? n : end;
            out.append(sql.substr(i, end - i));
            i = end;
        } else if (c == '/' && i + 1 < n && sql[i + 1] == '*') {
            std::size_t end = sql.find("*/", i + 2);
            end = end == std::string_view::npos ? n : end + 2;
            out.append(sql.substr(i, end - i));
            i = end;
        } else if (c == '?') {
            if (next == literals.size()) {
                throw ProgrammingError("mysql: the statement has more ? markers than the " +
                                           std::to_string(literals.size()) + " parameters given",
                                       "07001");
            }
            out += literals[next++];
            ++i;
        } else {
            out += c;
            ++i;
        }
    }
    if (next != literals.size()) {
        throw ProgrammingError("mysql: " + std::to_string(literals.size()) +
                                   " parameters given for " + std::to_string(next) + " ? markers",
                               "07001");
    }
    return out;
}

}  // namespace detail
}  // namespace corio::sql::mysql
