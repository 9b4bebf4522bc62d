// The TLS layer (start_tls, asyncio's sslproto) over real loopback plain
// transports, against itself and against Python's ssl module; over memory
// transports on virtual time for its timeouts; and against a hand-driven
// TlsEngine on a raw socket for the faults a well-behaved peer never makes.
#include "net/tls_transport.hpp"

#include <gtest/gtest.h>
#include <sys/socket.h>

#include <deque>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include "corio/corio.hpp"
#include "corio/net/subprocess.hpp"
#include "corio/net/transports.hpp"
#include "net/net_fixture.hpp"
#include "net/tls_engine.hpp"
#include "support/tls_pki.hpp"

using namespace std::chrono_literals;
using corio::Task;
namespace net = corio::net;
using corio_test::net_run;
using corio_test::Reports;
using corio_test::TestPki;

namespace {

// The bytes both sides of an echo agree on (tls_peer.py's pattern()).
std::string pattern(std::size_t n) {
    std::string s(n, '\0');
    for (std::size_t i = 0; i < n; ++i) {
        s[i] = static_cast<char>((i % 251) * 7 % 251);
    }
    return s;
}

// What a protocol saw. Owned by the test: it outlives the protocol, which
// the transports own and destroy.
struct Record {
    int made = 0;
    int eofs = 0;
    int lost = 0;
    int paused = 0;
    int resumed = 0;
    std::string got;
    std::size_t notify_at = 1;  // data_event fires once got.size() reaches it
    std::exception_ptr lost_with;
    std::size_t buffered_at_pause = 0;
    std::size_t buffered_at_resume = 0;
    net::Transport* transport = nullptr;  // from the last connection_made
    std::vector<std::string> events;
    corio::Event data_event;
    corio::Event lost_event;
    corio::Event paused_event;
    corio::Event resumed_event;
};

struct Probe : net::Protocol {
    Record* r;
    bool echo = false;
    explicit Probe(Record* rec, bool echoes = false) : r(rec), echo(echoes) {}

    void connection_made(net::Transport& t) override {
        r->transport = &t;
        ++r->made;
        r->events.push_back("made");
    }
    void data_received(std::string_view d) override {
        r->got += d;
        if (echo) {
            r->transport->write(d);
        }
        if (r->got.size() >= r->notify_at) {
            r->data_event.set();
        }
    }
    bool eof_received() override {
        ++r->eofs;
        r->events.push_back("eof");
        return false;
    }
    void connection_lost(std::exception_ptr e) override {
        ++r->lost;
        r->lost_with = e;
        r->events.push_back("lost");
        r->lost_event.set();
    }
    void pause_writing() override {
        ++r->paused;
        r->buffered_at_pause = r->transport->get_write_buffer_size();
        r->paused_event.set();
    }
    void resume_writing() override {
        ++r->resumed;
        r->buffered_at_resume = r->transport->get_write_buffer_size();
        r->resumed_event.set();
    }
};

std::string what(const std::exception_ptr& e) {
    return e ? corio::describe_exception(e) : std::string("null");
}

template <class E>
bool holds(const std::exception_ptr& e) {
    try {
        if (e) {
            std::rethrow_exception(e);
        }
    } catch (const E&) {
        return true;
    } catch (...) {
    }
    return false;
}

bool contains(const std::string& text, std::string_view part) {
    return text.find(part) != std::string::npos;
}

// -- A server whose connections switch to TLS at once ---------------------------

struct TlsServer {
    explicit TlsServer(std::shared_ptr<net::SslContext> c) : ctx(std::move(c)) {}
    std::shared_ptr<net::SslContext> ctx;
    Record rec;  // of the (one) connection
    bool echo = true;
    std::exception_ptr upgrade_error;
    corio::Event upgraded;  // start_tls returned or threw
    std::vector<corio::TaskHandle<void>> tasks;
};

Task<void> upgrade(std::shared_ptr<net::Transport> raw, TlsServer* st) {
    try {
        co_await net::start_tls(std::move(raw), st->ctx, {.call_connection_made = true});
    } catch (const std::exception&) {
        st->upgrade_error = std::current_exception();
    }
    st->upgraded.set();
}

struct UpgradeOnConnect : Probe {
    TlsServer* st;
    explicit UpgradeOnConnect(TlsServer* s) : Probe(&s->rec, s->echo), st(s) {}
    void connection_made(net::Transport& t) override {
        Probe::connection_made(t);
        if (r->made == 1) {
            // Nothing may reach this plain protocol before the upgrade
            // (start_tls resumes reading).
            t.pause_reading();
            st->tasks.push_back(corio::create_task(upgrade(t.shared_from_this(), st)));
        }
    }
};

Task<net::Server> serve_tls(TlsServer& st) {
    co_return co_await net::create_server([&st] { return std::make_unique<UpgradeOnConnect>(&st); },
                                          "127.0.0.1", 0);
}

Task<void> stop(net::Server& server, TlsServer& st) {
    server.close();
    co_await server.wait_closed();
    for (auto& t : st.tasks) {
        co_await t;
    }
}

// A plain connection to `port` whose protocol records into `rec`.
Task<std::shared_ptr<net::Transport>> connect_plain(std::uint16_t port, Record& rec) {
    Record* r = &rec;
    co_return co_await net::create_connection([r] { return std::make_unique<Probe>(r); },
                                              "127.0.0.1", port);
}

}  // namespace

// -- Against itself, over loopback ------------------------------------------------

