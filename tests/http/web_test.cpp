#include "corio/http/web.hpp"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "support/loop_fixture.hpp"

using corio::Task;
namespace web = corio::http::web;
using corio::http::Method;
using corio_test::vrun;

namespace {

web::Request make_request(std::string_view method, std::string_view target) {
    web::Request r;
    web::RequestBuilder::method(r, corio::http::parse_method(method).value_or(Method::other),
                                method);
    std::string_view path = target.substr(0, target.find('?'));
    web::RequestBuilder::target(r, target, std::string(path), {}, {});
    return r;
}

// Runs `app` on a request; returns "status body [Allow]".
std::string answer(const web::Application& app, std::string_view method, std::string_view target) {
    return vrun([](const web::Application& app, web::Request req) -> Task<std::string> {
        try {
            web::Response r = co_await app.handle(req);
            co_return std::to_string(r.status()) + " " + r.body();
        } catch (const web::HTTPException& e) {
            co_return std::to_string(e.status()) + " " + e.text() + " " +
                std::string(e.headers().get("Allow", ""));
        }
    }(app, make_request(method, target)));
}

web::Handler echo_params() {
    return [](web::Request& req) -> Task<web::Response> {
        std::string out;
        for (const auto& [k, v] : req.match_info()) {
            out += k + "=" + v + ";";
        }
        co_return web::Response::text(out);
    };
}

}  // namespace

TEST(Application, MatchesLiteralAndParameterisedRoutesInOrder) {
    web::Application app;
    app.add_get("/", echo_params());
    app.add_get("/users/me",
                [](web::Request&) -> Task<web::Response> { co_return web::Response::text("me"); });
    app.add_get("/users/{name}", echo_params());
    app.add_get("/files/{path:.+}", echo_params());
    app.add_get("/v{major:\\d+}.{minor:(?:\\d+)}/{rest}", echo_params());
    EXPECT_EQ(answer(app, "GET", "/"), "200 ");
    EXPECT_EQ(answer(app, "GET", "/users/me"), "200 me");  // added first, wins
    EXPECT_EQ(answer(app, "GET", "/users/a%20b?x=1"), "200 name=a b;");
    EXPECT_EQ(answer(app, "GET", "/users/a%2Fb"), "200 name=a/b;");  // decoded after matching
    EXPECT_EQ(answer(app, "GET", "/users/a/b"), "404 404: Not Found ");
    EXPECT_EQ(answer(app, "GET", "/files/a/b/c"), "200 path=a/b/c;");
    EXPECT_EQ(answer(app, "GET", "/v2.10/x"), "200 major=2;minor=10;rest=x;");
    EXPECT_EQ(answer(app, "GET", "/v2.x/x"), "404 404: Not Found ");
    EXPECT_EQ(answer(app, "HEAD", "/users/me"), "200 me");  // the server drops HEAD's body
}

TEST(Application, MethodNotAllowedListsTheAllowedMethods) {
    web::Application app;
    app.add_post("/items", echo_params());
    app.add_put("/items", echo_params());
    app.add_route("*", "/any", echo_params());
    EXPECT_EQ(answer(app, "GET", "/items"), "405 405: Method Not Allowed POST, PUT");
    EXPECT_EQ(answer(app, "PROPFIND", "/any"), "200 ");
    EXPECT_EQ(answer(app, "POST", "/items"), "200 ");
}

TEST(Application, RejectsBadRoutes) {
    web::Application app;
    EXPECT_THROW(app.add_get("no-slash", echo_params()), std::invalid_argument);
    EXPECT_THROW(app.add_get("/a/{name", echo_params()), std::invalid_argument);
    EXPECT_THROW(app.add_get("/a/name}", echo_params()), std::invalid_argument);
    EXPECT_THROW(app.add_get("/a/{}", echo_params()), std::invalid_argument);
    EXPECT_THROW(app.add_get("/a/{id:[}", echo_params()), std::invalid_argument);
    EXPECT_THROW(app.add_route("GET POST", "/a", echo_params()), std::invalid_argument);
    EXPECT_THROW(app.add_get("/a", nullptr), std::invalid_argument);
    EXPECT_THROW(app.add_middleware(nullptr), std::invalid_argument);
}

TEST(Application, UrlForBuildsNamedRoutesWithQuotedParameters) {
    web::Application app;
    app.add_get("/", echo_params(), "index");
    app.add_get("/users/{name}", echo_params(), "user");
    app.add_post("/v{major:\\d+}/items/{id:\\d+}", echo_params(), "item");
    EXPECT_EQ(app.url_for("index"), "/");
    EXPECT_EQ(app.url_for("user", {{"name", "a b/c?"}}), "/users/a%20b%2Fc%3F");
    EXPECT_EQ(app.url_for("item", {{"major", "2"}, {"id", "42"}}, {{"q", "x y"}, {"n", "1"}}),
              "/v2/items/42?q=x+y&n=1");
    // What url_for builds is what the route matches.
    EXPECT_EQ(answer(app, "GET", app.url_for("user", {{"name", "a b/c?"}})), "200 name=a b/c?;");
    EXPECT_THROW(app.url_for("nope"), std::invalid_argument);
    EXPECT_THROW(app.url_for("user"), std::invalid_argument);  // no value
    EXPECT_THROW(app.url_for("item", {{"major", "x"}, {"id", "1"}}), std::invalid_argument);
    EXPECT_THROW(app.add_get("/other", echo_params(), "user"), std::invalid_argument);
}

