// HttpRemote against a served Application that answers as a host would
// (each status of the actor endpoints), a dead address, and the duration
// forms of Dapr's API.
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "actors/outcome.hpp"
#include "corio/actors/http.hpp"
#include "corio/corio.hpp"
#include "corio/http/server.hpp"
#include "corio/net/streams.hpp"
#include "net/net_fixture.hpp"

using namespace std::chrono_literals;
using corio::Task;
namespace actors = corio::actors;
namespace web = corio::http::web;
using actors::Json;
using corio_test::net_run;

// --------------------------------------------------------------------------
// Durations

TEST(DaprDuration, GoFormatMatchesTimeDurationString) {
    EXPECT_EQ(actors::format_go_duration(0s), "0s");
    EXPECT_EQ(actors::format_go_duration(60min), "1h0m0s");
    EXPECT_EQ(actors::format_go_duration(30s), "30s");
    EXPECT_EQ(actors::format_go_duration(90s), "1m30s");
    EXPECT_EQ(actors::format_go_duration(1500ms), "1.5s");
    EXPECT_EQ(actors::format_go_duration(500ms), "500ms");
    EXPECT_EQ(actors::format_go_duration(1500us), "1.5ms");
    EXPECT_EQ(actors::format_go_duration(2us), "2\xc2\xb5s");
    EXPECT_EQ(actors::format_go_duration(7ns), "7ns");
    EXPECT_EQ(actors::format_go_duration(26h + 3min + 500ms), "26h3m0.5s");
}

TEST(DaprDuration, DaprFormatIsHoursMinutesSecondsMillis) {
    EXPECT_EQ(actors::format_dapr_duration(9s), "0h0m9s0ms");
    EXPECT_EQ(actors::format_dapr_duration(1h + 2min + 3s + 4ms), "1h2m3s4ms");
    EXPECT_EQ(actors::format_dapr_duration(-5s), "0h0m0s0ms");
}

TEST(DaprDuration, ParsesGoDurations) {
    using actors::parse_dapr_duration;
    EXPECT_EQ(parse_dapr_duration("0h0m9s0ms"), 9s);
    EXPECT_EQ(parse_dapr_duration("2h30m"), 150min);
    EXPECT_EQ(parse_dapr_duration("1.5s"), 1500ms);
    EXPECT_EQ(parse_dapr_duration("500ms"), 500ms);
    EXPECT_EQ(parse_dapr_duration("10us"), 10us);
    EXPECT_EQ(parse_dapr_duration("10\xc2\xb5s"), 10us);
    EXPECT_EQ(parse_dapr_duration("3ns"), 3ns);
    EXPECT_EQ(parse_dapr_duration("0"), 0s);
    EXPECT_EQ(parse_dapr_duration(""), 0s);
    EXPECT_EQ(parse_dapr_duration(actors::format_go_duration(26h + 3min + 500ms)),
              26h + 3min + 500ms);
}

TEST(DaprDuration, ParsesIso8601) {
    using actors::parse_dapr_duration;
    EXPECT_EQ(parse_dapr_duration("PT9S"), 9s);
    EXPECT_EQ(parse_dapr_duration("PT2H30M"), 150min);
    EXPECT_EQ(parse_dapr_duration("P1DT1H"), 25h);
    EXPECT_EQ(parse_dapr_duration("P2W"), 336h);
    EXPECT_EQ(parse_dapr_duration("PT0.5S"), 500ms);
    EXPECT_EQ(parse_dapr_duration("R5/PT1M30S"), 90s);
}

TEST(DaprDuration, RefusesMalformedText) {
    for (const char* bad : {"9", "s", "1x", "-1s", "1h-2m", "P", "PT", "PT5", "P1M", "P1Y", "PT1D",
                            "R5PT1S", "T1S", "1..5s"}) {
        SCOPED_TRACE(bad);
        EXPECT_THROW(actors::parse_dapr_duration(bad), std::invalid_argument);
    }
}

