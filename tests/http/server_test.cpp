#include "corio/http/server.hpp"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <regex>
#include <string>
#include <vector>

#include "corio/corio.hpp"
#include "corio/net/socket.hpp"
#include "corio/net/subprocess.hpp"
#include "net/net_fixture.hpp"

using namespace std::chrono_literals;
using corio::Task;
namespace net = corio::net;
namespace web = corio::http::web;
using corio_test::net_run;
using corio_test::Reports;

namespace {

// How many /sleep handlers have started (the tests run one loop at a time).
int sleepers_started = 0;

// /big: pieces written so far, and how many it writes (32 MiB in all: more
// than any loopback socket buffers, so the handler must wait in write()).
int big_pieces_written = 0;
constexpr int kBigPieces = 512;
constexpr std::size_t kBigPiece = 64 * 1024;

// Waits until `n` /sleep handlers have started.
Task<void> sleepers_reach(int n) {
    while (sleepers_started < n) {
        co_await corio::sleep(1ms);
    }
}

// The tutorial's app plus a few routes the tests need.
web::Application make_app(std::vector<std::string>* log = nullptr) {
    web::Application app;
    app.add_get("/", [](web::Request&) -> Task<web::Response> {
        web::Response r("<h1>Index</h1>", 200, "text/html");
        co_return r;
    });
    app.add_get("/hello/{name}", [](web::Request& req) -> Task<web::Response> {
        co_return web::Response::text("hello, " + req.match_info().at("name") + "!");
    });
    app.add_get("/items/{id:\\d+}", [](web::Request& req) -> Task<web::Response> {
        co_return web::Response::json("{\"id\": " + req.match_info().at("id") + "}");
    });
    app.add_post("/echo", [](web::Request& req) -> Task<web::Response> {
        co_return web::Response(co_await req.read());
    });
    app.add_get("/query", [](web::Request& req) -> Task<web::Response> {
        std::string out;
        for (std::string_view v : req.query().get_all("a")) {
            out += std::string(v) + ";";
        }
        out += req.headers().get("X-Test", "-");
        co_return web::Response::text(out);
    });
    app.add_get("/sleep/{ms:\\d+}", [](web::Request& req) -> Task<web::Response> {
        ++sleepers_started;
        co_await corio::sleep(std::chrono::milliseconds(std::stoi(req.match_info().at("ms"))));
        co_return web::Response::text("slept " + req.match_info().at("ms"));
    });
    app.add_get("/fail", [](web::Request&) -> Task<web::Response> {
        throw std::runtime_error("handler broke");
        co_return web::Response();
    });
    app.add_get("/teapot", [](web::Request&) -> Task<web::Response> {
        throw web::HTTPException(418, "short and stout");
        co_return web::Response();
    });
    app.add_get("/stream", [](web::Request& req) -> Task<web::Response> {
        web::StreamResponse resp;
        resp.set_content_type("text/plain");
        co_await resp.prepare(req);
        co_await resp.write("a");
        co_await resp.write("bb");
        if (req.query().contains("eof")) {
            co_await resp.write_eof("ccc");
        } else {
            co_await resp.write("ccc");  // the server ends the body
        }
        co_return resp;
    });
    app.add_get("/big", [](web::Request& req) -> Task<web::Response> {
        web::StreamResponse resp;
        co_await resp.prepare(req);
        const std::string piece(kBigPiece, 'x');
        big_pieces_written = 0;
        for (int i = 0; i < kBigPieces; ++i) {
            co_await resp.write(piece);
            ++big_pieces_written;
        }
        co_await resp.write_eof();
        co_return resp;
    });
    app.add_get("/stream-bad-header", [](web::Request& req) -> Task<web::Response> {
        web::StreamResponse resp;
        resp.headers().add("Content-Length", "5");  // the server's to set: prepare() throws
        co_await resp.prepare(req);
        co_return resp;
    });
    app.add_get("/stream-fail", [](web::Request& req) -> Task<web::Response> {
        web::StreamResponse resp;
        co_await resp.prepare(req);
        co_await resp.write("partial");
        throw std::runtime_error("broke mid-body");
    });
    (void)log;
    return app;
}

// Drops the Date line, whose value changes every second.
std::string without_date(std::string s) {
    static const std::regex date("Date: [^\r]*\r\n");
    return std::regex_replace(s, date, "");
}

Task<net::Socket> connect_to(std::uint16_t port) {
    net::Socket s = net::Socket::create(AF_INET, SOCK_STREAM);
    s.set_nodelay(true);
    co_await net::sock_connect(s, net::SocketAddress::ip("127.0.0.1", port));
    co_return s;
}

// Reads until the server closes the connection.
Task<std::string> read_all(net::Socket& s) {
    std::string out;
    for (;;) {
        std::string part = co_await corio::wait_for(net::sock_recv(s, 65536), 10s);
        if (part.empty()) {
            co_return out;
        }
        out += part;
    }
}

// Sends `request` in one write, half-closes, returns all the server sent.
Task<std::string> exchange(std::uint16_t port, std::string request, bool half_close = true) {
    net::Socket s = co_await connect_to(port);
    co_await net::sock_sendall(s, request);
    if (half_close) {
        s.shutdown(SHUT_WR);
    }
    co_return without_date(co_await read_all(s));
}

// Serves make_app() with `options`, runs `body(port)`, shuts down.
template <class F>
void with_server(F body, web::ServerOptions options = {}, Reports* reports = nullptr) {
    net_run(
        [](F body, web::ServerOptions options) -> Task<void> {
            web::Application app = make_app();
            web::AppServer server = co_await web::serve(app, "127.0.0.1", 0, options);
            co_await body(server);
            co_await server.shutdown(5s);
            EXPECT_EQ(server.connections(), 0u);
        }(std::move(body), options),
        reports);
}

}  // namespace