TEST(Application, SubApplicationsServeUnderTheirPrefixWithTheirMiddlewares) {
    web::Application admin;
    admin.add_get("/", [](web::Request&) -> Task<web::Response> {
        co_return web::Response::text("admin home");
    });
    admin.add_get("/users/{id}", echo_params(), "admin-user");
    admin.add_middleware([](web::Request& req, const web::Handler& next) -> Task<web::Response> {
        web::Response r = co_await next(req);
        r.headers().set("X-Admin", "1");
        co_return r;
    });
    web::Application app;
    app.add_get("/adminx", [](web::Request&) -> Task<web::Response> {
        co_return web::Response::text("not admin");
    });
    app.add_subapp("/admin", std::move(admin));
    app.add_get("/admin/late", echo_params());  // after the sub-application: never reached
    EXPECT_EQ(answer(app, "GET", "/admin"), "200 admin home");
    EXPECT_EQ(answer(app, "GET", "/admin/"), "200 admin home");
    EXPECT_EQ(answer(app, "GET", "/admin/users/7?x=1"), "200 id=7;");
    EXPECT_EQ(answer(app, "GET", "/adminx"), "200 not admin");
    EXPECT_EQ(answer(app, "GET", "/admin/late"), "404 404: Not Found ");
    EXPECT_EQ(answer(app, "POST", "/admin/users/7"), "405 405: Method Not Allowed GET, HEAD");
    EXPECT_EQ(app.url_for("admin-user", {{"id", "9"}}), "/admin/users/9");
    EXPECT_THROW(app.add_subapp("admin", web::Application()), std::invalid_argument);
    EXPECT_THROW(app.add_subapp("/admin/", web::Application()), std::invalid_argument);
    EXPECT_THROW(app.add_subapp("/", web::Application()), std::invalid_argument);
    // The sub-application's middleware ran on its answers only.
    auto header_of = [&](const char* target) {
        return corio::run([](web::Application& a, web::Request req) -> Task<std::string> {
            web::Response r = co_await a.handle(req);
            co_return std::string(r.headers().get("X-Admin", "-"));
        }(app, make_request("GET", target)));
    };
    EXPECT_EQ(header_of("/admin/users/1"), "1");
    EXPECT_EQ(header_of("/adminx"), "-");
}

TEST(Application, HooksRunInOrderSubApplicationsAfterAndCleanupRunsThemAll) {
    std::vector<std::string> log;
    auto step = [&log](std::string what, bool fail = false) {
        return [&log, what, fail]() -> Task<void> {
            log.push_back(what);
            if (fail) {
                throw std::runtime_error(what + " failed");
            }
            co_return;
        };
    };
    web::Application sub;
    sub.on_startup(step("sub start"));
    sub.on_cleanup(step("sub clean"));
    web::Application app;
    app.on_startup(step("start 1"));
    app.on_startup(step("start 2"));
    app.on_shutdown(step("shut"));
    app.on_cleanup(step("clean 1", true));
    app.on_cleanup(step("clean 2"));
    app.add_subapp("/sub", std::move(sub));
    corio::run(app.startup());
    corio::run(app.shutdown());
    EXPECT_THROW(corio::run(app.cleanup()), std::runtime_error);  // after every step ran
    EXPECT_EQ(log, (std::vector<std::string>{"start 1", "start 2", "sub start", "shut", "clean 1",
                                             "clean 2", "sub clean"}));
}

TEST(Response, ConstructorsAndStatus) {
    web::Response r = web::Response::json("{\"a\": 1}", 201);
    EXPECT_EQ(r.status(), 201);
    EXPECT_EQ(r.headers().get("Content-Type", ""), "application/json; charset=utf-8");
    EXPECT_THROW(r.set_status(99), std::invalid_argument);
    EXPECT_THROW(r.set_status(1000), std::invalid_argument);
    r.set_status(299, "Custom");
    EXPECT_EQ(r.reason(), "Custom");
    web::Response empty;
    EXPECT_EQ(empty.status(), 200);
    EXPECT_FALSE(empty.headers().contains("Content-Type"));
    web::HTTPException e(404);
    EXPECT_EQ(e.as_response().body(), "404: Not Found");
    EXPECT_EQ(e.as_response().status(), 404);
}

TEST(Request, ContentTypeAndBody) {
    web::Request r = make_request("POST", "/x");
    web::RequestBuilder::headers(
        r, corio::http::Headers{{"content-type", "text/plain; charset=utf-8"}});
    web::RequestBuilder::body(r) = "hello";
    EXPECT_EQ(r.content_type(), "text/plain");
    EXPECT_TRUE(r.body_exists());
    EXPECT_EQ(vrun(r.text()), "hello");
}

TEST(StreamResponse, PrepareNeedsAServerConnection) {
    web::Request r = make_request("GET", "/");
    vrun([](web::Request& r) -> Task<void> {
        web::StreamResponse resp;
        EXPECT_THROW(co_await resp.prepare(r), corio::RuntimeError);
        EXPECT_THROW(co_await resp.write("x"), corio::RuntimeError);
        EXPECT_FALSE(resp.prepared());
    }(r));
}
