// src/sql/pg_types.cpp - PostgreSQL values: binding parameters (text
// format with explicit OIDs, bytea in binary) and decoding result fields
// (text format, checked against the column's type OID).
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>

#include "corio/sql/postgres.hpp"
#include "pg_internal.hpp"

namespace corio::sql::pg::detail {

namespace {

std::string date_text(const Date& d) {
    if (!d.ok()) {
        throw std::invalid_argument("Date parameter is not a valid date");
    }
    char buf[32];
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(d.year()),
                  static_cast<unsigned>(d.month()), static_cast<unsigned>(d.day()));
    return buf;
}

std::string time_text(std::chrono::microseconds t) {
    using namespace std::chrono;
    if (t < microseconds::zero() || t > hours(24)) {
        throw std::invalid_argument("Time parameter outside 00:00:00..24:00:00");
    }
    auto h = duration_cast<hours>(t);
    auto m = duration_cast<minutes>(t - h);
    auto s = duration_cast<seconds>(t - h - m);
    auto us = t - h - m - s;
    char buf[32];
    std::snprintf(buf, sizeof buf, "%02d:%02d:%02d.%06lld", static_cast<int>(h.count()),
                  static_cast<int>(m.count()), static_cast<int>(s.count()),
                  static_cast<long long>(us.count()));
    return buf;
}

template <class Clock>
std::string datetime_text(std::chrono::time_point<Clock, std::chrono::microseconds> tp) {
    using namespace std::chrono;
    auto day = floor<days>(tp);
    return date_text(year_month_day(sys_days(day.time_since_epoch()))) + " " + time_text(tp - day);
}

[[noreturn]] void wrong_type(const Cell& c, const char* want) {
    throw InterfaceError("column \"" + std::string(c.column) + "\" (type OID " +
                         std::to_string(c.type) + ") cannot be read as " + want);
}

[[noreturn]] void bad_text(const Cell& c, const char* want) {
    throw InterfaceError("column \"" + std::string(c.column) + "\": \"" +
                         std::string(c.data, c.length) + "\" is not a valid " + want);
}

bool is_int_type(Oid t) {
    return t == oid::int2 || t == oid::int4 || t == oid::int8 || t == oid::oid;
}

// Parses digits [p, p+n) into v; false unless all n are digits.
bool digits(const char*& p, const char* end, int n, int& v) {
    v = 0;
    for (int i = 0; i < n; ++i, ++p) {
        if (p == end || *p < '0' || *p > '9') {
            return false;
        }
        v = v * 10 + (*p - '0');
    }
    return true;
}

bool parse_date(const char*& p, const char* end, Date& out) {
    int y = 0, m = 0, d = 0;
    const char* start = p;
    while (p != end && *p >= '0' && *p <= '9') {
        ++p;
    }
    if (p - start < 4 || p == end || *p != '-') {
        return false;
    }
    std::from_chars(start, p, y);
    ++p;
    if (!digits(p, end, 2, m) || p == end || *p++ != '-' || !digits(p, end, 2, d)) {
        return false;
    }
    out = Date(std::chrono::year(y), std::chrono::month(m), std::chrono::day(d));
    return out.ok();
}

bool parse_time(const char*& p, const char* end, std::chrono::microseconds& out) {
    int h = 0, m = 0, s = 0;
    if (!digits(p, end, 2, h) || p == end || *p++ != ':' || !digits(p, end, 2, m) || p == end ||
        *p++ != ':' || !digits(p, end, 2, s)) {
        return false;
    }
    long long us = 0;
    if (p != end && *p == '.') {
        ++p;
        int n = 0;
        while (p != end && *p >= '0' && *p <= '9') {
            if (n < 6) {
                us = us * 10 + (*p - '0');
            }
            ++n, ++p;
        }
        for (; n < 6; ++n) {
            us *= 10;
        }
    }
    out = std::chrono::hours(h) + std::chrono::minutes(m) + std::chrono::seconds(s) +
          std::chrono::microseconds(us);
    return true;
}

bool parse_datetime(const char*& p, const char* end, DateTime& out) {
    Date d;
    std::chrono::microseconds t{};
    if (!parse_date(p, end, d) || p == end || *p++ != ' ' || !parse_time(p, end, t)) {
        return false;
    }
    out = DateTime(std::chrono::local_days(d).time_since_epoch() + t);
    return true;
}

}  // namespace