TEST(StartTls, UpgradesBothEndsOfAPlainConnection) {
    TestPki pki;
    pki.server->set_alpn_protocols({"h2", "http/1.1"});
    pki.client->set_alpn_protocols({"h2"});
    net_run([](TestPki& p) -> Task<void> {
        TlsServer st{p.server};
        net::Server server = co_await serve_tls(st);
        auto port = server.sockets().at(0).port();
        Record rec;
        auto raw = co_await connect_plain(port, rec);
        auto tls = co_await net::start_tls(raw, p.client, {.server_hostname = "localhost"});
        co_await st.upgraded.wait();
        EXPECT_EQ(st.upgrade_error, nullptr) << what(st.upgrade_error);

        // The raw transport now feeds the TLS layer, which owns the protocol.
        EXPECT_NE(&raw->get_protocol(), &tls->get_protocol());
        EXPECT_EQ(rec.made, 1);     // asyncio's start_tls makes no second call
        EXPECT_EQ(st.rec.made, 2);  // call_connection_made: the TLS transport too
        EXPECT_EQ(std::any_cast<std::string>(tls->get_extra_info("peercert_subject")),
                  "/CN=localhost");
        EXPECT_EQ(std::any_cast<std::string>(tls->get_extra_info("version")), "TLSv1.3");
        EXPECT_EQ(std::any_cast<std::string>(tls->get_extra_info("alpn_protocol")), "h2");
        EXPECT_EQ(std::any_cast<std::string>(tls->get_extra_info("server_hostname")), "localhost");
        EXPECT_NE(std::any_cast<std::string>(tls->get_extra_info("cipher")), "");
        EXPECT_NE(std::any_cast<SSL*>(tls->get_extra_info("ssl_object")), nullptr);
        EXPECT_EQ(
            std::any_cast<std::shared_ptr<net::SslContext>>(tls->get_extra_info("sslcontext")),
            p.client);
        EXPECT_GE(std::any_cast<int>(tls->get_extra_info("socket")), 0);  // the raw transport's
        EXPECT_EQ(tls->peername().port(), port);
        EXPECT_EQ(tls->sockname(), raw->sockname());
        EXPECT_FALSE(tls->can_write_eof());
        EXPECT_THROW(tls->write_eof(), corio::RuntimeError);
        net::Transport& server_tls = *st.rec.transport;
        EXPECT_EQ(std::any_cast<std::string>(server_tls.get_extra_info("server_hostname")),
                  "localhost");
        EXPECT_EQ(std::any_cast<std::string>(server_tls.get_extra_info("alpn_protocol")), "h2");

        rec.notify_at = 11;
        tls->write("hello ");
        tls->writelines(std::vector<std::string>{"wor", "ld"});
        co_await corio::wait_for(rec.data_event.wait(), 10s);
        EXPECT_EQ(rec.got, "hello world");
        tls->close();
        EXPECT_TRUE(tls->is_closing());
        tls->write("dropped after close");
        co_await corio::wait_for(rec.lost_event.wait(), 10s);
        co_await corio::wait_for(st.rec.lost_event.wait(), 10s);
        EXPECT_EQ(what(rec.lost_with), "null");
        EXPECT_EQ(what(st.rec.lost_with), "null");
        // The server saw the client's close_notify as the end of the stream.
        EXPECT_EQ(st.rec.events, (std::vector<std::string>{"made", "made", "eof", "lost"}));
        EXPECT_EQ(st.rec.got, "hello world");
        EXPECT_TRUE(raw->is_closing());
        co_await stop(server, st);
        EXPECT_EQ(rec.lost, 1);
        EXPECT_EQ(st.rec.lost, 1);
    }(pki));
}

TEST(StartTls, EchoesOneMebibyteBothWays) {
    TestPki pki;
    net_run([](TestPki& p) -> Task<void> {
        TlsServer st{p.server};
        net::Server server = co_await serve_tls(st);
        Record rec;
        auto raw = co_await connect_plain(server.sockets().at(0).port(), rec);
        auto tls = co_await net::start_tls(raw, p.client, {.server_hostname = "localhost"});
        const std::string data = pattern(1 << 20);
        rec.notify_at = data.size();
        tls->write(data);  // one write: 64 records and more
        co_await corio::wait_for(rec.data_event.wait(), 30s);
        EXPECT_EQ(rec.got.size(), data.size());
        EXPECT_TRUE(rec.got == data);
        EXPECT_EQ(st.rec.got.size(), data.size());
        tls->close();
        co_await corio::wait_for(rec.lost_event.wait(), 10s);
        co_await stop(server, st);
    }(pki));
}

TEST(StartTls, MutualTlsShowsEachSideThePeersCertificate) {
    TestPki pki;
    pki.server->set_verify_mode(net::VerifyMode::required);
    pki.server->load_verify_data(pki.ca.ca_pem());
    auto [cert, key] = pki.ca.issue("client.example", {"client.example"});
    pki.client->load_cert_chain(cert, key);
    net_run([](TestPki& p) -> Task<void> {
        TlsServer st{p.server};
        net::Server server = co_await serve_tls(st);
        Record rec;
        auto raw = co_await connect_plain(server.sockets().at(0).port(), rec);
        auto tls = co_await net::start_tls(raw, p.client, {.server_hostname = "localhost"});
        co_await st.upgraded.wait();
        EXPECT_EQ(std::any_cast<std::string>(tls->get_extra_info("peercert_subject")),
                  "/CN=localhost");
        EXPECT_EQ(std::any_cast<std::string>(st.rec.transport->get_extra_info("peercert_subject")),
                  "/CN=client.example");
        tls->close();
        co_await corio::wait_for(rec.lost_event.wait(), 10s);
        co_await stop(server, st);
    }(pki));
}

