// The endpoints a process hosting actors serves: Dapr's app-side actor API
// (what a Dapr sidecar calls), which also carries corio's forwarded calls.
#include <exception>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "corio/actors/http.hpp"
#include "corio/http/web.hpp"

namespace corio::actors {

namespace web = corio::http::web;

namespace {

// An actor error answer: Dapr's error body and header.
web::Response error_response(int status, std::string_view code, std::string_view message) {
    Json body = {{"errorCode", code}, {"message", message}};
    web::Response r = web::Response::json(detail::dump_json(body), status);
    r.headers().set(kErrorHeader, "true");
    return r;
}

ActorId actor_of(const web::Request& req) {
    return ActorId{req.match_info().find("type")->second, req.match_info().find("id")->second};
}

const std::string& param(const web::Request& req, std::string_view name) {
    return req.match_info().find(name)->second;
}

// The body as JSON: null when empty. Throws ActorArgumentError when it is
// not JSON.
Task<Json> json_body(const web::Request& req) {
    std::string text = co_await req.text();
    if (text.empty())
        co_return Json();
    try {
        co_return Json::parse(text);
    } catch (const Json::parse_error& e) {
        throw ActorArgumentError(std::string("body is not JSON: ") + e.what());
    }
}

// The answer for what a call to the runtime threw (cancellation passes).
web::Response answer_error(std::exception_ptr error) {
    try {
        std::rethrow_exception(error);
    } catch (const NotOwner& e) {
        return error_response(kNotOwnerStatus, "ERR_ACTOR_NOT_OWNER", e.what());
    } catch (const ActorNotFound& e) {
        return error_response(404, "ERR_ACTOR_NOT_FOUND", e.what());
    } catch (const ActorArgumentError& e) {
        return error_response(400, "ERR_ACTOR_ARGUMENT", e.what());
    } catch (const ActorUnavailable& e) {
        return error_response(503, "ERR_ACTOR_UNAVAILABLE", e.what());
    } catch (const std::exception& e) {
        return error_response(500, "ERR_ACTOR_INVOKE_METHOD", e.what());
    }
    // Not a std::exception (CancelledError): it propagates.
}

Task<web::Response> config(Runtime& rt) {
    const RuntimeOptions& o = rt.options();
    Json body = {
        {"entities", rt.types()},
        {"actorIdleTimeout", format_go_duration(o.idle_timeout)},
        {"actorScanInterval", format_go_duration(o.scan_interval)},
        {"drainOngoingCallTimeout", "60s"},
        {"drainRebalancedActors", true},
        {"reentrancy", {{"enabled", o.reentrancy}}},
    };
    co_return web::json_response(body);
}

// Runs a handler; what it throws (but a cancellation) becomes Dapr's error
// answer.
Task<web::Response> answering(Task<web::Response> handler) {
    std::exception_ptr error;
    try {
        co_return co_await std::move(handler);
    } catch (...) {
        error = std::current_exception();
    }
    co_return answer_error(error);
}

Task<web::Response> invoke_method(Runtime& rt, web::Request& req) {
    std::string chain(req.headers().get(kReentrancyHeader, ""));
    Json body = co_await json_body(req);
    Json result =
        co_await rt.invoke_local(actor_of(req), param(req, "method"), std::move(body), chain);
    web::Response r = web::Response::json(detail::dump_json(result), 200);
    if (!chain.empty())
        r.headers().set(kReentrancyHeader, chain);
    co_return r;
}

Task<web::Response> invoke_timer(Runtime& rt, web::Request& req) {
    co_await rt.invoke_timer_local(actor_of(req), param(req, "name"));
    co_return web::Response();
}

Task<web::Response> invoke_reminder(Runtime& rt, web::Request& req) {
    Json body = co_await json_body(req);
    Json data;
    Duration due{}, period{};
    if (body.is_object()) {
        if (auto it = body.find("data"); it != body.end())
            data = *it;
        try {
            if (auto it = body.find("dueTime"); it != body.end() && it->is_string())
                due = parse_dapr_duration(it->get<std::string>());
            if (auto it = body.find("period"); it != body.end() && it->is_string())
                period = parse_dapr_duration(it->get<std::string>());
        } catch (const std::invalid_argument& e) {
            throw ActorArgumentError(e.what());
        }
    } else if (!body.is_null()) {
        throw ActorArgumentError("a reminder's body is a JSON object");
    }
    co_await rt.invoke_reminder_local(actor_of(req), param(req, "name"), std::move(data), due,
                                      period);
    co_return web::Response();
}

Task<web::Response> deactivate(Runtime& rt, web::Request& req) {
    ActorId actor = actor_of(req);
    if (!rt.hosts(actor.type))
        co_return error_response(404, "ERR_ACTOR_NOT_FOUND",
                                 "actor type '" + actor.type + "' is not hosted here");
    co_await rt.deactivate(actor);
    co_return web::Response();
}

}  // namespace

void add_actor_routes(web::Application& app, Runtime& runtime) {
    Runtime* rt = &runtime;
    // The method route first: it is the hot one, and the router tries the
    // routes in order (a method path has one segment after "method/", the
    // timer and reminder paths two, so they never match each other's).
    app.add_put("/actors/{type}/{id}/method/{method}",
                [rt](web::Request& req) { return answering(invoke_method(*rt, req)); });
    app.add_put("/actors/{type}/{id}/method/timer/{name}",
                [rt](web::Request& req) { return answering(invoke_timer(*rt, req)); });
    app.add_put("/actors/{type}/{id}/method/remind/{name}",
                [rt](web::Request& req) { return answering(invoke_reminder(*rt, req)); });
    app.add_delete("/actors/{type}/{id}", [rt](web::Request& req) { return deactivate(*rt, req); });
    app.add_get("/dapr/config", [rt](web::Request&) { return config(*rt); });
    app.add_get("/healthz",
                [](web::Request&) -> Task<web::Response> { co_return web::Response(); });
}

}  // namespace corio::actors
