// pg::Connection over TLS to a real PostgreSQL 15 with ssl=on and a
// certificate from a test CA: sslmode=verify-full with the CA connects
// encrypted; a CA that did not sign the server's certificate is refused.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "corio/corio.hpp"
#include "corio/sql/postgres.hpp"
#include "net/net_fixture.hpp"
#include "support/certs.hpp"
#include "support/server_fixture.hpp"

namespace pg = corio::sql::pg;
namespace sql = corio::sql;
using corio::Task;
using corio_test::net_run;

namespace {

// A PostgreSQL server with TLS on, its certificate for localhost and
// 127.0.0.1 signed by `ca`.
struct TlsPostgres {
    corio_test::ServerFixture server{
        corio_test::postgres_spec({"-c", "ssl=on", "-c", "ssl_cert_file={dir}/server.crt", "-c",
                                   "ssl_key_file={dir}/server.key"})};

    explicit TlsPostgres(corio_test::TestCa& ca) {
        auto [cert, key] = ca.issue("localhost", {"localhost", "127.0.0.1"});
        std::filesystem::copy_file(cert, server.dir() + "/server.crt");
        std::filesystem::copy_file(key, server.dir() + "/server.key");
        ::chmod((server.dir() + "/server.key").c_str(), 0600);
        std::ofstream(server.dir() + "/pwfile") << corio_test::kPostgresPassword << "\n";
        server.start();
    }

    pg::ConnectOptions options(const std::string& cafile) const {
        pg::ConnectOptions o;
        o.host = "localhost";
        o.port = server.port();
        o.user = corio_test::kPostgresUser;
        o.password = corio_test::kPostgresPassword;
        o.database = "postgres";
        o.sslmode = "verify-full";
        o.sslrootcert = cafile;
        return o;
    }
};

}  // namespace

TEST(PgTls, VerifyFullConnectsEncryptedAndRefusesAnUnknownCa) {
    corio_test::TestCa ca;
    corio_test::TestCa other("another CA");
    TlsPostgres server(ca);
    const std::string cafile = ca.ca_file();
    const std::string other_file = other.ca_file();
    net_run([](const TlsPostgres& server, std::string cafile, std::string other) -> Task<void> {
        auto conn = co_await pg::Connection::connect(server.options(cafile));
        auto ssl = co_await conn.fetchval<bool>(
            "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()");
        EXPECT_TRUE(ssl);
        co_await conn.close();
        try {
            co_await pg::Connection::connect(server.options(other));
            ADD_FAILURE() << "a certificate from an unknown CA was accepted";
        } catch (const sql::OperationalError& e) {
            EXPECT_NE(std::string(e.what()).find("certificate verify failed"), std::string::npos)
                << e.what();
        }
    }(server, cafile, other_file));
}
