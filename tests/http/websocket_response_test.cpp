#include "corio/http/websocket_response.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>

#include "corio/corio.hpp"
#include "corio/http/server.hpp"
#include "corio/net/socket.hpp"
#include "corio/net/subprocess.hpp"
#include "http/internal/transcripts.hpp"
#include "net/net_fixture.hpp"

using namespace std::chrono_literals;
using corio::Task;
namespace net = corio::net;
namespace web = corio::http::web;
using corio::http::WSMessage;
using corio::http::WSMsgType;
using corio_test::net_run;

namespace {

// What the /ws handler saw, for the tests to check.
struct ServerLog {
    std::vector<std::string> events;
    corio::Event done;
};

web::Application make_app(ServerLog& log, std::optional<corio::Duration> heartbeat = {}) {
    web::Application app;
    // Echoes text and binary messages until the client closes.
    app.add_get("/ws", [&log, heartbeat](web::Request& req) -> Task<web::Response> {
        web::WebSocketResponse ws(corio::http::WebSocketOptions{.heartbeat = heartbeat});
        co_await ws.prepare(req);
        for (;;) {
            WSMessage msg = co_await ws.receive();
            if (msg.type == WSMsgType::TEXT) {
                co_await ws.send_str(msg.data);
            } else if (msg.type == WSMsgType::BINARY) {
                co_await ws.send_bytes(msg.data);
            } else {
                log.events.push_back(std::to_string(static_cast<int>(msg.type)) + " " +
                                     std::to_string(msg.extra) + " " + msg.data);
                break;
            }
        }
        log.done.set();
        co_return ws;
    });
    // Sends with a 100-byte frame limit, then closes (not waiting long for
    // a raw peer's close frame).
    app.add_get("/frag", [](web::Request& req) -> Task<web::Response> {
        web::WebSocketResponse ws(
            corio::http::WebSocketOptions{.close_timeout = 100ms, .max_frame_size = 100});
        co_await ws.prepare(req);
        co_await ws.send_str(std::string(250, 't'));
        co_await ws.send_bytes(std::string(100, 'b'));  // not over the limit: one frame
        co_await ws.close();
        co_return ws;
    });
    // Never calls receive(): the heartbeat alone must notice a silent peer.
    app.add_get("/idle", [&log](web::Request& req) -> Task<web::Response> {
        web::WebSocketResponse ws(corio::http::WebSocketOptions{.heartbeat = 40ms});
        co_await ws.prepare(req);
        while (!ws.closed()) {
            co_await corio::sleep(10ms);
        }
        log.events.push_back("closed " + std::to_string(ws.close_code().value_or(0)));
        WSMessage m = co_await ws.receive();
        log.events.push_back(m.data);
        log.done.set();
        co_return ws;
    });
    // Echoes with a 1 MiB message limit (on the inflated size).
    app.add_get("/small", [&log](web::Request& req) -> Task<web::Response> {
        web::WebSocketResponse ws(corio::http::WebSocketOptions{.max_msg_size = 1 << 20});
        co_await ws.prepare(req);
        for (;;) {
            WSMessage msg = co_await ws.receive();
            if (msg.type != WSMsgType::BINARY) {
                log.events.push_back(std::to_string(static_cast<int>(msg.type)) + " " +
                                     std::to_string(msg.extra) + " " + msg.data);
                break;
            }
            co_await ws.send_bytes(msg.data);
        }
        log.done.set();
        co_return ws;
    });
    // No compression: offers are ignored.
    app.add_get("/plain", [](web::Request& req) -> Task<web::Response> {
        web::WebSocketResponse ws(
            corio::http::WebSocketOptions{.close_timeout = 100ms, .compress = 0});
        co_await ws.prepare(req);
        co_await ws.send_str("plain");
        co_await ws.close();
        co_return ws;
    });
    // Answers with an extension header of the query's choice (compression
    // off, so it is the only one): the client must refuse what it did not offer.
    app.add_get("/ext", [](web::Request& req) -> Task<web::Response> {
        web::WebSocketResponse ws(
            corio::http::WebSocketOptions{.close_timeout = 100ms, .compress = 0});
        ws.headers().add("Sec-WebSocket-Extensions", std::string(req.query().get("v", "")));
        co_await ws.prepare(req);
        co_await ws.receive(5s);
        co_return ws;
    });
    return app;
}

template <class F>
void with_server(F body, std::optional<corio::Duration> heartbeat = {}) {
    net_run([](F body, std::optional<corio::Duration> heartbeat) -> Task<void> {
        ServerLog log;
        web::Application app = make_app(log, heartbeat);
        web::AppServer server = co_await web::serve(app, "127.0.0.1", 0);
        co_await body(server, log);
        co_await server.shutdown(1s);
    }(std::move(body), heartbeat));
}

std::string ws_url(const web::AppServer& s, std::string_view path) {
    return "ws://127.0.0.1:" + std::to_string(s.port()) + std::string(path);
}

Task<std::string> raw_exchange(std::uint16_t port, std::string request) {
    net::Socket s = net::Socket::create(AF_INET, SOCK_STREAM);
    co_await net::sock_connect(s, net::SocketAddress::ip("127.0.0.1", port));
    co_await net::sock_sendall(s, request);
    std::string out;
    for (;;) {
        std::string part = co_await corio::wait_for(net::sock_recv(s, 65536), 10s);
        if (part.empty()) {
            co_return out;
        }
        out += part;
    }
}

}  // namespace

