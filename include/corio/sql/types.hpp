// corio/sql/types.hpp - the value types both SQL drivers read and bind.
//
// A column or a parameter is one of: bool, the integer types, float and
// double, std::string / std::string_view (text), Bytes (binary: BYTEA,
// BLOB), Decimal (NUMERIC / DECIMAL, exact, as its text), Date, Time,
// DateTime (a timestamp without a zone: MariaDB DATETIME, PostgreSQL
// TIMESTAMP), Timestamp (an instant: PostgreSQL TIMESTAMPTZ, MariaDB
// TIMESTAMP read in UTC), and std::optional<T> of any of them, whose
// std::nullopt is SQL NULL. Reading NULL into a non-optional type throws
// InterfaceError. aiomysql and asyncpg hand back Python's int, float, str,
// bytes, decimal.Decimal, datetime.date/time/datetime and None.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

namespace corio::sql {

/// Binary data (BYTEA, BLOB, VARBINARY). Python: `bytes`.
using Bytes = std::vector<std::byte>;

/// An exact number (NUMERIC, DECIMAL) as the server prints it: "12.50",
/// "-0.001", "NaN" (PostgreSQL). Kept as text so nothing is rounded; convert
/// with the library of your choice. Python: `decimal.Decimal`.
struct Decimal {
    std::string text;
    friend bool operator==(const Decimal&, const Decimal&) = default;
};

/// A calendar date (DATE). Python: `datetime.date`.
using Date = std::chrono::year_month_day;
/// A time of day or a duration (TIME; MariaDB's TIME may be negative or
/// exceed 24 h), to the microsecond. Python: `datetime.time` /
/// `datetime.timedelta`.
using Time = std::chrono::microseconds;
/// A date and time without a zone (MariaDB DATETIME, PostgreSQL TIMESTAMP).
/// Python: a naive `datetime.datetime`.
using DateTime = std::chrono::local_time<std::chrono::microseconds>;
/// An instant (PostgreSQL TIMESTAMPTZ, MariaDB TIMESTAMP with the session
/// in UTC). Python: an aware `datetime.datetime`.
using Timestamp = std::chrono::sys_time<std::chrono::microseconds>;

}  // namespace corio::sql
