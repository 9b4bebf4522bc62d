// corio/sql/errors.hpp - the exceptions of corio::sql, both drivers.
//
// Python's DB-API (PEP 249) hierarchy, which aiomysql follows by name and
// asyncpg's error classes map onto by SQLSTATE class:
//
//   sql::Error                  every corio::sql error (a corio::Error)
//     InterfaceError            misuse of the driver: a closed connection, a
//                               cursor without a result, a wrong column type
//     DatabaseError             the server or the link to it
//       OperationalError        connect refused, authentication failed, the
//                               server gone mid-query, a timeout, a cancel
//                               (SQLSTATE classes 08, 28, 53, 57, 58, HY)
//       ProgrammingError        bad SQL, unknown table or column, wrong
//                               number of parameters (classes 42, 26, 34, 3D)
//       IntegrityError          constraint violations (class 23)
//       DataError               bad values: overflow, bad date, division by
//                               zero (class 22)
//       NotSupportedError       a feature the server lacks (class 0A)
//       InternalError           the server's own failure (XX, 55, 40:
//                               deadlock and serialization failure)
//
// Every DatabaseError carries the SQLSTATE ("23505"), the driver's numeric
// code (MariaDB's error number, 0 for PostgreSQL) and the server's message.
#pragma once

#include <string>
#include <string_view>

#include "corio/errors.hpp"

namespace corio::sql {

/// Base class of every corio::sql error. PEP 249: `Error`.
class Error : public corio::Error {
public:
    using corio::Error::Error;
};

/// The driver was used wrongly (a closed connection, a column read as a
/// type it cannot convert to, a row index out of range). PEP 249:
/// `InterfaceError`.
class InterfaceError : public Error {
public:
    using Error::Error;
};

/// An error reported by the server or met on the link to it. PEP 249:
/// `DatabaseError`; asyncpg: `PostgresError`.
class DatabaseError : public Error {
public:
    /// `message` is the whole text for what(); `sqlstate` the five-character
    /// SQLSTATE ("" when none applies); `code` the driver's numeric code.
    DatabaseError(std::string message, std::string sqlstate = {}, int code = 0);
    /// The SQLSTATE, five characters, or empty (a lost link has none).
    const std::string& sqlstate() const noexcept { return sqlstate_; }
    /// MariaDB's error number (1062 for a duplicate key), 0 for PostgreSQL.
    int code() const noexcept { return code_; }

private:
    std::string sqlstate_;
    int code_ = 0;
};

/// The connection could not be made or was lost, authentication failed, the
/// server is shutting down, a query timed out or was cancelled on the
/// server. PEP 249: `OperationalError`.
class OperationalError : public DatabaseError {
public:
    using DatabaseError::DatabaseError;
};
/// Bad SQL or a wrong object name. PEP 249: `ProgrammingError`.
class ProgrammingError : public DatabaseError {
public:
    using DatabaseError::DatabaseError;
};
/// A constraint was violated (unique, foreign key, not null, check).
/// PEP 249: `IntegrityError`.
class IntegrityError : public DatabaseError {
public:
    using DatabaseError::DatabaseError;
};
/// A value was out of range or malformed. PEP 249: `DataError`.
class DataError : public DatabaseError {
public:
    using DatabaseError::DatabaseError;
};
/// The server does not support what was asked. PEP 249: `NotSupportedError`.
class NotSupportedError : public DatabaseError {
public:
    using DatabaseError::DatabaseError;
};
/// The server failed internally, or a transaction must be retried (deadlock,
/// serialization failure). PEP 249: `InternalError`.
class InternalError : public DatabaseError {
public:
    using DatabaseError::DatabaseError;
};

/// Throws the DatabaseError subclass that `sqlstate`'s class names (table
/// above; an unknown class gives DatabaseError), with what() "message
/// (SQLSTATE xxxxx)" or, with a code, "message (code N, SQLSTATE xxxxx)".
[[noreturn]] void throw_database_error(std::string_view message, std::string_view sqlstate,
                                       int code = 0);

}  // namespace corio::sql
