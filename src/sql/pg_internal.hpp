// src/sql/pg_internal.hpp - the PostgreSQL driver's private pieces shared by
// its source files: the result holder and the type OIDs.
#pragma once

#include <libpq-fe.h>

#include <memory>
#include <string>
#include <string_view>

#include "corio/sql/postgres.hpp"

namespace corio::sql::pg::detail {

// The built-in type OIDs the driver binds and decodes (pg_type.dat).
namespace oid {
inline constexpr Oid boolean = 16;
inline constexpr Oid bytea = 17;
inline constexpr Oid int8 = 20;
inline constexpr Oid int2 = 21;
inline constexpr Oid int4 = 23;
inline constexpr Oid text = 25;
inline constexpr Oid oid = 26;
inline constexpr Oid float4 = 700;
inline constexpr Oid float8 = 701;
inline constexpr Oid date = 1082;
inline constexpr Oid time = 1083;
inline constexpr Oid timestamp = 1114;
inline constexpr Oid timestamptz = 1184;
inline constexpr Oid numeric = 1700;
}  // namespace oid

// Owns one PGresult (PQclear on destruction); immutable once made, shared
// by every Row of the result.
class ResultData {
public:
    explicit ResultData(PGresult* r) noexcept : r_(r) {}
    ~ResultData() { PQclear(r_); }
    ResultData(const ResultData&) = delete;
    ResultData& operator=(const ResultData&) = delete;
    const PGresult* get() const noexcept { return r_; }

private:
    PGresult* r_;
};

// The exception for an error result (PGRES_FATAL_ERROR): the DatabaseError
// subclass of its SQLSTATE, "message" plus "DETAIL: ..." when the server
// gave one; a result without a SQLSTATE (a lost link) is 08006.
std::exception_ptr error_from_result(const PGresult* r);
// An exception of the DatabaseError class of `sqlstate`.
std::exception_ptr database_error(std::string_view message, std::string_view sqlstate);

}  // namespace corio::sql::pg::detail