TEST(WebSocket, EchoBetweenCorioClientAndServer) {
    with_server([](web::AppServer& server, ServerLog& log) -> Task<void> {
        auto ws = co_await corio::http::ws_connect(ws_url(server, "/ws"));
        co_await ws.send_str("hello");
        WSMessage m = co_await ws.receive(5s);
        EXPECT_EQ(m.type, WSMsgType::TEXT);
        EXPECT_EQ(m.data, "hello");
        const std::string big(200000, 'b');
        co_await ws.send_bytes(big);
        m = co_await ws.receive(5s);
        EXPECT_EQ(m.type, WSMsgType::BINARY);
        EXPECT_TRUE(m.data == big);
        co_await ws.ping("x");  // answered by the server, not seen by its handler
        EXPECT_TRUE(co_await ws.close(4000, "bye"));
        EXPECT_TRUE(ws.closed());
        EXPECT_EQ(ws.close_code(), 4000);
        EXPECT_FALSE(co_await ws.close());
        EXPECT_EQ((co_await ws.receive()).type, WSMsgType::CLOSED);
        co_await corio::wait_for(log.done.wait(), 5s);
        EXPECT_EQ(log.events, (std::vector<std::string>{"8 4000 bye"}));  // CLOSE
    });
}

TEST(WebSocket, ServerClosesAndClientSeesClose) {
    net_run([]() -> Task<void> {
        web::Application app;
        app.add_get("/bye", [](web::Request& req) -> Task<web::Response> {
            web::WebSocketResponse ws;
            co_await ws.prepare(req);
            co_await ws.send_str("last words");
            co_await ws.close(1001, "going away");
            co_return ws;
        });
        web::AppServer server = co_await web::serve(app, "127.0.0.1", 0);
        auto ws = co_await corio::http::ws_connect(ws_url(server, "/bye"));
        WSMessage m = co_await ws.receive(5s);
        EXPECT_EQ(m.data, "last words");
        m = co_await ws.receive(5s);
        EXPECT_EQ(m.type, WSMsgType::CLOSE);
        EXPECT_EQ(m.extra, 1001);
        EXPECT_EQ(m.data, "going away");
        EXPECT_EQ((co_await ws.receive(5s)).type, WSMsgType::CLOSED);
        co_await server.shutdown(1s);
    }());
}