// -- Binding ----------------------------------------------------------------

void bind(Params& p, bool v) {
    p.add(oid::boolean, v ? "t" : "f");
}
void bind(Params& p, std::int16_t v) {
    p.add(oid::int2, std::to_string(v));
}
void bind(Params& p, std::int32_t v) {
    p.add(oid::int4, std::to_string(v));
}
void bind(Params& p, std::int64_t v) {
    p.add(oid::int8, std::to_string(v));
}
namespace {
template <class F>
std::string float_text(F v) {
    if (std::isnan(v)) {
        return "NaN";
    }
    if (std::isinf(v)) {
        return v > 0 ? "Infinity" : "-Infinity";
    }
    char buf[64];
    auto r = std::to_chars(buf, buf + sizeof buf, v);
    return std::string(buf, r.ptr);
}
}  // namespace
void bind(Params& p, float v) {
    p.add(oid::float4, float_text(v));
}
void bind(Params& p, double v) {
    p.add(oid::float8, float_text(v));
}
void bind(Params& p, std::string_view v) {
    p.add(oid::text, std::string(v));
}
void bind(Params& p, const Bytes& v) {
    p.add(oid::bytea, std::string(reinterpret_cast<const char*>(v.data()), v.size()), 1);
}
void bind(Params& p, const Decimal& v) {
    p.add(oid::numeric, v.text);
}
void bind(Params& p, const Date& v) {
    p.add(oid::date, date_text(v));
}
void bind(Params& p, const Time& v) {
    p.add(oid::time, time_text(v));
}
void bind(Params& p, const DateTime& v) {
    p.add(oid::timestamp, datetime_text(v));
}
void bind(Params& p, const Timestamp& v) {
    p.add(oid::timestamptz, datetime_text(v) + "+00");
}

Oid null_oid(const bool*) {
    return oid::boolean;
}
Oid null_oid(const std::int16_t*) {
    return oid::int2;
}
Oid null_oid(const std::int32_t*) {
    return oid::int4;
}
Oid null_oid(const std::int64_t*) {
    return oid::int8;
}
Oid null_oid(const float*) {
    return oid::float4;
}
Oid null_oid(const double*) {
    return oid::float8;
}
Oid null_oid(const std::string*) {
    return oid::text;
}
Oid null_oid(const std::string_view*) {
    return oid::text;
}
Oid null_oid(const Bytes*) {
    return oid::bytea;
}
Oid null_oid(const Decimal*) {
    return oid::numeric;
}
Oid null_oid(const Date*) {
    return oid::date;
}
Oid null_oid(const Time*) {
    return oid::time;
}
Oid null_oid(const DateTime*) {
    return oid::timestamp;
}
Oid null_oid(const Timestamp*) {
    return oid::timestamptz;
}

// -- Decoding ---------------------------------------------------------------

void throw_null(const Cell& c) {
    throw InterfaceError("column \"" + std::string(c.column) +
                         "\" is NULL: read it as std::optional");
}

void decode(const Cell& c, bool& out) {
    if (c.type != oid::boolean) {
        wrong_type(c, "bool");
    }
    out = c.length > 0 && c.data[0] == 't';
}