TEST(StartTls, AVerificationFailureFailsStartTlsAndEndsTheProtocolOnce) {
    TestPki pki;
    net_run([](TestPki& p) -> Task<void> {
        TlsServer st{p.server};
        net::Server server = co_await serve_tls(st);
        Record rec;
        auto raw = co_await connect_plain(server.sockets().at(0).port(), rec);
        std::string error;
        try {
            co_await net::start_tls(raw, p.client, {.server_hostname = "other.example"});
            ADD_FAILURE() << "verified a certificate for another name";
        } catch (const net::SslError& e) {
            error = e.what();
        }
        EXPECT_TRUE(contains(error, "certificate verify failed: hostname mismatch")) << error;
        co_await corio::wait_for(rec.lost_event.wait(), 10s);
        EXPECT_TRUE(holds<net::SslError>(rec.lost_with)) << what(rec.lost_with);
        EXPECT_TRUE(raw->is_closing());
        // The server heard the client's alert.
        co_await corio::wait_for(st.upgraded.wait(), 10s);
        EXPECT_TRUE(holds<net::SslError>(st.upgrade_error)) << what(st.upgrade_error);
        EXPECT_TRUE(contains(what(st.upgrade_error), "alert")) << what(st.upgrade_error);
        co_await stop(server, st);
        EXPECT_EQ(rec.lost, 1);
    }(pki));
}

// -- Flow control -------------------------------------------------------------------

// A paused TLS protocol pauses the raw transport under it, so the sender
// backs up: its raw transport stops taking ciphertext and the TLS layer on
// that side pauses its protocol in turn. Resuming delivers every byte.
TEST(StartTls, APausedReaderStopsTheRawTransportAndTheWriterBacksUp) {
    TestPki pki;
    net_run([](TestPki& p) -> Task<void> {
        TlsServer st{p.server};
        st.echo = false;
        net::Server server = co_await serve_tls(st);
        Record rec;
        auto raw = co_await connect_plain(server.sockets().at(0).port(), rec);
        auto tls = co_await net::start_tls(raw, p.client, {.server_hostname = "localhost"});
        co_await st.upgraded.wait();
        net::Transport& sender = *st.rec.transport;

        tls->pause_reading();
        EXPECT_FALSE(tls->is_reading());
        EXPECT_FALSE(raw->is_reading());
        const std::string chunk(256 * 1024, 'p');
        std::size_t sent = 0;
        while (st.rec.paused == 0 && sent < (std::size_t{256} << 20)) {
            sender.write(chunk);
            sent += chunk.size();
            co_await corio::sleep(0s);  // the reader's loop turn: it must not read
        }
        EXPECT_EQ(st.rec.paused, 1);
        EXPECT_GT(st.rec.buffered_at_pause, std::size_t{512} << 10);  // asyncio's SSL mark
        EXPECT_EQ(rec.got.size(), 0u);

        rec.notify_at = sent;
        tls->resume_reading();
        EXPECT_TRUE(tls->is_reading());
        EXPECT_TRUE(raw->is_reading());
        co_await corio::wait_for(rec.data_event.wait(), 60s);
        EXPECT_EQ(rec.got.size(), sent);
        co_await corio::wait_for(st.rec.resumed_event.wait(), 10s);
        EXPECT_EQ(st.rec.resumed, 1);
        EXPECT_LE(st.rec.buffered_at_resume, std::size_t{128} << 10);
        tls->close();
        co_await corio::wait_for(rec.lost_event.wait(), 10s);
        co_await stop(server, st);
    }(pki));
}

// -- Ending the handshake early --------------------------------------------------

namespace {

// A plain server that never answers; `rec` gets what it receives.
Task<net::Server> serve_silently(Record& rec) {
    Record* r = &rec;
    co_return co_await net::create_server([r] { return std::make_unique<Probe>(r); }, "127.0.0.1",
                                          0);
}

}  // namespace

TEST(StartTls, CancellingTheHandshakeAbortsTheConnection) {
    TestPki pki;
    net_run([](TestPki& p) -> Task<void> {
        Record srec;
        net::Server server = co_await serve_silently(srec);
        Record rec;
        auto raw = co_await connect_plain(server.sockets().at(0).port(), rec);
        auto handshake =
            corio::create_task(net::start_tls(raw, p.client, {.server_hostname = "localhost"}));
        co_await corio::wait_for(srec.data_event.wait(), 10s);  // the ClientHello arrived
        EXPECT_FALSE(handshake.done());
        handshake.cancel();
        EXPECT_THROW(co_await handshake, corio::CancelledError);
        EXPECT_TRUE(raw->is_closing());
        co_await corio::wait_for(rec.lost_event.wait(), 10s);
        co_await corio::wait_for(srec.lost_event.wait(), 10s);  // the server saw it go
        EXPECT_EQ(rec.lost, 1);
        server.close();
        co_await server.wait_closed();
    }(pki));
}

TEST(StartTls, AbortingTheRawTransportDuringTheHandshakeFailsIt) {
    TestPki pki;
    net_run([](TestPki& p) -> Task<void> {
        Record srec;
        net::Server server = co_await serve_silently(srec);
        Record rec;
        auto raw = co_await connect_plain(server.sockets().at(0).port(), rec);
        auto handshake =
            corio::create_task(net::start_tls(raw, p.client, {.server_hostname = "localhost"}));
        co_await corio::wait_for(srec.data_event.wait(), 10s);
        raw->abort();
        int err = 0;
        try {
            co_await handshake;
        } catch (const std::system_error& e) {
            err = e.code().value();
        }
        EXPECT_EQ(err, ECONNABORTED);
        co_await corio::wait_for(srec.lost_event.wait(), 10s);
        EXPECT_EQ(rec.lost, 1);
        server.close();
        co_await server.wait_closed();
    }(pki));
}