TEST(ActorHttpPath, PercentEncodesEachPart) {
    EXPECT_EQ(actors::detail::actor_method_path({"Counter", "c 1/x"}, "add"),
              "/actors/Counter/c%201%2Fx/method/add");
    EXPECT_EQ(actors::detail::percent_encode("a-b_c.d~e"), "a-b_c.d~e");
    EXPECT_EQ(actors::detail::percent_encode("\xc3\xa9?"), "%C3%A9%3F");
}

// --------------------------------------------------------------------------
// HttpRemote against a stand-in host

namespace {

// Answers each actor id with the status it names; "ok" echoes what it got.
web::Application stand_in_host() {
    web::Application app;
    app.add_put(
        "/actors/{type}/{id}/method/{method}", [](web::Request& req) -> Task<web::Response> {
            const std::string& id = req.match_info().find("id")->second;
            std::string body = co_await req.text();
            auto error = [](int status, std::string message) {
                web::Response r = web::json_response(
                    {{"errorCode", "X"}, {"message", std::move(message)}}, status);
                r.headers().set(actors::kErrorHeader, "true");
                return r;
            };
            if (id == "ok") {
                Json echo = {
                    {"type", req.match_info().find("type")->second},
                    {"method", req.match_info().find("method")->second},
                    {"body", body.empty() ? Json() : Json::parse(body)},
                    {"chain", std::string(req.headers().get(actors::kReentrancyHeader, "-"))},
                };
                co_return web::json_response(echo);
            }
            if (id == "empty")
                co_return web::Response();
            if (id == "garbage")
                co_return web::Response::text("{not json");
            if (id == "moved")
                co_return error(actors::kNotOwnerStatus, "not here");
            if (id == "missing")
                co_return error(404, "no such method");
            if (id == "badargs")
                co_return error(400, "expected an int");
            if (id == "threw")
                co_return error(500, "insufficient funds");
            if (id == "plain500")
                co_return web::Response::text("boom", 500);
            if (id == "busy")
                co_return error(503, "overloaded");
            co_return web::Response::text("teapot", 418);
        });
    return app;
}

template <class F>
void with_host(F body) {
    net_run([](F body) -> Task<void> {
        web::Application app = stand_in_host();
        web::AppServer server = co_await web::serve(app, "127.0.0.1", 0);
        actors::HttpRemote remote;
        std::string address = "127.0.0.1:" + std::to_string(server.port());
        co_await body(remote, address);
        co_await remote.close();
        co_await server.shutdown(1s);
    }(std::move(body)));
}

actors::ActorId aid(std::string type, std::string id) {
    return actors::ActorId{std::move(type), std::move(id)};
}

// j[name] (GCC cannot take a string literal as an array reference inside a
// coroutine, which nlohmann's operator[] does).
Json field(const Json& j, const std::string& name) {
    return j.at(name);
}

// [5, "x"] (an initializer list of JSON values is refused by GCC 12 inside
// a coroutine).
Json five_x() {
    return Json::array({5, "x"});
}

// What invoke() threw, as "<kind>: <what>", or "ok".
Task<std::string> outcome(actors::HttpRemote& remote, const std::string& address, std::string id) {
    std::exception_ptr error;
    try {
        co_await remote.invoke(address, aid("T", std::move(id)), "m", Json(1), "");
        co_return "ok";
    } catch (...) {
        error = std::current_exception();
    }
    co_return corio_test::describe_actor_error(error);
}

using corio_test::starts_with;

}  // namespace

TEST(HttpRemote, SendsTheCallAndReturnsTheJsonResult) {
    with_host([](actors::HttpRemote& remote, const std::string& address) -> Task<void> {
        Json out = co_await remote.invoke(address, aid("Bank Account", "ok"), "deposit", five_x(),
                                          "chain-1");
        EXPECT_EQ(field(out, "type"), std::string("Bank Account"));
        EXPECT_EQ(field(out, "method"), std::string("deposit"));
        EXPECT_EQ(field(out, "body"), five_x());
        EXPECT_EQ(field(out, "chain"), std::string("chain-1"));
        // No call chain: no header. A null body travels as an empty body.
        out = co_await remote.invoke(address, aid("T", "ok"), "get", Json(), "");
        EXPECT_EQ(field(out, "chain"), std::string("-"));
        EXPECT_TRUE(field(out, "body").is_null());
        // An empty 200 is a null result.
        out = co_await remote.invoke(address, aid("T", "empty"), "m", Json(), "");
        EXPECT_TRUE(out.is_null());
    });
}

