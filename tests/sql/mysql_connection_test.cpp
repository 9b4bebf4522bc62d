// The MariaDB driver against a real mariadbd: connect (URL and options,
// wrong password), statements with bound parameters, cursors and their
// fetches, every value type both ways, errors by SQLSTATE, transactions.
#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "corio/corio.hpp"
#include "corio/sql/mysql.hpp"
#include "net/net_fixture.hpp"
#include "support/server_fixture.hpp"

namespace mysql = corio::sql::mysql;
namespace sql = corio::sql;
using corio::Task;
using corio_test::net_run;

namespace {

corio_test::MariaDbServer* server = nullptr;

class MySql : public ::testing::Test {
protected:
    static void SetUpTestSuite() { server = new corio_test::MariaDbServer(); }
    static void TearDownTestSuite() {
        delete server;
        server = nullptr;
    }
    static mysql::ConnectOptions opts() {
        mysql::ConnectOptions o;
        o.host = "127.0.0.1";
        o.port = server->port();
        o.user = corio_test::kMariaDbUser;
        o.password = corio_test::kMariaDbPassword;
        o.db = corio_test::kMariaDbDatabase;
        return o;
    }
    static std::string url() {
        return std::string("mysql://") + corio_test::kMariaDbUser + ":" +
               corio_test::kMariaDbPassword + "@127.0.0.1:" + std::to_string(server->port()) + "/" +
               corio_test::kMariaDbDatabase;
    }
};

sql::Bytes bytes(std::string_view s) {
    const auto* p = reinterpret_cast<const std::byte*>(s.data());
    return sql::Bytes(p, p + s.size());
}

}  // namespace

TEST_F(MySql, ConnectsByUrlAndByOptionsAndCloses) {
    net_run([]() -> Task<void> {
        auto a = co_await mysql::Connection::connect(url());
        auto b = co_await mysql::Connection::connect(opts());
        EXPECT_TRUE(a.is_open());
        EXPECT_TRUE(a.is_reusable());
        EXPECT_NE(a.thread_id(), b.thread_id());
        EXPECT_NE(a.server_info().find("MariaDB"), std::string::npos);
        auto r = co_await a.execute("SELECT DATABASE(), CONNECTION_ID()");
        CO_ASSERT_EQ(r.rows.size(), 1u);
        EXPECT_EQ(r.rows[0].get<std::string>(0), corio_test::kMariaDbDatabase);
        EXPECT_EQ(r.rows[0].get<unsigned long>(1), a.thread_id());
        co_await a.close();
        EXPECT_FALSE(a.is_open());
        co_await a.close();  // idempotent
        bool threw = false;
        try {
            co_await a.execute("SELECT 1");
        } catch (const sql::InterfaceError&) {
            threw = true;
        }
        EXPECT_TRUE(threw);
        co_await b.close();
    }());
}

TEST_F(MySql, ConnectsByHostNameThroughTheLoopsResolver) {
    net_run([]() -> Task<void> {
        auto o = opts();
        o.host = "localhost";  // resolved by corio, then TCP (not the socket)
        auto c = co_await mysql::Connection::connect(o);
        auto r = co_await c.execute("SELECT @@port");
        EXPECT_EQ(r.rows.at(0).get<int>(0), server->port());
        co_await c.close();
    }());
}

TEST_F(MySql, ConnectsThroughTheUnixSocket) {
    net_run([]() -> Task<void> {
        auto o = opts();
        o.unix_socket = server->socket_path();
        auto c = co_await mysql::Connection::connect(o);
        auto r = co_await c.execute("SELECT 6 * 7");
        EXPECT_EQ(r.rows.at(0).get<int>(0), 42);
        co_await c.close();
    }());
}

TEST_F(MySql, AWrongPasswordIsOperationalError1045) {
    net_run([]() -> Task<void> {
        auto o = opts();
        o.password = "wrong";
        bool threw = false;
        try {
            auto c = co_await mysql::Connection::connect(o);
        } catch (const sql::OperationalError& e) {
            threw = true;
            EXPECT_EQ(e.code(), 1045);
            EXPECT_EQ(e.sqlstate(), "28000");
            EXPECT_NE(std::string(e.what()).find("Access denied"), std::string::npos);
        }
        EXPECT_TRUE(threw);
    }());
}