namespace {

// Sends `garbage` to a TLS server instead of a ClientHello; returns what the
// server answered before it closed, and its error.
Task<std::pair<std::string, std::exception_ptr>> send_garbage(TestPki& p, std::string garbage) {
    TlsServer st{p.server};
    net::Server server = co_await serve_tls(st);
    net::Socket sock = net::Socket::create(AF_INET, SOCK_STREAM);
    co_await net::sock_connect(sock, server.sockets().at(0));
    co_await net::sock_sendall(sock, garbage);
    co_await corio::wait_for(st.upgraded.wait(), 10s);
    co_await corio::wait_for(st.rec.lost_event.wait(), 10s);
    EXPECT_TRUE(holds<net::SslError>(st.rec.lost_with)) << what(st.rec.lost_with);
    EXPECT_EQ(what(st.rec.lost_with), what(st.upgrade_error));
    EXPECT_EQ(st.rec.lost, 1);
    std::string reply;
    for (;;) {  // until the server closes
        std::string more = co_await corio::wait_for(net::sock_recv(sock, 4096), 10s);
        if (more.empty()) {
            break;
        }
        reply += more;
    }
    co_await stop(server, st);
    co_return std::make_pair(reply, st.upgrade_error);
}

}  // namespace

TEST(StartTls, GarbageInsteadOfAClientHelloIsAClearSslError) {
    TestPki pki;
    // OpenSSL recognises a plain HTTP request and closes without an alert.
    auto [reply, error] = net_run(send_garbage(pki, "GET / HTTP/1.1\r\nHost: example\r\n\r\n"));
    EXPECT_TRUE(holds<net::SslError>(error));
    EXPECT_TRUE(contains(what(error), "http request")) << what(error);
    EXPECT_EQ(reply, "");
    // A ClientHello of four junk bytes: the server sends an alert (record
    // type 21) before it closes.
    const std::string junk("\x16\x03\x01\x00\x08\x01\x00\x00\x04junk", 13);
    std::tie(reply, error) = net_run(send_garbage(pki, junk));
    EXPECT_TRUE(holds<net::SslError>(error)) << what(error);
    EXPECT_TRUE(contains(what(error), "length mismatch")) << what(error);
    ASSERT_FALSE(reply.empty());
    EXPECT_EQ(reply[0], '\x15');
}

TEST(StartTls, GarbageInsteadOfAServerHelloIsAClearSslError) {
    TestPki pki;
    net_run([](TestPki& p) -> Task<void> {
        struct Rubbish : net::Protocol {
            net::Transport* t = nullptr;
            void connection_made(net::Transport& tr) override { t = &tr; }
            void data_received(std::string_view) override { t->write("220 ESMTP ready\r\n"); }
        };
        net::Server server =
            co_await net::create_server([] { return std::make_unique<Rubbish>(); }, "127.0.0.1", 0);
        Record rec;
        auto raw = co_await connect_plain(server.sockets().at(0).port(), rec);
        std::string error;
        try {
            co_await net::start_tls(raw, p.client, {.server_hostname = "localhost"});
        } catch (const net::SslError& e) {
            error = e.what();
        }
        EXPECT_TRUE(contains(error, "TLS handshake: error:")) << error;
        co_await corio::wait_for(rec.lost_event.wait(), 10s);
        EXPECT_TRUE(holds<net::SslError>(rec.lost_with));
        server.close();
        server.close_clients();
        co_await server.wait_closed();
    }(pki));
}

// -- Faults from a peer driven by hand (a TlsEngine on a raw socket) ---------------

namespace {

using Engine = net::detail::TlsEngine;

// Runs `engine`'s handshake over `sock`.
Task<void> handshake_by_hand(net::Socket& sock, Engine& engine) {
    for (;;) {
        Engine::Status st = engine.handshake();
        std::string out(engine.output());
        engine.consume_output(out.size());
        if (!out.empty()) {
            co_await net::sock_sendall(sock, out);
        }
        if (st == Engine::Status::ok) {
            co_return;
        }
        if (st == Engine::Status::failed) {
            throw net::SslError(engine.error());
        }
        std::string in = co_await net::sock_recv(sock, 65536);
        if (in.empty()) {
            engine.feed_eof();
        } else {
            engine.feed(in);
        }
    }
}

}  // namespace

TEST(StartTls, APeerVanishingMidRecordIsATruncation) {
    TestPki pki;
    net_run([](TestPki& p) -> Task<void> {
        TlsServer st{p.server};
        st.echo = false;
        net::Server server = co_await serve_tls(st);
        net::Socket sock = net::Socket::create(AF_INET, SOCK_STREAM);
        co_await net::sock_connect(sock, server.sockets().at(0));
        Engine client(p.client, "localhost");
        co_await handshake_by_hand(sock, client);
        co_await corio::wait_for(st.upgraded.wait(), 10s);
        client.write(std::string(1000, 'v'));
        std::string record(client.output());
        co_await net::sock_sendall(sock, std::string_view(record).substr(0, record.size() / 2));
        ::shutdown(sock.fd(), SHUT_WR);  // FIN, not RST: the server reads an EOF
        co_await corio::wait_for(st.rec.lost_event.wait(), 10s);
        EXPECT_TRUE(holds<net::SslError>(st.rec.lost_with)) << what(st.rec.lost_with);
        EXPECT_TRUE(contains(what(st.rec.lost_with), "in the middle of a record"));
        EXPECT_EQ(st.rec.got, "");
        EXPECT_EQ(st.rec.lost, 1);
        co_await stop(server, st);
    }(pki));
}

