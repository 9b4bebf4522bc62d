#include "corio/http/client.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "corio/corio.hpp"
#include "corio/http/server.hpp"
#include "corio/net/subprocess.hpp"
#include "corio/net/tls.hpp"
#include "net/net_fixture.hpp"
#include "support/tls_pki.hpp"

using namespace std::chrono_literals;
using corio::Task;
namespace net = corio::net;
namespace web = corio::http::web;
using corio::http::ClientResponse;
using corio::http::ClientSession;
using corio::http::ClientSessionOptions;
using corio::http::Headers;
using corio::http::RequestOptions;
using corio_test::net_run;
using corio_test::Reports;

namespace {

web::Application make_app() {
    web::Application app;
    app.add_get("/", [](web::Request&) -> Task<web::Response> {
        co_return web::Response("<h1>Index</h1>", 200, "text/html");
    });
    app.add_get("/hello/{name}", [](web::Request& req) -> Task<web::Response> {
        co_return web::Response::text("hello, " + req.match_info().at("name") + "!");
    });
    app.add_post("/echo", [](web::Request& req) -> Task<web::Response> {
        web::Response r(co_await req.read());
        r.headers().add("X-Method", req.method_name());
        r.headers().add("X-Agent", req.headers().get("User-Agent", "-"));
        co_return r;
    });
    app.add_put("/echo", [](web::Request& req) -> Task<web::Response> {
        std::string body = co_await req.read();
        co_return web::Response(body + " put");
    });
    app.add_get("/sleep", [](web::Request&) -> Task<web::Response> {
        co_await corio::sleep(100s);
        co_return web::Response();
    });
    app.add_get("/big", [](web::Request& req) -> Task<web::Response> {
        // 8 MiB in 64 KiB pieces: write() waits while the socket is full.
        web::StreamResponse resp;
        co_await resp.prepare(req);
        const std::string piece(65536, 'p');
        for (int i = 0; i < 128; ++i) {
            co_await resp.write(piece);
        }
        co_await resp.write_eof();
        co_return resp;
    });
    // Redirects: /redir/N answers 302 to the relative "N-1" until 0.
    app.add_get("/redir/{n:\\d+}", [](web::Request& req) -> Task<web::Response> {
        int n = std::stoi(req.match_info().at("n"));
        if (n == 0) {
            co_return web::Response::text("arrived");
        }
        web::Response r("moving " + std::to_string(n), 302);
        r.headers().add("Location", std::to_string(n - 1));
        co_return r;
    });
    // /to?status=S&url=U answers S with Location U (and a cookie).
    app.add_route("*", "/to", [](web::Request& req) -> Task<web::Response> {
        co_await req.read();
        web::Response r("go", std::stoi(std::string(req.query().get("status", "302"))));
        r.headers().add("Location", req.query().get("url", "/"));
        r.set_cookie("hop", "1");
        co_return r;
    });
    // What arrived: method, body, and some request headers.
    app.add_route("*", "/what", [](web::Request& req) -> Task<web::Response> {
        std::string body = co_await req.read();
        co_return web::Response::text(
            req.method_name() + " [" + body +
            "] auth=" + std::string(req.headers().get("Authorization", "-")) +
            " cookie=" + std::string(req.headers().get("Cookie", "-")) +
            " te=" + std::string(req.headers().get("Transfer-Encoding", "-")) +
            " cl=" + std::string(req.headers().get("Content-Length", "-")));
    });
    app.add_get("/close", [](web::Request&) -> Task<web::Response> {
        web::Response r = web::Response::text("bye");
        co_return r;
    });
    return app;
}

template <class F>
void with_server(F body, web::ServerOptions options = {}, Reports* reports = nullptr) {
    net_run(
        [](F body, web::ServerOptions options) -> Task<void> {
            web::Application app = make_app();
            web::AppServer server = co_await web::serve(app, "127.0.0.1", 0, options);
            co_await body(server);
            co_await server.shutdown(100ms);  // stuck /sleep handlers are cancelled
        }(std::move(body), options),
        reports);
}

std::string base(const web::AppServer& s) {
    return "http://127.0.0.1:" + std::to_string(s.port());
}

}  // namespace

