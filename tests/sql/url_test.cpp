// tests/sql/url_test.cpp - sql::parse_url and the SQLSTATE error classes.
#include "corio/sql/url.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

#include "corio/sql/errors.hpp"

namespace {

using namespace corio::sql;

TEST(SqlUrl, ParsesEveryPart) {
    Url u = parse_url("postgres://al%40ce:p%3Ass@db.local:6543/shop%20db?sslmode=require&a=1&a=2");
    EXPECT_EQ(u.scheme, "postgresql");
    EXPECT_EQ(u.user, "al@ce");
    EXPECT_EQ(u.password, "p:ss");
    EXPECT_EQ(u.host, "db.local");
    EXPECT_EQ(u.port, 6543);
    EXPECT_EQ(u.database, "shop db");
    EXPECT_EQ(u.param("sslmode"), "require");
    EXPECT_EQ(u.param("a"), "2");
    EXPECT_EQ(u.param("b"), std::nullopt);
}

TEST(SqlUrl, LeavesOutWhatIsNotGiven) {
    Url u = parse_url("mariadb://");
    EXPECT_EQ(u.scheme, "mysql");
    EXPECT_EQ(u.user, "");
    EXPECT_EQ(u.host, "");
    EXPECT_EQ(u.port, 0);
    EXPECT_EQ(u.database, "");
    Url v = parse_url("mysql://root@[::1]:3307/test");
    EXPECT_EQ(v.user, "root");
    EXPECT_EQ(v.password, "");
    EXPECT_EQ(v.host, "::1");
    EXPECT_EQ(v.port, 3307);
    EXPECT_EQ(v.database, "test");
}

TEST(SqlUrl, RejectsBadUrlsWithTheReason) {
    EXPECT_THROW(parse_url("localhost:5432"), std::invalid_argument);
    EXPECT_THROW(parse_url("redis://x"), std::invalid_argument);
    EXPECT_THROW(parse_url("postgresql://h:0/db"), std::invalid_argument);
    EXPECT_THROW(parse_url("postgresql://h:65536/db"), std::invalid_argument);
    EXPECT_THROW(parse_url("postgresql://h:12x/db"), std::invalid_argument);
    EXPECT_THROW(parse_url("postgresql://u:%4@h/db"), std::invalid_argument);
    EXPECT_THROW(parse_url("postgresql://[::1/db"), std::invalid_argument);
    try {
        parse_url("mongodb://x");
        FAIL();
    } catch (const std::invalid_argument& e) {
        EXPECT_NE(std::string(e.what()).find("mongodb"), std::string::npos);
    }
}

template <class E>
void expect_class(const char* sqlstate) {
    try {
        throw_database_error("boom\n", sqlstate, 0);
    } catch (const E& e) {
        EXPECT_EQ(e.sqlstate(), sqlstate);
        EXPECT_EQ(std::string(e.what()), std::string("boom (SQLSTATE ") + sqlstate + ")");
        return;
    } catch (...) {
    }
    ADD_FAILURE() << sqlstate << " did not give the expected class";
}

TEST(SqlErrors, SqlstateClassesPickTheDbApiException) {
    expect_class<OperationalError>("08006");
    expect_class<OperationalError>("28P01");
    expect_class<OperationalError>("57014");
    expect_class<ProgrammingError>("42601");
    expect_class<ProgrammingError>("42P01");
    expect_class<IntegrityError>("23505");
    expect_class<DataError>("22012");
    expect_class<NotSupportedError>("0A000");
    expect_class<InternalError>("40P01");
    try {
        throw_database_error("Duplicate entry", "23000", 1062);
    } catch (const IntegrityError& e) {
        EXPECT_EQ(e.code(), 1062);
        EXPECT_STREQ(e.what(), "Duplicate entry (code 1062, SQLSTATE 23000)");
    }
    EXPECT_THROW(throw_database_error("odd", "P0001"), DatabaseError);
}

}  // namespace