TEST(StartTls, AResetConnectionEndsWithTheTransportsError) {
    TestPki pki;
    net_run([](TestPki& p) -> Task<void> {
        TlsServer st{p.server};
        st.echo = false;
        net::Server server = co_await serve_tls(st);
        net::Socket sock = net::Socket::create(AF_INET, SOCK_STREAM);
        co_await net::sock_connect(sock, server.sockets().at(0));
        Engine client(p.client, "localhost");
        co_await handshake_by_hand(sock, client);
        co_await corio::wait_for(st.upgraded.wait(), 10s);
        linger hard{1, 0};
        ::setsockopt(sock.fd(), SOL_SOCKET, SO_LINGER, &hard, sizeof hard);
        sock.close();  // RST
        co_await corio::wait_for(st.rec.lost_event.wait(), 10s);
        int err = 0;
        try {
            std::rethrow_exception(st.rec.lost_with);
        } catch (const std::system_error& e) {
            err = e.code().value();
        } catch (...) {
        }
        EXPECT_EQ(err, ECONNRESET) << what(st.rec.lost_with);
        co_await stop(server, st);
    }(pki));
}

// -- Against Python's ssl module ----------------------------------------------------

namespace {

// tls_peer.py with `args`; stdout piped.
Task<net::Process> python_peer(std::vector<std::string> args) {
    args.insert(args.begin(), CORIO_TLS_PEER_PY);
    co_return co_await net::create_subprocess_exec("/usr/bin/python3", std::move(args),
                                                   net::SubprocessOptions{.stdout_ = net::PIPE});
}

// Connects to a Python server and echoes 1 MiB through it. Returns the
// Python server's closing line.
Task<std::string> echo_through_python_server(TestPki& p, std::vector<std::string> extra) {
    std::vector<std::string> args{"server", p.certfile, p.keyfile};
    args.insert(args.end(), extra.begin(), extra.end());
    net::Process peer = co_await python_peer(std::move(args));
    std::string line = co_await corio::wait_for(peer.stdout_->readline(), 30s);
    EXPECT_EQ(line.rfind("port ", 0), 0u) << line;
    auto port = static_cast<std::uint16_t>(std::stoi(line.substr(5)));
    Record rec;
    auto raw = co_await connect_plain(port, rec);
    auto tls = co_await net::start_tls(raw, p.client, {.server_hostname = "localhost"});
    const std::string data = pattern(1 << 20);
    rec.notify_at = data.size();
    tls->write(data);
    co_await corio::wait_for(rec.data_event.wait(), 60s);
    EXPECT_TRUE(rec.got == data);
    tls->close();  // Python answers our close_notify with its own
    co_await corio::wait_for(rec.lost_event.wait(), 30s);
    EXPECT_EQ(what(rec.lost_with), "null");
    std::string last = co_await corio::wait_for(peer.stdout_->read(), 30s);
    EXPECT_EQ(co_await peer.wait(), 0);
    co_return last;
}

}  // namespace

TEST(StartTls, AgainstPythonsSslServer) {
    TestPki pki;
    pki.client->set_alpn_protocols({"h2", "http/1.1"});
    std::string last = net_run(echo_through_python_server(pki, {"--alpn", "http/1.1"}));
    EXPECT_EQ(last, "echoed 1048576 sni=localhost alpn=http/1.1 version=TLSv1.3\n");
}

TEST(StartTls, AgainstPythonsSslServerOnTls12) {
    TestPki pki;
    std::string last = net_run(echo_through_python_server(pki, {"--tls12"}));
    EXPECT_EQ(last, "echoed 1048576 sni=localhost alpn=None version=TLSv1.2\n");
}

TEST(StartTls, AsTheServerOfPythonsSslClient) {
    TestPki pki;
    pki.server->set_alpn_protocols({"h2"});
    std::string cafile = pki.ca.ca_file();
    net_run([](TestPki& p, std::string ca) -> Task<void> {
        TlsServer st{p.server};
        st.rec.notify_at = 1 << 20;
        net::Server server = co_await serve_tls(st);
        auto port = std::to_string(server.sockets().at(0).port());
        net::Process peer = co_await net::create_subprocess_exec(
            "/usr/bin/python3", CORIO_TLS_PEER_PY, "client", port, ca, "localhost", "1048576",
            "--alpn", "h2", net::SubprocessOptions{.stdout_ = net::PIPE});
        std::string out = co_await corio::wait_for(peer.stdout_->read(), 60s);
        EXPECT_EQ(out, "ok 1048576 alpn=h2 version=TLSv1.3\n");
        EXPECT_EQ(co_await peer.wait(), 0);
        co_await corio::wait_for(st.rec.lost_event.wait(), 10s);
        EXPECT_TRUE(st.rec.got == pattern(1 << 20));
        EXPECT_EQ(st.rec.events, (std::vector<std::string>{"made", "made", "eof", "lost"}));
        EXPECT_EQ(what(st.rec.lost_with), "null");
        co_await stop(server, st);
    }(pki, cafile));
}

// -- Over memory transports, on virtual time ---------------------------------------