TEST(ClientSession, GetPostAndKeepAliveReuse) {
    with_server([](web::AppServer& server) -> Task<void> {
        ClientSession session;
        ClientResponse r = co_await session.get(base(server) + "/");
        EXPECT_EQ(r.status(), 200);
        EXPECT_EQ(r.reason(), "OK");
        EXPECT_EQ(r.headers().get("content-type", ""), "text/html");
        EXPECT_EQ(co_await r.text(), "<h1>Index</h1>");
        r = co_await session.get(base(server) + "/hello/corio?x=1#frag");
        EXPECT_EQ(r.body(), "hello, corio!");
        const std::string big(300000, 'z');
        r = co_await session.post(base(server) + "/echo", big);
        EXPECT_TRUE(r.body() == big);
        EXPECT_EQ(r.headers().get("X-Method", ""), "POST");
        EXPECT_EQ(r.headers().get("X-Agent", ""), "corio");
        r = co_await session.put(base(server) + "/echo", "x");
        EXPECT_EQ(r.body(), "x put");
        EXPECT_EQ(session.connections_opened(), 1u);
        EXPECT_EQ(session.idle_connections(), 1u);
        EXPECT_EQ(server.connections(), 1u);
        co_await session.close();
        EXPECT_EQ(session.idle_connections(), 0u);
        EXPECT_THROW(co_await session.get(base(server) + "/"), corio::RuntimeError);
    });
}

TEST(ClientSession, ReadsALargeChunkedStreamResponse) {
    with_server([](web::AppServer& server) -> Task<void> {
        ClientSession session;
        ClientResponse r = co_await session.get(base(server) + "/big");
        EXPECT_EQ(r.headers().get("Transfer-Encoding", ""), "chunked");
        EXPECT_EQ(r.body().size(), 128u * 65536u);
        EXPECT_EQ(r.body().find_first_not_of('p'), std::string::npos);
        EXPECT_EQ(session.idle_connections(), 1u);  // a complete chunked body: reusable
        co_await session.close();
    });
}

TEST(ClientSession, ErrorStatusesAndRaiseForStatus) {
    with_server([](web::AppServer& server) -> Task<void> {
        ClientSession session;
        ClientResponse r = co_await session.get(base(server) + "/missing");
        EXPECT_EQ(r.status(), 404);
        EXPECT_FALSE(r.ok());
        try {
            r.raise_for_status();
            ADD_FAILURE() << "no throw";
        } catch (const corio::http::ClientResponseError& e) {
            EXPECT_EQ(e.status(), 404);
            EXPECT_NE(std::string(e.what()).find("Not Found"), std::string::npos);
        }
        r = co_await session.request("HEAD", base(server) + "/hello/x");
        EXPECT_EQ(r.status(), 200);
        EXPECT_EQ(r.headers().get("Content-Length", ""), "9");
        EXPECT_EQ(r.body(), "");
        r = co_await session.delete_(base(server) + "/");
        EXPECT_EQ(r.status(), 405);
        EXPECT_EQ(r.headers().get("Allow", ""), "GET, HEAD");
        EXPECT_EQ(session.connections_opened(), 1u);  // error answers keep the connection
        co_await session.close();
    });
}

TEST(ClientSession, ReadTimeoutDropsTheConnection) {
    with_server([](web::AppServer& server) -> Task<void> {
        ClientSessionOptions o;
        o.timeout.sock_read = 50ms;
        ClientSession session(o);
        EXPECT_THROW(co_await session.get(base(server) + "/sleep"), corio::TimeoutError);
        EXPECT_EQ(session.idle_connections(), 0u);
        ClientResponse r = co_await session.get(base(server) + "/");
        EXPECT_EQ(r.status(), 200);
        EXPECT_EQ(session.connections_opened(), 2u);
        co_await session.close();
    });
}

TEST(ClientSession, TotalTimeout) {
    with_server([](web::AppServer& server) -> Task<void> {
        ClientSessionOptions o;
        o.timeout.total = 50ms;
        ClientSession session(o);
        EXPECT_THROW(co_await session.get(base(server) + "/sleep"), corio::TimeoutError);
        EXPECT_EQ(session.idle_connections(), 0u);
        co_await session.close();
    });
}