TEST(WebServer, AnswersTheTutorialRoutes) {
    with_server([](web::AppServer& server) -> Task<void> {
        std::string got = co_await exchange(server.port(),
                                            "GET / HTTP/1.1\r\nHost: a\r\n\r\n"
                                            "GET /hello/John%20Doe HTTP/1.1\r\nHost: a\r\n\r\n");
        EXPECT_EQ(got,
                  "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 14\r\n\r\n"
                  "<h1>Index</h1>"
                  "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\n"
                  "Content-Length: 16\r\n\r\nhello, John Doe!");
        EXPECT_EQ(server.requests_served(), 2u);
    });
}

TEST(WebServer, ConstrainedParameter404And405WithAllow) {
    with_server([](web::AppServer& server) -> Task<void> {
        std::string got = co_await exchange(server.port(),
                                            "GET /items/42 HTTP/1.1\r\nHost: a\r\n\r\n"
                                            "GET /items/abc HTTP/1.1\r\nHost: a\r\n\r\n"
                                            "DELETE /hello/x HTTP/1.1\r\nHost: a\r\n\r\n");
        EXPECT_NE(got.find("HTTP/1.1 200 OK\r\nContent-Type: application/json; charset=utf-8\r\n"
                           "Content-Length: 10\r\n\r\n{\"id\": 42}"),
                  std::string::npos)
            << got;
        EXPECT_NE(got.find("HTTP/1.1 404 Not Found\r\n"), std::string::npos) << got;
        EXPECT_NE(got.find("404: Not Found"), std::string::npos) << got;
        EXPECT_NE(got.find("HTTP/1.1 405 Method Not Allowed\r\nContent-Type: text/plain; "
                           "charset=utf-8\r\nAllow: GET, HEAD\r\n"),
                  std::string::npos)
            << got;
    });
}

TEST(WebServer, PipelinedResponsesKeepRequestOrder) {
    // The first request takes longest; its answer must still come first.
    with_server([](web::AppServer& server) -> Task<void> {
        std::string got = co_await exchange(server.port(),
                                            "GET /sleep/30 HTTP/1.1\r\nHost: a\r\n\r\n"
                                            "GET /sleep/0 HTTP/1.1\r\nHost: a\r\n\r\n"
                                            "GET /sleep/10 HTTP/1.1\r\nHost: a\r\n\r\n");
        std::size_t a = got.find("slept 30"), b = got.find("slept 0"), c = got.find("slept 10");
        EXPECT_TRUE(a != std::string::npos && b != std::string::npos && c != std::string::npos)
            << got;
        EXPECT_LT(a, b);
        EXPECT_LT(b, c);
    });
}