namespace {

// Two transports joined in memory: what one writes, the other receives on
// a later loop iteration. close() delivers an EOF after the data; abort()
// resets the peer (ECONNRESET).
class MemTransport final : public net::Transport {
public:
    static std::pair<std::shared_ptr<MemTransport>, std::shared_ptr<MemTransport>> pair(
        std::unique_ptr<net::Protocol> a, std::unique_ptr<net::Protocol> b) {
        auto x = std::make_shared<MemTransport>(std::move(a));
        auto y = std::make_shared<MemTransport>(std::move(b));
        x->peer_ = y;
        y->peer_ = x;
        x->proto_->connection_made(*x);
        y->proto_->connection_made(*y);
        return {x, y};
    }
    explicit MemTransport(std::unique_ptr<net::Protocol> p) : proto_(std::move(p)) {}

    bool switchable = true;  // false: set_protocol as a transport that cannot
    std::size_t written = 0;

    void write(std::string_view d) override {
        if (closing_ || d.empty()) {
            return;
        }
        written += d.size();
        if (auto p = peer_.lock()) {
            p->arrive(std::string(d));
        }
    }
    void write_eof() override { throw corio::RuntimeError("no half-close here"); }
    bool can_write_eof() const noexcept override { return false; }
    void close() override {
        if (closing_) {
            return;
        }
        closing_ = true;
        if (auto p = peer_.lock()) {
            p->eof_in_ = true;
            p->schedule();
        }
        post_lost(nullptr);
    }
    void abort() override {
        if (closing_) {
            return;
        }
        closing_ = true;
        if (auto p = peer_.lock()) {
            p->closing_ = true;
            p->post_lost(std::make_exception_ptr(
                std::system_error(ECONNRESET, std::generic_category(), "memory transport")));
        }
        post_lost(nullptr);
    }
    bool is_closing() const noexcept override { return closing_; }
    void pause_reading() override { reading_ = false; }
    void resume_reading() override {
        if (!reading_) {
            reading_ = true;
            schedule();
        }
    }
    bool is_reading() const noexcept override { return reading_ && !closing_; }
    void set_write_buffer_limits(std::optional<std::size_t>, std::optional<std::size_t>) override {}
    std::size_t get_write_buffer_size() const noexcept override { return 0; }
    net::SocketAddress peername() const override { return {}; }
    net::SocketAddress sockname() const override { return {}; }
    std::any get_extra_info(std::string_view name) const override {
        return name == "memory" ? std::any(true) : std::any();
    }
    net::Protocol& get_protocol() noexcept override { return *proto_; }
    std::unique_ptr<net::Protocol> set_protocol(std::unique_ptr<net::Protocol> p) override {
        if (!switchable) {
            return Transport::set_protocol(std::move(p));
        }
        std::swap(proto_, p);
        return p;
    }

private:
    std::shared_ptr<MemTransport> self() {
        return std::static_pointer_cast<MemTransport>(shared_from_this());
    }
    void arrive(std::string s) {
        inbox_.push_back(std::move(s));
        schedule();
    }
    void schedule() {
        if (scheduled_ || lost_posted_) {
            return;
        }
        scheduled_ = true;
        corio::get_running_loop().call_soon([t = self()] {
            t->scheduled_ = false;
            t->deliver();
        });
    }
    void deliver() {
        while (reading_ && !closing_ && !inbox_.empty()) {
            std::string s = std::move(inbox_.front());
            inbox_.pop_front();
            proto_->data_received(s);
        }
        if (reading_ && !closing_ && inbox_.empty() && eof_in_ && !eof_done_) {
            eof_done_ = true;
            if (!proto_->eof_received()) {
                close();
            }
        }
    }
    void post_lost(std::exception_ptr e) {
        if (lost_posted_) {
            return;
        }
        lost_posted_ = true;
        corio::get_running_loop().call_soon([t = self(), e] { t->proto_->connection_lost(e); });
    }

    std::unique_ptr<net::Protocol> proto_;
    std::weak_ptr<MemTransport> peer_;
    std::deque<std::string> inbox_;
    bool reading_ = true;
    bool closing_ = false;
    bool eof_in_ = false;
    bool eof_done_ = false;
    bool scheduled_ = false;
    bool lost_posted_ = false;
};

Task<std::shared_ptr<net::Transport>> accept_tls(std::shared_ptr<net::Transport> raw,
                                                 std::shared_ptr<net::SslContext> ctx) {
    co_return co_await net::start_tls(std::move(raw), std::move(ctx),
                                      {.call_connection_made = true});
}

// TLS on both ends of a memory pair: {client TLS, server TLS}.
struct MemTls {
    std::shared_ptr<MemTransport> client_raw;
    std::shared_ptr<MemTransport> server_raw;
    std::shared_ptr<net::Transport> client;
    std::shared_ptr<net::Transport> server;
};

Task<MemTls> mem_tls(TestPki& p, Record& crec, Record& srec) {
    MemTls m;
    std::tie(m.client_raw, m.server_raw) =
        MemTransport::pair(std::make_unique<Probe>(&crec), std::make_unique<Probe>(&srec));
    auto accepting = corio::create_task(accept_tls(m.server_raw, p.server));
    m.client = co_await net::start_tls(m.client_raw, p.client, {.server_hostname = "localhost"});
    m.server = co_await accepting;
    co_return m;
}

}  // namespace