TEST(HttpRemote, ReusesItsConnections) {
    with_host([](actors::HttpRemote& remote, const std::string& address) -> Task<void> {
        for (int i = 0; i < 20; ++i)
            co_await remote.invoke(address, aid("T", "ok"), "m", Json(i), "");
        EXPECT_EQ(remote.connections_opened(), 1u);
        // Concurrent calls share a bounded pool.
        // (invoke() takes the address and the id by reference: they must
        // outlive the tasks.)
        const actors::ActorId target = aid("T", "ok");
        std::vector<corio::TaskHandle<Json>> calls;
        for (int i = 0; i < 50; ++i)
            calls.push_back(corio::create_task(remote.invoke(address, target, "m", Json(i), "")));
        for (int i = 0; i < 50; ++i)
            EXPECT_EQ(field((co_await calls[i]), "body"), i);
        // At most 8 connections (the default), the other calls pipelined.
        EXPECT_GE(remote.connections_opened(), 2u);
        EXPECT_LE(remote.connections_opened(), 8u);
    });
}

TEST(HttpRemote, MapsEachStatusToItsError) {
    with_host([](actors::HttpRemote& remote, const std::string& address) -> Task<void> {
        std::string r = co_await outcome(remote, address, "moved");
        EXPECT_TRUE(starts_with(r, "NotOwner: ")) << r;
        EXPECT_NE(r.find("not here"), std::string::npos) << r;
        r = co_await outcome(remote, address, "missing");
        EXPECT_TRUE(starts_with(r, "ActorNotFound: ")) << r;
        EXPECT_NE(r.find("no such method"), std::string::npos) << r;
        r = co_await outcome(remote, address, "badargs");
        EXPECT_TRUE(starts_with(r, "ActorArgumentError: ")) << r;
        EXPECT_NE(r.find("expected an int"), std::string::npos) << r;
        // The remote method's message, as it was.
        EXPECT_EQ(co_await outcome(remote, address, "threw"),
                  "ActorMethodError: insufficient funds");
        EXPECT_EQ(co_await outcome(remote, address, "plain500"), "ActorMethodError: boom");
        r = co_await outcome(remote, address, "busy");
        EXPECT_TRUE(starts_with(r, "ActorUnavailable: ")) << r;
        r = co_await outcome(remote, address, "teapot");
        EXPECT_TRUE(starts_with(r, "ActorUnavailable: ")) << r;
        EXPECT_NE(r.find("418"), std::string::npos) << r;
        r = co_await outcome(remote, address, "garbage");
        EXPECT_TRUE(starts_with(r, "ActorArgumentError: ")) << r;
        // Error answers leave the connection usable.
        EXPECT_EQ(co_await outcome(remote, address, std::string("ok")), "ok");
        EXPECT_EQ(remote.connections_opened(), 1u);
    });
}

TEST(HttpRemote, DeadAddressIsActorUnavailable) {
    net_run([]() -> Task<void> {
        corio::net::Socket holder;
        std::uint16_t port = corio_test::refused_port(holder);
        actors::HttpRemote remote;
        std::string r = co_await outcome(remote, "127.0.0.1:" + std::to_string(port), "ok");
        EXPECT_TRUE(starts_with(r, "ActorUnavailable: ")) << r;
        co_await remote.close();
        holder.close();
    }());
}

TEST(HttpRemote, HostThatNeverAnswersTimesOutAsActorUnavailable) {
    net_run([]() -> Task<void> {
        web::Application app;
        corio::Event never;
        app.add_put("/actors/{type}/{id}/method/{method}",
                    [&never](web::Request&) -> Task<web::Response> {
                        co_await never.wait();
                        co_return web::Response();
                    });
        web::AppServer server = co_await web::serve(app, "127.0.0.1", 0);
        actors::HttpRemote remote({.call_timeout = 200ms});
        std::string r =
            co_await outcome(remote, "127.0.0.1:" + std::to_string(server.port()), "ok");
        EXPECT_TRUE(starts_with(r, "ActorUnavailable: ")) << r;
        co_await remote.close();
        never.set();
        co_await server.shutdown(1s);
    }());
}

