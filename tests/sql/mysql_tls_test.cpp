// TLS to MariaDB: the server's certificate is issued by the test CA for
// "localhost" and 127.0.0.1. With ssl and verification on, the driver
// connects only if it trusts the CA (and the name matches); the session is
// then encrypted. Without trust, the connect fails with OperationalError.
#include <gtest/gtest.h>

#include <string>

#include "corio/corio.hpp"
#include "corio/sql/mysql.hpp"
#include "net/net_fixture.hpp"
#include "support/certs.hpp"
#include "support/server_fixture.hpp"

namespace mysql = corio::sql::mysql;
namespace sql = corio::sql;
using corio::Task;
using corio_test::net_run;

namespace {

corio_test::TestCa* ca = nullptr;
std::string* ca_file = nullptr;
corio_test::MariaDbServer* server = nullptr;

class MySqlTls : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        ca = new corio_test::TestCa();
        ca_file = new std::string(ca->ca_file());
        auto [cert, key] = ca->issue("localhost", {"localhost", "127.0.0.1"});
        server = new corio_test::MariaDbServer(
            {"--ssl-cert=" + cert, "--ssl-key=" + key, "--ssl-ca=" + *ca_file});
    }
    static void TearDownTestSuite() {
        delete server;
        delete ca_file;
        delete ca;
        server = nullptr;
    }
    static mysql::ConnectOptions opts() {
        mysql::ConnectOptions o;
        o.port = server->port();
        o.user = corio_test::kMariaDbUser;
        o.password = corio_test::kMariaDbPassword;
        o.db = corio_test::kMariaDbDatabase;
        return o;
    }
};

Task<std::string> cipher(mysql::Connection& c) {
    auto r = co_await c.execute("SHOW SESSION STATUS LIKE 'Ssl_cipher'");
    co_return r.rows.at(0).get<std::string>(1);
}

}  // namespace

TEST_F(MySqlTls, VerifiedTlsWithTheTrustedCa) {
    net_run([]() -> Task<void> {
        auto o = opts();
        o.ssl = true;
        o.ssl_ca = *ca_file;
        auto c = co_await mysql::Connection::connect(o);
        EXPECT_FALSE((co_await cipher(c)).empty());
        co_await c.close();
        // The same by URL.
        auto u = co_await mysql::Connection::connect(
            std::string("mysql://") + corio_test::kMariaDbUser + ":" +
            corio_test::kMariaDbPassword + "@127.0.0.1:" + std::to_string(server->port()) +
            "/?ssl=true&ssl_ca=" + *ca_file);
        EXPECT_FALSE((co_await cipher(u)).empty());
        co_await u.close();
        // Without ssl the session is in the clear.
        auto plain = co_await mysql::Connection::connect(opts());
        EXPECT_TRUE((co_await cipher(plain)).empty());
        co_await plain.close();
    }());
}

TEST_F(MySqlTls, AnUntrustedCertificateFailsTheConnect) {
    net_run([]() -> Task<void> {
        corio_test::TestCa other("another CA");
        auto o = opts();
        o.ssl = true;
        o.ssl_ca = other.ca_file();
        bool failed = false;
        try {
            auto c = co_await mysql::Connection::connect(o);
        } catch (const sql::OperationalError& e) {
            failed = true;
            EXPECT_EQ(e.code(), 2026) << e.what();  // CR_SSL_CONNECTION_ERROR
        }
        EXPECT_TRUE(failed);
    }());
}