TEST(StartTls, TheHandshakeTimesOutOnVirtualTime) {
    TestPki pki;
    corio_test::vrun([](TestPki& p) -> Task<void> {
        Record crec;
        Record srec;  // never answers
        auto [a, b] =
            MemTransport::pair(std::make_unique<Probe>(&crec), std::make_unique<Probe>(&srec));
        auto start = corio::get_running_loop().time();
        std::string error;
        try {
            co_await net::start_tls(a, p.client,
                                    {.server_hostname = "localhost", .ssl_handshake_timeout = 5s});
        } catch (const corio::TimeoutError& e) {
            error = e.what();
        }
        EXPECT_EQ(corio_test::ms_since(start), 5000);
        EXPECT_EQ(error, "TLS handshake is taking longer than 5 s: aborting the connection");
        EXPECT_TRUE(a->is_closing());
        co_await crec.lost_event.wait();
        EXPECT_TRUE(holds<corio::TimeoutError>(crec.lost_with));
        co_await srec.lost_event.wait();  // the peer was reset
        EXPECT_FALSE(srec.got.empty());   // it did get a ClientHello
    }(pki));
}

TEST(StartTls, CloseWaitsForThePeersCloseNotifyThenTimesOut) {
    TestPki pki;
    corio_test::vrun([](TestPki& p) -> Task<void> {
        Record crec;
        Record srec;
        MemTls m = co_await mem_tls(p, crec, srec);
        m.server->pause_reading();  // the client's close_notify is never read
        EXPECT_FALSE(m.server_raw->is_reading());
        auto start = corio::get_running_loop().time();
        m.client->close();
        co_await crec.lost_event.wait();
        EXPECT_EQ(corio_test::ms_since(start), 30000);  // asyncio's ssl_shutdown_timeout
        EXPECT_TRUE(holds<corio::TimeoutError>(crec.lost_with)) << what(crec.lost_with);
        co_await srec.lost_event.wait();  // reset by the client's abort
        EXPECT_TRUE(holds<std::system_error>(srec.lost_with)) << what(srec.lost_with);
        EXPECT_EQ(crec.lost, 1);
        EXPECT_EQ(srec.lost, 1);
    }(pki));
}

TEST(StartTls, CloseNotifyFromThePeerCallsEofReceivedThenConnectionLost) {
    TestPki pki;
    corio_test::vrun([](TestPki& p) -> Task<void> {
        Record crec;
        Record srec;
        MemTls m = co_await mem_tls(p, crec, srec);
        auto start = corio::get_running_loop().time();
        m.server->write("last words");
        m.server->close();
        co_await crec.lost_event.wait();
        co_await srec.lost_event.wait();
        EXPECT_EQ(corio_test::ms_since(start), 0);  // no timer involved: both answered
        EXPECT_EQ(crec.got, "last words");
        EXPECT_EQ(crec.events, (std::vector<std::string>{"made", "eof", "lost"}));
        EXPECT_EQ(srec.events, (std::vector<std::string>{"made", "made", "lost"}));
        EXPECT_EQ(what(crec.lost_with), "null");
        EXPECT_EQ(what(srec.lost_with), "null");
    }(pki));
}

TEST(StartTls, AbortDropsTheBacklogAndEndsWithoutError) {
    TestPki pki;
    corio_test::vrun([](TestPki& p) -> Task<void> {
        Record crec;
        Record srec;
        MemTls m = co_await mem_tls(p, crec, srec);
        m.client_raw->get_protocol().pause_writing();  // as a raw transport that backs up
        m.client->write("x");
        EXPECT_EQ(m.client->get_write_buffer_size(), 1u);
        m.client->abort();
        EXPECT_TRUE(m.client->is_closing());
        EXPECT_EQ(m.client->get_write_buffer_size(), 0u);
        m.client->abort();  // once is enough
        m.client->close();
        co_await crec.lost_event.wait();
        co_await srec.lost_event.wait();
        EXPECT_EQ(what(crec.lost_with), "null");
        EXPECT_EQ(crec.lost, 1);
    }(pki));
}

TEST(StartTls, AnExceptionInDataReceivedIsReportedAndEndsTheConnectionWithIt) {
    TestPki pki;
    Reports reports;
    corio_test::vrun(
        [](TestPki& p) -> Task<void> {
            struct Failing : Probe {
                using Probe::Probe;
                void data_received(std::string_view) override {
                    throw std::runtime_error("protocol bug");
                }
            };
            Record crec;
            Record srec;
            auto [a, b] = MemTransport::pair(std::make_unique<Probe>(&crec),
                                             std::make_unique<Failing>(&srec));
            auto accepting = corio::create_task(accept_tls(b, p.server));
            auto tls = co_await net::start_tls(a, p.client, {.server_hostname = "localhost"});
            co_await accepting;
            tls->write("boom");
            co_await srec.lost_event.wait();
            EXPECT_EQ(what(srec.lost_with), "std::runtime_error: protocol bug");
            co_await crec.lost_event.wait();
        }(pki),
        &reports);
    EXPECT_EQ(reports.count("Fatal error: protocol.data_received() call failed"), 1u);
}

// A connection engine that installs the layer itself (as create_connection
// will) hands the user's protocol its transport after the handshake; what
// is written before that waits and goes out once the handshake is done.
TEST(StartTls, WritesBeforeTheHandshakeWaitForIt) {
    TestPki pki;
    corio_test::vrun([](TestPki& p) -> Task<void> {
        Record plain;  // the raw transport's protocol before the layer
        Record crec;
        Record srec;
        srec.notify_at = 5;
        auto [a, b] =
            MemTransport::pair(std::make_unique<Probe>(&plain), std::make_unique<Probe>(&srec));
        auto accepting = corio::create_task(accept_tls(b, p.server));
        net::detail::TlsTransport::Options o;
        o.server_hostname = "localhost";
        auto tls = std::make_shared<net::detail::TlsTransport>(std::make_unique<Probe>(&crec),
                                                               p.client, o);
        std::exception_ptr outcome = std::make_exception_ptr(std::runtime_error("not yet"));
        tls->on_handshake_done([&](std::exception_ptr e) { outcome = e; });
        tls->write("early");
        EXPECT_EQ(tls->get_write_buffer_size(), 5u);
        tls->start_on(*a);
        EXPECT_EQ(crec.made, 0);  // not before the handshake
        co_await accepting;
        co_await srec.data_event.wait();
        EXPECT_EQ(srec.got, "early");
        EXPECT_EQ(outcome, nullptr);
        EXPECT_EQ(crec.made, 1);
        EXPECT_EQ(crec.transport, tls.get());
        EXPECT_EQ(tls->get_write_buffer_size(), 0u);
        tls->close();
        co_await crec.lost_event.wait();
    }(pki));
}

