// Server options: max_connections (503 beyond it), the access log, and
// run_app over a LoopGroup.
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <atomic>
#include <cstdio>
#include <regex>
#include <string>
#include <thread>

#include "corio/corio.hpp"
#include "corio/http/client.hpp"
#include "corio/http/server.hpp"
#include "corio/loop_group.hpp"
#include "corio/net/socket.hpp"
#include "net/net_fixture.hpp"

using namespace std::chrono_literals;
using corio::Task;
namespace net = corio::net;
namespace web = corio::http::web;
using corio_test::net_run;

namespace {

web::Application make_app() {
    web::Application app;
    app.add_get(
        "/", [](web::Request&) -> Task<web::Response> { co_return web::Response::text("index"); });
    app.add_get("/stream", [](web::Request& req) -> Task<web::Response> {
        web::StreamResponse resp;
        co_await resp.prepare(req);
        co_await resp.write("abc");
        co_await resp.write_eof("de");
        co_return resp;
    });
    return app;
}

Task<net::Socket> connect_to(std::uint16_t port) {
    net::Socket s = net::Socket::create(AF_INET, SOCK_STREAM);
    co_await net::sock_connect(s, net::SocketAddress::ip("127.0.0.1", port));
    co_return s;
}

// Reads one response with a Content-Length body (enough for these tests).
Task<std::string> read_response(net::Socket& s) {
    std::string out;
    for (;;) {
        std::size_t end = out.find("\r\n\r\n");
        if (end != std::string::npos) {
            std::smatch m;
            static const std::regex cl("Content-Length: (\\d+)");
            std::string head = out.substr(0, end);
            std::size_t len = std::regex_search(head, m, cl) ? std::stoul(m[1]) : 0;
            if (out.size() >= end + 4 + len) {
                co_return out;
            }
        }
        std::string part = co_await corio::wait_for(net::sock_recv(s, 65536), 10s);
        if (part.empty()) {
            co_return out;
        }
        out += part;
    }
}

constexpr const char* kGet = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";

}  // namespace

TEST(ServerOptions, MaxConnectionsAnswers503BeyondTheLimit) {
    net_run([]() -> Task<void> {
        web::Application app = make_app();
        web::ServerOptions options;
        options.max_connections = 2;
        web::AppServer server = co_await web::serve(app, "127.0.0.1", 0, options);
        net::Socket a = co_await connect_to(server.port());
        net::Socket b = co_await connect_to(server.port());
        // Both admitted (keep-alive, still open).
        co_await net::sock_sendall(a, kGet);
        EXPECT_NE((co_await read_response(a)).find("200 OK"), std::string::npos);
        co_await net::sock_sendall(b, kGet);
        EXPECT_NE((co_await read_response(b)).find("200 OK"), std::string::npos);
        // The third is refused with 503, Retry-After, and closed.
        net::Socket c = co_await connect_to(server.port());
        co_await net::sock_sendall(c, kGet);
        std::string refused = co_await read_response(c);
        EXPECT_EQ(refused.rfind("HTTP/1.1 503 Service Unavailable\r\n", 0), 0u) << refused;
        EXPECT_NE(refused.find("Retry-After: 1\r\n"), std::string::npos) << refused;
        EXPECT_NE(refused.find("Connection: close\r\n"), std::string::npos) << refused;
        EXPECT_EQ(co_await corio::wait_for(net::sock_recv(c, 100), 10s), "");  // closed
        c.close();
        // When an admitted connection leaves, a new one is served again.
        a.close();
        while (server.connections() > 1) {
            co_await corio::sleep(1ms);
        }
        net::Socket d = co_await connect_to(server.port());
        co_await net::sock_sendall(d, kGet);
        EXPECT_NE((co_await read_response(d)).find("200 OK"), std::string::npos);
        // b is still served.
        co_await net::sock_sendall(b, kGet);
        EXPECT_NE((co_await read_response(b)).find("200 OK"), std::string::npos);
        b.close();
        d.close();
        co_await server.shutdown(1s);
    }());
}