TEST(WebSocket, HeartbeatClosesASilentPeerWithoutReceive) {
    with_server([](web::AppServer& server, ServerLog& log) -> Task<void> {
        // A raw client: a valid handshake, then it never answers the pings.
        std::string got = co_await raw_exchange(
            server.port(),
            "GET /idle HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n");
        EXPECT_EQ(got.rfind("HTTP/1.1 101 Switching Protocols\r\n", 0), 0u) << got;
        EXPECT_NE(got.find("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"),
                  std::string::npos);
        EXPECT_NE(got.find("\r\n\r\n\x89\x00", 0, 6), std::string::npos);  // a ping came
        co_await corio::wait_for(log.done.wait(), 5s);
        EXPECT_EQ(log.events, (std::vector<std::string>{
                                  "closed 1006", "heartbeat: no pong from the peer within 20 ms"}));
    });
}

TEST(WebSocket, ClientHeartbeatKeepsALivePeer) {
    with_server([](web::AppServer& server, ServerLog&) -> Task<void> {
        auto ws = co_await corio::http::ws_connect(
            ws_url(server, "/ws"), corio::http::WebSocketOptions{.heartbeat = 100ms});
        co_await corio::sleep(400ms);  // several ping/pong rounds
        EXPECT_FALSE(ws.closed());
        co_await ws.send_str("still here");
        EXPECT_EQ((co_await ws.receive(5s)).data, "still here");
        co_await ws.close();
    });
}

TEST(WebSocket, ServerShutdownClosesWithGoingAway) {
    with_server([](web::AppServer& server, ServerLog& log) -> Task<void> {
        auto ws = co_await corio::http::ws_connect(ws_url(server, "/ws"));
        co_await ws.send_str("x");
        EXPECT_EQ((co_await ws.receive(5s)).data, "x");
        // The handler is blocked in receive(): shutdown must not wait for its deadline.
        auto shutdown = corio::create_task(server.shutdown(30s));
        WSMessage m = co_await ws.receive(5s);
        EXPECT_EQ(m.type, WSMsgType::CLOSE);
        EXPECT_EQ(m.extra, 1001);
        EXPECT_EQ(m.data, "server shutdown");
        co_await corio::wait_for(std::move(shutdown), 5s);
        EXPECT_EQ(log.events, (std::vector<std::string>{"8 1001 "}));  // the echoed code
    });
}