TEST(ClientSession, RetriesOnceWhenThePooledConnectionWasClosed) {
    web::ServerOptions so;
    so.keepalive_timeout = 20ms;  // the server drops idle connections quickly
    with_server(
        [](web::AppServer& server) -> Task<void> {
            ClientSession session;
            EXPECT_EQ((co_await session.get(base(server) + "/")).status(), 200);
            while (server.connections() > 0) {
                co_await corio::sleep(5ms);
            }
            EXPECT_EQ((co_await session.get(base(server) + "/hello/again")).body(),
                      "hello, again!");
            EXPECT_EQ(session.connections_opened(), 2u);
            co_await session.close();
        },
        so);
}

TEST(ClientSession, BadUrlsAndRefusedConnections) {
    net_run([]() -> Task<void> {
        ClientSession session;
        EXPECT_THROW(co_await session.get("ftp://x/"), std::invalid_argument);
        EXPECT_THROW(co_await session.get("http:///x"), std::invalid_argument);
        EXPECT_THROW(co_await session.get("http://h:99999/"), std::invalid_argument);
        EXPECT_THROW(co_await session.get("http://h/a b"), std::invalid_argument);
        net::Socket holder;
        std::uint16_t port = corio_test::refused_port(holder);
        EXPECT_THROW(co_await session.get("http://127.0.0.1:" + std::to_string(port) + "/"),
                     std::system_error);
        co_await session.close();
    }());
}