TEST(WebServer, ManyPipelinedRequestsPastTheReadPause) {
    web::ServerOptions o;
    o.max_pipelined = 2;
    with_server(
        [](web::AppServer& server) -> Task<void> {
            std::string req;
            for (int i = 0; i < 50; ++i) {
                req += "GET /hello/" + std::to_string(i) + " HTTP/1.1\r\nHost: a\r\n\r\n";
            }
            std::string got = co_await exchange(server.port(), req);
            std::size_t pos = 0;
            for (int i = 0; i < 50; ++i) {
                pos = got.find("hello, " + std::to_string(i) + "!", pos);
                EXPECT_NE(pos, std::string::npos) << i;
            }
            EXPECT_EQ(server.requests_served(), 50u);
        },
        o);
}

TEST(WebServer, RequestSplitIntoSingleBytes) {
    with_server([](web::AppServer& server) -> Task<void> {
        net::Socket s = co_await connect_to(server.port());
        const std::string req =
            "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello";
        for (char c : req) {
            co_await net::sock_sendall(s, std::string(1, c));
            co_await corio::sleep(0ms);
        }
        std::string got = without_date(co_await read_all(s));
        EXPECT_EQ(got, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello");
    });
}

TEST(WebServer, ChunkedRequestBodyQueryAndHeaders) {
    with_server([](web::AppServer& server) -> Task<void> {
        std::string got = co_await exchange(
            server.port(),
            "POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
            "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
            "GET /query?a=1&b=2&a=x+y HTTP/1.1\r\nHost: a\r\nx-test: yes\r\n\r\n");
        EXPECT_NE(got.find("Content-Length: 11\r\n\r\nhello world"), std::string::npos) << got;
        EXPECT_NE(got.find("\r\n\r\n1;x y;yes"), std::string::npos) << got;
    });
}

TEST(WebServer, Http10HeadAndConnectionClose) {
    with_server([](web::AppServer& server) -> Task<void> {
        // HTTP/1.0 without keep-alive: answered in 1.0, then closed (no half-close here).
        std::string got = co_await exchange(server.port(), "GET / HTTP/1.0\r\n\r\n", false);
        EXPECT_EQ(got,
                  "HTTP/1.0 200 OK\r\nContent-Type: text/html\r\nContent-Length: 14\r\n"
                  "Connection: close\r\n\r\n"
                  "<h1>Index</h1>");
        got = co_await exchange(server.port(), "HEAD /hello/x HTTP/1.1\r\nHost: a\r\n\r\n");
        EXPECT_EQ(got,
                  "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\n"
                  "Content-Length: 9\r\n\r\n");
        got = co_await exchange(server.port(),
                                "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
                                "GET /hello/ignored HTTP/1.1\r\nHost: a\r\n\r\n",
                                false);
        EXPECT_NE(got.find("Connection: close\r\n"), std::string::npos) << got;
        EXPECT_EQ(got.find("ignored"), std::string::npos) << got;
    });
}

TEST(WebServer, MalformedInputGets4xxAndClose) {
    web::ServerOptions o;
    o.max_body_size = 10;
    o.max_headers = 5;
    with_server(
        [](web::AppServer& server) -> Task<void> {
            const std::pair<std::string, std::string> cases[] = {
                {"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\n"
                 "Transfer-Encoding: chunked\r\n\r\n",
                 "HTTP/1.1 400 Bad Request\r\n"},
                {"GET / HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n", "HTTP/1.1 400 Bad Request\r\n"},
                {"GET / HTTP/1.1\nHost: a\n\n", "HTTP/1.1 400 Bad Request\r\n"},
                {"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\nhello world",
                 "HTTP/1.1 413 Content Too Large\r\n"},
                {"GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 1\r\nC: 1\r\nD: 1\r\nE: 1\r\n\r\n",
                 "HTTP/1.1 431 Request Header Fields Too Large\r\n"},
                {"GET /" + std::string(9000, 'a') + " HTTP/1.1\r\nHost: a\r\n\r\n",
                 "HTTP/1.1 414 URI Too Long\r\n"},
                {"GET / HTTP/2.0\r\nHost: a\r\n\r\n",
                 "HTTP/1.1 505 HTTP Version Not Supported\r\n"},
                {"\x01\x02\x03 garbage\r\n\r\n", "HTTP/1.1 400 Bad Request\r\n"},
            };
            for (const auto& [req, status] : cases) {
                // No half-close: the server must close by itself.
                std::string got = co_await exchange(server.port(), req, false);
                EXPECT_EQ(got.rfind(status, 0), 0u) << req.substr(0, 60) << " -> " << got;
                EXPECT_NE(got.find("Connection: close\r\n"), std::string::npos) << got;
            }
            EXPECT_EQ(server.requests_served(), 0u);
        },
        o);
}

TEST(WebServer, DeclinedUpgradeLetsHttpGoOn) {
    // The bytes after an Upgrade request wait for its handler; a plain answer
    // means they are HTTP again.
    with_server([](web::AppServer& server) -> Task<void> {
        std::string got = co_await exchange(server.port(),
                                            "GET /hello/x HTTP/1.1\r\nHost: a\r\nUpgrade: foo\r\n"
                                            "Connection: upgrade\r\n\r\n"
                                            "GET /hello/y HTTP/1.1\r\nHost: a\r\n\r\n");
        std::size_t x = got.find("hello, x!"), y = got.find("hello, y!");
        EXPECT_TRUE(x != std::string::npos && y != std::string::npos && x < y) << got;
        EXPECT_EQ(server.requests_served(), 2u);
    });
}

TEST(WebServer, ErrorAfterGoodPipelinedRequestIsAnsweredInOrder) {
    with_server([](web::AppServer& server) -> Task<void> {
        std::string got = co_await exchange(server.port(),
                                            "GET /sleep/5 HTTP/1.1\r\nHost: a\r\n\r\n"
                                            "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
                                            false);
        std::size_t ok = got.find("slept 5"), bad = got.find("400 Bad Request");
        EXPECT_TRUE(ok != std::string::npos && bad != std::string::npos && ok < bad) << got;
    });
}

TEST(WebServer, HandlerErrorsBecome500AndHTTPExceptionsTheirStatus) {
    Reports reports;
    with_server(
        [](web::AppServer& server) -> Task<void> {
            std::string got = co_await exchange(server.port(),
                                                "GET /fail HTTP/1.1\r\nHost: a\r\n\r\n"
                                                "GET /teapot HTTP/1.1\r\nHost: a\r\n\r\n");
            EXPECT_NE(got.find("HTTP/1.1 500 Internal Server Error\r\n"), std::string::npos);
            EXPECT_NE(got.find("HTTP/1.1 418 I'm a Teapot\r\n"), std::string::npos) << got;
            EXPECT_NE(got.find("short and stout"), std::string::npos);
        },
        {}, &reports);
    ASSERT_EQ(reports.items.size(), 1u);
    EXPECT_TRUE(reports.contains("Error handling request GET /fail"));
}

TEST(WebServer, KeepAliveServesOneConnectionAndExpectContinue) {
    with_server([](web::AppServer& server) -> Task<void> {
        net::Socket s = co_await connect_to(server.port());
        co_await net::sock_sendall(s, "GET /hello/1 HTTP/1.1\r\nHost: a\r\n\r\n");
        std::string first = co_await net::sock_recv(s, 65536);
        EXPECT_NE(first.find("hello, 1!"), std::string::npos);
        EXPECT_EQ(server.connections(), 1u);
        co_await net::sock_sendall(s,
                                   "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n"
                                   "Expect: 100-continue\r\n\r\n");
        std::string cont = co_await net::sock_recv(s, 65536);
        EXPECT_EQ(cont, "HTTP/1.1 100 Continue\r\n\r\n");
        co_await net::sock_sendall(s, "ok");
        std::string second = co_await net::sock_recv(s, 65536);
        EXPECT_NE(second.find("\r\n\r\nok"), std::string::npos) << second;
        EXPECT_EQ(server.connections(), 1u);
    });
}

TEST(WebServer, MiddlewaresRunInOnionOrder) {
    net_run([]() -> Task<void> {
        std::vector<std::string> log;
        web::Application app;
        auto mw = [&log](std::string name) {
            return
                [&log, name](web::Request& req, const web::Handler& next) -> Task<web::Response> {
                    log.push_back(name + " in");
                    web::Response r = co_await next(req);
                    r.headers().add("X-Mw", name);
                    log.push_back(name + " out");
                    co_return r;
                };
        };
        app.add_middleware(mw("outer"));
        app.add_middleware(mw("inner"));
        app.add_get("/", [&log](web::Request&) -> Task<web::Response> {
            log.push_back("handler");
            co_return web::Response::text("x");
        });
        web::AppServer server = co_await web::serve(app, "127.0.0.1", 0);
        std::string got = co_await exchange(server.port(), "GET / HTTP/1.1\r\nHost: a\r\n\r\n");
        EXPECT_NE(got.find("X-Mw: inner\r\nX-Mw: outer\r\n"), std::string::npos) << got;
        EXPECT_EQ(log, (std::vector<std::string>{"outer in", "inner in", "handler", "inner out",
                                                 "outer out"}));
        // A 404 passes through the middlewares too.
        got = co_await exchange(server.port(), "GET /nope HTTP/1.1\r\nHost: a\r\n\r\n");
        EXPECT_NE(got.find("404 Not Found"), std::string::npos);
        co_await server.shutdown();
    }());
}

TEST(WebServer, IdleAndHeaderTimeouts) {
    web::ServerOptions o;
    o.keepalive_timeout = 50ms;
    with_server(
        [](web::AppServer& server) -> Task<void> {
            // Part of a head, then nothing: 408 and close.
            std::string got = co_await exchange(server.port(), "GET / HTTP/1.1\r\nHo", false);
            EXPECT_EQ(got.rfind("HTTP/1.1 408 Request Timeout\r\n", 0), 0u) << got;
            // Nothing at all: closed without an answer.
            got = co_await exchange(server.port(), "", false);
            EXPECT_EQ(got, "");
        },
        o);
}

TEST(WebServer, EachRequestMovesTheIdleDeadline) {
    // Requests 100 ms apart for longer than the 300 ms idle timeout: the
    // connection stays open, because each one starts a new idle period (the
    // timer armed at connect fires early and waits again). Then, idle, it
    // is closed without an answer.
    web::ServerOptions o;
    o.keepalive_timeout = 300ms;
    with_server(
        [](web::AppServer& server) -> Task<void> {
            net::Socket s = co_await connect_to(server.port());
            const auto start = std::chrono::steady_clock::now();
            const std::string request = "GET /hello/again HTTP/1.1\r\nHost: a\r\n\r\n";
            int answered = 0;
            while (std::chrono::steady_clock::now() - start < 700ms) {
                co_await net::sock_sendall(s, request);
                std::string got;
                while (got.find("hello, again!") == std::string::npos) {
                    std::string part = co_await corio::wait_for(net::sock_recv(s, 65536), 10s);
                    if (part.empty()) {
                        ADD_FAILURE() << "closed after " << answered << " answers";
                        co_return;
                    }
                    got += part;
                }
                ++answered;
                co_await corio::sleep(100ms);
            }
            EXPECT_GE(answered, 5);
            EXPECT_EQ(co_await read_all(s), "");  // idle: closed, nothing sent
        },
        o);
}

TEST(WebServer, ShutdownLetsInFlightRequestsFinish) {
    with_server([](web::AppServer& server) -> Task<void> {
        net::Socket idle = co_await connect_to(server.port());
        net::Socket busy = co_await connect_to(server.port());
        const int started = sleepers_started;
        co_await net::sock_sendall(busy, "GET /sleep/50 HTTP/1.1\r\nHost: a\r\n\r\n");
        co_await corio::wait_for(sleepers_reach(started + 1), 10s);
        while (server.connections() < 2) {
            co_await corio::sleep(1ms);
        }
        co_await server.shutdown(5s);
        std::string got = without_date(co_await read_all(busy));
        EXPECT_EQ(got,
                  "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\n"
                  "Content-Length: 8\r\nConnection: close\r\n\r\nslept 50");
        EXPECT_EQ(co_await read_all(idle), "");
    });
}

TEST(WebServer, ShutdownDeadlineAbortsStuckHandlers) {
    with_server([](web::AppServer& server) -> Task<void> {
        net::Socket busy = co_await connect_to(server.port());
        const int started = sleepers_started;
        co_await net::sock_sendall(busy, "GET /sleep/100000 HTTP/1.1\r\nHost: a\r\n\r\n");
        co_await corio::wait_for(sleepers_reach(started + 1), 10s);
        co_await server.shutdown(20ms);
        EXPECT_EQ(server.connections(), 0u);
        std::string got;
        try {
            got = co_await read_all(busy);
        } catch (const std::system_error&) {  // ECONNRESET is fine too
        }
        EXPECT_EQ(got, "");
    });
}

TEST(StreamResponse, ChunkedBodyThenKeepAlive) {
    with_server([](web::AppServer& server) -> Task<void> {
        std::string got = co_await exchange(server.port(),
                                            "GET /stream?eof HTTP/1.1\r\nHost: a\r\n\r\n"
                                            "GET /stream HTTP/1.1\r\nHost: a\r\n\r\n"
                                            "GET /hello/after HTTP/1.1\r\nHost: a\r\n\r\n");
        const std::string streamed =
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n"
            "1\r\na\r\n2\r\nbb\r\n3\r\nccc\r\n0\r\n\r\n";
        EXPECT_EQ(got.substr(0, 2 * streamed.size()), streamed + streamed);
        EXPECT_NE(got.find("hello, after!", 2 * streamed.size()), std::string::npos) << got;
    });
}

TEST(StreamResponse, WriteWaitsWhileTheClientDoesNotRead) {
    with_server([](web::AppServer& server) -> Task<void> {
        big_pieces_written = -1;
        net::Socket s = co_await connect_to(server.port());
        co_await net::sock_sendall(s, "GET /big HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
        while (big_pieces_written <= 0) {
            co_await corio::sleep(1ms);
        }
        // Nothing read yet: without backpressure every write() would have
        // returned at once and the handler would be done.
        EXPECT_LT(big_pieces_written, kBigPieces);
        std::string got = co_await read_all(s);
        EXPECT_EQ(big_pieces_written, kBigPieces);
        EXPECT_GT(got.size(), kBigPieces * kBigPiece);
        EXPECT_EQ(got.substr(got.size() - 5), "0\r\n\r\n");
    });
}

TEST(StreamResponse, Http10HeadAndFailureMidBody) {
    Reports reports;
    with_server(
        [](web::AppServer& server) -> Task<void> {
            std::string got =
                co_await exchange(server.port(), "GET /stream HTTP/1.0\r\n\r\n", false);
            EXPECT_EQ(got,
                      "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n"
                      "abbccc");
            got = co_await exchange(server.port(), "HEAD /stream HTTP/1.1\r\nHost: a\r\n\r\n");
            EXPECT_EQ(got,
                      "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                      "Transfer-Encoding: chunked\r\n\r\n");
            // The head is out when the handler fails: no 500, the body is cut and the
            // connection closed (the client sees no last chunk).
            got = co_await exchange(server.port(),
                                    "GET /stream-fail HTTP/1.1\r\nHost: a\r\n\r\n"
                                    "GET /hello/never HTTP/1.1\r\nHost: a\r\n\r\n",
                                    false);
            EXPECT_NE(got.find("7\r\npartial\r\n"), std::string::npos) << got;
            EXPECT_EQ(got.find("0\r\n\r\n"), std::string::npos) << got;
            EXPECT_EQ(got.find("never"), std::string::npos) << got;
            // prepare() refused the head: nothing was sent, so a 500 can still go out.
            got = co_await exchange(server.port(),
                                    "GET /stream-bad-header HTTP/1.1\r\nHost: a\r\n\r\n");
            EXPECT_EQ(got.rfind("HTTP/1.1 500 Internal Server Error\r\n", 0), 0u) << got;
        },
        {}, &reports);
    EXPECT_TRUE(reports.contains("Error handling request GET /stream-fail"));
    EXPECT_TRUE(reports.contains("Error handling request GET /stream-bad-header"));
}

TEST(RunApp, StopsGracefullyOnSigterm) {
    std::vector<std::string> steps;
    net_run([&steps]() -> Task<void> {
        web::Application app = make_app();
        // The life-cycle steps, as aiohttp's signals: startup before the
        // first request, shutdown and clean-up after the signal.
        app.on_startup([&steps]() -> Task<void> {
            steps.push_back("startup");
            co_return;
        });
        app.on_shutdown([&steps]() -> Task<void> {
            steps.push_back("shutdown");
            co_return;
        });
        app.on_cleanup([&steps]() -> Task<void> {
            steps.push_back("cleanup");
            co_return;
        });
        // Find a free port, then serve it with run_app.
        std::uint16_t port = 0;
        {
            net::Socket probe = net::Socket::create(AF_INET, SOCK_STREAM);
            probe.bind(net::SocketAddress::ip("127.0.0.1", 0));
            port = probe.local_address().port();
        }
        auto task = corio::create_task(web::run_app(app, "127.0.0.1", port));
        std::string got;
        for (int i = 0; i < 200 && got.empty(); ++i) {
            bool refused = false;
            try {
                got = co_await exchange(port, "GET /hello/sig HTTP/1.1\r\nHost: a\r\n\r\n");
            } catch (const std::system_error&) {
                refused = true;  // not listening yet
            }
            if (refused) {
                co_await corio::sleep(5ms);
            }
        }
        EXPECT_NE(got.find("hello, sig!"), std::string::npos) << got;
        EXPECT_EQ(steps, std::vector<std::string>{"startup"});
        ::kill(::getpid(), SIGTERM);
        co_await corio::wait_for(std::move(task), 10s);
        EXPECT_THROW(co_await connect_to(port), std::system_error);
    }());
    EXPECT_EQ(steps, (std::vector<std::string>{"startup", "shutdown", "cleanup"}));
}

TEST(RunApp, AFailedStartupStillRunsShutdownAndCleanupAndNeverListens) {
    std::vector<std::string> steps;
    net_run([&steps]() -> Task<void> {
        web::Application app = make_app();
        app.on_startup([]() -> Task<void> {
            throw std::runtime_error("no database");
            co_return;
        });
        app.on_shutdown([&steps]() -> Task<void> {
            steps.push_back("shutdown");
            co_return;
        });
        app.on_cleanup([&steps]() -> Task<void> {
            steps.push_back("cleanup");
            co_return;
        });
        EXPECT_THROW(co_await web::run_app(app, "127.0.0.1", 0), std::runtime_error);
    }());
    EXPECT_EQ(steps, (std::vector<std::string>{"shutdown", "cleanup"}));
}

TEST(WebServer, CurlAsPeer) {
    with_server([](web::AppServer& server) -> Task<void> {
        const std::string base = "http://127.0.0.1:" + std::to_string(server.port());
        // Two URLs in one curl run share one keep-alive connection.
        net::Process curl = co_await net::create_subprocess_exec(
            "/usr/bin/curl", "-sS", "--max-time", "30", base + "/hello/curl", "-w",
            "|%{http_code}\n", "--next", "-sS", "--data-binary", "posted", base + "/echo", "-w",
            "|%{http_code} %{num_connects}\n", net::SubprocessOptions{.stdout_ = net::PIPE});
        std::string out = co_await corio::wait_for(curl.stdout_->read(), 60s);
        EXPECT_EQ(co_await curl.wait(), 0);
        EXPECT_EQ(out, "hello, curl!|200\nposted|200 0\n");  // no new connect for the second
        EXPECT_EQ(server.requests_served(), 2u);
    });
}

TEST(WebServer, AiohttpClientAsPeer) {
    with_server([](web::AppServer& server) -> Task<void> {
        net::Process peer = co_await net::create_subprocess_exec(
            "/usr/bin/python3", CORIO_AIOHTTP_PEER_PY, "client", std::to_string(server.port()),
            net::SubprocessOptions{.stdout_ = net::PIPE});
        std::string out = co_await corio::wait_for(peer.stdout_->read(), 60s);
        EXPECT_EQ(co_await peer.wait(), 0);
        EXPECT_EQ(out,
                  "200 text/html <h1>Index</h1>\n"
                  "200 hello, aiohttp!\n"
                  "200 100000 True\n"
                  "200 chunk1 chunk2\n"
                  "404 404: Not Found\n"
                  "405 GET, HEAD\n"
                  "200 9 b''\n");
        EXPECT_GE(server.requests_served(), 7u);
    });
}
