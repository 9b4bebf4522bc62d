#include "corio/http/web.hpp"

#include <gtest/gtest.h>

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