// The layer knows nothing of sockets: a TLS transport carries another TLS
// connection as well as a socket does.
TEST(StartTls, TlsInsideTls) {
    TestPki pki;
    corio_test::vrun([](TestPki& p) -> Task<void> {
        Record crec;
        Record srec;
        MemTls outer = co_await mem_tls(p, crec, srec);
        auto accepting = corio::create_task(accept_tls(outer.server, p.server));
        auto inner =
            co_await net::start_tls(outer.client, p.client, {.server_hostname = "localhost"});
        auto inner_server = co_await accepting;
        EXPECT_NE(std::any_cast<SSL*>(inner->get_extra_info("ssl_object")),
                  std::any_cast<SSL*>(outer.client->get_extra_info("ssl_object")));
        EXPECT_EQ(std::any_cast<bool>(inner->get_extra_info("memory")), true);  // from the bottom
        std::size_t before = outer.client_raw->written;
        srec.notify_at = 4;
        inner->write("deep");
        co_await srec.data_event.wait();
        EXPECT_EQ(srec.got, "deep");
        // Two record layers: 4 bytes became two records' worth of overhead.
        EXPECT_GE(outer.client_raw->written - before, 4u + 2 * 22);
        EXPECT_EQ(srec.transport, inner_server.get());
        inner->close();
        co_await crec.lost_event.wait();
        co_await srec.lost_event.wait();
        EXPECT_EQ(what(crec.lost_with), "null");
        EXPECT_EQ(what(srec.lost_with), "null");
        EXPECT_TRUE(outer.client_raw->is_closing());
        EXPECT_TRUE(outer.server_raw->is_closing());
        EXPECT_EQ(crec.lost, 1);
        EXPECT_EQ(srec.lost, 1);
    }(pki));
}

TEST(StartTls, BadArgumentsAreRefusedAtOnceAndLeaveTheTransportAlone) {
    TestPki pki;
    corio_test::vrun([](TestPki& p) -> Task<void> {
        Record crec;
        Record srec;
        auto [a, b] =
            MemTransport::pair(std::make_unique<Probe>(&crec), std::make_unique<Probe>(&srec));
        net::Protocol* before = &a->get_protocol();
        EXPECT_THROW((void)net::start_tls(nullptr, p.client, {.server_hostname = "localhost"}),
                     std::invalid_argument);
        EXPECT_THROW((void)net::start_tls(a, std::shared_ptr<net::SslContext>(), {}),
                     std::invalid_argument);
        EXPECT_THROW((void)net::start_tls(a, p.client, {}), std::invalid_argument);  // no name
        EXPECT_THROW(
            (void)net::start_tls(a, p.client, {.server_side = true, .server_hostname = "x"}),
            std::invalid_argument);
        EXPECT_THROW((void)net::start_tls(a, p.client,
                                          {.server_hostname = "x", .ssl_handshake_timeout = 0s}),
                     std::invalid_argument);
        EXPECT_THROW((void)net::start_tls(a, p.server, {.ssl_shutdown_timeout = -1s}),
                     std::invalid_argument);
        a->switchable = false;
        EXPECT_THROW(co_await net::start_tls(a, p.client, {.server_hostname = "localhost"}),
                     corio::RuntimeError);
        EXPECT_EQ(&a->get_protocol(), before);
        a->switchable = true;
        a->close();
        EXPECT_THROW(co_await net::start_tls(a, p.client, {.server_hostname = "localhost"}),
                     corio::RuntimeError);
        EXPECT_EQ(&a->get_protocol(), before);
        co_await srec.lost_event.wait();
        co_await crec.lost_event.wait();
    }(pki));
}

// -- The raw transport's side of it ------------------------------------------------

TEST(Transports, SetProtocolHandsTheEventsToTheNewProtocol) {
    net_run([]() -> Task<void> {
        Record srec;
        srec.notify_at = 3;
        net::Server server = co_await serve_silently(srec);
        Record first;
        Record second;
        second.notify_at = 3;
        auto t = co_await connect_plain(server.sockets().at(0).port(), first);
        EXPECT_THROW(t->set_protocol(nullptr), std::invalid_argument);
        std::unique_ptr<net::Protocol> old = t->set_protocol(std::make_unique<Probe>(&second));
        EXPECT_EQ(static_cast<Probe*>(old.get())->r, &first);
        t->write("abc");
        co_await corio::wait_for(srec.data_event.wait(), 10s);
        srec.transport->write("xyz");
        co_await corio::wait_for(second.data_event.wait(), 10s);
        EXPECT_EQ(second.got, "xyz");
        EXPECT_EQ(first.got, "");
        t->close();
        co_await corio::wait_for(second.lost_event.wait(), 10s);
        EXPECT_EQ(first.lost, 0);
        server.close();
        server.close_clients();
        co_await server.wait_closed();
    }());
}
