// src/sql/errors.cpp - DatabaseError and the SQLSTATE classes.
#include "corio/sql/errors.hpp"

namespace corio::sql {

DatabaseError::DatabaseError(std::string message, std::string sqlstate, int code)
    : Error(std::move(message)), sqlstate_(std::move(sqlstate)), code_(code) {}

void throw_database_error(std::string_view message, std::string_view sqlstate, int code) {
    std::string text(message);
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) {
        text.pop_back();
    }
    if (code != 0 || !sqlstate.empty()) {
        text += " (";
        if (code != 0) {
            text += "code " + std::to_string(code);
            if (!sqlstate.empty()) {
                text += ", ";
            }
        }
        if (!sqlstate.empty()) {
            text += "SQLSTATE " + std::string(sqlstate);
        }
        text += ")";
    }
    std::string state(sqlstate);
    std::string_view cls = sqlstate.substr(0, 2);
    if (cls == "08" || cls == "28" || cls == "53" || cls == "57" || cls == "58" || cls == "HY") {
        throw OperationalError(std::move(text), std::move(state), code);
    }
    if (cls == "42" || cls == "26" || cls == "34" || cls == "3D" || cls == "3F" || cls == "07") {
        throw ProgrammingError(std::move(text), std::move(state), code);
    }
    if (cls == "23") {
        throw IntegrityError(std::move(text), std::move(state), code);
    }
    if (cls == "22") {
        throw DataError(std::move(text), std::move(state), code);
    }
    if (cls == "0A") {
        throw NotSupportedError(std::move(text), std::move(state), code);
    }
    if (cls == "XX" || cls == "55" || cls == "40" || cls == "25") {
        throw InternalError(std::move(text), std::move(state), code);
    }
    throw DatabaseError(std::move(text), std::move(state), code);
}

}  // namespace corio::sql