TEST_F(MySql, ARefusedPortIsOperationalError) {
    net_run([]() -> Task<void> {
        corio::net::Socket holder;
        auto o = opts();
        o.port = corio_test::refused_port(holder);
        bool threw = false;
        try {
            auto c = co_await mysql::Connection::connect(o);
        } catch (const sql::OperationalError& e) {
            threw = true;
            EXPECT_EQ(e.code(), 2002) << e.what();
        }
        EXPECT_TRUE(threw);
    }());
}

TEST_F(MySql, BadSqlIsProgrammingError1064AndTheConnectionGoesOn) {
    net_run([]() -> Task<void> {
        auto c = co_await mysql::Connection::connect(opts());
        bool threw = false;
        try {
            co_await c.execute("SELEKT 1");
        } catch (const sql::ProgrammingError& e) {
            threw = true;
            EXPECT_EQ(e.code(), 1064);
            EXPECT_EQ(e.sqlstate(), "42000");
        }
        EXPECT_TRUE(threw);
        threw = false;
        try {
            co_await c.execute("SELECT * FROM no_such_table");
        } catch (const sql::ProgrammingError& e) {
            threw = true;
            EXPECT_EQ(e.code(), 1146);
        }
        EXPECT_TRUE(threw);
        EXPECT_TRUE(c.is_reusable());
        auto r = co_await c.execute("SELECT 1");
        EXPECT_EQ(r.rows.at(0).get<int>(0), 1);
        co_await c.close();
    }());
}

TEST_F(MySql, CursorExecutesWithParametersAndFetchesOneManyAll) {
    net_run([]() -> Task<void> {
        auto c = co_await mysql::Connection::connect(opts());
        co_await c.execute("DROP TABLE IF EXISTS people");
        co_await c.execute(
            "CREATE TABLE people (id INT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(50), "
            "age INT NULL)");
        auto cur = c.cursor();
        EXPECT_EQ(co_await cur.execute("INSERT INTO people (name, age) VALUES (?, ?)", "ann", 31),
                  1u);
        EXPECT_EQ(cur.lastrowid(), 1u);
        co_await cur.execute("INSERT INTO people (name, age) VALUES (?, ?), (?, ?), (?, ?)", "bob",
                             std::optional<int>(), "cy", 20, "dee", 40);
        EXPECT_EQ(cur.rowcount(), 3u);
        EXPECT_EQ(cur.lastrowid(), 2u);  // the first id of a multi-row insert

        EXPECT_EQ(
            co_await cur.execute("SELECT id, name, age FROM people WHERE id >= ? ORDER BY id", 1),
            4u);
        CO_ASSERT_EQ(cur.description().size(), 3u);
        EXPECT_EQ(cur.description()[1].name, "name");
        auto first = co_await cur.fetchone();
        CO_ASSERT_TRUE(first.has_value());
        EXPECT_EQ(first->get<int>("id"), 1);
        EXPECT_EQ(first->get<std::string>("name"), "ann");
        auto two = co_await cur.fetchmany(2);
        CO_ASSERT_EQ(two.size(), 2u);
        EXPECT_EQ(two[0].get<std::string>(1), "bob");
        EXPECT_TRUE(two[0].is_null(2));
        EXPECT_EQ(two[0].get<std::optional<int>>(2), std::nullopt);
        EXPECT_EQ(two[1].get<std::optional<int>>("age"), 20);
        auto rest = co_await cur.fetchall();
        CO_ASSERT_EQ(rest.size(), 1u);
        EXPECT_EQ(rest[0].get<std::string>(1), "dee");
        EXPECT_FALSE((co_await cur.fetchone()).has_value());
        EXPECT_TRUE((co_await cur.fetchall()).empty());

        bool threw = false;
        try {
            (void)two[0].get<int>(2);  // NULL into a non-optional
        } catch (const sql::InterfaceError&) {
            threw = true;
        }
        EXPECT_TRUE(threw);
        co_await c.close();
    }());
}

