// JSON through nlohmann-json: Request::json(), json_response(),
// ClientResponse::json(), WebSocket send_json()/receive_json().
#include <gtest/gtest.h>

#include <string>

#include "corio/corio.hpp"
#include "corio/http/client.hpp"
#include "corio/http/server.hpp"
#include "corio/http/websocket_response.hpp"
#include "net/net_fixture.hpp"

using namespace std::chrono_literals;
using corio::Task;
using nlohmann::json;
namespace web = corio::http::web;
using corio::http::ClientResponse;
using corio::http::ClientSession;
using corio::http::Headers;
using corio::http::WSMessage;
using corio::http::WSMsgType;
using corio_test::net_run;
using corio_test::vrun;

namespace {

web::Request request_with_body(std::string body) {
    web::Request r;
    web::RequestBuilder::body(r) = std::move(body);
    return r;
}

}  // namespace

TEST(HttpJson, RequestJsonParsesTheBody) {
    json j = vrun([]() -> Task<json> {
        web::Request r = request_with_body(R"({"name": "corio", "tags": [1, 2.5, null]})");
        co_return co_await r.json();
    }());
    EXPECT_EQ(j["name"], "corio");
    EXPECT_EQ(j["tags"].size(), 3u);
    EXPECT_EQ(j["tags"][1], 2.5);
    EXPECT_TRUE(j["tags"][2].is_null());
}

TEST(HttpJson, MalformedRequestJsonIsA400HTTPException) {
    for (std::string body : {"", "{", "{\"a\": }", "[1, 2", "nul", "{\"a\": 1} x"}) {
        SCOPED_TRACE(body);
        std::string what = vrun([](std::string body) -> Task<std::string> {
            web::Request r = request_with_body(std::move(body));
            try {
                co_await r.json();
            } catch (const web::JSONDecodeError& e) {
                EXPECT_EQ(e.status(), 400);
                EXPECT_FALSE(e.parse_error().empty());
                web::Response resp = e.as_response();
                EXPECT_EQ(resp.status(), 400);
                co_return e.text();
            }
            co_return "no exception";
        }(body));
        EXPECT_EQ(what.rfind("400: Bad Request: invalid JSON body: ", 0), 0u) << what;
    }
}

TEST(HttpJson, JsonResponseSerializesCompactly) {
    web::Response r = web::json_response({{"id", 7}, {"ok", true}}, 201, {{"X-Extra", "1"}});
    EXPECT_EQ(r.status(), 201);
    EXPECT_EQ(r.body(), R"({"id":7,"ok":true})");
    EXPECT_EQ(r.headers().get("Content-Type", ""), "application/json; charset=utf-8");
    EXPECT_EQ(r.headers().get("X-Extra", ""), "1");
    EXPECT_EQ(web::json_response(json::array()).body(), "[]");
    // Strings must be UTF-8: nlohmann refuses to serialize anything else.
    EXPECT_THROW(web::json_response(json("\xff")), json::type_error);
}

namespace {

web::Application make_app() {
    web::Application app;
    app.add_post("/sum", [](web::Request& req) -> Task<web::Response> {
        json in = co_await req.json();  // malformed: JSONDecodeError -> 400
        long total = 0;
        for (const json& v : in.at("values")) {
            total += v.get<long>();
        }
        co_return web::json_response({{"sum", total}});
    });
    app.add_post("/strict", [](web::Request& req) -> Task<web::Response> {
        try {
            co_return web::json_response(co_await req.json());
        } catch (const web::JSONDecodeError& e) {
            co_return web::json_response({{"error", e.parse_error()}}, 422);
        }
    });
    app.add_get("/text", [](web::Request&) -> Task<web::Response> {
        co_return web::Response::text("{\"not\": \"typed\"}");
    });
    app.add_get("/ws", [](web::Request& req) -> Task<web::Response> {
        web::WebSocketResponse ws;
        co_await ws.prepare(req);
        for (;;) {
            json reply;
            try {  // (no co_await inside a catch block)
                json msg = co_await ws.receive_json();
                reply = {{"echo", std::move(msg)}};
            } catch (const std::invalid_argument&) {
                reply = {{"error", "not json"}};
            } catch (const corio::http::WSMessageTypeError& e) {
                if (e.message().type != WSMsgType::BINARY) {
                    break;
                }
                reply = {{"error", "binary"}};
            }
            co_await ws.send_json(reply);
        }
        co_return ws;
    });
    return app;
}

template <class F>
void with_server(F body) {
    net_run([](F body) -> Task<void> {
        web::Application app = make_app();
        web::AppServer server = co_await web::serve(app, "127.0.0.1", 0);
        co_await body(server);
        co_await server.shutdown(1s);
    }(std::move(body)));
}

std::string base(const web::AppServer& s) {
    return "http://127.0.0.1:" + std::to_string(s.port());
}

}  // namespace