namespace {

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

TEST(ClientSession, ResponsesThatEndTheConnection) {
    net_run([]() -> Task<void> {
        ClientSession session;
        // A body delimited by the end of the connection: read whole, not pooled.
        net::Server a = co_await raw_server("HTTP/1.0 200 OK\r\nX: 1\r\n\r\nuntil the end");
        std::string url = "http://127.0.0.1:" + std::to_string(a.sockets().at(0).port()) + "/";
        ClientResponse r = co_await session.get(url);
        EXPECT_EQ(r.body(), "until the end");
        EXPECT_EQ(r.version(), corio::http::HttpVersion10);
        EXPECT_EQ(session.idle_connections(), 0u);
        // Cut inside a Content-Length body.
        net::Server b = co_await raw_server("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort");
        url = "http://127.0.0.1:" + std::to_string(b.sockets().at(0).port()) + "/";
        EXPECT_THROW(co_await session.get(url), corio::http::ServerDisconnectedError);
        // Not HTTP at all.
        net::Server c = co_await raw_server("SSH-2.0-OpenSSH\r\n\r\n");
        url = "http://127.0.0.1:" + std::to_string(c.sockets().at(0).port()) + "/";
        EXPECT_THROW(co_await session.get(url), corio::http::ClientPayloadError);
        EXPECT_EQ(session.idle_connections(), 0u);
        co_await session.close();
        for (net::Server* s : {&a, &b, &c}) {
            s->close();
            co_await s->wait_closed();
        }
    }());
}

TEST(ClientSession, UnclosedSessionIsReported) {
    Reports reports;
    with_server(
        [&reports](web::AppServer& server) -> Task<void> {
            {
                ClientSession session;
                co_await session.get(base(server) + "/");
            }
            EXPECT_TRUE(reports.contains("Unclosed client session"));
        },
        {}, &reports);
    EXPECT_EQ(reports.items.size(), 1u);
}

TEST(ClientSession, HttpsWithVerification) {
    corio_test::TestPki pki;
    web::ServerOptions so;
    so.ssl = pki.server.get();
    net_run([](corio_test::TestPki& pki, web::ServerOptions so) -> Task<void> {
        web::Application app = make_app();
        web::AppServer server = co_await web::serve(app, "127.0.0.1", 0, so);
        std::string url = "https://localhost:" + std::to_string(server.port()) + "/hello/tls";
        ClientSessionOptions o;
        o.ssl = pki.client;
        ClientSession session(o);
        ClientResponse r = co_await session.get(url);
        EXPECT_EQ(r.body(), "hello, tls!");
        r = co_await session.get(url);
        EXPECT_EQ(session.connections_opened(), 1u);
        co_await session.close();
        // The system's CAs do not know the test CA: verification fails.
        ClientSession strict;
        EXPECT_THROW(co_await strict.get(url), net::SslError);
        co_await strict.close();
        co_await server.shutdown(1s);
    }(pki, so));
}

TEST(ClientSession, AgainstAiohttpServer) {
    net_run([]() -> Task<void> {
        net::Process peer = co_await net::create_subprocess_exec(
            "/usr/bin/python3", CORIO_AIOHTTP_PEER_PY, "server",
            net::SubprocessOptions{.stdin_ = net::PIPE, .stdout_ = net::PIPE});
        std::string line = co_await corio::wait_for(peer.stdout_->readline(), 30s);
        EXPECT_EQ(line.rfind("port ", 0), 0u) << line;
        std::string base = "http://127.0.0.1:" + std::to_string(std::stoi(line.substr(5)));
        ClientSession session;
        ClientResponse r = co_await session.get(base + "/");
        EXPECT_EQ(r.status(), 200);
        EXPECT_EQ(r.headers().get("Content-Type", ""), "text/html; charset=utf-8");
        EXPECT_EQ(r.body(), "<h1>Index</h1>");
        r = co_await session.get(base + "/hello/corio");
        EXPECT_EQ(r.body(), "hello, corio!");
        const std::string big(200000, 'q');
        r = co_await session.post(base + "/echo", big);
        EXPECT_TRUE(r.body() == big);
        r = co_await session.get(base + "/status");
        EXPECT_EQ(r.status(), 418);
        EXPECT_EQ(r.body(), "teapot");
        r = co_await session.get(base + "/nope");
        EXPECT_EQ(r.status(), 404);
        EXPECT_EQ(session.connections_opened(), 1u);
        co_await session.close();
        peer.stdin_->close();
        EXPECT_EQ(co_await corio::wait_for(peer.wait(), 30s), 0);
    }());
}

namespace {

std::string to(const web::AppServer& s, int status, const std::string& url) {
    return base(s) + "/to?status=" + std::to_string(status) + "&url=" + url;
}

}  // namespace

TEST(ClientRedirects, FollowsRelativeLocationsAndKeepsTheHistory) {
    with_server([](web::AppServer& server) -> Task<void> {
        ClientSession session;
        ClientResponse r = co_await session.get(base(server) + "/redir/3");
        EXPECT_EQ(r.status(), 200);
        EXPECT_EQ(r.body(), "arrived");
        EXPECT_EQ(r.url(), base(server) + "/redir/0");
        EXPECT_EQ(r.history().size(), 3u);
        if (r.history().size() != 3u) {
            co_return;
        }
        EXPECT_EQ(r.history()[0].status(), 302);
        EXPECT_EQ(r.history()[0].url(), base(server) + "/redir/3");
        EXPECT_EQ(r.history()[0].body(), "moving 3");  // read, so the connection was reused
        EXPECT_EQ(r.history()[2].url(), base(server) + "/redir/1");
        EXPECT_EQ(r.history()[2].body(), "moving 1");
        EXPECT_EQ(session.connections_opened(), 1u);
        EXPECT_EQ(session.idle_connections(), 1u);
        // Absolute-path and dot-segment Locations.
        r = co_await session.get(to(server, 301, "/hello/../hello/abs"));
        EXPECT_EQ(r.body(), "hello, abs!");
        co_await session.close();
    });
}

TEST(ClientRedirects, MethodAndBodyPerStatus) {
    with_server([](web::AppServer& server) -> Task<void> {
        ClientSession session;
        for (int status : {301, 302, 303}) {
            ClientResponse r = co_await session.post(to(server, status, "/what"), "data");
            EXPECT_EQ(r.body(), "GET [] auth=- cookie=hop=1 te=- cl=-") << status;
            r = co_await session.put(to(server, status, "/what"), "data");
            EXPECT_EQ(r.body(), "GET [] auth=- cookie=hop=1 te=- cl=-") << status;
            r = co_await session.request("HEAD", to(server, status, "/what"));
            EXPECT_EQ(r.method(), "HEAD");
            EXPECT_EQ(r.status(), 200);
            EXPECT_EQ(r.history().size(), 1u);
        }
        for (int status : {307, 308}) {
            ClientResponse r = co_await session.post(to(server, status, "/what"), "data");
            EXPECT_EQ(r.body(), "POST [data] auth=- cookie=hop=1 te=- cl=4") << status;
            r = co_await session.patch(to(server, status, "/what"), "p");
            EXPECT_EQ(r.body(), "PATCH [p] auth=- cookie=hop=1 te=- cl=1") << status;
            EXPECT_EQ(r.history().at(0).status(), status);
        }
        co_await session.close();
    });
}

TEST(ClientRedirects, TooManyRedirectsCarriesTheHistory) {
    with_server([](web::AppServer& server) -> Task<void> {
        ClientSession session;
        try {
            co_await session.get(base(server) + "/redir/20");
            ADD_FAILURE() << "no throw";
        } catch (const corio::http::TooManyRedirects& e) {
            // As aiohttp: the max_redirects-th redirect response throws.
            EXPECT_EQ(e.history().size(), 10u);
            EXPECT_EQ(e.history().back().url(), base(server) + "/redir/11");
            EXPECT_EQ(e.history().back().body(), "moving 11");
            EXPECT_EQ(e.status(), 302);
            const corio::http::ClientError& base_error = e;
            EXPECT_NE(std::string(base_error.what()).find("max_redirects=10"), std::string::npos);
        }
        EXPECT_EQ(session.idle_connections(), 1u);  // the hops' connection was released
        RequestOptions two;
        two.max_redirects = 2;
        EXPECT_THROW(co_await session.get(base(server) + "/redir/2", {}, two),
                     corio::http::TooManyRedirects);
        ClientResponse r = co_await session.get(base(server) + "/redir/1", {}, two);
        EXPECT_EQ(r.body(), "arrived");
        co_await session.close();
    });
}

TEST(ClientRedirects, AllowRedirectsOffPerRequestAndPerSession) {
    with_server([](web::AppServer& server) -> Task<void> {
        ClientSession session;
        RequestOptions off;
        off.allow_redirects = false;
        ClientResponse r = co_await session.get(base(server) + "/redir/2", {}, off);
        EXPECT_EQ(r.status(), 302);
        EXPECT_EQ(r.headers().get("Location", ""), "1");
        EXPECT_EQ(r.body(), "moving 2");
        EXPECT_TRUE(r.history().empty());
        co_await session.close();
        ClientSessionOptions o;
        o.allow_redirects = false;
        ClientSession manual(o);
        r = co_await manual.get(base(server) + "/redir/2");
        EXPECT_EQ(r.status(), 302);
        RequestOptions on;
        on.allow_redirects = true;
        r = co_await manual.get(base(server) + "/redir/2", {}, on);
        EXPECT_EQ(r.status(), 200);
        co_await manual.close();
    });
}

TEST(ClientRedirects, CrossOriginUsesItsPoolAndDropsAuthorization) {
    with_server([](web::AppServer& a) -> Task<void> {
        web::Application app_b = make_app();
        web::AppServer b = co_await web::serve(app_b, "127.0.0.1", 0);
        ClientSession session;
        Headers h{{"Authorization", "Basic dTpw"}};
        // Same origin: the Authorization field stays.
        ClientResponse r = co_await session.get(to(a, 302, "/what"), h);
        EXPECT_EQ(r.body(), "GET [] auth=Basic dTpw cookie=hop=1 te=- cl=-");
        // Another port is another origin: dropped; the cookie jar still applies.
        r = co_await session.get(to(a, 302, base(b) + "/what"), h);
        EXPECT_EQ(r.body(), "GET [] auth=- cookie=hop=1 te=- cl=-");
        EXPECT_EQ(r.url(), base(b) + "/what");
        EXPECT_EQ(session.connections_opened(), 2u);
        EXPECT_EQ(session.idle_connections(), 2u);  // one pooled per host
        EXPECT_EQ(b.connections(), 1u);
        // An unusable Location is an error naming it.
        EXPECT_THROW(co_await session.get(to(a, 302, "ftp://x/")), std::invalid_argument);
        co_await session.close();
        co_await b.shutdown(100ms);
    });
}

TEST(ClientRedirects, CookiesOfEveryHopAreStored) {
    with_server([](web::AppServer& server) -> Task<void> {
        ClientSession session;
        ClientResponse r = co_await session.get(to(server, 302, "/to?status=303%26url=/what"));
        EXPECT_EQ(r.history().size(), 2u);
        EXPECT_EQ(r.body(), "GET [] auth=- cookie=hop=1 te=- cl=-");
        EXPECT_EQ(session.cookie_jar().cookie_header(base(server) + "/"), "hop=1");
        co_await session.close();
    });
}

TEST(ClientRedirects, AgainstAiohttpServer) {
    net_run([]() -> Task<void> {
        net::Process peer = co_await net::create_subprocess_exec(
            "/usr/bin/python3", CORIO_AIOHTTP_PEER_PY, "server",
            net::SubprocessOptions{.stdin_ = net::PIPE, .stdout_ = net::PIPE});
        std::string line = co_await corio::wait_for(peer.stdout_->readline(), 30s);
        EXPECT_EQ(line.rfind("port ", 0), 0u) << line;
        std::string base = "http://127.0.0.1:" + std::to_string(std::stoi(line.substr(5)));
        ClientSession session;
        // aiohttp's HTTPFound (302) and HTTPPermanentRedirect (308).
        ClientResponse r = co_await session.get(base + "/found");
        EXPECT_EQ(r.body(), "hello, redirected!");
        EXPECT_EQ(r.history().at(0).status(), 302);
        r = co_await session.post(base + "/permanent", "kept");
        EXPECT_EQ(r.status(), 200);
        EXPECT_EQ(r.body(), "kept");
        EXPECT_EQ(r.history().at(0).status(), 308);
        EXPECT_EQ(session.connections_opened(), 1u);
        co_await session.close();
        peer.stdin_->close();
        EXPECT_EQ(co_await corio::wait_for(peer.wait(), 30s), 0);
    }());
}

namespace {

corio::AsyncGenerator<std::string> parts(std::vector<std::string> pieces) {
    for (std::string& p : pieces) {
        co_await corio::sleep(0s);  // produced over several iterations
        co_yield std::move(p);
    }
}

corio::AsyncGenerator<std::string> failing() {
    co_yield std::string("first");
    throw std::runtime_error("producer failed");
}

}  // namespace

TEST(ClientStreamingUpload, ChunkedOrWithADeclaredLength) {
    with_server([](web::AppServer& server) -> Task<void> {
        ClientSession session;
        std::vector<std::string> pieces = {"one ", "", "two ", "three"};
        ClientResponse r = co_await session.post(base(server) + "/what", parts(pieces));
        EXPECT_EQ(r.body(), "POST [one two three] auth=- cookie=- te=chunked cl=-");
        Headers length;
        length.add("Content-Length", "13");
        r = co_await session.request("PUT", base(server) + "/what", parts(pieces), length);
        EXPECT_EQ(r.body(), "PUT [one two three] auth=- cookie=- te=- cl=13");
        EXPECT_EQ(session.connections_opened(), 1u);
        // Chunks that do not add up to the declared length: an error, and
        // the connection (with a body cut short) is not reused.
        length.set("Content-Length", "14");
        EXPECT_THROW(co_await session.post(base(server) + "/what", parts(pieces), length),
                     std::invalid_argument);
        length.set("Content-Length", "12");
        EXPECT_THROW(co_await session.post(base(server) + "/what", parts(pieces), length),
                     std::invalid_argument);
        EXPECT_EQ(session.idle_connections(), 0u);
        // The generator's own error comes out of the request.
        try {
            co_await session.post(base(server) + "/what", failing());
            ADD_FAILURE() << "no throw";
        } catch (const std::runtime_error& e) {
            EXPECT_STREQ(e.what(), "producer failed");
        }
        r = co_await session.get(base(server) + "/hello/after");
        EXPECT_EQ(r.body(), "hello, after!");
        co_await session.close();
    });
}

TEST(ClientStreamingUpload, RedirectsOfAStreamedBody) {
    with_server([](web::AppServer& server) -> Task<void> {
        ClientSession session;
        std::vector<std::string> pieces = {"a", "b"};
        // 307 would need the body again: the redirect is returned as is.
        ClientResponse r = co_await session.post(to(server, 307, "/what"), parts(pieces));
        EXPECT_EQ(r.status(), 307);
        EXPECT_TRUE(r.history().empty());
        // 303: the next hop is a GET without a body.
        r = co_await session.post(to(server, 303, "/what"), parts(pieces));
        EXPECT_EQ(r.body(), "GET [] auth=- cookie=hop=1 te=- cl=-");
        // The same with the caller's Content-Length: it stays with the body.
        Headers length;
        length.add("Content-Length", "2");
        r = co_await session.post(to(server, 303, "/what"), parts(pieces), length);
        EXPECT_EQ(r.body(), "GET [] auth=- cookie=hop=1 te=- cl=-");
        co_await session.close();
    });
}

TEST(ClientStreamingUpload, AgainstAiohttpServer) {
    net_run([]() -> Task<void> {
        net::Process peer = co_await net::create_subprocess_exec(
            "/usr/bin/python3", CORIO_AIOHTTP_PEER_PY, "server",
            net::SubprocessOptions{.stdin_ = net::PIPE, .stdout_ = net::PIPE});
        std::string line = co_await corio::wait_for(peer.stdout_->readline(), 30s);
        EXPECT_EQ(line.rfind("port ", 0), 0u) << line;
        std::string base = "http://127.0.0.1:" + std::to_string(std::stoi(line.substr(5)));
        ClientSession session;
        std::vector<std::string> pieces(1000, std::string(1000, 'x'));
        pieces[0].replace(0, 5, "start");
        ClientResponse r = co_await session.post(base + "/echo_te", parts(pieces));
        EXPECT_EQ(r.body(), "chunked 1000000 startxxxxxxx");
        Headers length;
        length.add("Content-Length", "1000000");
        r = co_await session.post(base + "/echo_te", parts(pieces), length);
        EXPECT_EQ(r.body(), "- 1000000 startxxxxxxx");
        EXPECT_EQ(session.connections_opened(), 1u);
        co_await session.close();
        peer.stdin_->close();
        EXPECT_EQ(co_await corio::wait_for(peer.wait(), 30s), 0);
    }());
}

TEST(ClientSession, UnclosedSessionIsReportedEvenWithoutConnections) {
    Reports reports;
    net_run(
        []() -> Task<void> {
            ClientSession unused;
            co_return;
        }(),
        &reports);
    EXPECT_EQ(reports.items.size(), 1u);
    EXPECT_TRUE(reports.contains("Unclosed client session"));
}

TEST(ClientSession, UnclosedSessionWithoutALoopGoesToStderr) {
    testing::internal::CaptureStderr();
    { ClientSession unused; }
    EXPECT_EQ(testing::internal::GetCapturedStderr(), "Unclosed client session\n");
    testing::internal::CaptureStderr();
    {
        ClientSession closed;
        net_run([](ClientSession& s) -> Task<void> { co_await s.close(); }(closed));
    }
    EXPECT_EQ(testing::internal::GetCapturedStderr(), "");  // closed: nothing to say
}

TEST(ClientSession, WithSessionClosesItEvenOnError) {
    Reports reports;
    with_server(
        [](web::AppServer& server) -> Task<void> {
            std::string url = base(server) + "/hello/scoped";
            std::string got;
            co_await corio::http::with_session(
                [&](ClientSession& s) -> Task<void> { got = (co_await s.get(url)).body(); });
            EXPECT_EQ(got, "hello, scoped!");
            ClientSession* seen = nullptr;
            EXPECT_THROW(co_await corio::http::with_session([&](ClientSession& s) -> Task<void> {
                             seen = &s;
                             co_await s.get(url);
                             throw std::logic_error("body failed");
                         }),
                         std::logic_error);
            EXPECT_NE(seen, nullptr);
        },
        {}, &reports);
    EXPECT_TRUE(reports.items.empty());  // no "Unclosed client session"
}
