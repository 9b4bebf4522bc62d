// Cookies: parse_cookie_header, format_set_cookie, Request::cookies,
// Response::set_cookie/del_cookie, and the client's CookieJar.
#include "corio/http/cookies.hpp"

#include <gtest/gtest.h>

#include <string>

#include "corio/corio.hpp"
#include "corio/http/client.hpp"
#include "corio/http/server.hpp"
#include "corio/net/subprocess.hpp"
#include "net/net_fixture.hpp"

using namespace std::chrono_literals;
using corio::Task;
namespace web = corio::http::web;
using corio::http::CookieJar;
using corio::http::CookieOptions;
using corio::http::Cookies;
using corio::http::Headers;
using corio_test::net_run;

namespace {

// A request header (GCC 12 miscompiles braced lists of string literals
// inside a co_await expression: "array used as initializer").
Headers h(std::string_view k, std::string_view v) {
    Headers out;
    out.add(k, v);
    return out;
}

}  // namespace

TEST(Cookies, ParsesCookieHeaders) {
    EXPECT_EQ(corio::http::parse_cookie_header("a=1; b=two;c=\"q v\" ; d="),
              (Cookies{{"a", "1"}, {"b", "two"}, {"c", "q v"}, {"d", ""}}));
    EXPECT_EQ(corio::http::parse_cookie_header("a=1; a=2; =x; junk; b=3"),
              (Cookies{{"a", "1"}, {"b", "3"}}));
    EXPECT_TRUE(corio::http::parse_cookie_header("").empty());
    EXPECT_EQ(corio::http::parse_cookie_header("tok=a=b"), (Cookies{{"tok", "a=b"}}));
}

TEST(Cookies, FormatsSetCookie) {
    EXPECT_EQ(corio::http::format_set_cookie("id", "42"), "id=42; Path=/");
    CookieOptions o;
    o.expires = std::chrono::system_clock::time_point(std::chrono::seconds(784111777));
    o.domain = "example.com";
    o.max_age = 3600;
    o.path = "/app";
    o.secure = true;
    o.httponly = true;
    o.samesite = "Lax";
    EXPECT_EQ(corio::http::format_set_cookie("s", "v", o),
              "s=v; Expires=Sun, 06 Nov 1994 08:49:37 GMT; Domain=example.com; Max-Age=3600; "
              "Path=/app; Secure; HttpOnly; SameSite=Lax");
    EXPECT_THROW(corio::http::format_set_cookie("a b", "v"), std::invalid_argument);
    EXPECT_THROW(corio::http::format_set_cookie("a", "v;x"), std::invalid_argument);
    EXPECT_THROW(corio::http::format_set_cookie("a", "v x"), std::invalid_argument);
    EXPECT_THROW(corio::http::format_set_cookie("a", "v\r\nX: 1"), std::invalid_argument);
    CookieOptions bad;
    bad.path = "/; Secure";
    EXPECT_THROW(corio::http::format_set_cookie("a", "v", bad), std::invalid_argument);
}

TEST(Cookies, ResponseSetAndDelCookie) {
    web::Response r;
    r.set_cookie("a", "1");
    r.set_cookie("b", "2", {.path = "/x", .httponly = true});
    r.set_cookie("a", "3");  // replaces the first
    auto all = r.headers().get_all("Set-Cookie");
    ASSERT_EQ(all.size(), 2u);
    EXPECT_EQ(all[0], "b=2; Path=/x; HttpOnly");
    EXPECT_EQ(all[1], "a=3; Path=/");
    r.del_cookie("b", "/x");
    all = r.headers().get_all("Set-Cookie");
    ASSERT_EQ(all.size(), 2u);
    EXPECT_EQ(all[1], "b=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/x");
}

