// corio/actors/dapr.hpp - running under a Dapr sidecar: actor state and
// reminders kept by the sidecar, through its HTTP API.
//
// Under Dapr the sidecar owns placement, state and reminders; the app
// serves the actor endpoints (add_actor_routes, corio/actors/http.hpp) and
// uses these stores, so its actors read and save state through Dapr's
// configured state store, and its reminders are scheduled by Dapr, which
// calls the app's PUT .../method/remind/{name} when one is due:
//
//   auto store = std::make_shared<actors::DaprStateStore>();
//   auto reminders = std::make_shared<actors::DaprReminderStore>();
//   actors::Runtime rt({.state_store = store, .reminder_store = reminders});
//
// Dapr's API (v1.0, "Actors API reference"):
//   GET  /v1.0/actors/{type}/{id}/state/{key}      200 with the value; 204
//                                                  or 404: none
//   POST /v1.0/actors/{type}/{id}/state            [{"operation": "upsert" |
//        "delete", "request": {"key": k, "value": v}}] in one transaction
//   POST /v1.0/actors/{type}/{id}/reminders/{name} {"dueTime", "period",
//        "data"}
//   DELETE /v1.0/actors/{type}/{id}/reminders/{name}
// Python's Dapr SDK: `DaprActorHttpClient` (get_state, save_state_transactionally,
// register_reminder, unregister_reminder).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "corio/actors/actor.hpp"

namespace corio::http {
class ClientSession;
}  // namespace corio::http

namespace corio::actors {

/// Where the sidecar is.
struct DaprOptions {
    /// Its HTTP API's base URL. Empty: "http://127.0.0.1:$DAPR_HTTP_PORT"
    /// (3500 when the variable is not set), as Dapr's SDKs do.
    std::string base_url;
    /// Sent as `dapr-api-token` when not empty. Empty: $DAPR_API_TOKEN.
    std::string api_token;
    /// A request's whole time limit.
    Duration timeout = std::chrono::seconds(30);
};

/// The base URL and token `options` name, with the environment's defaults
/// filled in.
DaprOptions resolve_dapr_options(DaprOptions options);

/// Actor state in the sidecar's actor state store. Every call is an HTTP
/// request to the sidecar (one per get(), one per apply()). Use it from one
/// loop; call close() when done (before the loop ends).
class DaprStateStore final : public StateStore {
public:
    /// The sidecar named by `options` (resolve_dapr_options: the
    /// environment's DAPR_HTTP_PORT and DAPR_API_TOKEN when not given).
    /// Connects on first use.
    explicit DaprStateStore(DaprOptions options = {});
    ~DaprStateStore() override;

    /// GET .../state/{key}: the value (the body parsed as JSON), or nullopt
    /// for 204 or 404. Throws ActorUnavailable when the sidecar cannot be
    /// reached, ActorError for another answer.
    Task<std::optional<Json>> get(const ActorId& actor, std::string key) override;
    /// POST .../state with the operations (nothing is sent for none).
    /// Throws as get(); the sidecar applies all or none.
    Task<void> apply(const ActorId& actor, std::vector<StateOp> ops) override;
    /// Closes the connections to the sidecar. Idempotent.
    Task<void> close();

private:
    DaprOptions options_;
    std::unique_ptr<http::ClientSession> session_;
};

/// Reminders scheduled by the sidecar. upsert() registers the reminder with
/// Dapr (its due time relative to now, in Dapr's "0h0m9s0ms" form) and
/// remove() deletes it; Dapr then fires it by calling the app's
/// .../method/remind/{name}, so the runtime's own poll finds nothing here:
/// claim_due() returns nothing, next_due() nullopt, complete() and release()
/// do nothing (Dapr reschedules periodic reminders itself).
class DaprReminderStore final : public ReminderStore {
public:
    /// As DaprStateStore's constructor.
    explicit DaprReminderStore(DaprOptions options = {});
    ~DaprReminderStore() override;

    /// POST .../reminders/{name}. Throws as DaprStateStore::get().
    Task<void> upsert(Reminder r) override;
    /// DELETE .../reminders/{name}. Throws as upsert().
    Task<void> remove(const ActorId& actor, std::string name) override;
    Task<std::vector<Reminder>> claim_due(EpochMs now, std::int64_t lease_ms,
                                          std::size_t max) override;
    Task<void> complete(const Reminder& r, EpochMs fired_at) override;
    Task<void> release(const Reminder& r, EpochMs retry_at) override;
    Task<std::optional<EpochMs>> next_due() override;
    /// Closes the connections to the sidecar. Idempotent.
    Task<void> close();

private:
    DaprOptions options_;
    std::unique_ptr<http::ClientSession> session_;
};

}  // namespace corio::actors
