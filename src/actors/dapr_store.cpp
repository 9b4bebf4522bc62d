// DaprStateStore and DaprReminderStore: actor state and reminders kept by a
// Dapr sidecar, through its HTTP API.
#include <chrono>
#include <cstdlib>
#include <exception>
#include <string>
#include <utility>

#include "corio/actors/dapr.hpp"
#include "corio/actors/http.hpp"
#include "corio/http/client.hpp"

namespace corio::actors {

namespace {

http::ClientSessionOptions session_options(const DaprOptions& o) {
    http::ClientSessionOptions s;
    s.timeout.total = o.timeout;
    s.allow_redirects = false;
    return s;
}

std::string actor_url(const DaprOptions& o, const ActorId& actor) {
    return o.base_url + "/v1.0/actors/" + detail::percent_encode(actor.type) + "/" +
           detail::percent_encode(actor.id);
}

// One request to the sidecar; connection failures become ActorUnavailable.
Task<http::ClientResponse> sidecar(http::ClientSession& session, const DaprOptions& o,
                                   std::string method, std::string url, std::string body = {}) {
    http::Headers headers;
    if (!body.empty())
        headers.add("Content-Type", "application/json");
    if (!o.api_token.empty())
        headers.add("dapr-api-token", o.api_token);
    std::string failure;
    http::ClientResponse resp;
    try {
        resp = co_await session.request(method, url, std::move(body), std::move(headers));
    } catch (const std::exception& e) {
        failure = e.what();
    }
    if (!failure.empty())
        throw ActorUnavailable("Dapr sidecar " + method + " " + url + ": " + failure);
    co_return resp;
}

[[noreturn]] void sidecar_error(const http::ClientResponse& r, std::string_view what) {
    throw ActorError("Dapr sidecar: " + std::string(what) + " answered " +
                     std::to_string(r.status()) + ": " + r.body());
}

EpochMs now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

}  // namespace

DaprOptions resolve_dapr_options(DaprOptions options) {
    if (options.base_url.empty()) {
        const char* port = std::getenv("DAPR_HTTP_PORT");
        options.base_url = std::string("http://127.0.0.1:") + (port && *port ? port : "3500");
    }
    while (!options.base_url.empty() && options.base_url.back() == '/')
        options.base_url.pop_back();
    if (options.api_token.empty()) {
        if (const char* token = std::getenv("DAPR_API_TOKEN"))
            options.api_token = token;
    }
    return options;
}

// --------------------------------------------------------------------------

DaprStateStore::DaprStateStore(DaprOptions options)
    : options_(resolve_dapr_options(std::move(options))),
      session_(std::make_unique<http::ClientSession>(session_options(options_))) {}

DaprStateStore::~DaprStateStore() = default;

Task<std::optional<Json>> DaprStateStore::get(const ActorId& actor, std::string key) {
    http::ClientResponse r =
        co_await sidecar(*session_, options_, "GET",
                         actor_url(options_, actor) + "/state/" + detail::percent_encode(key));
    if (r.status() == 204 || r.status() == 404)
        co_return std::nullopt;
    if (r.status() != 200)
        sidecar_error(r, "get state");
    if (r.body().empty())
        co_return std::nullopt;
    Json value = Json::parse(r.body(), nullptr, /*allow_exceptions=*/false);
    if (value.is_discarded())
        throw ActorArgumentError("Dapr sidecar: the state under '" + key + "' is not JSON");
    co_return value;
}

Task<void> DaprStateStore::apply(const ActorId& actor, std::vector<StateOp> ops) {
    if (ops.empty())
        co_return;
    Json body = Json::array();
    for (StateOp& op : ops) {
        if (op.kind == StateOp::Kind::upsert)
            body.push_back(
                {{"operation", "upsert"},
                 {"request", {{"key", std::move(op.key)}, {"value", std::move(op.value)}}}});
        else
            body.push_back({{"operation", "delete"}, {"request", {{"key", std::move(op.key)}}}});
    }
    http::ClientResponse r =
        co_await sidecar(*session_, options_, "POST", actor_url(options_, actor) + "/state",
                         detail::dump_json(body));
    if (r.status() != 204 && r.status() != 200)
        sidecar_error(r, "save state");
}

Task<void> DaprStateStore::close() {
    co_await session_->close();
}

// --------------------------------------------------------------------------

DaprReminderStore::DaprReminderStore(DaprOptions options)
    : options_(resolve_dapr_options(std::move(options))),
      session_(std::make_unique<http::ClientSession>(session_options(options_))) {}

DaprReminderStore::~DaprReminderStore() = default;

Task<void> DaprReminderStore::upsert(Reminder r) {
    Json body = {
        {"dueTime",
         format_dapr_duration(std::chrono::milliseconds(r.due > now_ms() ? r.due - now_ms() : 0))},
        {"data", std::move(r.data)}};
    if (r.period_ms > 0)
        body["period"] = format_dapr_duration(std::chrono::milliseconds(r.period_ms));
    http::ClientResponse resp = co_await sidecar(
        *session_, options_, "POST",
        actor_url(options_, r.actor) + "/reminders/" + detail::percent_encode(r.name),
        detail::dump_json(body));
    if (resp.status() != 204 && resp.status() != 200)
        sidecar_error(resp, "register reminder");
}

Task<void> DaprReminderStore::remove(const ActorId& actor, std::string name) {
    http::ClientResponse resp =
        co_await sidecar(*session_, options_, "DELETE",
                         actor_url(options_, actor) + "/reminders/" + detail::percent_encode(name));
    if (resp.status() != 204 && resp.status() != 200 && resp.status() != 404)
        sidecar_error(resp, "unregister reminder");
}

Task<std::vector<Reminder>> DaprReminderStore::claim_due(EpochMs, std::int64_t, std::size_t) {
    co_return std::vector<Reminder>{};
}

Task<void> DaprReminderStore::complete(const Reminder&, EpochMs) {
    co_return;
}

Task<void> DaprReminderStore::release(const Reminder&, EpochMs) {
    co_return;
}

Task<std::optional<EpochMs>> DaprReminderStore::next_due() {
    co_return std::nullopt;
}

Task<void> DaprReminderStore::close() {
    co_await session_->close();
}

}  // namespace corio::actors