TEST(CookieJar, DomainPathSecureAndExpiry) {
    CookieJar jar;
    jar.update_cookie("host=1", "http://www.example.com/a/b");  // host-only, path /a
    jar.update_cookie("dom=2; Domain=.example.com; Path=/", "http://www.example.com/");
    jar.update_cookie("sec=3; Secure; Path=/", "https://www.example.com/");
    jar.update_cookie("evil=4; Domain=other.com", "http://www.example.com/");  // ignored
    jar.update_cookie("old=5; Expires=Sun, 06 Nov 1994 08:49:37 GMT", "http://www.example.com/");
    jar.update_cookie("deep=6; Path=/a/b/c", "http://www.example.com/");
    EXPECT_EQ(jar.size(), 4u);

    EXPECT_EQ(jar.filter_cookies("http://www.example.com/a/x"),
              (Cookies{{"dom", "2"}, {"host", "1"}}));
    EXPECT_EQ(jar.filter_cookies("https://www.example.com/a/b/c/d"),
              (Cookies{{"deep", "6"}, {"dom", "2"}, {"host", "1"}, {"sec", "3"}}));
    EXPECT_EQ(jar.filter_cookies("http://sub.example.com/"), (Cookies{{"dom", "2"}}));
    EXPECT_EQ(jar.filter_cookies("http://www.example.com/ab"), (Cookies{{"dom", "2"}}));
    EXPECT_TRUE(jar.filter_cookies("http://example.org/").empty());
    EXPECT_TRUE(jar.filter_cookies("http://notexample.com/").empty());
    EXPECT_EQ(jar.cookie_header("http://www.example.com/a/"), "dom=2; host=1");

    // Max-Age=0 deletes; a new value replaces.
    jar.update_cookie("dom=; Domain=example.com; Path=/; Max-Age=0", "http://www.example.com/");
    jar.update_cookie("host=9", "http://www.example.com/a/c");
    EXPECT_EQ(jar.filter_cookies("http://www.example.com/a/"), (Cookies{{"host", "9"}}));
    jar.clear();
    EXPECT_EQ(jar.size(), 0u);

    // IP hosts: host-only, no domain matching.
    jar.update_cookie("ip=1; Domain=0.1", "http://127.0.0.1/");  // not a domain-match: ignored
    jar.update_cookie("ip=2", "http://127.0.0.1:8080/");
    EXPECT_EQ(jar.filter_cookies("http://127.0.0.1:9090/x"), (Cookies{{"ip", "2"}}));
}

TEST(Cookies, ServerAndClientSessionRoundTrip) {
    net_run([]() -> Task<void> {
        web::Application app;
        app.add_get("/login", [](web::Request&) -> Task<web::Response> {
            web::Response r = web::Response::text("welcome");
            r.set_cookie("session", "abc123", {.httponly = true});
            r.set_cookie("theme", "dark", {.path = "/prefs"});
            co_return r;
        });
        app.add_get("/whoami", [](web::Request& req) -> Task<web::Response> {
            Cookies c = req.cookies();
            std::string out;
            for (const auto& [k, v] : c) {
                out += k + "=" + v + ";";
            }
            co_return web::Response::text(out);
        });
        app.add_get("/prefs/show", [](web::Request& req) -> Task<web::Response> {
            Cookies c = req.cookies();
            co_return web::Response::text(c.contains("theme") ? c.at("theme") : "none");
        });
        app.add_get("/logout", [](web::Request&) -> Task<web::Response> {
            web::Response r = web::Response::text("bye");
            r.del_cookie("session");
            co_return r;
        });
        web::AppServer server = co_await web::serve(app, "127.0.0.1", 0);
        const std::string base = "http://127.0.0.1:" + std::to_string(server.port());
        corio::http::ClientSession session;
        auto r = co_await session.get(base + "/whoami");
        EXPECT_EQ(r.body(), "");
        r = co_await session.get(base + "/login");
        EXPECT_EQ(r.headers().get_all("Set-Cookie").size(), 2u);
        EXPECT_EQ(session.cookie_jar().size(), 2u);
        r = co_await session.get(base + "/whoami");
        EXPECT_EQ(r.body(), "session=abc123;");  // theme is for /prefs only
        r = co_await session.get(base + "/prefs/show");
        EXPECT_EQ(r.body(), "dark");
        // The request's own Cookie field wins over the jar.
        r = co_await session.get(base + "/whoami", h("Cookie", "x=1; y=2"));
        EXPECT_EQ(r.body(), "x=1;y=2;");
        r = co_await session.get(base + "/logout");
        r = co_await session.get(base + "/whoami");
        EXPECT_EQ(r.body(), "");
        EXPECT_EQ(session.cookie_jar().size(), 1u);  // theme
        co_await session.close();
        co_await server.shutdown(1s);
    }());
}

TEST(Cookies, CurlKeepsTheServersCookies) {
    // curl as the client: its cookie engine must accept what set_cookie sends.
    net_run([]() -> Task<void> {
        web::Application app;
        app.add_get("/set", [](web::Request&) -> Task<web::Response> {
            web::Response r = web::Response::text("set");
            r.set_cookie("k", "v1", {.max_age = 600});
            co_return r;
        });
        app.add_get("/get", [](web::Request& req) -> Task<web::Response> {
            Cookies c = req.cookies();
            co_return web::Response::text(c.contains("k") ? c.at("k") : "none");
        });
        web::AppServer server = co_await web::serve(app, "127.0.0.1", 0);
        const std::string base = "http://127.0.0.1:" + std::to_string(server.port());
        // -b '' turns on curl's cookie engine; both URLs on one run.
        corio::net::Process curl = co_await corio::net::create_subprocess_exec(
            "/usr/bin/curl", "-sS", "--max-time", "30", "-b", "", base + "/set", base + "/get",
            corio::net::SubprocessOptions{.stdout_ = corio::net::PIPE});
        std::string out = co_await corio::wait_for(curl.stdout_->read(), 60s);
        EXPECT_EQ(co_await curl.wait(), 0);
        EXPECT_EQ(out, "setv1");
        co_await server.shutdown(1s);
    }());
}
