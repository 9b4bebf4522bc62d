// ContentReader: streamed client response bodies (RequestOptions::stream)
// framed by Content-Length, chunked coding and the end of the connection;
// backpressure on a 100 MB body; what happens to the connection after.
#include "corio/http/client_reader.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "corio/corio.hpp"
#include "corio/http/client.hpp"
#include "corio/http/server.hpp"
#include "corio/net/streams.hpp"
#include "net/net_fixture.hpp"

using namespace std::chrono_literals;
using corio::Task;
namespace net = corio::net;
namespace web = corio::http::web;
using corio::http::ClientResponse;
using corio::http::ClientSession;
using corio::http::ClientSessionOptions;
using corio::http::ContentReader;
using corio::http::RequestOptions;
using corio_test::net_run;

namespace {

constexpr std::size_t kPiece = 64 * 1024;

// /bytes?n=N&framing=length|chunked: N bytes of a repeating pattern,
// written kPiece at a time (each write waits while the socket is full).
Task<web::Response> bytes_handler(web::Request& req) {
    const std::size_t n = std::stoull(std::string(req.query().get("n", "0")));
    web::StreamResponse resp;
    if (req.query().get("framing", "length") == "length") {
        resp.set_content_length(n);
    }
    co_await resp.prepare(req);
    std::string piece(kPiece, '\0');
    for (std::size_t i = 0; i < kPiece; ++i) {
        piece[i] = static_cast<char>('a' + i % 26);
    }
    try {
        for (std::size_t sent = 0; sent < n; sent += kPiece) {
            co_await resp.write(std::string_view(piece).substr(0, std::min(kPiece, n - sent)));
        }
        co_await resp.write_eof();
    } catch (const std::system_error&) {
        // The client closed a connection it did not read to the end.
    }
    co_return resp;
}

web::Application make_app() {
    web::Application app;
    app.add_get("/bytes", bytes_handler);
    app.add_get("/lines", [](web::Request&) -> Task<web::Response> {
        co_return web::Response("a\nbb\n\nccc");
    });
    app.add_get("/chunks", [](web::Request& req) -> Task<web::Response> {
        web::StreamResponse resp;
        co_await resp.prepare(req);
        for (const char* part : {"one,", "two,", "three"}) {
            co_await resp.write(part);
        }
        co_await resp.write_eof();
        co_return resp;
    });
    app.add_get("/stall", [](web::Request& req) -> Task<web::Response> {
        web::StreamResponse resp;
        co_await resp.prepare(req);
        co_await resp.write("first");
        co_await corio::sleep(100s);  // cancelled by the server's shutdown
        co_return resp;
    });
    app.add_get("/json", [](web::Request&) -> Task<web::Response> {
        co_return web::Response::json("{\"streamed\": true}");
    });
    return app;
}

template <class F>
void with_server(F body) {
    net_run([](F body) -> Task<void> {
        web::Application app = make_app();
        web::AppServer server = co_await web::serve(app, "127.0.0.1", 0);
        co_await body("http://127.0.0.1:" + std::to_string(server.port()));
        co_await server.shutdown(100ms);
    }(std::move(body)));
}

RequestOptions streamed() {
    RequestOptions o;
    o.stream = true;
    return o;
}

// A raw server that answers every connection with `reply` and closes.
Task<net::Server> raw_server(std::string reply) {
    // A named handler: GCC 12 destroys a temporary made inside co_await twice.
    net::ClientConnected handler = [reply](net::StreamReader reader,
                                           net::StreamWriter writer) -> Task<void> {
        co_await reader.readuntil("\r\n\r\n");
        writer.write(reply);
        co_await writer.drain();
        writer.close();
        co_await writer.wait_closed();
    };
    co_return co_await net::start_server(std::move(handler), "127.0.0.1", 0);
}

}  // namespace

TEST(ContentReader, StreamsAHundredMegabytesWithBoundedMemory) {
    for (const char* framing : {"length", "chunked"}) {
        with_server([framing](std::string base) -> Task<void> {
            ClientSession session;  // read_bufsize 64 KiB
            const std::size_t total = 100u * 1024 * 1024;
            ClientResponse r = co_await session.get(
                base + "/bytes?n=" + std::to_string(total) + "&framing=" + framing, {}, streamed());
            EXPECT_EQ(r.status(), 200);
            EXPECT_EQ(r.body(), "");  // nothing read yet
            ContentReader content = r.content();
            corio::AsyncGenerator<std::string> pieces = content.iter_chunked(100000);
            std::size_t got = 0;
            bool pattern_ok = true;
            for (int i = 0;; ++i) {
                std::optional<std::string> piece = co_await pieces.next();
                if (!piece) {
                    break;
                }
                EXPECT_LE(piece->size(), 100000u);
                pattern_ok =
                    pattern_ok && (*piece)[0] == static_cast<char>('a' + (got % kPiece) % 26);
                got += piece->size();
                if (i % 64 == 0) {
                    // Let the server run ahead: only backpressure stops it.
                    for (int k = 0; k < 20; ++k) {
                        co_await corio::sleep(0s);
                    }
                }
            }
            EXPECT_EQ(got, total);
            EXPECT_TRUE(pattern_ok);
            EXPECT_TRUE(content.at_eof());
            // Twice the limit in the socket reader, one read being decoded,
            // one piece waiting: far below the body's 100 MB.
            EXPECT_GT(content.peak_buffered(), 0u);
            EXPECT_LE(content.peak_buffered(), 512u * 1024) << framing;
            EXPECT_EQ(session.idle_connections(), 1u);  // read to the end: pooled
            co_await session.close();
        });
    }
}

