// rediss://: the client against a real redis-server listening with TLS
// (Debian's redis-server is built with it), its certificate issued by the
// test CA for "localhost" and 127.0.0.1. Verification is on by default: a
// CA the client does not trust, or a name the certificate does not carry,
// fails the connection at once with a clear ConnectionError.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "corio/corio.hpp"
#include "corio/redis/client.hpp"
#include "corio/redis/pool.hpp"
#include "net/net_fixture.hpp"
#include "support/server_fixture.hpp"
#include "support/tls_pki.hpp"

namespace redis = corio::redis;
using corio::Task;
using corio_test::net_run;
using corio_test::RedisServer;

namespace {

// One server for the suite: plain TCP on port() (the fixture's readiness
// probe) and TLS on tls_port_, with a certificate from pki_'s CA.
class RedisTls : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        pki_ = new corio_test::TestPki();
        ca_file_ = pki_->ca.ca_file();
        tls_port_ = corio_test::free_loopback_port();
        server_ = new RedisServer({"--tls-port", std::to_string(tls_port_), "--tls-cert-file",
                                   pki_->certfile, "--tls-key-file", pki_->keyfile,
                                   "--tls-ca-cert-file", ca_file_, "--tls-auth-clients", "no"});
    }
    static void TearDownTestSuite() {
        delete server_;
        server_ = nullptr;
        delete pki_;
        pki_ = nullptr;
    }
    static std::string url(const std::string& host, const std::string& query) {
        return "rediss://" + host + ":" + std::to_string(tls_port_) + query;
    }

    static corio_test::TestPki* pki_;
    static std::string ca_file_;
    static std::uint16_t tls_port_;
    static RedisServer* server_;
};
corio_test::TestPki* RedisTls::pki_ = nullptr;
std::string RedisTls::ca_file_;
std::uint16_t RedisTls::tls_port_ = 0;
RedisServer* RedisTls::server_ = nullptr;

// What connecting with `o` throws (ConnectionError's message), or "".
Task<std::string> connect_error(redis::ClientOptions o) {
    try {
        auto c = co_await redis::Client::connect(std::move(o));
        co_await c.execute("PING");
    } catch (const redis::ConnectionError& e) {
        co_return e.what();
    }
    co_return "";
}

}  // namespace

TEST(RedisTlsUrl, ParsesRedissAndItsParameters) {
    auto o = redis::parse_url(
        "rediss://:pw@cache.example:6380/2?ssl_ca_certs=%2Fetc%2Fca.pem&ssl_check_hostname=false");
    EXPECT_TRUE(o.tls);
    EXPECT_EQ(o.host, "cache.example");
    EXPECT_EQ(o.port, 6380);
    EXPECT_EQ(o.db, 2);
    EXPECT_EQ(o.password, "pw");
    EXPECT_EQ(o.ssl_ca_certs, "/etc/ca.pem");
    EXPECT_FALSE(o.ssl_check_hostname);
    EXPECT_EQ(o.ssl_cert_reqs, corio::net::VerifyMode::required);
    auto n = redis::parse_url("rediss://h?ssl_cert_reqs=none");
    EXPECT_EQ(n.ssl_cert_reqs, corio::net::VerifyMode::none);
    EXPECT_FALSE(redis::parse_url("redis://h").tls);
    EXPECT_THROW(redis::parse_url("rediss://h?ssl_cert_reqs=maybe"), std::invalid_argument);
    EXPECT_THROW(redis::parse_url("rediss://h?ssl_check_hostname=perhaps"), std::invalid_argument);
}