TEST_F(MySql, ParametersAreEscapedNeverPasted) {
    net_run([]() -> Task<void> {
        auto c = co_await mysql::Connection::connect(opts());
        co_await c.execute("DROP TABLE IF EXISTS notes");
        co_await c.execute("CREATE TABLE notes (id INT PRIMARY KEY, body TEXT)");
        std::vector<std::string> evil{"it's",
                                      "\\",
                                      "\\' OR 1=1 -- ",
                                      "\"; DROP TABLE notes; --",
                                      std::string("nul\0byte", 8),
                                      "?",
                                      "héllo ✓",
                                      "`x`"};
        for (std::size_t i = 0; i < evil.size(); ++i) {
            co_await c.execute("INSERT INTO notes VALUES (?, ?)", static_cast<int>(i), evil[i]);
        }
        auto r = co_await c.execute("SELECT id, body FROM notes ORDER BY id");
        CO_ASSERT_EQ(r.rows.size(), evil.size());
        for (std::size_t i = 0; i < evil.size(); ++i) {
            EXPECT_EQ(r.rows[i].get<std::string>(1), evil[i]);
        }
        // A marker inside quotes or a comment is text; the counts must match.
        auto q = co_await c.execute("SELECT '?', ? /* ? */ -- ?\n", 5);
        EXPECT_EQ(q.rows.at(0).get<std::string>(0), "?");
        EXPECT_EQ(q.rows.at(0).get<int>(1), 5);
        int threw = 0;
        try {
            co_await c.execute("SELECT ?, ?", 1);
        } catch (const sql::ProgrammingError&) {
            ++threw;
        }
        try {
            co_await c.execute("SELECT ?", 1, 2);
        } catch (const sql::ProgrammingError&) {
            ++threw;
        }
        EXPECT_EQ(threw, 2);
        EXPECT_EQ(c.format("SELECT ?", "a'b"), "SELECT 'a\\'b'");
        co_await c.close();
    }());
}

TEST_F(MySql, EveryValueTypeRoundTrips) {
    net_run([]() -> Task<void> {
        using namespace std::chrono;
        auto c = co_await mysql::Connection::connect(opts());
        co_await c.execute("DROP TABLE IF EXISTS vals");
        co_await c.execute(
            "CREATE TABLE vals (i BIGINT, u BIGINT UNSIGNED, t TINYINT, b BOOL, f FLOAT, "
            "d DOUBLE, n DECIMAL(20,4), s VARCHAR(20), bl BLOB, dt DATE, tm TIME(6), "
            "dtm DATETIME(6), ts TIMESTAMP(6) NULL, nul INT NULL)");
        sql::Date date = year(2024) / February / 29;
        sql::Time time = -(hours(100) + minutes(2) + seconds(3) + microseconds(4));
        sql::DateTime dtm = local_days(year(1999) / December / 31) + hours(23) + minutes(59) +
                            seconds(58) + microseconds(123456);
        sql::Timestamp ts = sys_days(year(2038) / January / 1) + hours(1) + microseconds(7);
        sql::Bytes blob = bytes(std::string("\x00\xff\x27\x5c\x22", 5));
        // Named, not braced temporaries in the co_await's arguments: GCC 12
        // destroys those twice.
        const sql::Decimal dec{"-12.3400"};
        co_await c.execute("INSERT INTO vals VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                           -9223372036854775807LL - 1, 18446744073709551615ULL,
                           static_cast<signed char>(-128), true, 1.5f, 0.1, dec,
                           std::string_view("text"), blob, date, time, dtm, ts,
                           std::optional<int>());
        auto r = co_await c.execute("SELECT * FROM vals");
        CO_ASSERT_EQ(r.rows.size(), 1u);
        const mysql::Row& row = r.rows[0];
        EXPECT_EQ(row.get<long long>("i"), -9223372036854775807LL - 1);
        EXPECT_EQ(row.get<unsigned long long>("u"), 18446744073709551615ULL);
        EXPECT_EQ(row.get<signed char>("t"), -128);
        EXPECT_EQ(row.get<int>("t"), -128);
        EXPECT_TRUE(row.get<bool>("b"));
        EXPECT_EQ(row.get<float>("f"), 1.5f);
        EXPECT_EQ(row.get<double>("d"), 0.1);
        EXPECT_EQ(row.get<sql::Decimal>("n"), dec);
        EXPECT_EQ(row.get<std::string_view>("s"), "text");
        EXPECT_EQ(row.get<sql::Bytes>("bl"), blob);
        EXPECT_EQ(row.get<sql::Date>("dt"), date);
        EXPECT_EQ(row.get<sql::Time>("tm"), time);
        EXPECT_EQ(row.get<sql::DateTime>("dtm"), dtm);
        EXPECT_EQ(row.get<sql::Timestamp>("ts"), ts);
        EXPECT_EQ(row.get<std::optional<sql::Date>>("nul"), std::nullopt);
        EXPECT_EQ(row.columns()[0].type, 8);  // MYSQL_TYPE_LONGLONG

        // Out of range and wrong types are InterfaceError, not garbage.
        int threw = 0;
        try {
            (void)row.get<int>("i");
        } catch (const sql::InterfaceError&) {
            ++threw;
        }
        try {
            (void)row.get<sql::Date>("s");
        } catch (const sql::InterfaceError&) {
            ++threw;
        }
        try {
            (void)row.get<int>(99);
        } catch (const sql::InterfaceError&) {
            ++threw;
        }
        try {
            (void)row.get<int>("nope");
        } catch (const sql::InterfaceError&) {
            ++threw;
        }
        EXPECT_EQ(threw, 4);
        // A TIMESTAMP is read in UTC (the session's zone is set at connect).
        auto utc = co_await c.execute("SELECT FROM_UNIXTIME(0)");
        EXPECT_EQ(utc.rows.at(0).get<sql::Timestamp>(0), sql::Timestamp{});
        co_await c.close();
    }());
}