TEST(ContentReader, ReadlineReadAndReadany) {
    with_server([](std::string base) -> Task<void> {
        ClientSession session;
        ClientResponse r = co_await session.get(base + "/lines", {}, streamed());
        ContentReader c = r.content();
        EXPECT_EQ(co_await c.readline(), "a\n");
        EXPECT_EQ(co_await c.readline(), "bb\n");
        EXPECT_EQ(co_await c.readline(), "\n");
        EXPECT_EQ(co_await c.readline(), "ccc");
        EXPECT_EQ(co_await c.readline(), "");
        EXPECT_TRUE(c.at_eof());
        r = co_await session.get(base + "/chunks", {}, streamed());
        EXPECT_EQ(r.headers().get("Transfer-Encoding", ""), "chunked");
        c = r.content();
        EXPECT_EQ(co_await c.read(2), "on");
        std::string rest;
        for (;;) {
            std::string piece = co_await c.readany();
            if (piece.empty()) {
                break;
            }
            rest += piece;
        }
        EXPECT_EQ(rest, "e,two,three");
        EXPECT_EQ(co_await c.read(5), "");
        EXPECT_EQ(session.connections_opened(), 1u);  // both read to the end
        co_await session.close();
    });
}

TEST(ContentReader, ReadTextJsonWhenNothingWasStreamed) {
    with_server([](std::string base) -> Task<void> {
        ClientSession session;
        ClientResponse r = co_await session.get(base + "/chunks", {}, streamed());
        EXPECT_EQ(co_await r.read(), "one,two,three");
        EXPECT_EQ(r.body(), "one,two,three");
        EXPECT_EQ(co_await r.text(), "one,two,three");  // kept
        r = co_await session.get(base + "/json", {}, streamed());
        EXPECT_EQ((co_await r.json())["streamed"], true);
        // read() after part was streamed returns the rest.
        r = co_await session.get(base + "/lines", {}, streamed());
        EXPECT_EQ(co_await r.content().readline(), "a\n");
        EXPECT_EQ(co_await r.read(), "bb\n\nccc");
        // A response read whole still serves content().
        r = co_await session.get(base + "/lines");
        EXPECT_EQ(co_await r.content().read(), "a\nbb\n\nccc");
        EXPECT_EQ(session.connections_opened(), 1u);
        co_await session.close();
    });
}

TEST(ContentReader, AConnectionWithAnUnreadBodyIsNotReused) {
    with_server([](std::string base) -> Task<void> {
        ClientSession session;
        {
            ClientResponse r =
                co_await session.get(base + "/bytes?n=1000000&framing=chunked", {}, streamed());
            EXPECT_EQ((co_await r.content().read(10)).size(), 10u);
            r.release();  // closed, not pooled
            EXPECT_EQ(session.idle_connections(), 0u);
            EXPECT_THROW(co_await r.content().read(10), std::exception);
        }
        {
            ClientResponse r = co_await session.get(base + "/lines", {}, streamed());
        }  // dropped unread: closed too
        EXPECT_EQ(session.idle_connections(), 0u);
        ClientResponse r = co_await session.get(base + "/lines");
        EXPECT_EQ(r.body(), "a\nbb\n\nccc");
        EXPECT_EQ(session.connections_opened(), 3u);
        EXPECT_EQ(session.idle_connections(), 1u);
        co_await session.close();
    });
}

TEST(ContentReader, BodyUntilTheConnectionCloses) {
    net_run([]() -> Task<void> {
        std::string body;
        for (int i = 0; i < 5000; ++i) {
            body += "line " + std::to_string(i) + "\n";
        }
        net::Server s = co_await raw_server("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + body);
        ClientSession session;
        ClientResponse r = co_await session.get(
            "http://127.0.0.1:" + std::to_string(s.sockets().at(0).port()) + "/", {}, streamed());
        corio::AsyncGenerator<std::string> pieces = r.content().iter_any();
        std::string got;
        for (;;) {
            std::optional<std::string> piece = co_await pieces.next();
            if (!piece) {
                break;
            }
            EXPECT_FALSE(piece->empty());
            got += *piece;
        }
        EXPECT_TRUE(got == body);
        EXPECT_TRUE(r.content().at_eof());
        EXPECT_EQ(session.idle_connections(), 0u);
        // Cut inside a Content-Length body: the reader throws.
        net::Server t = co_await raw_server("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort");
        r = co_await session.get(
            "http://127.0.0.1:" + std::to_string(t.sockets().at(0).port()) + "/", {}, streamed());
        EXPECT_EQ(co_await r.content().read(5), "short");
        EXPECT_THROW(co_await r.content().read(5), corio::http::ServerDisconnectedError);
        co_await session.close();
        for (net::Server* server : {&s, &t}) {
            server->close();
            co_await server->wait_closed();
        }
    }());
}

TEST(ContentReader, ACancelledReadClosesTheConnection) {
    with_server([](std::string base) -> Task<void> {
        ClientSession session;
        ClientResponse r = co_await session.get(base + "/stall", {}, streamed());
        ContentReader c = r.content();
        EXPECT_EQ(co_await c.read(2), "fi");
        EXPECT_EQ(co_await corio::wait_for(c.read(10), 1s), "rst");  // buffered
        EXPECT_THROW(co_await corio::wait_for(c.read(10), 50ms), corio::TimeoutError);
        EXPECT_THROW(co_await c.read(10), corio::http::ClientPayloadError);
        EXPECT_EQ(session.idle_connections(), 0u);
        co_await session.close();
    });
}