TEST(HttpJson, ServerAndClientRoundTrip) {
    with_server([](web::AppServer& server) -> Task<void> {
        ClientSession session;
        // (GCC 12: no braced lists of string literals in a co_await expression.)
        Headers typed;
        typed.add("Content-Type", "application/json");
        ClientResponse r =
            co_await session.post(base(server) + "/sum", R"({"values": [1, 2, 39]})", typed);
        EXPECT_EQ(r.status(), 200);
        json j = co_await r.json();
        EXPECT_EQ(j.dump(), R"({"sum":42})");

        // Uncaught JSONDecodeError: the server answers 400 by itself.
        r = co_await session.post(base(server) + "/sum", "{\"values\": [1,");
        EXPECT_EQ(r.status(), 400);
        EXPECT_NE(r.body().find("invalid JSON body"), std::string::npos) << r.body();
        // Not JSON for the client either: text/plain.
        EXPECT_THROW(co_await r.json(), corio::http::ContentTypeError);

        // Caught by the handler and turned into its own answer.
        r = co_await session.post(base(server) + "/strict", "[1 2]");
        EXPECT_EQ(r.status(), 422);
        EXPECT_TRUE((co_await r.json()).contains("error"));

        // Content type check, and how to skip it.
        r = co_await session.get(base(server) + "/text");
        try {
            co_await r.json();
            ADD_FAILURE() << "no ContentTypeError";
        } catch (const corio::http::ContentTypeError& e) {
            EXPECT_EQ(e.status(), 200);
            EXPECT_NE(std::string(e.what()).find("text/plain"), std::string::npos);
        }
        EXPECT_EQ((co_await r.json("")).at("not"), "typed");
        co_await session.close();
    });
}

TEST(HttpJson, ClientJsonOfAMalformedBodyIsAPayloadError) {
    with_server([](web::AppServer& server) -> Task<void> {
        ClientSession session;
        ClientResponse r = co_await session.get(base(server) + "/text");
        EXPECT_NO_THROW(co_await r.json(""));
        r = co_await session.post(base(server) + "/sum", "x");
        EXPECT_THROW(co_await r.json(""), corio::http::ClientPayloadError);
        co_await session.close();
    });
}

TEST(HttpJson, WebSocketSendAndReceiveJson) {
    with_server([](web::AppServer& server) -> Task<void> {
        auto ws = co_await corio::http::ws_connect(
            "ws://127.0.0.1:" + std::to_string(server.port()) + "/ws");
        const json sent = json::parse(R"({"n": 1, "s": "é"})");
        co_await ws.send_json(sent);
        json back = co_await ws.receive_json(5s);
        EXPECT_EQ(back.dump(), R"({"echo":{"n":1,"s":"é"}})");
        co_await ws.send_str("{oops");
        back = co_await ws.receive_json(5s);
        EXPECT_EQ(back.dump(), R"({"error":"not json"})");
        co_await ws.send_bytes("{}");
        back = co_await ws.receive_json(5s);
        EXPECT_EQ(back.dump(), R"({"error":"binary"})");
        // The client side: a text message that is not JSON.
        const json plain = "plain";
        co_await ws.send_json(plain);
        WSMessage raw = co_await ws.receive(5s);
        EXPECT_EQ(raw.data, R"({"echo":"plain"})");
        co_await ws.close();
        // After the close: receive_json reports the CLOSED message it got.
        try {
            co_await ws.receive_json(5s);
            ADD_FAILURE() << "no WSMessageTypeError";
        } catch (const corio::http::WSMessageTypeError& e) {
            EXPECT_EQ(e.message().type, WSMsgType::CLOSED);
        }
    });
}
