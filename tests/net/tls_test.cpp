#include "corio/net/tls.hpp"

#include <gtest/gtest.h>
#include <openssl/ssl.h>

#include <map>
#include <string>

#include "corio/corio.hpp"
#include "corio/net/streams.hpp"
#include "net/net_fixture.hpp"
#include "support/certs.hpp"

using namespace std::chrono_literals;
using corio::Task;
namespace net = corio::net;
using corio_test::net_run;
using corio_test::Reports;

namespace {

struct Pki {
    corio_test::TestCa ca;
    std::shared_ptr<net::SslContext> server = net::SslContext::server();
    std::shared_ptr<net::SslContext> client = net::SslContext::client();
    Pki() {
        auto [cert, key] = ca.issue("localhost", {"localhost", "127.0.0.1"});
        server->load_cert_chain(cert, key);
        client->load_verify_data(ca.ca_pem());
    }
};

Task<void> echo_once(net::StreamReader r, net::StreamWriter w) {
    std::string line = co_await r.readline();
    w.write("echo: " + line);
    co_await w.drain();
    w.close();
    co_await w.wait_closed();
}

}  // namespace

TEST(Tls, EchoWithCertificateAndHostNameVerification) {
    Pki pki;
    net_run([](Pki& p) -> Task<void> {
        net::Server server =
            co_await net::start_server(echo_once, "127.0.0.1", 0, {.ssl = p.server.get()});
        auto port = server.sockets().at(0).port();
        auto [r, w] = co_await net::open_connection(
            "127.0.0.1", port, {.ssl = p.client.get(), .server_hostname = "localhost"});
        EXPECT_NE(w.ssl_object(), nullptr);
        EXPECT_FALSE(w.can_write_eof());
        EXPECT_EQ(std::any_cast<std::string>(w.get_extra_info("peercert_subject")),
                  "/CN=localhost");
        EXPECT_EQ(std::any_cast<std::string>(w.get_extra_info("version")).rfind("TLSv1.", 0), 0u);
        w.write("secret\n");
        EXPECT_EQ(co_await r.readline(), "echo: secret\n");
        EXPECT_EQ(co_await r.read(), "");  // the server's close_notify ends the stream
        w.close();
        co_await w.wait_closed();
        server.close();
        co_await server.wait_closed();
    }(pki));
}

TEST(Tls, AnUntrustedCertificateFailsVerification) {
    Pki pki;
    Reports reports;
    net_run(
        [](Pki& p) -> Task<void> {
            net::Server server =
                co_await net::start_server(echo_once, "127.0.0.1", 0, {.ssl = p.server.get()});
            auto port = server.sockets().at(0).port();
            auto stranger = net::SslContext::client();  // system CAs only
            try {
                co_await net::open_connection(
                    "127.0.0.1", port, {.ssl = stranger.get(), .server_hostname = "localhost"});
                ADD_FAILURE() << "connected to an untrusted server";
            } catch (const net::SslError& e) {
                EXPECT_NE(std::string(e.what()).find("certificate verify failed"),
                          std::string::npos)
                    << e.what();
            }
            server.close();
            co_await server.wait_closed();
        }(pki),
        &reports);
    // The server side sees the failed handshake; that is reported, not hidden.
    EXPECT_LE(reports.count("Unhandled exception in client_connected_cb"), 1u);
}

TEST(Tls, AHostNameMismatchFailsVerification) {
    Pki pki;
    Reports reports;
    net_run(
        [](Pki& p) -> Task<void> {
            net::Server server =
                co_await net::start_server(echo_once, "127.0.0.1", 0, {.ssl = p.server.get()});
            auto port = server.sockets().at(0).port();
            EXPECT_THROW(
                co_await net::open_connection(
                    "127.0.0.1", port, {.ssl = p.client.get(), .server_hostname = "other.example"}),
                net::SslError);
            server.close();
            co_await server.wait_closed();
        }(pki),
        &reports);
}