TEST(HttpRemote, ClosedRemoteIsActorUnavailable) {
    with_host([](actors::HttpRemote& remote, const std::string& address) -> Task<void> {
        co_await remote.close();
        std::string r = co_await outcome(remote, address, "ok");
        EXPECT_TRUE(starts_with(r, "ActorUnavailable: ")) << r;
    });
}

TEST(HttpRemote, LateAnswerOfAnAbandonedCallIsDropped) {
    net_run([]() -> Task<void> {
        web::Application app;
        corio::Event release;
        app.add_put("/actors/{type}/{id}/method/{method}",
                    [&release](web::Request& req) -> Task<web::Response> {
                        std::string id = req.match_info().find("id")->second;
                        if (id == "slow")
                            co_await release.wait();
                        co_return web::json_response(Json(id));
                    });
        web::AppServer server = co_await web::serve(app, "127.0.0.1", 0);
        std::string address = "127.0.0.1:" + std::to_string(server.port());
        // One connection: the calls after the slow one are pipelined behind it.
        actors::HttpRemote remote({.connections_per_host = 1, .call_timeout = 1s});
        std::string r = co_await outcome(remote, address, "slow");
        EXPECT_TRUE(starts_with(r, "ActorUnavailable: ")) << r;
        const actors::ActorId a = aid("T", "a"), b = aid("T", "b");
        auto first = corio::create_task(remote.invoke(address, a, "m", Json(), ""));
        auto second = corio::create_task(remote.invoke(address, b, "m", Json(), ""));
        co_await corio::sleep(20ms);
        release.set();  // the slow answer comes first and goes to no one
        EXPECT_EQ(co_await first, Json("a"));
        EXPECT_EQ(co_await second, Json("b"));
        EXPECT_EQ(remote.connections_opened(), 1u);
        co_await remote.close();
        co_await server.shutdown(1s);
    }());
}

namespace {

// A raw host: reads one request head, answers `answer` as is, then closes.
Task<std::string> raw_host_outcome(std::string answer) {
    // (The handler is built before the co_await: GCC 12 destroys a lambda
    // temporary of a co_await expression twice.)
    corio::net::ClientConnected handler = [answer](corio::net::StreamReader r,
                                                   corio::net::StreamWriter w) -> Task<void> {
        co_await r.readuntil("\r\n\r\n");
        w.write(answer);
        w.write_eof();      // a clean end (closing at once may reset instead)
        co_await r.read();  // until the client closes
        w.close();
        co_await w.wait_closed();
    };
    corio::net::Server server = co_await corio::net::start_server(handler, "127.0.0.1", 0);
    std::string address = "127.0.0.1:" + std::to_string(server.sockets().at(0).port());
    actors::HttpRemote remote;
    std::string r;
    try {
        Json v = co_await remote.invoke(address, aid("T", "x"), "m", Json(), "");
        r = v.dump();
    } catch (const actors::ActorUnavailable& e) {
        r = std::string("ActorUnavailable: ") + e.what();
    }
    co_await remote.close();
    server.close();
    co_await server.wait_closed();
    co_return r;
}

}  // namespace

TEST(HttpRemote, AnswerEndedByTheConnectionIsRead) {
    std::string r = net_run(raw_host_outcome("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n42"));
    EXPECT_EQ(r, "42");
    r = net_run(raw_host_outcome(
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n43\r\n0\r\n\r\n"));
    EXPECT_EQ(r, "43");
}

TEST(HttpRemote, HostClosingBeforeItAnswersIsActorUnavailable) {
    std::string r = net_run(raw_host_outcome(""));
    EXPECT_TRUE(starts_with(r, "ActorUnavailable: ")) << r;
    r = net_run(raw_host_outcome("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n12"));
    EXPECT_TRUE(starts_with(r, "ActorUnavailable: ")) << r;
    r = net_run(raw_host_outcome("not http\r\n\r\n"));
    EXPECT_TRUE(starts_with(r, "ActorUnavailable: ")) << r;
}
