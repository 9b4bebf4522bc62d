// Streaming request bodies: BodyReader on its own, then the server feeding
// it from real sockets (backpressure, Expect: 100-continue, unread bodies
// discarded, limits), with raw sockets, curl and corio's client as peers.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>

#include "corio/corio.hpp"
#include "corio/http/client.hpp"
#include "corio/http/server.hpp"
#include "corio/net/socket.hpp"
#include "corio/net/subprocess.hpp"
#include "net/net_fixture.hpp"

using namespace std::chrono_literals;
using corio::Task;
namespace net = corio::net;
namespace web = corio::http::web;
namespace http = corio::http;
using corio_test::net_run;

namespace {

// ---- BodyReader alone ----------------------------------------------------

TEST(BodyReader, ReadsLinesExactBytesAndPiecesAsTheyArrive) {
    net_run([]() -> Task<void> {
        web::BodyReader r(16);
        r.feed_data("ab\ncd");
        EXPECT_EQ(co_await r.readline(), "ab\n");
        EXPECT_EQ(r.buffered(), 2u);
        // readexactly waits for bytes fed later, across pieces.
        auto exact = corio::create_task(r.readexactly(5));
        co_await corio::sleep(0s);
        EXPECT_FALSE(exact.done());
        r.feed_data("ef");
        co_await corio::sleep(0s);
        EXPECT_FALSE(exact.done());
        r.feed_data("gh\nij");
        EXPECT_EQ(co_await exact, "cdefg");
        EXPECT_EQ(co_await r.read(1), "h");
        EXPECT_EQ(co_await r.readany(), "\nij");
        r.feed_data("0123456789");
        r.feed_eof();
        EXPECT_FALSE(r.at_eof());
        auto pieces = r.iter_chunked(4);
        std::vector<std::string> got;
        while (auto p = co_await pieces.next()) {
            got.push_back(*p);
        }
        EXPECT_EQ(got, (std::vector<std::string>{"0123", "4567", "89"}));
        EXPECT_TRUE(r.at_eof());
        EXPECT_EQ(co_await r.read(), "");
        EXPECT_EQ(co_await r.readline(), "");
        EXPECT_EQ(r.total_bytes(), 22u);
        EXPECT_EQ(r.buffered_peak(), 10u);
    }());
}

TEST(BodyReader, EndsAndErrors) {
    net_run([]() -> Task<void> {
        web::BodyReader r(8);
        r.feed_data("abc");
        r.feed_eof();
        try {
            (void)co_await r.readexactly(5);
            ADD_FAILURE() << "no IncompleteReadError";
        } catch (const corio::IncompleteReadError& e) {
            EXPECT_EQ(e.partial, "abc");
            EXPECT_EQ(e.expected, 5u);
        }
        web::BodyReader line(8);
        line.feed_data("0123456789");  // no '\n' within the limit
        EXPECT_THROW((void)co_await line.readline(), corio::LimitOverrunError);
        EXPECT_EQ(line.buffered(), 10u);  // left in place
        EXPECT_EQ(co_await line.read(4), "0123");
        // A failure wakes a waiting read, and stays.
        web::BodyReader f;
        auto waiting = corio::create_task(f.read());
        co_await corio::sleep(0s);
        f.set_exception(std::make_exception_ptr(web::HTTPException(413)));
        try {
            (void)co_await waiting;
            ADD_FAILURE() << "no error";
        } catch (const web::HTTPException& e) {
            EXPECT_EQ(e.status(), 413);
        }
        EXPECT_TRUE(f.failed());
        EXPECT_THROW((void)co_await f.readany(), web::HTTPException);
        // A request made by hand streams its body too.
        web::Request req;
        web::RequestBuilder::body(req) = "x=1\ny=2\n";
        EXPECT_EQ(co_await req.content().readline(), "x=1\n");
        EXPECT_EQ(co_await req.content().read(), "y=2\n");
        // read() after part of the body was streamed: the bytes left, once.
        web::Request partly;
        web::RequestBuilder::body(partly) = "x=1\ny=2\n";
        EXPECT_EQ(co_await partly.content().readline(), "x=1\n");
        EXPECT_EQ(co_await partly.read(), "y=2\n");
        // content() first, read() next: the whole body, once.
        web::Request whole;
        web::RequestBuilder::body(whole) = "abc";
        (void)whole.content();
        EXPECT_EQ(co_await whole.read(), "abc");
    }());
}

// ---- The server ----------------------------------------------------------

struct Probe {
    bool started = false;             // the /lines handler runs
    std::size_t peak = 0;             // the largest buffered_peak() seen
    web::BodyReader* held = nullptr;  // /gate's body, while it waits
    corio::Event gate;                // /gate reads once set
    std::string error;                // what /lost's read threw
    bool lost_started = false;
    bool lost_done = false;
};
Probe* probe = nullptr;

web::Application make_app() {
    web::Application app;
    // Lines as they come, one per answer line with its length.
    app.add_post("/lines", [](web::Request& req) -> Task<web::Response> {
        probe->started = true;
        std::string out;
        for (;;) {
            std::string line = co_await req.content().readline();
            if (line.empty()) {
                break;
            }
            out += std::to_string(line.size()) + ":" + line;
        }
        co_return web::Response::text(out);
    });
    app.add_post("/methods", [](web::Request& req) -> Task<web::Response> {
        web::BodyReader& c = req.content();
        std::string out = co_await c.read(3);
        out += "|" + co_await c.readexactly(4);
        out += "|" + co_await c.readline();
        auto pieces = c.iter_chunked(5);
        while (auto p = co_await pieces.next()) {
            out += "|" + *p;
        }
        out += c.at_eof() ? "|eof" : "|more";
        out += req.body_exists() ? "|body" : "|none";
        co_return web::Response::text(out);
    });
    // The body streamed back as it arrives.
    app.add_post("/echo", [](web::Request& req) -> Task<web::Response> {
        web::StreamResponse resp;
        co_await resp.prepare(req);
        auto pieces = req.content().iter_any();
        while (auto p = co_await pieces.next()) {
            co_await resp.write(*p);
        }
        probe->peak = std::max(probe->peak, req.content().buffered_peak());
        co_await resp.write_eof();
        co_return resp;
    });
    app.add_post("/read", [](web::Request& req) -> Task<web::Response> {
        std::string body = co_await req.read();
        co_return web::Response::text(std::to_string(body.size()) + " " +
                                      std::to_string((co_await req.text()).size()));
    });
    // Waits for the gate before reading anything.
    app.add_post("/gate", [](web::Request& req) -> Task<web::Response> {
        probe->held = &req.content();
        co_await probe->gate.wait();
        std::string body = co_await req.read();
        probe->held = nullptr;
        probe->peak = std::max(probe->peak, req.content().buffered_peak());
        co_return web::Response::text(std::to_string(body.size()));
    });
    app.add_post("/ignore", [](web::Request&) -> Task<web::Response> {
        co_return web::Response::text("ignored");
    });
    app.add_post("/lost", [](web::Request& req) -> Task<web::Response> {
        probe->lost_started = true;
        try {
            (void)co_await req.read();
        } catch (const std::system_error& e) {
            probe->error = e.what();
            probe->lost_done = true;
            throw;
        }
        probe->lost_done = true;
        co_return web::Response();
    });
    app.add_get("/hello", [](web::Request&) -> Task<web::Response> {
        co_return web::Response::text("hello");
    });
    return app;
}

Task<net::Socket> connect_to(std::uint16_t port) {
    net::Socket s = net::Socket::create(AF_INET, SOCK_STREAM);
    s.set_nodelay(true);
    co_await net::sock_connect(s, net::SocketAddress::ip("127.0.0.1", port));
    co_return s;
}

Task<std::string> read_all(net::Socket& s) {
    std::string out;
    for (;;) {
        std::string part = co_await corio::wait_for(net::sock_recv(s, 65536), 20s);
        if (part.empty()) {
            co_return out;
        }
        out += part;
    }
}

// Reads until `needle` has arrived.
Task<std::string> read_until(net::Socket& s, std::string_view needle) {
    std::string out;
    while (out.find(needle) == std::string::npos) {
        std::string part = co_await corio::wait_for(net::sock_recv(s, 65536), 20s);
        if (part.empty()) {
            break;
        }
        out += part;
    }
    co_return out;
}

template <class F>
void with_server(F body, web::ServerOptions options = {}) {
    Probe p;
    probe = &p;
    net_run([](F body, web::ServerOptions options) -> Task<void> {
        web::Application app = make_app();
        web::AppServer server = co_await web::serve(app, "127.0.0.1", 0, options);
        co_await body(server);
        co_await server.shutdown(5s);
        EXPECT_EQ(server.connections(), 0u);
    }(std::move(body), options));
    probe = nullptr;
}

std::string chunk(std::string_view data) {
    char size[32];
    std::snprintf(size, sizeof size, "%zx\r\n", data.size());
    return size + std::string(data) + "\r\n";
}

std::string pattern(std::size_t n) {
    std::string s(n, '\0');
    for (std::size_t i = 0; i < n; ++i) {
        s[i] = static_cast<char>('a' + (i * 7 + i / 4093) % 26);
    }
    return s;
}

TEST(BodyStream, HandlerStartsBeforeTheBodyAndReadsItAsItComes) {
    with_server([](web::AppServer& server) -> Task<void> {
        net::Socket s = co_await connect_to(server.port());
        co_await net::sock_sendall(s,
                                   "POST /lines HTTP/1.1\r\nHost: a\r\n"
                                   "Transfer-Encoding: chunked\r\n\r\n" +
                                       chunk("one\ntw"));
        while (!probe->started) {
            co_await corio::sleep(1ms);
        }
        co_await net::sock_sendall(s, chunk("o\n") + chunk("three") + "0\r\n\r\n");
        std::string got = co_await read_until(s, "5:three");
        EXPECT_NE(got.find("HTTP/1.1 200 OK\r\n"), std::string::npos) << got;
        EXPECT_NE(got.find("\r\n\r\n4:one\n4:two\n5:three"), std::string::npos) << got;
        // The connection serves the next request.
        co_await net::sock_sendall(s, "GET /hello HTTP/1.1\r\nHost: a\r\n\r\n");
        EXPECT_NE((co_await read_until(s, "hello")).find("hello"), std::string::npos);
    });
}

TEST(BodyStream, ReadMethodsOnAContentLengthBody) {
    with_server([](web::AppServer& server) -> Task<void> {
        net::Socket s = co_await connect_to(server.port());
        const std::string body = "abcdefgLINE\n0123456789xyz";
        co_await net::sock_sendall(s, "POST /methods HTTP/1.1\r\nHost: a\r\nContent-Length: " +
                                          std::to_string(body.size()) + "\r\n\r\n" + body +
                                          "POST /read HTTP/1.1\r\nHost: a\r\n"
                                          "Transfer-Encoding: chunked\r\n\r\n" +
                                          chunk("12345") + chunk("678") + "0\r\n\r\n");
        s.shutdown(SHUT_WR);
        std::string got = co_await read_all(s);
        EXPECT_NE(got.find("abc|defg|LINE\n|01234|56789|xyz|eof|body"), std::string::npos) << got;
        EXPECT_NE(got.find("\r\n\r\n8 8"), std::string::npos) << got;
    });
}

// The server's buffer limit in the large-body tests, and what a buffer may
// reach: the limit plus one read of the connection (16 KiB) with room.
constexpr std::size_t kLimit = 16 * 1024;
constexpr std::size_t kBound = kLimit + 32 * 1024;
constexpr std::size_t kBody = 32u << 20;

TEST(BodyStream, ReadingPausesWhileTheHandlerDoesNotRead) {
    // 32 MiB: more than the loopback socket buffers can hold, so the
    // client's sends stall once the server stops reading.
    web::ServerOptions o;
    o.body_buffer_limit = kLimit;
    o.max_body_size = 64u << 20;
    with_server(
        [](web::AppServer& server) -> Task<void> {
            net::Socket s = co_await connect_to(server.port());
            const std::string body = pattern(kBody);
            auto sender =
                corio::create_task([](net::Socket& s, const std::string& body) -> Task<void> {
                    co_await net::sock_sendall(s,
                                               "POST /gate HTTP/1.1\r\nHost: a\r\n"
                                               "Content-Length: " +
                                                   std::to_string(body.size()) + "\r\n\r\n");
                    co_await net::sock_sendall(s, body);
                }(s, body));
            while (probe->held == nullptr || probe->held->buffered() <= 16 * 1024) {
                co_await corio::sleep(1ms);
            }
            // Give the server time to read more if it were still reading.
            for (int i = 0; i < 50; ++i) {
                co_await corio::sleep(1ms);
            }
            // At most the limit and one read of the connection: nothing more
            // came in (the rest waits in the sockets, then in the client).
            EXPECT_LE(probe->held->buffered(), kBound);
            EXPECT_EQ(probe->held->total_bytes(), probe->held->buffered());
            EXPECT_FALSE(sender.done());
            probe->gate.set();  // the handler reads: reading resumes
            co_await sender;
            std::string got = co_await read_until(s, "\r\n\r\n" + std::to_string(kBody));
            EXPECT_NE(got.find("\r\n\r\n" + std::to_string(kBody)), std::string::npos) << got;
            EXPECT_LE(probe->peak, kBound);
        },
        o);
}

TEST(BodyStream, LargeEchoWithCurlAndCorioClientKeepsTheBufferBounded) {
    web::ServerOptions o;
    o.body_buffer_limit = kLimit;
    o.max_body_size = 64u << 20;
    with_server(
        [](web::AppServer& server) -> Task<void> {
            const std::string base = "http://127.0.0.1:" + std::to_string(server.port());
            // 8 MiB (512 times the limit) through curl, as Content-Length and chunked.
            const std::string payload = pattern(8u << 20);
            const std::filesystem::path dir = std::filesystem::temp_directory_path();
            const std::filesystem::path in = dir / ("corio_body_in_" + std::to_string(getpid()));
            const std::filesystem::path out = dir / ("corio_body_out_" + std::to_string(getpid()));
            std::ofstream(in, std::ios::binary) << payload;
            for (bool chunked : {false, true}) {
                probe->peak = 0;
                // Named arguments: GCC 12 may destroy a temporary made inside
                // co_await twice.
                const std::string data = "@" + in.string(), to = out.string(), url = base + "/echo",
                                  header = chunked ? "Transfer-Encoding: chunked" : "X-A: b";
                net::Process curl = co_await net::create_subprocess_exec(
                    "/usr/bin/curl", "-sS", "--max-time", "60", "--data-binary", data, "-H", header,
                    "-o", to, "-w", "%{http_code}", url,
                    net::SubprocessOptions{.stdout_ = net::PIPE});
                std::string code = co_await corio::wait_for(curl.stdout_->read(), 90s);
                EXPECT_EQ(co_await curl.wait(), 0);
                EXPECT_EQ(code, "200");
                std::ifstream f(out, std::ios::binary);
                std::string echoed((std::istreambuf_iterator<char>(f)), {});
                EXPECT_TRUE(echoed == payload) << echoed.size() << " chunked=" << chunked;
                EXPECT_GT(probe->peak, 0u);
                EXPECT_LE(probe->peak, kBound) << "chunked=" << chunked;
            }
            std::filesystem::remove(in);
            std::filesystem::remove(out);
            // corio's client sends its whole body before it reads the
            // answer, so the echo fits in what the sockets buffer.
            probe->peak = 0;
            http::ClientSession session;
            const std::string small = pattern(1u << 20);
            const std::string url = base + "/echo";
            http::ClientResponse r = co_await session.post(url, small);
            EXPECT_EQ(r.status(), 200);
            EXPECT_TRUE(r.body() == small) << r.body().size();
            EXPECT_LE(probe->peak, kBound);
            co_await session.close();
        },
        o);
}

TEST(BodyStream, ExpectContinueOnlyWhenTheHandlerReads) {
    with_server([](web::AppServer& server) -> Task<void> {
        // Not read: the final answer at once, no 100, and the connection closes
        // (the client still holds the body back).
        net::Socket s = co_await connect_to(server.port());
        co_await net::sock_sendall(s,
                                   "POST /ignore HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n"
                                   "Expect: 100-continue\r\n\r\n");
        std::string got = co_await read_all(s);
        EXPECT_EQ(got.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << got;
        EXPECT_EQ(got.find("100 Continue"), std::string::npos) << got;
        EXPECT_NE(got.find("Connection: close\r\n"), std::string::npos) << got;
        // Read: 100 first, then the answer.
        net::Socket t = co_await connect_to(server.port());
        co_await net::sock_sendall(t,
                                   "POST /read HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n"
                                   "Expect: 100-continue\r\n\r\n");
        EXPECT_EQ(co_await net::sock_recv(t, 65536), "HTTP/1.1 100 Continue\r\n\r\n");
        co_await net::sock_sendall(t, "12345");
        EXPECT_NE((co_await read_until(t, "5 5")).find("\r\n\r\n5 5"), std::string::npos);
    });
}

TEST(BodyStream, UnreadBodiesAreDiscardedOrTheConnectionCloses) {
    with_server([](web::AppServer& server) -> Task<void> {
        // Under discard_limit (256 KiB): both answers on one connection.
        const std::string small(100 * 1024, 'x');
        std::string got;
        {
            net::Socket s = co_await connect_to(server.port());
            co_await net::sock_sendall(
                s, "POST /ignore HTTP/1.1\r\nHost: a\r\nContent-Length: " +
                       std::to_string(small.size()) + "\r\n\r\n" + small +
                       "POST /ignore HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n" +
                       chunk(small) + "0\r\n\r\nGET /hello HTTP/1.1\r\nHost: a\r\n\r\n");
            s.shutdown(SHUT_WR);
            got = co_await read_all(s);
        }
        std::size_t a = got.find("ignored"), b = got.find("ignored", a + 1), c = got.find("hello");
        EXPECT_TRUE(a != std::string::npos && b != std::string::npos && c != std::string::npos &&
                    a < b && b < c)
            << got;
        EXPECT_EQ(got.find("Connection: close"), std::string::npos) << got;
        // Over it: answered, then closed (no half-close: the server closes).
        net::Socket s = co_await connect_to(server.port());
        co_await net::sock_sendall(s, "POST /ignore HTTP/1.1\r\nHost: a\r\nContent-Length: " +
                                          std::to_string(1 << 20) + "\r\n\r\n");
        got = co_await read_all(s);
        EXPECT_NE(got.find("Connection: close\r\n"), std::string::npos) << got;
        EXPECT_NE(got.find("\r\n\r\nignored"), std::string::npos) << got;
        // A chunked rest past the limit: closed once the limit is passed.
        net::Socket t = co_await connect_to(server.port());
        co_await net::sock_sendall(
            t, "POST /ignore HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n");
        got = co_await read_until(t, "ignored");
        EXPECT_NE(got.find("ignored"), std::string::npos) << got;
        EXPECT_EQ(got.find("Connection: close"), std::string::npos) << got;
        // 512 KiB more: the server closes after 256 KiB (a reset, when
        // bytes were left unread, is a close too).
        auto sender = corio::create_task([](net::Socket& t) -> Task<void> {
            const std::string piece = chunk(std::string(64 * 1024, 'z'));
            try {
                for (int i = 0; i < 8; ++i) {
                    co_await net::sock_sendall(t, piece);
                }
            } catch (const std::system_error&) {
            }
        }(t));
        std::string rest;
        try {
            rest = co_await read_all(t);
        } catch (const std::system_error&) {
        }
        co_await sender;
        EXPECT_EQ(rest, "");  // closed, nothing else sent
    });
}

TEST(BodyStream, BodyLimitWhileStreamingAnswers413) {
    web::ServerOptions o;
    o.max_body_size = 1000;
    with_server(
        [](web::AppServer& server) -> Task<void> {
            // A chunked body grows past the limit while the handler reads it.
            net::Socket s = co_await connect_to(server.port());
            co_await net::sock_sendall(
                s, "POST /read HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n" +
                       chunk(std::string(600, 'a')) + chunk(std::string(600, 'b')) +
                       "0\r\n\r\nGET /hello HTTP/1.1\r\nHost: a\r\n\r\n");
            std::string got = co_await read_all(s);
            EXPECT_EQ(got.rfind("HTTP/1.1 413 Content Too Large\r\n", 0), 0u) << got;
            EXPECT_NE(got.find("Connection: close\r\n"), std::string::npos) << got;
            EXPECT_EQ(got.find("hello"), std::string::npos) << got;
        },
        o);
}

TEST(BodyStream, ConnectionLostMidBodyFailsTheRead) {
    with_server([](web::AppServer& server) -> Task<void> {
        {
            net::Socket s = co_await connect_to(server.port());
            co_await net::sock_sendall(s,
                                       "POST /lost HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n"
                                       "\r\nonly part");
            while (!probe->lost_started) {  // (a request cut off before is dropped)
                co_await corio::sleep(1ms);
            }
            s.close();
        }
        while (!probe->lost_done) {
            co_await corio::sleep(1ms);
        }
        EXPECT_NE(probe->error.find("Connection lost"), std::string::npos) << probe->error;
    });
}

}  // namespace