TEST(Tls, AlpnPicksTheServersPreference) {
    Pki pki;
    pki.server->set_alpn_protocols({"h2", "http/1.1"});
    pki.client->set_alpn_protocols({"http/1.1", "h2"});
    net_run([](Pki& p) -> Task<void> {
        std::string server_saw;
        net::Server server = co_await net::start_server(
            [&](net::StreamReader r, net::StreamWriter w) -> Task<void> {
                server_saw = std::any_cast<std::string>(w.get_extra_info("alpn_protocol"));
                co_await echo_once(r, w);
            },
            "127.0.0.1", 0, {.ssl = p.server.get()});
        auto port = server.sockets().at(0).port();
        auto [r, w] = co_await net::open_connection(
            "127.0.0.1", port, {.ssl = p.client.get(), .server_hostname = "localhost"});
        EXPECT_EQ(std::any_cast<std::string>(w.get_extra_info("alpn_protocol")), "h2");
        w.write("x\n");
        co_await r.readline();
        EXPECT_EQ(server_saw, "h2");
        w.close();
        server.close();
        co_await server.wait_closed();
    }(pki));
}

TEST(Tls, SniSelectsTheCertificateForTheRequestedName) {
    Pki pki;
    auto other = net::SslContext::server();
    auto [cert, key] = pki.ca.issue("api.example", {"api.example"});
    other->load_cert_chain(cert, key);
    std::map<std::string, std::shared_ptr<net::SslContext>, std::less<>> by_name{
        {"api.example", other}};
    pki.server->set_sni_callback([&](std::string_view name) -> std::shared_ptr<net::SslContext> {
        auto it = by_name.find(name);
        return it == by_name.end() ? nullptr : it->second;
    });
    net_run([](Pki& p) -> Task<void> {
        net::Server server =
            co_await net::start_server(echo_once, "127.0.0.1", 0, {.ssl = p.server.get()});
        auto port = server.sockets().at(0).port();
        for (std::string name : {"api.example", "localhost"}) {
            auto [r, w] = co_await net::open_connection(
                "127.0.0.1", port, {.ssl = p.client.get(), .server_hostname = name});
            EXPECT_EQ(std::any_cast<std::string>(w.get_extra_info("peercert_subject")),
                      "/CN=" + name);
            w.write("x\n");
            co_await r.readline();
            w.close();
        }
        server.close();
        co_await server.wait_closed();
    }(pki));
}

TEST(Tls, StartTlsUpgradesAPlainConnection) {
    Pki pki;
    net_run([](Pki& p) -> Task<void> {
        net::Server server = co_await net::start_server(
            [&](net::StreamReader r, net::StreamWriter w) -> Task<void> {
                EXPECT_EQ(co_await r.readline(), "STARTTLS\n");
                w.write("OK\n");
                co_await w.start_tls(p.server);
                co_await echo_once(r, w);
            },
            "127.0.0.1", 0);
        auto port = server.sockets().at(0).port();
        auto [r, w] = co_await net::open_connection("127.0.0.1", port);
        w.write("STARTTLS\n");
        EXPECT_EQ(co_await r.readline(), "OK\n");
        EXPECT_EQ(w.ssl_object(), nullptr);
        co_await w.start_tls(p.client, "localhost");
        EXPECT_NE(w.ssl_object(), nullptr);
        w.write("now encrypted\n");
        EXPECT_EQ(co_await r.readline(), "echo: now encrypted\n");
        w.close();
        server.close();
        co_await server.wait_closed();
    }(pki));
}

TEST(Tls, BadFilesGiveSslErrors) {
    auto ctx = net::SslContext::server();
    EXPECT_THROW(ctx->load_cert_chain("/nonexistent.pem"), net::SslError);
    EXPECT_THROW(ctx->load_verify_data("not a certificate"), net::SslError);
    EXPECT_THROW(ctx->set_alpn_protocols({""}), std::invalid_argument);
    EXPECT_THROW(ctx->set_ciphers("NO-SUCH-CIPHER"), net::SslError);
}