void decode(const Cell& c, std::int64_t& out) {
    if (!is_int_type(c.type)) {
        wrong_type(c, "an integer");
    }
    auto r = std::from_chars(c.data, c.data + c.length, out);
    if (r.ec != std::errc() || r.ptr != c.data + c.length) {
        bad_text(c, "integer");
    }
}
void decode(const Cell& c, std::uint64_t& out) {
    if (!is_int_type(c.type)) {
        wrong_type(c, "an integer");
    }
    auto r = std::from_chars(c.data, c.data + c.length, out);
    if (r.ec != std::errc() || r.ptr != c.data + c.length) {
        throw InterfaceError("column \"" + std::string(c.column) + "\": value " +
                             std::string(c.data, c.length) + " out of range");
    }
}
void decode(const Cell& c, std::int32_t& out) {
    out = decode_as<std::int32_t>(c);
}
void decode(const Cell& c, std::int16_t& out) {
    out = decode_as<std::int16_t>(c);
}

void decode(const Cell& c, double& out) {
    if (c.type != oid::float4 && c.type != oid::float8 && c.type != oid::numeric &&
        !is_int_type(c.type)) {
        wrong_type(c, "a floating-point number");
    }
    std::string text(c.data, c.length);
    char* end = nullptr;
    out = std::strtod(text.c_str(), &end);
    if (end != text.c_str() + text.size()) {
        bad_text(c, "number");
    }
}
void decode(const Cell& c, float& out) {
    double d = 0;
    decode(c, d);
    out = static_cast<float>(d);
}

void decode(const Cell& c, std::string& out) {
    out.assign(c.data, c.length);
}

void decode(const Cell& c, Bytes& out) {
    if (c.type != oid::bytea) {
        wrong_type(c, "Bytes");
    }
    // bytea_output = hex (the default since 9.0): "\x0a1b..."
    if (c.length < 2 || c.data[0] != '\\' || c.data[1] != 'x' || c.length % 2 != 0) {
        bad_text(c, "hex bytea");
    }
    out.clear();
    out.reserve(static_cast<std::size_t>(c.length - 2) / 2);
    auto nibble = [&](char ch) -> int {
        if (ch >= '0' && ch <= '9') {
            return ch - '0';
        }
        if (ch >= 'a' && ch <= 'f') {
            return ch - 'a' + 10;
        }
        if (ch >= 'A' && ch <= 'F') {
            return ch - 'A' + 10;
        }
        bad_text(c, "hex bytea");
    };
    for (int i = 2; i < c.length; i += 2) {
        out.push_back(static_cast<std::byte>(nibble(c.data[i]) * 16 + nibble(c.data[i + 1])));
    }
}

void decode(const Cell& c, Decimal& out) {
    if (c.type != oid::numeric && !is_int_type(c.type) && c.type != oid::float4 &&
        c.type != oid::float8) {
        wrong_type(c, "Decimal");
    }
    out.text.assign(c.data, c.length);
}

void decode(const Cell& c, Date& out) {
    if (c.type != oid::date) {
        wrong_type(c, "Date");
    }
    const char* p = c.data;
    if (!parse_date(p, c.data + c.length, out) || p != c.data + c.length) {
        bad_text(c, "date");
    }
}

void decode(const Cell& c, Time& out) {
    if (c.type != oid::time) {
        wrong_type(c, "Time");
    }
    const char* p = c.data;
    if (!parse_time(p, c.data + c.length, out) || p != c.data + c.length) {
        bad_text(c, "time");
    }
}

void decode(const Cell& c, DateTime& out) {
    if (c.type != oid::timestamp) {
        wrong_type(c, "DateTime");
    }
    const char* p = c.data;
    if (!parse_datetime(p, c.data + c.length, out) || p != c.data + c.length) {
        bad_text(c, "timestamp");
    }
}