TEST(ServerOptions, AccessLogInCombinedLogFormat) {
    char* buf = nullptr;
    std::size_t size = 0;
    std::FILE* log = open_memstream(&buf, &size);
    ASSERT_NE(log, nullptr);
    net_run([](std::FILE* log) -> Task<void> {
        web::Application app = make_app();
        web::ServerOptions options;
        options.access_log = log;
        web::AppServer server = co_await web::serve(app, "127.0.0.1", 0, options);
        net::Socket s = co_await connect_to(server.port());
        co_await net::sock_sendall(s,
                                   "GET /?q=1 HTTP/1.1\r\nHost: a\r\nUser-Agent: tester "
                                   "\"x\"\r\nReferer: http://r/\r\n\r\n"
                                   "GET /stream HTTP/1.1\r\nHost: a\r\n\r\n"
                                   "HEAD / HTTP/1.1\r\nHost: a\r\n\r\n"
                                   "GET /missing HTTP/1.1\r\nHost: a\r\n\r\n"
                                   "BAD\r\n\r\n");
        s.shutdown(SHUT_WR);
        while (!(co_await corio::wait_for(net::sock_recv(s, 65536), 10s)).empty()) {
        }
        co_await server.shutdown(1s);
    }(log));
    std::fclose(log);
    std::string text(buf, size);
    std::free(buf);
    const std::string t = R"(\[\d\d/[A-Z][a-z][a-z]/\d{4}:\d\d:\d\d:\d\d \+0000\])";
    const std::regex expected("127\\.0\\.0\\.1 - - " + t +
                              R"( "GET /\?q=1 HTTP/1\.1" 200 5 "http://r/" "tester \\"x\\""
)"
                              "127\\.0\\.0\\.1 - - " +
                              t +
                              R"( "GET /stream HTTP/1\.1" 200 5 "-" "-"
)"
                              "127\\.0\\.0\\.1 - - " +
                              t +
                              R"( "HEAD / HTTP/1\.1" 200 0 "-" "-"
)"
                              "127\\.0\\.0\\.1 - - " +
                              t +
                              R"( "GET /missing HTTP/1\.1" 404 14 "-" "-"
)"
                              "127\\.0\\.0\\.1 - - " +
                              t + R"( "-" 400 \d+ "-" "-"
)");
    EXPECT_TRUE(std::regex_match(text, expected)) << text;
}

TEST(ServerOptions, NoAccessLogByDefault) {
    // Nothing to observe but that serving works without a log stream.
    net_run([]() -> Task<void> {
        web::Application app = make_app();
        web::AppServer server = co_await web::serve(app, "127.0.0.1", 0);
        net::Socket s = co_await connect_to(server.port());
        co_await net::sock_sendall(s, kGet);
        EXPECT_NE((co_await read_response(s)).find("index"), std::string::npos);
        s.close();
        co_await server.shutdown(1s);
    }());
}

TEST(RunAppLoopGroup, ServesFromEveryLoopUntilStopped) {
    // A free port (run_app on a group needs a fixed one).
    std::uint16_t port = 0;
    {
        net::Socket probe = net::Socket::create(AF_INET, SOCK_STREAM);
        probe.bind(net::SocketAddress::ip("127.0.0.1", 0));
        port = probe.local_address().port();
    }
    web::Application app;
    std::atomic<int> on_group_loop{0};
    corio::LoopGroup group({.threads = 2, .handle_signals = false});
    app.add_get("/", [&](web::Request&) -> Task<web::Response> {
        if (group.index_of(corio::get_running_loop())) {
            ++on_group_loop;
        }
        co_return web::Response::text("from a loop");
    });
    std::atomic<bool> returned{false};
    std::exception_ptr failure;
    std::thread runner([&] {
        try {
            web::run_app(group, app, "127.0.0.1", port, {}, 1s);
        } catch (...) {
            failure = std::current_exception();
        }
        returned = true;
    });
    int ok = corio::run([](std::uint16_t port) -> Task<int> {
        int ok = 0;
        for (int i = 0; i < 100 && ok < 10; ++i) {
            corio::http::ClientSession session;  // a new connection each time
            bool refused = false;
            try {
                corio::http::ClientResponse r =
                    co_await session.get("http://127.0.0.1:" + std::to_string(port) + "/");
                ok += r.body() == "from a loop";
            } catch (const std::system_error&) {
                refused = true;  // not listening yet
            }
            if (refused) {
                co_await corio::sleep(50ms);
            }
            co_await session.close();
        }
        co_return ok;
    }(port));
    EXPECT_EQ(ok, 10);
    EXPECT_EQ(on_group_loop.load(), 10);
    EXPECT_FALSE(returned.load());  // still serving
    group.stop();
    runner.join();
    EXPECT_TRUE(returned.load());
    EXPECT_FALSE(failure);
    EXPECT_THROW(web::run_app(group, app, "127.0.0.1", 0), std::invalid_argument);
}
