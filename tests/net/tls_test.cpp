#include "corio/net/tls.hpp"

#include <gtest/gtest.h>
#include <openssl/ssl.h>

#include <map>
#include <string>
#include <vector>

#include "corio/corio.hpp"
#include "corio/net/streams.hpp"
#include "corio/net/transports.hpp"
#include "net/net_fixture.hpp"
#include "support/tls_pki.hpp"

using namespace std::chrono_literals;
using corio::Task;
namespace net = corio::net;
using corio_test::net_run;
using corio_test::Reports;

namespace {

using Pki = corio_test::TestPki;  // a CA, a localhost certificate, a trusting client

Task<void> echo_once(net::StreamReader r, net::StreamWriter w) {
    std::string line = co_await r.readline();
    w.write("echo: " + line);
    co_await w.drain();
    w.close();
    co_await w.wait_closed();
}

// Connects in clear text, sends STARTTLS and reads the server's "OK\n".
Task<std::pair<net::StreamReader, net::StreamWriter>> ask_starttls(std::uint16_t port) {
    auto rw = co_await net::open_connection("127.0.0.1", port);
    rw.second.write("STARTTLS\n");
    EXPECT_EQ(co_await rw.first.readline(), "OK\n");
    co_return rw;
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
    std::vector<std::string> asked;
    pki.server->set_sni_callback([&](std::string_view name) -> std::shared_ptr<net::SslContext> {
        asked.emplace_back(name);
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
        // The host, an address, is the default server_hostname: checked
        // against the certificate's IP entry, never sent as SNI (RFC 6066).
        auto [r, w] = co_await net::open_connection("127.0.0.1", port, {.ssl = p.client.get()});
        w.write("x\n");
        EXPECT_EQ(co_await r.readline(), "echo: x\n");
        w.close();
        server.close();
        co_await server.wait_closed();
    }(pki));
    EXPECT_EQ(asked, (std::vector<std::string>{"api.example", "localhost"}));
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
        auto [r, w] = co_await ask_starttls(port);
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

// As in asyncio, a read already waiting when start_tls begins waits through
// the handshake (it neither reads the handshake's bytes as data nor takes
// the socket from the handshake) and then returns decrypted data.
TEST(Tls, AReadPendingAcrossStartTlsGetsTheDecryptedData) {
    Pki pki;
    net_run([](Pki& p) -> Task<void> {
        net::Server server = co_await net::start_server(
            [&](net::StreamReader r, net::StreamWriter w) -> Task<void> {
                EXPECT_EQ(co_await r.readline(), "STARTTLS\n");
                auto pending = corio::create_task(r.readline());
                co_await corio::sleep(0s);  // the read now waits on the socket
                EXPECT_FALSE(pending.done());
                w.write("OK\n");  // the client starts its handshake on this line
                co_await w.start_tls(p.server);
                EXPECT_EQ(co_await pending, "secret\n");
                w.write("got it\n");
                co_await w.drain();
                w.close();
            },
            "127.0.0.1", 0);
        auto port = server.sockets().at(0).port();
        auto [r, w] = co_await ask_starttls(port);
        co_await w.start_tls(p.client, "localhost");
        w.write("secret\n");
        EXPECT_EQ(co_await r.readline(), "got it\n");
        EXPECT_THROW(co_await w.start_tls(p.client, "localhost"), corio::RuntimeError);
        w.close();
        co_await w.wait_closed();
        server.close();
        co_await server.wait_closed();
    }(pki));
}

TEST(Tls, AFailedStartTlsAbortsTheConnection) {
    Pki pki;
    net_run([](Pki& p) -> Task<void> {
        corio::Event done;
        net::Server server = co_await net::start_server(
            [&](net::StreamReader r, net::StreamWriter w) -> Task<void> {
                co_await r.readline();
                w.write("OK\n");
                co_await r.read(1);  // the ClientHello is coming: answer it with rubbish
                w.write("this is not a TLS record at all\n");
                co_await done.wait();
                w.close();
            },
            "127.0.0.1", 0);
        auto port = server.sockets().at(0).port();
        auto [r, w] = co_await ask_starttls(port);
        EXPECT_THROW(co_await w.start_tls(p.client, "localhost"), net::SslError);
        EXPECT_TRUE(w.is_closing());  // asyncio aborts: no half-made session stays in use
        co_await w.wait_closed();
        done.set();
        server.close();
        co_await server.wait_closed();
    }(pki));
}

namespace {

struct Sink : net::Protocol {
    std::size_t want = 0;
    std::size_t got = 0;
    std::string* keep = nullptr;  // what arrived, if set
    corio::Future<void>* all = nullptr;
    void data_received(std::string_view d) override {
        got += d.size();
        if (keep != nullptr) {
            keep->append(d);
        }
        if (got >= want && all != nullptr && !all->done()) {
            all->set_result();
        }
    }
};

}  // namespace

TEST(Tls, ATransportWriteLargerThanARecordIsSentWhole) {
    Pki pki;
    net_run([](Pki& p) -> Task<void> {
        constexpr std::size_t kSize = 200 * 1024;  // > one 16 KiB TLS record
        std::string sent(kSize, '\0');
        for (std::size_t i = 0; i < kSize; ++i) {
            sent[i] = static_cast<char>('A' + (i * 13 + i / 16384) % 26);  // records differ
        }
        std::string received;
        corio::Future<void> all;
        net::Server server = co_await net::create_server(
            [&] {
                auto s = std::make_unique<Sink>();
                s->want = kSize;
                s->keep = &received;
                s->all = &all;
                return s;
            },
            "127.0.0.1", 0, {.ssl = p.server.get()});
        auto port = server.sockets().at(0).port();
        auto t = co_await net::create_connection(
            [] { return std::make_unique<net::Protocol>(); }, "127.0.0.1", port,
            {.ssl = p.client.get(), .server_hostname = "localhost"});
        t->write(sent);  // one write, the socket never fills
        co_await corio::wait_for(all, 10s);
        EXPECT_EQ(received.size(), kSize);
        EXPECT_TRUE(received == sent) << "the bytes arrived changed or out of order";
        t->close();
        server.close();
        server.close_clients();
        co_await server.wait_closed();
    }(pki));
}

TEST(Tls, ATransportServerTracksConnectionsStillHandshaking) {
    Pki pki;
    // As asyncio: the protocol is made when the connection is accepted; its
    // connection_made waits for the handshake, so it never comes here.
    struct Counting : net::Protocol {
        int* made;
        explicit Counting(int* m) : made(m) {}
        void connection_made(net::Transport&) override { ++*made; }
    };
    net_run([](Pki& p) -> Task<void> {
        int made = 0;
        net::Server server =
            co_await net::create_server([&] { return std::make_unique<Counting>(&made); },
                                        "127.0.0.1", 0, {.ssl = p.server.get()});
        auto port = server.sockets().at(0).port();
        // A plain TCP client that never says hello: the server waits in its handshake.
        net::Socket raw = net::Socket::create(AF_INET, SOCK_STREAM);
        co_await net::sock_connect(raw, net::SocketAddress::ip("127.0.0.1", port));
        for (int i = 0; i < 100000 && server.active_connections() == 0; ++i) {
            co_await corio::sleep(0s);
        }
        EXPECT_EQ(server.active_connections(), 1u);
        server.close();
        server.close_clients();  // ends the handshake
        co_await corio::wait_for(server.wait_closed(), 5s);
        EXPECT_EQ(made, 0);
        EXPECT_EQ(co_await net::sock_recv(raw, 10), "");  // the server closed it
    }(pki));
}

TEST(Tls, BadFilesGiveSslErrors) {
    auto ctx = net::SslContext::server();
    EXPECT_THROW(ctx->load_cert_chain("/nonexistent.pem"), net::SslError);
    EXPECT_THROW(ctx->load_verify_data("not a certificate"), net::SslError);
    EXPECT_THROW(ctx->set_alpn_protocols({""}), std::invalid_argument);
    EXPECT_THROW(ctx->set_ciphers("NO-SUCH-CIPHER"), net::SslError);
}