TEST_F(MySql, DataAndIntegrityErrorsHaveTheirClasses) {
    net_run([]() -> Task<void> {
        auto c = co_await mysql::Connection::connect(opts());
        co_await c.execute("DROP TABLE IF EXISTS uniq");
        co_await c.execute("CREATE TABLE uniq (k INT PRIMARY KEY, v TINYINT)");
        co_await c.execute("INSERT INTO uniq VALUES (1, 1)");
        bool integrity = false, data = false;
        try {
            co_await c.execute("INSERT INTO uniq VALUES (?, 2)", 1);
        } catch (const sql::IntegrityError& e) {
            integrity = e.code() == 1062 && e.sqlstate() == "23000";
        }
        try {
            co_await c.execute("INSERT INTO uniq VALUES (2, ?)", 1000);  // strict mode
        } catch (const sql::DataError& e) {
            data = e.code() == 1264;
        }
        EXPECT_TRUE(integrity);
        EXPECT_TRUE(data);
        co_await c.close();
    }());
}

TEST_F(MySql, CommitRollbackAndAutocommit) {
    net_run([]() -> Task<void> {
        auto o = opts();
        o.autocommit = false;
        auto a = co_await mysql::Connection::connect(o);
        auto b = co_await mysql::Connection::connect(opts());
        co_await b.execute("DROP TABLE IF EXISTS acct");
        co_await b.execute("CREATE TABLE acct (id INT PRIMARY KEY, v INT) ENGINE=InnoDB");
        auto count = [&]() -> Task<long> {
            auto r = co_await b.execute("SELECT COUNT(*) FROM acct");
            co_return r.rows.at(0).get<long>(0);
        };
        co_await a.execute("INSERT INTO acct VALUES (1, 1)");
        EXPECT_TRUE(a.in_transaction());
        EXPECT_FALSE(a.is_reusable());  // a pool must not lend it like this
        EXPECT_EQ(co_await count(), 0);
        co_await a.commit();
        EXPECT_FALSE(a.in_transaction());
        EXPECT_EQ(co_await count(), 1);
        co_await a.execute("INSERT INTO acct VALUES (2, 2)");
        co_await a.rollback();
        EXPECT_EQ(co_await count(), 1);
        co_await a.autocommit(true);
        co_await a.execute("INSERT INTO acct VALUES (3, 3)");
        EXPECT_FALSE(a.in_transaction());
        EXPECT_EQ(co_await count(), 2);
        co_await a.begin();
        co_await a.execute("INSERT INTO acct VALUES (4, 4)");
        EXPECT_TRUE(a.in_transaction());
        co_await a.rollback();
        EXPECT_EQ(co_await count(), 2);
        co_await a.close();
        co_await b.close();
    }());
}