TEST_F(RedisTls, UrlWithTheCaConnectsAndPipelines) {
    net_run([]() -> Task<void> {
        auto c = co_await redis::Client::connect(url("localhost", "?ssl_ca_certs=" + ca_file_));
        EXPECT_TRUE(c.is_connected());
        EXPECT_EQ(c.protocol(), 3);
        EXPECT_EQ((co_await c.execute("SET", "tls:k", "secret")).as_string(), "OK");
        EXPECT_EQ(co_await c.get("tls:k"), "secret");
        // Many tasks at once: the replies come through the TLS layer in order.
        std::vector<corio::TaskHandle<std::int64_t>> tasks;
        for (int i = 0; i < 100; ++i) {
            tasks.push_back(corio::create_task([](redis::Client c) -> Task<std::int64_t> {
                co_return co_await c.incr("tls:n");
            }(c)));
        }
        std::vector<std::int64_t> got;
        for (auto& t : tasks) {
            got.push_back(co_await t);
        }
        for (int i = 0; i < 100; ++i) {
            EXPECT_EQ(got[static_cast<std::size_t>(i)], i + 1);
        }
    }());
}

TEST_F(RedisTls, GivenContextAndIpAddressAndPool) {
    net_run([]() -> Task<void> {
        redis::ClientOptions o;
        o.host = "127.0.0.1";  // an IP SAN in the certificate
        o.port = tls_port_;
        o.tls = true;
        o.ssl_context = pki_->client;
        auto c = co_await redis::Client::connect(o);
        EXPECT_EQ((co_await c.execute("PING")).as_string(), "PONG");

        redis::Pool pool(redis::PoolOptions{o, 2});
        co_await pool.set("tls:pool", "1");
        EXPECT_EQ(co_await pool.get("tls:pool"), "1");
    }());
}

TEST_F(RedisTls, UntrustedCaFailsAtOnceWithAClearError) {
    net_run([]() -> Task<void> {
        corio_test::TestCa other("another CA");
        redis::ClientOptions o =
            redis::parse_url(url("localhost", "?ssl_ca_certs=" + other.ca_file()));
        o.connect_attempts = 3;
        o.reconnect_backoff = std::chrono::seconds(30);  // a retry would show as a 30 s wait
        auto& loop = corio::get_running_loop();
        auto t0 = loop.time();
        std::string error = co_await connect_error(o);
        EXPECT_LT(loop.time() - t0, std::chrono::seconds(10));
        EXPECT_NE(error.find("TLS handshake with redis at localhost:" + std::to_string(tls_port_) +
                             " failed"),
                  std::string::npos)
            << error;
        EXPECT_NE(error.find("certificate verify failed"), std::string::npos) << error;

        // No CA given: the system's CAs do not know the test CA either.
        std::string system = co_await connect_error(redis::parse_url(url("localhost", "")));
        EXPECT_NE(system.find("certificate verify failed"), std::string::npos) << system;

        // ssl_cert_reqs=none accepts the certificate anyway.
        auto c = co_await redis::Client::connect(url("localhost", "?ssl_cert_reqs=none"));
        EXPECT_EQ((co_await c.execute("PING")).as_string(), "PONG");
    }());
}

TEST_F(RedisTls, NameTheCertificateDoesNotCarryFails) {
    net_run([]() -> Task<void> {
        redis::ClientOptions o = redis::parse_url(url("127.0.0.1", "?ssl_ca_certs=" + ca_file_));
        o.ssl_server_hostname = "cache.example.org";
        std::string error = co_await connect_error(o);
        EXPECT_NE(error.find("TLS handshake"), std::string::npos) << error;

        o.ssl_check_hostname = false;  // trust the CA, not the name
        auto c = co_await redis::Client::connect(o);
        EXPECT_EQ((co_await c.execute("PING")).as_string(), "PONG");
    }());
}

TEST_F(RedisTls, PlainClientOnTheTlsPortFailsInsteadOfHanging) {
    net_run([]() -> Task<void> {
        redis::ClientOptions o;
        o.port = tls_port_;
        o.connect_attempts = 1;
        o.connect_timeout = std::chrono::seconds(5);
        std::string error = co_await connect_error(o);
        EXPECT_NE(error.find("cannot connect to redis"), std::string::npos) << error;
    }());
}
