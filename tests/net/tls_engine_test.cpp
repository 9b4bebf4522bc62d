// White-box tests of the sans-I/O TLS engine: a client and a server engine
// wired back to back in memory (no sockets, no loop). Each exchange moves
// every byte one side produced to the other, fed whole, cut at every byte
// position of a full handshake + data + close exchange, or byte by byte.
#include "net/tls_engine.hpp"

#include <gtest/gtest.h>
#include <openssl/ssl.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "support/tls_pki.hpp"

namespace net = corio::net;
using Engine = net::detail::TlsEngine;
using Status = Engine::Status;

namespace {

// One side: its engine and what it decrypted.
struct Side {
    Engine e;
    std::string plain;
    Status last = Status::want_input;

    Side(std::shared_ptr<net::SslContext> ctx, std::string_view host) : e(std::move(ctx), host) {}

    // Goes as far as the fed input allows: the handshake, then reads.
    void advance() {
        if (!e.handshake_done()) {
            last = e.handshake();
            if (last != Status::ok) {
                return;
            }
        }
        char buf[1000];
        for (;;) {
            Engine::Result r = e.read(buf, sizeof buf);
            if (r.status != Status::ok) {
                last = r.status;
                return;
            }
            EXPECT_GT(r.n, 0u);
            plain.append(buf, r.n);
        }
    }
};

// Where the byte stream is cut: `at` counts every byte moved, both ways, in
// the order moved (0: nowhere); `step` > 0 cuts everything into pieces of
// that size.
struct Cuts {
    std::size_t at = 0;
    std::size_t step = 0;
    std::size_t moved = 0;
};

// Moves what `from` produced to `to`, in the pieces `cuts` asks for; `to`
// advances after each piece. Returns the bytes moved.
std::size_t move(Side& from, Side& to, Cuts& cuts) {
    std::string data(from.e.output());
    from.e.consume_output(data.size());
    std::size_t pos = 0;
    while (pos < data.size()) {
        std::size_t n = data.size() - pos;
        if (cuts.step > 0 && n > cuts.step) {
            n = cuts.step;
        }
        if (cuts.at > cuts.moved && cuts.at < cuts.moved + n) {
            n = cuts.at - cuts.moved;
        }
        to.e.feed(std::string_view(data).substr(pos, n));
        to.advance();
        pos += n;
        cuts.moved += n;
    }
    return data.size();
}

// Handshakes until neither side has anything to say. False if one failed.
bool handshake(Side& c, Side& s, Cuts& cuts) {
    c.advance();
    for (int round = 0; round < 10; ++round) {
        std::size_t n = move(c, s, cuts) + move(s, c, cuts);
        if (c.last == Status::failed || s.last == Status::failed) {
            return false;
        }
        if (n == 0) {
            return c.e.handshake_done() && s.e.handshake_done();
        }
    }
    ADD_FAILURE() << "the handshake did not settle";
    return false;
}

// The full exchange the split tests replay: handshake, a request and a
// reply, close_notify each way. Returns the bytes moved.
std::size_t full_exchange(corio_test::TestPki& pki, Cuts cuts) {
    Side c(pki.client, "localhost");
    Side s(pki.server, "");
    EXPECT_TRUE(handshake(c, s, cuts)) << c.e.error() << " / " << s.e.error();
    EXPECT_EQ(c.e.write("GET / HTTP/1.1\r\n\r\n").status, Status::ok);
    move(c, s, cuts);
    EXPECT_EQ(s.plain, "GET / HTTP/1.1\r\n\r\n");
    EXPECT_EQ(s.e.write("HTTP/1.1 200 OK\r\n").status, Status::ok);
    EXPECT_EQ(s.e.write("Content-Length: 0\r\n\r\n").status, Status::ok);
    move(s, c, cuts);
    EXPECT_EQ(c.plain, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    EXPECT_EQ(c.e.shutdown(), Status::ok);
    move(c, s, cuts);
    EXPECT_EQ(s.last, Status::closed);
    EXPECT_FALSE(s.e.ragged_eof());
    EXPECT_EQ(s.e.shutdown(), Status::ok);
    move(s, c, cuts);
    EXPECT_EQ(c.last, Status::closed);
    EXPECT_FALSE(c.e.ragged_eof());
    EXPECT_EQ(c.e.alpn_protocol(), "h2");
    return cuts.moved;
}

// A failed handshake: runs it and returns {client error, server error}.
std::pair<std::string, std::string> failing_handshake(std::shared_ptr<net::SslContext> client,
                                                      std::string_view host,
                                                      std::shared_ptr<net::SslContext> server) {
    Side c(std::move(client), host);
    Side s(std::move(server), "");
    Cuts whole;
    EXPECT_FALSE(handshake(c, s, whole));
    move(c, s, whole);  // the alert, if the client failed
    move(s, c, whole);
    return {c.e.error(), s.e.error()};
}

bool contains(const std::string& text, std::string_view part) {
    return text.find(part) != std::string::npos;
}

}  // namespace

TEST(TlsEngine, HandshakeDataAndCloseNotifyFedWhole) {
    corio_test::TestPki pki;
    pki.server->set_alpn_protocols({"h2", "http/1.1"});
    pki.client->set_alpn_protocols({"h2"});
    EXPECT_GT(full_exchange(pki, Cuts{}), 1000u);
}

TEST(TlsEngine, EverySplitPointOfAFullExchange) {
    corio_test::TestPki pki;
    pki.server->set_alpn_protocols({"h2", "http/1.1"});
    pki.client->set_alpn_protocols({"h2"});
    // The length varies by a few bytes between runs (ECDSA signatures);
    // cuts past the end of a shorter run simply do not happen.
    std::size_t total = full_exchange(pki, Cuts{});
    for (std::size_t at = 1; at < total; ++at) {
        full_exchange(pki, Cuts{at, 0, 0});
        if (::testing::Test::HasFailure()) {
            ADD_FAILURE() << "first failing cut at byte " << at << " of " << total;
            return;
        }
    }
}

TEST(TlsEngine, ByteByByte) {
    corio_test::TestPki pki;
    pki.server->set_alpn_protocols({"h2"});
    pki.client->set_alpn_protocols({"h2"});
    full_exchange(pki, Cuts{0, 1, 0});
}

TEST(TlsEngine, NegotiatedParametersAndPeerCertificate) {
    corio_test::TestPki pki;
    Side c(pki.client, "localhost");
    Side s(pki.server, "");
    Cuts whole;
    EXPECT_EQ(c.e.version(), "");
    ASSERT_TRUE(handshake(c, s, whole));
    EXPECT_EQ(c.e.version(), "TLSv1.3");
    EXPECT_EQ(s.e.version(), "TLSv1.3");
    EXPECT_EQ(c.e.cipher(), s.e.cipher());
    EXPECT_NE(c.e.cipher(), "");
    EXPECT_EQ(c.e.peercert_subject(), "/CN=localhost");
    EXPECT_EQ(s.e.peercert_subject(), "");  // no client certificate asked for
    EXPECT_EQ(s.e.server_name(), "localhost");
    EXPECT_EQ(c.e.alpn_protocol(), "");
    EXPECT_NE(c.e.native_handle(), nullptr);
    EXPECT_EQ(c.e.context(), pki.client);
}

TEST(TlsEngine, WrongHostNameFailsVerificationOnBothSides) {
    corio_test::TestPki pki;
    auto [client_error, server_error] = failing_handshake(pki.client, "other.example", pki.server);
    EXPECT_TRUE(contains(client_error, "certificate verify failed: hostname mismatch"))
        << client_error;
    EXPECT_TRUE(contains(server_error, "alert")) << server_error;  // the client told it why
}

TEST(TlsEngine, UntrustedCaFailsVerification) {
    corio_test::TestPki pki;
    auto stranger = net::SslContext::client();  // the system's CAs only
    auto [client_error, server_error] = failing_handshake(stranger, "localhost", pki.server);
    EXPECT_TRUE(contains(client_error, "unable to get local issuer certificate")) << client_error;
    EXPECT_TRUE(contains(server_error, "unknown ca")) << server_error;
}

TEST(TlsEngine, ExpiredCertificateFailsVerification) {
    corio_test::TestPki pki;
    auto old = net::SslContext::server();
    auto [cert, key] = pki.ca.issue_valid("localhost", {"localhost"}, -2 * 86400, -86400);
    old->load_cert_chain(cert, key);
    auto [client_error, server_error] = failing_handshake(pki.client, "localhost", old);
    EXPECT_TRUE(contains(client_error, "certificate has expired")) << client_error;
}

TEST(TlsEngine, ServerRequiringAClientCertificateRejectsAClientWithout) {
    corio_test::TestPki pki;
    pki.server->set_verify_mode(net::VerifyMode::required);
    pki.server->load_verify_data(pki.ca.ca_pem());
    Side c(pki.client, "localhost");
    Side s(pki.server, "");
    Cuts whole;
    handshake(c, s, whole);  // TLS 1.3: the client is done before the server has judged it
    move(s, c, whole);
    EXPECT_TRUE(contains(s.e.error(), "peer did not return a certificate")) << s.e.error();
    EXPECT_EQ(c.last, Status::failed);
    EXPECT_TRUE(contains(c.e.error(), "alert")) << c.e.error();
}

TEST(TlsEngine, ACheckingClientNeedsAServerHostname) {
    corio_test::TestPki pki;
    EXPECT_THROW(Engine(pki.client, ""), std::invalid_argument);
    EXPECT_THROW(Engine(nullptr, "x"), std::invalid_argument);
    pki.client->set_check_hostname(false);
    Engine fine(pki.client, "");
    EXPECT_FALSE(fine.handshake_done());
}

TEST(TlsEngine, AlpnPicksTheServersPreference) {
    corio_test::TestPki pki;
    pki.server->set_alpn_protocols({"h2", "http/1.1"});
    pki.client->set_alpn_protocols({"http/1.1", "h2"});
    Side c(pki.client, "localhost");
    Side s(pki.server, "");
    Cuts whole;
    ASSERT_TRUE(handshake(c, s, whole));
    EXPECT_EQ(c.e.alpn_protocol(), "h2");
    EXPECT_EQ(s.e.alpn_protocol(), "h2");
}

TEST(TlsEngine, SniSwitchesTheServersCertificate) {
    corio_test::TestPki pki;
    auto api = net::SslContext::server();
    auto [cert, key] = pki.ca.issue("api.example", {"api.example"});
    api->load_cert_chain(cert, key);
    std::vector<std::string> asked;
    pki.server->set_sni_callback([&](std::string_view name) -> std::shared_ptr<net::SslContext> {
        asked.emplace_back(name);
        return name == "api.example" ? api : nullptr;
    });
    {
        Side c(pki.client, "api.example");
        Side s(pki.server, "");
        Cuts whole;
        ASSERT_TRUE(handshake(c, s, whole)) << c.e.error();
        EXPECT_EQ(s.e.server_name(), "api.example");
        EXPECT_EQ(c.e.server_name(), "api.example");
        EXPECT_EQ(c.e.peercert_subject(), "/CN=api.example");
    }
    {
        // An address is verified against the certificate's IP entry but
        // never sent as SNI (RFC 6066): the callback does not run.
        Side c(pki.client, "127.0.0.1");
        Side s(pki.server, "");
        Cuts whole;
        ASSERT_TRUE(handshake(c, s, whole)) << c.e.error();
        EXPECT_EQ(s.e.server_name(), "");
        EXPECT_EQ(c.e.peercert_subject(), "/CN=localhost");
    }
    EXPECT_EQ(asked, std::vector<std::string>{"api.example"});
}

TEST(TlsEngine, CloseNotifyFromTheServerFirst) {
    corio_test::TestPki pki;
    Side c(pki.client, "localhost");
    Side s(pki.server, "");
    Cuts whole;
    ASSERT_TRUE(handshake(c, s, whole));
    EXPECT_EQ(s.e.write("bye").status, Status::ok);
    EXPECT_EQ(s.e.shutdown(), Status::ok);
    EXPECT_TRUE(s.e.shutdown_sent());
    EXPECT_EQ(s.e.write("after").status, Status::closed);
    EXPECT_EQ(s.e.shutdown(), Status::ok);  // once only
    move(s, c, whole);
    EXPECT_EQ(c.plain, "bye");
    EXPECT_EQ(c.last, Status::closed);
    EXPECT_FALSE(c.e.ragged_eof());
    char buf[16];
    EXPECT_EQ(c.e.read(buf, sizeof buf).status, Status::closed);  // and again
    // TLS 1.3 closes each direction alone: the client may still write.
    EXPECT_EQ(c.e.write("late words").status, Status::ok);
    move(c, s, whole);
    EXPECT_EQ(s.plain, "late words");
    EXPECT_EQ(c.e.shutdown(), Status::ok);
    move(c, s, whole);
    EXPECT_EQ(s.last, Status::closed);
}

TEST(TlsEngine, ARaggedEofAtARecordBoundaryEndsTheStream) {
    corio_test::TestPki pki;
    Side c(pki.client, "localhost");
    Side s(pki.server, "");
    Cuts whole;
    ASSERT_TRUE(handshake(c, s, whole));
    c.e.write("last words");
    move(c, s, whole);
    EXPECT_EQ(s.plain, "last words");
    EXPECT_EQ(s.last, Status::want_input);
    s.e.feed_eof();
    s.advance();
    EXPECT_EQ(s.last, Status::closed);
    EXPECT_TRUE(s.e.ragged_eof());
    EXPECT_FALSE(s.e.failed());
}

TEST(TlsEngine, AnEofInTheMiddleOfARecordIsATruncation) {
    corio_test::TestPki pki;
    // Cut inside the 5-byte record header, and inside the body.
    for (std::size_t cut : {std::size_t{3}, std::size_t{500}}) {
        Side c(pki.client, "localhost");
        Side s(pki.server, "");
        Cuts whole;
        ASSERT_TRUE(handshake(c, s, whole));
        c.e.write(std::string(1000, 'x'));
        std::string record(c.e.output());
        c.e.consume_output(record.size());
        s.e.feed(std::string_view(record).substr(0, cut));
        s.advance();
        EXPECT_EQ(s.last, Status::want_input);
        s.e.feed_eof();
        s.advance();
        EXPECT_EQ(s.plain, "");
        EXPECT_EQ(s.last, Status::failed) << "cut at " << cut;
        EXPECT_TRUE(contains(s.e.error(), "in the middle of a record")) << s.e.error();
    }
}

TEST(TlsEngine, AnEofDuringTheHandshakeFailsIt) {
    corio_test::TestPki pki;
    Side c(pki.client, "localhost");
    c.advance();
    EXPECT_EQ(c.last, Status::want_input);
    EXPECT_FALSE(c.e.output().empty());  // the ClientHello
    c.e.feed_eof();
    c.advance();
    EXPECT_EQ(c.last, Status::failed);
    EXPECT_TRUE(contains(c.e.error(), "the peer closed the connection")) << c.e.error();
}

TEST(TlsEngine, GarbageInsteadOfAClientHelloFailsClearly) {
    corio_test::TestPki pki;
    Side s(pki.server, "");
    s.e.feed("GET / HTTP/1.1\r\nHost: example\r\n\r\n");
    s.advance();
    EXPECT_EQ(s.last, Status::failed);
    EXPECT_TRUE(contains(s.e.error(), "http request")) << s.e.error();
    // A dead engine stays dead and says the same.
    char buf[8];
    EXPECT_EQ(s.e.read(buf, sizeof buf).status, Status::failed);
    EXPECT_EQ(s.e.write("x").status, Status::failed);
    EXPECT_EQ(s.e.handshake(), Status::failed);
    EXPECT_EQ(s.e.shutdown(), Status::failed);
    EXPECT_TRUE(contains(s.e.error(), "http request"));
}

TEST(TlsEngine, MalformedHandshakeRecordsFailWithAnAlertForThePeer) {
    corio_test::TestPki pki;
    const std::pair<std::string, std::string_view> cases[] = {
        {std::string("\x16\x03\x01\x00\x08\x01\x00\x00\x04junk", 13), "length mismatch"},
        {std::string("\x15\x03\x01\x00\x02\x02\x28", 7), "unexpected message"},
    };
    for (const auto& [input, reason] : cases) {
        Side s(pki.server, "");
        s.e.feed(input);
        s.advance();
        EXPECT_EQ(s.last, Status::failed);
        EXPECT_TRUE(contains(s.e.error(), reason)) << s.e.error();
        ASSERT_FALSE(s.e.output().empty());
        EXPECT_EQ(s.e.output()[0], '\x15');  // an alert record
    }
}

TEST(TlsEngine, WritingBeforeTheHandshakeWantsInputAndShutdownFails) {
    corio_test::TestPki pki;
    Engine c(pki.client, "localhost");
    EXPECT_EQ(c.write("early").status, Status::want_input);
    EXPECT_FALSE(c.output().empty());  // the write drove the handshake: a ClientHello
    Engine s(pki.server, "");
    EXPECT_EQ(s.shutdown(), Status::failed);
}

TEST(TlsEngine, LargeWritesSpanManyRecordsAndArriveWhole) {
    corio_test::TestPki pki;
    Side c(pki.client, "localhost");
    Side s(pki.server, "");
    Cuts whole;
    ASSERT_TRUE(handshake(c, s, whole));
    std::string big(1 << 20, '\0');
    std::uint32_t x = 12345;
    for (auto& ch : big) {
        x = x * 1103515245 + 12345;
        ch = static_cast<char>(x >> 24);
    }
    EXPECT_EQ(c.e.write(big).status, Status::ok);
    EXPECT_GT(c.e.output().size(), big.size() + 64 * 16);  // >= 64 records of overhead
    // Delivered in uneven pieces that never line up with records.
    Cuts uneven{0, 7919, 0};
    move(c, s, uneven);
    EXPECT_EQ(s.plain.size(), big.size());
    EXPECT_TRUE(s.plain == big);
    EXPECT_EQ(s.e.write(s.plain).status, Status::ok);
    move(s, c, whole);
    EXPECT_TRUE(c.plain == big);
    // take_output: the copying way out gives the same bytes.
    c.e.write("tail");
    std::string copied(c.e.output().size(), '\0');
    EXPECT_EQ(c.e.take_output(copied.data(), copied.size()), copied.size());
    EXPECT_TRUE(c.e.output().empty());
    s.e.feed(copied);
    s.advance();
    EXPECT_EQ(s.plain.substr(big.size()), "tail");
}

namespace {

// Counts the KeyUpdate messages an SSL received.
void count_key_updates(int write_p, int, int content_type, const void* buf, std::size_t len, SSL*,
                       void* arg) {
    auto* bytes = static_cast<const unsigned char*>(buf);
    if (write_p == 0 && content_type == SSL3_RT_HANDSHAKE && len > 0 &&
        bytes[0] == SSL3_MT_KEY_UPDATE) {
        ++*static_cast<int*>(arg);
    }
}

}  // namespace

TEST(TlsEngine, KeyUpdateMidStreamIsTransparent) {
    corio_test::TestPki pki;
    Side c(pki.client, "localhost");
    Side s(pki.server, "");
    Cuts whole;
    ASSERT_TRUE(handshake(c, s, whole));
    int client_got = 0;
    int server_got = 0;
    ::SSL_set_msg_callback(c.e.native_handle(), &count_key_updates);
    ::SSL_set_msg_callback_arg(c.e.native_handle(), &client_got);
    ::SSL_set_msg_callback(s.e.native_handle(), &count_key_updates);
    ::SSL_set_msg_callback_arg(s.e.native_handle(), &server_got);

    c.e.write("before ");
    ASSERT_EQ(::SSL_key_update(c.e.native_handle(), SSL_KEY_UPDATE_REQUESTED), 1);
    c.e.write("after");  // preceded by the KeyUpdate
    Cuts bytewise{0, 1, 0};
    move(c, s, bytewise);
    EXPECT_EQ(s.plain, "before after");
    EXPECT_EQ(server_got, 1);
    // The server answers with its own KeyUpdate before its next data.
    s.e.write("reply");
    move(s, c, bytewise);
    EXPECT_EQ(c.plain, "reply");
    EXPECT_EQ(client_got, 1);
    c.e.write("still fine");
    move(c, s, whole);
    EXPECT_EQ(s.plain, "before afterstill fine");
}

TEST(TlsEngine, SessionTicketsReachTheClientWithoutData) {
    corio_test::TestPki pki;
    Side c(pki.client, "localhost");
    Side s(pki.server, "");
    Cuts whole;
    ASSERT_TRUE(handshake(c, s, whole));
    // TLS 1.3 tickets came after the server's handshake ended and were read
    // by the client's advance() without producing plaintext.
    EXPECT_EQ(c.plain, "");
    EXPECT_EQ(c.last, Status::want_input);
    SSL_SESSION* session = ::SSL_get1_session(c.e.native_handle());
    ASSERT_NE(session, nullptr);
    EXPECT_EQ(::SSL_SESSION_is_resumable(session), 1);
    ::SSL_SESSION_free(session);
}

TEST(TlsEngine, OutputConsumedInPiecesKeepsItsOrder) {
    corio_test::TestPki pki;
    Side c(pki.client, "localhost");
    Side s(pki.server, "");
    Cuts whole;
    ASSERT_TRUE(handshake(c, s, whole));
    c.e.write(std::string(1 << 20, 'm'));
    std::string all(c.e.output());
    EXPECT_GT(all.size(), std::size_t{1} << 20);
    // Sent in pieces, as a socket takes them, with more output added between.
    std::size_t first = all.size() / 3;
    c.e.consume_output(first);
    EXPECT_EQ(c.e.output(), std::string_view(all).substr(first));
    c.e.write("more");
    std::string rest(c.e.output());
    c.e.consume_output(rest.size());
    EXPECT_TRUE(c.e.output().empty());
    EXPECT_EQ(rest.substr(0, all.size() - first), std::string_view(all).substr(first));
    s.e.feed(all.substr(0, first));
    s.e.feed(rest);
    s.advance();
    EXPECT_EQ(s.plain.size(), (std::size_t{1} << 20) + 4);
    EXPECT_EQ(s.plain.substr(s.plain.size() - 5), "mmore");
    EXPECT_EQ(s.e.input_pending(), 0u);
}