void decode(const Cell& c, Timestamp& out) {
    if (c.type != oid::timestamptz) {
        wrong_type(c, "Timestamp");
    }
    const char* p = c.data;
    const char* end = c.data + c.length;
    DateTime local;
    if (!parse_datetime(p, end, local) || p == end || (*p != '+' && *p != '-')) {
        bad_text(c, "timestamptz");
    }
    // The zone offset: +HH, +HH:MM or +HH:MM:SS.
    int sign = *p++ == '-' ? -1 : 1;
    int h = 0, m = 0, s = 0;
    if (!digits(p, end, 2, h)) {
        bad_text(c, "timestamptz");
    }
    if (p != end && *p == ':') {
        ++p;
        if (!digits(p, end, 2, m)) {
            bad_text(c, "timestamptz");
        }
    }
    if (p != end && *p == ':') {
        ++p;
        if (!digits(p, end, 2, s)) {
            bad_text(c, "timestamptz");
        }
    }
    if (p != end) {
        bad_text(c, "timestamptz");
    }
    auto offset = std::chrono::seconds(sign * (h * 3600 + m * 60 + s));
    out = Timestamp(local.time_since_epoch() - offset);
}

// -- Results ------------------------------------------------------------------

Cell cell(const ResultData& r, int row, int col) {
    const PGresult* res = r.get();
    return Cell{PQgetvalue(res, row, col), PQgetlength(res, row, col),
                PQgetisnull(res, row, col) != 0, PQftype(res, col), PQfname(res, col)};
}

int column_index(const ResultData& r, std::string_view name) {
    int n = PQnfields(r.get());
    for (int i = 0; i < n; ++i) {
        if (name == PQfname(r.get(), i)) {
            return i;
        }
    }
    return -1;
}

int column_count(const ResultData& r) noexcept {
    return PQnfields(r.get());
}
int row_count(const ResultData& r) noexcept {
    return PQntuples(r.get());
}
std::string_view column_name(const ResultData& r, int col) {
    return PQfname(r.get(), col);
}
Oid column_type(const ResultData& r, int col) {
    return PQftype(r.get(), col);
}

CommandStatus command_status(const ResultData& r) {
    CommandStatus s;
    s.tag = PQcmdStatus(const_cast<PGresult*>(r.get()));
    const char* n = PQcmdTuples(const_cast<PGresult*>(r.get()));
    if (n && *n) {
        std::from_chars(n, n + std::char_traits<char>::length(n), s.rows_affected);
    } else if (PQresultStatus(r.get()) == PGRES_TUPLES_OK) {
        s.rows_affected = static_cast<std::uint64_t>(PQntuples(r.get()));
    }
    return s;
}

std::exception_ptr database_error(std::string_view message, std::string_view sqlstate) {
    try {
        throw_database_error(message, sqlstate);
    } catch (...) {
        return std::current_exception();
    }
}

std::exception_ptr error_from_result(const PGresult* r) {
    const char* state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
    const char* primary = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
    const char* detail = PQresultErrorField(r, PG_DIAG_MESSAGE_DETAIL);
    std::string message = primary ? primary : PQresultErrorMessage(r);
    if (detail) {
        message += "\nDETAIL: ";
        message += detail;
    }
    return database_error(message, state ? state : "08006");
}

}  // namespace corio::sql::pg::detail

namespace corio::sql::pg {

detail::Cell Row::cell(std::size_t i) const {
    if (i >= size()) {
        throw InterfaceError("column index " + std::to_string(i) + " out of range (row has " +
                             std::to_string(size()) + " columns)");
    }
    return detail::cell(*result_, row_, static_cast<int>(i));
}

std::size_t Row::index_of(std::string_view name) const {
    int i = detail::column_index(*result_, name);
    if (i < 0) {
        throw InterfaceError("no column named \"" + std::string(name) + "\"");
    }
    return static_cast<std::size_t>(i);
}

std::string_view Row::column_name(std::size_t i) const {
    if (i >= size()) {
        throw InterfaceError("column index " + std::to_string(i) + " out of range");
    }
    return detail::column_name(*result_, static_cast<int>(i));
}

}  // namespace corio::sql::pg
