// tests/amqp/tls_test.cpp - amqps:// against a real RabbitMQ with a TLS
// listener (ssl_options in its rabbitmq.conf), its certificate issued by the
// test CA for "localhost" and 127.0.0.1: a round trip with the CA trusted
// (?cacertfile=), a clear ConnectionError when it is not or when the name
// does not match, and a reconnection over TLS after the server is killed and
// restarted. Its own server (one per test binary): the TLS listener is not
// the shared one's.
#include <gtest/gtest.h>

#include <string>

#include "corio/amqp.hpp"
#include "corio/corio.hpp"
#include "corio/threads.hpp"
#include "net/net_fixture.hpp"
#include "support/server_fixture.hpp"
#include "support/tls_pki.hpp"

namespace amqp = corio::amqp;
using corio::Task;
using corio_test::net_run;
using namespace std::chrono_literals;

namespace {

class AmqpTls : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        pki_ = new corio_test::TestPki();
        ca_file_ = pki_->ca.ca_file();
        tls_port_ = corio_test::free_loopback_port();
        const std::string config =
            "listeners.ssl.default = 127.0.0.1:" + std::to_string(tls_port_) + "\\n" +
            "ssl_options.cacertfile = " + ca_file_ + "\\n" +
            "ssl_options.certfile = " + pki_->certfile + "\\n" +
            "ssl_options.keyfile = " + pki_->keyfile + "\\n" +
            "ssl_options.verify = verify_none\\n" + "ssl_options.fail_if_no_peer_cert = false\\n";
        server_ = new corio_test::RabbitMqServer(config);
    }
    static void TearDownTestSuite() {
        delete server_;
        server_ = nullptr;
        delete pki_;
        pki_ = nullptr;
    }
    static std::string url(const std::string& host, const std::string& query) {
        return std::string("amqps://") + corio_test::kRabbitUser + ":" +
               corio_test::kRabbitPassword + "@" + host + ":" + std::to_string(tls_port_) + "/" +
               query;
    }

    static corio_test::TestPki* pki_;
    static std::string ca_file_;
    static std::uint16_t tls_port_;
    static corio_test::RabbitMqServer* server_;
};
corio_test::TestPki* AmqpTls::pki_ = nullptr;
std::string AmqpTls::ca_file_;
std::uint16_t AmqpTls::tls_port_ = 0;
corio_test::RabbitMqServer* AmqpTls::server_ = nullptr;

Task<std::string> connect_error(std::string url) {
    try {
        auto c = co_await amqp::Connection::connect(url);
        co_await c.close();
    } catch (const amqp::ConnectionError& e) {
        co_return e.what();
    }
    co_return "";
}

TEST_F(AmqpTls, RoundTripWithTheCaTrusted) {
    net_run([&]() -> Task<void> {
        auto conn = co_await amqp::Connection::connect(url("localhost", "?cacertfile=" + ca_file_));
        EXPECT_TRUE(conn.is_open());
        auto ch = co_await conn.channel();
        co_await ch.confirm_select();
        auto q = (co_await ch.queue_declare("")).queue;
        co_await ch.basic_publish("over tls", "", q);
        auto m = co_await ch.basic_get(q, true);
        CO_ASSERT_TRUE(m.has_value());
        EXPECT_EQ(m->body, "over tls");
        co_await conn.close();
    }());
}

TEST_F(AmqpTls, AnUntrustedCaOrAWrongNameFailsClearly) {
    net_run([&]() -> Task<void> {
        // The system's CAs do not include the test CA.
        std::string untrusted = co_await connect_error(url("localhost", ""));
        EXPECT_NE(untrusted.find("TLS"), std::string::npos) << untrusted;
        // A name the certificate does not carry:
        std::string wrong = co_await connect_error(
            url("localhost", "?cacertfile=" + ca_file_ + "&server_name_indication=other.example"));
        EXPECT_NE(wrong.find("TLS"), std::string::npos) << wrong;
        // verify_none connects without checking.
        auto conn = co_await amqp::Connection::connect(url("127.0.0.1", "?verify=verify_none"));
        EXPECT_TRUE(conn.is_open());
        co_await conn.close();
    }());
}

TEST_F(AmqpTls, ReconnectsOverTls) {
    net_run([&]() -> Task<void> {
        corio::Event down, up;
        amqp::ConnectionOptions o = amqp::parse_url(url("localhost", "?cacertfile=" + ca_file_));
        amqp::ReconnectOptions r;
        r.initial_delay = 20ms;
        r.max_delay = 300ms;
        r.on_disconnect = [&down](std::exception_ptr) { down.set(); };
        r.on_reconnect = [&up](std::uint64_t) { up.set(); };
        o.reconnect = r;
        auto conn = co_await amqp::Connection::connect(o);
        auto ch = co_await conn.channel();
        amqp::QueueOptions excl;
        excl.exclusive = true;
        co_await ch.queue_declare("corio-tls-rec", excl);
        auto messages = ch.basic_consume("corio-tls-rec");
        co_await corio::to_thread([] { server_->kill(); });
        co_await corio::wait_for(down.wait(), 30s);
        co_await corio::to_thread([] { server_->start(); });
        co_await corio::wait_for(up.wait(), 60s);
        EXPECT_TRUE(conn.is_open());
        co_await ch.basic_publish("after", "", "corio-tls-rec");
        auto m = co_await corio::wait_for(messages.next(), 30s);
        CO_ASSERT_TRUE(m.has_value());
        EXPECT_EQ(m->body, "after");
        ch.basic_ack(m->delivery_tag);
        co_await messages.aclose();
        co_await conn.close();
    }());
}

}  // namespace