TEST(WebSocket, NonWebSocketRequestsAreRefused) {
    with_server([](web::AppServer& server, ServerLog&) -> Task<void> {
        std::string got = co_await raw_exchange(
            server.port(), "GET /ws HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
        EXPECT_EQ(got.rfind("HTTP/1.1 400 Bad Request\r\n", 0), 0u) << got;
        got = co_await raw_exchange(
            server.port(),
            "GET /ws HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Version: 12\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            "Connection: close\r\n\r\n");
        EXPECT_EQ(got.rfind("HTTP/1.1 426 Upgrade Required\r\n", 0), 0u) << got;
        EXPECT_NE(got.find("Sec-WebSocket-Version: 13\r\n"), std::string::npos) << got;
        // A plain HTTP server answer to ws_connect: ClientResponseError with the status.
        try {
            co_await corio::http::ws_connect(ws_url(server, "/nope"));
            ADD_FAILURE() << "no throw";
        } catch (const corio::http::ClientResponseError& e) {
            EXPECT_EQ(e.status(), 404);
        }
    });
}

TEST(WebSocket, FramesSentWithTheHandshakeAreNotLost) {
    // The handshake and a text frame in one write: the frame arrives in the
    // read that brings the request, before the handler has accepted the
    // upgrade. It is echoed; then a close frame ends the session.
    with_server([](web::AppServer& server, ServerLog& log) -> Task<void> {
        std::string request =
            "GET /ws HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n";
        const unsigned char text[] = {0x81, 0x82, 1, 2, 3, 4, 'h' ^ 1, 'i' ^ 2};  // masked "hi"
        request.append(reinterpret_cast<const char*>(text), sizeof text);
        net::Socket s = net::Socket::create(AF_INET, SOCK_STREAM);
        co_await net::sock_connect(s, net::SocketAddress::ip("127.0.0.1", server.port()));
        co_await net::sock_sendall(s, request);
        const std::string echo("\x81\x02hi", 4);
        std::string got;
        while (got.find(echo) == std::string::npos) {
            std::string part = co_await corio::wait_for(net::sock_recv(s, 65536), 10s);
            if (part.empty()) {
                ADD_FAILURE() << "closed before the echo: " << got;
                co_return;
            }
            got += part;
        }
        EXPECT_EQ(got.rfind("HTTP/1.1 101 Switching Protocols\r\n", 0), 0u) << got;
        EXPECT_EQ(got.substr(got.find("\r\n\r\n") + 4), echo);
        const unsigned char close[] = {0x88, 0x82, 1, 2, 3, 4, 0x03 ^ 1, 0xE8 ^ 2};  // 1000
        co_await net::sock_sendall(
            s, std::string_view(reinterpret_cast<const char*>(close), sizeof close));
        co_await corio::wait_for(log.done.wait(), 5s);
        EXPECT_EQ(log.events, (std::vector<std::string>{"8 1000 "}));
    });
}

namespace {

void python_client_against_corio_server(const char* mode, const std::string& ext) {
    with_server([mode, ext](web::AppServer& server, ServerLog& log) -> Task<void> {
        net::Process peer = co_await net::create_subprocess_exec(
            "/usr/bin/python3", CORIO_WS_PEER_PY, mode, std::to_string(server.port()),
            net::SubprocessOptions{.stdout_ = net::PIPE});
        std::string out = co_await corio::wait_for(peer.stdout_->read(), 60s);
        EXPECT_EQ(co_await peer.wait(), 0);
        EXPECT_EQ(out, "ext " + ext +
                           "\n"
                           "hello from python\n"
                           "b'\\x00\\x01binary'\n"
                           "pong\n"
                           "70000\n"
                           "hello from python\n"
                           "hello from python\n"
                           "True\n"
                           "closed 1000\n");
        co_await corio::wait_for(log.done.wait(), 5s);
        EXPECT_EQ(log.events, (std::vector<std::string>{"8 1000 "}));
    });
}

}  // namespace

// websockets offers permessage-deflate by default: every message both ways
// is compressed, with context takeover.
TEST(WebSocket, PythonWebsocketsClientAgainstCorioServer) {
    python_client_against_corio_server("client", "permessage-deflate");
}

TEST(WebSocket, PythonWebsocketsClientWithoutContextTakeover) {
    python_client_against_corio_server("client-nct",
                                       "permessage-deflate; server_no_context_takeover; "
                                       "client_no_context_takeover; server_max_window_bits=10");
}

namespace {

void corio_client_against_python_server(const char* mode, const std::string& ext) {
    net_run([](const char* mode, std::string ext) -> Task<void> {
        net::Process peer = co_await net::create_subprocess_exec(
            "/usr/bin/python3", CORIO_WS_PEER_PY, "server", mode,
            net::SubprocessOptions{.stdout_ = net::PIPE});
        std::string line = co_await corio::wait_for(peer.stdout_->readline(), 30s);
        EXPECT_EQ(line.rfind("port ", 0), 0u) << line;
        auto ws = co_await corio::http::ws_connect(
            "ws://127.0.0.1:" + line.substr(5, line.size() - 6) + "/");
        co_await ws.send_str("héllo");
        WSMessage m = co_await ws.receive(5s);
        EXPECT_EQ(m.type, WSMsgType::TEXT);
        EXPECT_EQ(m.data, "héllo");
        co_await ws.send_bytes(std::string(100000, '\x7f'));
        m = co_await ws.receive(5s);
        EXPECT_EQ(m.type, WSMsgType::BINARY);
        EXPECT_EQ(m.data.size(), 100000u);
        // Repeats (back-references with context takeover) and a large text.
        std::string text;
        for (int i = 0; i < 30000; ++i) {  // under websockets' 1 MiB max_size
            text += "line " + std::to_string(i) + ": " + std::to_string(i * i) + "\n";
        }
        for (int i = 0; i < 3; ++i) {
            co_await ws.send_str("héllo");
            EXPECT_EQ((co_await ws.receive(5s)).data, "héllo");
            co_await ws.send_str(text);
            EXPECT_TRUE((co_await ws.receive(5s)).data == text);
        }
        EXPECT_TRUE(co_await ws.close());
        std::string rest = co_await corio::wait_for(peer.stdout_->read(), 30s);
        EXPECT_EQ(rest, "ext " + ext + "\nclosed 1000\n");
        EXPECT_EQ(co_await peer.wait(), 0);
    }(mode, ext));
}

}  // namespace

TEST(WebSocket, CorioClientAgainstPythonWebsocketsServer) {
    corio_client_against_python_server(
        "", "permessage-deflate; server_max_window_bits=12; client_max_window_bits=12");
}

TEST(WebSocket, CorioClientAgainstPythonWebsocketsServerWithoutContextTakeover) {
    corio_client_against_python_server("nct",
                                       "permessage-deflate; server_no_context_takeover; "
                                       "client_no_context_takeover; server_max_window_bits=11");
}

TEST(WebSocket, MessagesOverMaxFrameSizeGoOutFragmented) {
    with_server([](web::AppServer& server, ServerLog&) -> Task<void> {
        std::string got = co_await raw_exchange(
            server.port(),
            "GET /frag HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n");
        const std::size_t body = got.find("\r\n\r\n");
        if (body == std::string::npos) {
            ADD_FAILURE() << got;
            co_return;
        }
        // TEXT without FIN, a continuation, the last continuation with FIN;
        // then BINARY in one frame; then the close frame (1000).
        const std::string frames =
            std::string("\x01\x64") + std::string(100, 't') + std::string("\x00\x64", 2) +
            std::string(100, 't') + std::string("\x80\x32") + std::string(50, 't') +
            std::string("\x82\x64") + std::string(100, 'b') + std::string("\x88\x02\x03\xe8");
        EXPECT_EQ(got.substr(body + 4), frames);
    });
}

TEST(WebSocket, ClientFragmentedMessagesReachTheServerWhole) {
    with_server([](web::AppServer& server, ServerLog&) -> Task<void> {
        // Masked client frames of at most 7 bytes; the server's echo is one
        // frame. The text's "\xc3\xa9" (bytes 6 and 7) is split between frames.
        auto ws = co_await corio::http::ws_connect(
            ws_url(server, "/ws"),
            corio::http::WebSocketOptions{.max_frame_size = 7, .compress = 0});
        const std::string text = "abcdef\xc3\xa9 and more text, in frames";
        co_await ws.send_str(text);
        WSMessage m = co_await ws.receive();
        EXPECT_EQ(m.type, WSMsgType::TEXT);
        EXPECT_EQ(m.data, text);
        const std::string bytes(1000, '\x7f');
        co_await ws.send_bytes(bytes);
        m = co_await ws.receive();
        EXPECT_EQ(m.type, WSMsgType::BINARY);
        EXPECT_EQ(m.data, bytes);
        EXPECT_THROW(co_await ws.send_str(std::string("\xff") + std::string(20, 'a')),
                     std::invalid_argument);
        co_await ws.close();
    });
}

// -- permessage-deflate --------------------------------------------------------

namespace {

constexpr std::string_view kHandshake =
    "Host: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n";

/// The events of the server frames after the head of `got`, decoded by a
/// client (deflate: see drive_websocket).
corio::http::testing::Transcript frames_after_head(const std::string& got, int deflate) {
    const std::size_t body = got.find("\r\n\r\n");
    if (body == std::string::npos) {
        return {"no head"};
    }
    return corio::http::testing::drive_websocket(
        {std::string_view(got).substr(body + 4)}, [](std::string_view v) { return v; },
        corio::http::detail::WsRole::client, {}, deflate);
}

}  // namespace

TEST(WebSocket, DeflateNegotiationOnTheWire) {
    with_server([](web::AppServer& server, ServerLog&) -> Task<void> {
        using T = corio::http::testing::Transcript;
        const T frag{"text " + std::string(250, 't'), "binary " + std::string(100, 'b'),
                     "close 1000 "};
        // Accepted: RSV1 on the messages, compressed; max_frame_size cuts
        // the compressed bytes (short here: one frame each).
        std::string got = co_await raw_exchange(server.port(),
                                                "GET /frag HTTP/1.1\r\n" + std::string(kHandshake) +
                                                    "Sec-WebSocket-Extensions: permessage-deflate; "
                                                    "client_max_window_bits\r\n\r\n");
        EXPECT_EQ(got.rfind("HTTP/1.1 101 Switching Protocols\r\n", 0), 0u) << got;
        EXPECT_NE(got.find("\r\nSec-WebSocket-Extensions: permessage-deflate\r\n"),
                  std::string::npos)
            << got;
        const std::size_t body = got.find("\r\n\r\n") + 4;
        EXPECT_EQ(static_cast<unsigned char>(got[body]), 0xc1u);  // FIN, RSV1, text
        EXPECT_LT(got.size() - body, 100u);
        EXPECT_EQ(frames_after_head(got, 1), frag);
        // Two offers, the first invalid: the second is taken.
        got = co_await raw_exchange(
            server.port(), "GET /frag HTTP/1.1\r\n" + std::string(kHandshake) +
                               "Sec-WebSocket-Extensions: permessage-deflate; bogus\r\n"
                               "Sec-WebSocket-Extensions: permessage-deflate; "
                               "server_no_context_takeover; server_max_window_bits=9\r\n\r\n");
        EXPECT_NE(got.find("\r\nSec-WebSocket-Extensions: permessage-deflate; "
                           "server_no_context_takeover; server_max_window_bits=9\r\n"),
                  std::string::npos)
            << got;
        EXPECT_EQ(frames_after_head(got, 2), frag);
        // Only invalid offers: declined, plain frames.
        got = co_await raw_exchange(server.port(),
                                    "GET /frag HTTP/1.1\r\n" + std::string(kHandshake) +
                                        "Sec-WebSocket-Extensions: permessage-deflate; "
                                        "server_max_window_bits=8, x-webkit-deflate-frame\r\n\r\n");
        EXPECT_EQ(got.rfind("HTTP/1.1 101 Switching Protocols\r\n", 0), 0u) << got;
        EXPECT_EQ(got.find("Sec-WebSocket-Extensions"), std::string::npos) << got;
        EXPECT_EQ(frames_after_head(got, 0), (T{"text " + std::string(250, 't'),
                                                "binary " + std::string(100, 'b'), "close 1000 "}));
        // Not parsable: 400.
        got = co_await raw_exchange(server.port(),
                                    "GET /frag HTTP/1.1\r\n" + std::string(kHandshake) +
                                        "Sec-WebSocket-Extensions: permessage-deflate;\r\n"
                                        "Connection: close\r\n\r\n");
        EXPECT_EQ(got.rfind("HTTP/1.1 400 Bad Request\r\n", 0), 0u) << got;
        // compress = 0: the offer is ignored.
        got = co_await raw_exchange(server.port(),
                                    "GET /plain HTTP/1.1\r\n" + std::string(kHandshake) +
                                        "Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n");
        EXPECT_EQ(got.find("Sec-WebSocket-Extensions"), std::string::npos) << got;
        EXPECT_EQ(frames_after_head(got, 0), (T{"text plain", "close 1000 "}));
    });
}

TEST(WebSocket, CompressedEchoWithAndWithoutContextTakeover) {
    with_server([](web::AppServer& server, ServerLog&) -> Task<void> {
        std::mt19937 rng(7);
        std::string noise(300000, '\0');
        for (char& c : noise) {
            c = static_cast<char>(rng());
        }
        std::string text;
        for (int i = 0; i < 20000; ++i) {
            text += "message " + std::to_string(i % 97) + " é\n";
        }
        for (bool nct : {false, true}) {
            for (int bits : {15, 9}) {
                for (std::size_t max_frame : {std::size_t{0}, std::size_t{1000}}) {
                    auto ws = co_await corio::http::ws_connect(
                        ws_url(server, "/ws"),
                        corio::http::WebSocketOptions{.max_frame_size = max_frame,
                                                      .compress = bits,
                                                      .compress_no_context_takeover = nct});
                    for (int round = 0; round < 2; ++round) {
                        co_await ws.send_str(text);
                        WSMessage m = co_await ws.receive(5s);
                        EXPECT_EQ(m.type, WSMsgType::TEXT)
                            << nct << " " << bits << " " << max_frame << ": " << m.extra << " "
                            << m.data.substr(0, 100);
                        EXPECT_TRUE(m.data == text);
                        co_await ws.send_bytes(noise);
                        m = co_await ws.receive(5s);
                        EXPECT_EQ(m.type, WSMsgType::BINARY);
                        EXPECT_TRUE(m.data == noise);
                        co_await ws.send_str("");
                        EXPECT_EQ((co_await ws.receive(5s)).data, "");
                    }
                    EXPECT_TRUE(co_await ws.close());
                }
            }
        }
    });
}

TEST(WebSocket, ADecompressionBombClosesWith1009) {
    with_server([](web::AppServer& server, ServerLog& log) -> Task<void> {
        auto ws = co_await corio::http::ws_connect(ws_url(server, "/small"));
        const std::string ok(1 << 20, 'k');  // exactly the limit, inflated
        co_await ws.send_bytes(ok);
        WSMessage m = co_await ws.receive(5s);
        EXPECT_TRUE(m.data == ok);
        co_await ws.send_bytes(std::string(32 << 20, '\0'));  // ~32 KiB on the wire
        m = co_await ws.receive(5s);
        EXPECT_EQ(m.type, WSMsgType::CLOSE);
        EXPECT_EQ(m.extra, 1009);
        co_await corio::wait_for(log.done.wait(), 5s);
        EXPECT_EQ(log.events, (std::vector<std::string>{
                                  "258 1009 decompressed message larger than max_message_size"}));
    });
}

TEST(WebSocket, ClientRefusesExtensionsItDidNotOffer) {
    with_server([](web::AppServer& server, ServerLog&) -> Task<void> {
        auto refused = [&](std::string query,
                           corio::http::WebSocketOptions o) -> Task<std::string> {
            try {
                co_await corio::http::ws_connect(ws_url(server, "/ext?v=" + query), o);
            } catch (const corio::http::ClientResponseError& e) {
                co_return e.what();
            }
            co_return "accepted";
        };
        auto has = [](const std::string& what, std::string_view part) {
            return what.find(part) != std::string::npos;
        };
        std::string what = co_await refused("x-foo", {});
        EXPECT_TRUE(has(what, "names an extension that was not offered")) << what;
        what = co_await refused("permessage-deflate", {.compress = 0});
        EXPECT_TRUE(has(what, "names an extension that was not offered")) << what;
        what = co_await refused("permessage-deflate%3B%20client_max_window_bits%3D8", {});
        EXPECT_TRUE(has(what, "client_max_window_bits=8 is not supported")) << what;
        what = co_await refused("permessage-deflate", {.compress = 10});
        EXPECT_TRUE(has(what, "server_max_window_bits above the one offered")) << what;
        what = co_await refused("permessage-deflate%3Bx", {});
        EXPECT_TRUE(has(what, "unknown permessage-deflate parameter")) << what;
        EXPECT_THROW(co_await corio::http::ws_connect(ws_url(server, "/ws"), {.compress = 8}),
                     std::invalid_argument);
    });
}