TEST_F(MySql, TransactionHelpersCommitOrRollBack) {
    net_run([]() -> Task<void> {
        auto a = co_await mysql::Connection::connect(opts());
        co_await a.execute("DROP TABLE IF EXISTS tx");
        co_await a.execute("CREATE TABLE tx (id INT PRIMARY KEY) ENGINE=InnoDB");
        auto count = [&]() -> Task<long> {
            auto r = co_await a.execute("SELECT COUNT(*) FROM tx");
            co_return r.rows.at(0).get<long>(0);
        };
        // The body form: committed when it returns...
        int got = co_await a.transaction([](mysql::Connection& c) -> Task<int> {
            co_await c.execute("INSERT INTO tx VALUES (1)");
            co_return 7;
        });
        EXPECT_EQ(got, 7);
        EXPECT_EQ(co_await count(), 1);
        // ...rolled back (awaited) when it throws.
        bool threw = false;
        try {
            co_await a.transaction([](mysql::Connection& c) -> Task<void> {
                co_await c.execute("INSERT INTO tx VALUES (2)");
                co_await c.execute("INSERT INTO tx VALUES (1)");  // duplicate
            });
        } catch (const sql::IntegrityError&) {
            threw = true;
        }
        EXPECT_TRUE(threw);
        EXPECT_FALSE(a.in_transaction());
        EXPECT_EQ(co_await count(), 1);
        // The guard form: commit() ...
        {
            auto tx = co_await a.transaction();
            co_await a.execute("INSERT INTO tx VALUES (3)");
            co_await tx.commit();
            EXPECT_FALSE(tx.active());
        }
        EXPECT_EQ(co_await count(), 2);
        // ... or dropped open: not reusable, and the next statement is
        // preceded by ROLLBACK.
        {
            auto tx = co_await a.transaction();
            co_await a.execute("INSERT INTO tx VALUES (4)");
        }
        EXPECT_FALSE(a.is_reusable());
        EXPECT_EQ(co_await count(), 2);
        EXPECT_TRUE(a.is_reusable());
        co_await a.close();
    }());
}

TEST_F(MySql, ManyConnectionsQueryAtOnce) {
    net_run([]() -> Task<void> {
        auto one = [](int n) -> Task<int> {
            auto c = co_await mysql::Connection::connect(opts());
            auto r = co_await c.execute("SELECT ? + 1, SLEEP(0.05)", n);
            co_await c.close();
            co_return r.rows.at(0).get<int>(0);
        };
        auto [a, b, c] = co_await corio::gather(one(1), one(10), one(100));
        EXPECT_EQ(a, 2);
        EXPECT_EQ(b, 11);
        EXPECT_EQ(c, 101);
    }());
}

TEST_F(MySql, UrlOptionsParse) {
    auto o = mysql::ConnectOptions::from_url(
        "mariadb://u%40x:p%3Aw@db.example:3307/shop?ssl=true&ssl_verify=false&charset=latin1&"
        "connect_timeout=2.5&query_timeout=1&autocommit=false");
    EXPECT_EQ(o.user, "u@x");
    EXPECT_EQ(o.password, "p:w");
    EXPECT_EQ(o.host, "db.example");
    EXPECT_EQ(o.port, 3307);
    EXPECT_EQ(o.db, "shop");
    EXPECT_TRUE(o.ssl);
    EXPECT_FALSE(o.ssl_verify);
    EXPECT_EQ(o.charset, "latin1");
    EXPECT_EQ(o.connect_timeout, std::chrono::milliseconds(2500));
    EXPECT_EQ(o.query_timeout, std::chrono::milliseconds(1000));
    EXPECT_EQ(o.autocommit, false);
    EXPECT_THROW(mysql::ConnectOptions::from_url("postgresql://x/y"), std::invalid_argument);
    EXPECT_THROW(mysql::ConnectOptions::from_url("mysql://x/y?bogus=1"), std::invalid_argument);
}
