// corio/actors/http.hpp - actors over HTTP: Dapr's app-side actor API
// served by a process that hosts actors, and HttpRemote, which forwards a
// call to the process that hosts its actor through those same endpoints.
//
// Dapr (the sidecar calls the app):        corio:
//   GET    /dapr/config                      the types and RuntimeOptions
//   PUT    /actors/{type}/{id}/method/{m}    Runtime::invoke_local
//   PUT    .../method/timer/{name}           Runtime::invoke_timer_local
//   PUT    .../method/remind/{name}          Runtime::invoke_reminder_local
//   DELETE /actors/{type}/{id}               Runtime::deactivate
//   GET    /healthz                          200
//
// A corio process serves these with add_actor_routes() on its
// http::web::Application, so it runs unchanged under a Dapr sidecar (with
// DaprStateStore and DaprReminderStore, corio/actors/dapr.hpp), and the
// processes of a corio cluster (placement: corio/actors/redis.hpp) call
// each other's actors through them with HttpRemote. Python's Dapr SDK:
// `dapr.ext.fastapi.DaprActor(app)` registers the same routes.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "corio/actors/actor.hpp"

namespace corio::http::web {
class Application;
}  // namespace corio::http::web

namespace corio::actors {

// --------------------------------------------------------------------------
// The wire: statuses and headers of the actor endpoints.

/// The status a host answers a forwarded call with when placement says it
/// does not own the actor (Runtime::invoke_local threw NotOwner): 421
/// Misdirected Request ("this server cannot answer for this target").
/// HttpRemote maps it back to NotOwner, so the caller locates the actor
/// again. Dapr's sidecar never sees it (it does its own placement).
inline constexpr int kNotOwnerStatus = 421;

/// Dapr's header carrying the reentrancy id (the call chain) of a call.
inline constexpr std::string_view kReentrancyHeader = "Dapr-Reentrancy-Id";

/// Dapr's header marking an answer whose body is an actor error (status
/// 500, body {"errorCode": ..., "message": ...}).
inline constexpr std::string_view kErrorHeader = "X-DaprErrorResponseHeader";

// --------------------------------------------------------------------------
// The host side

/// Routes Dapr's app-side actor API on `app` to `runtime`:
///
/// - `GET /dapr/config`: {"entities": runtime.types(), "actorIdleTimeout",
///   "actorScanInterval" (Go durations from RuntimeOptions, "1h0m0s"),
///   "drainOngoingCallTimeout": "60s", "drainRebalancedActors": true,
///   "reentrancy": {"enabled": RuntimeOptions::reentrancy}}.
/// - `PUT /actors/{type}/{id}/method/{method}`: the body (JSON; empty is
///   null) goes to invoke_local as decode_args reads it, with the
///   `Dapr-Reentrancy-Id` header as the call chain; answers 200 with the
///   JSON result (echoing the header). Errors, each a JSON body
///   {"errorCode", "message"} with `X-DaprErrorResponseHeader: true`:
///   404 ERR_ACTOR_NOT_FOUND (no such type or method: ActorNotFound),
///   400 ERR_ACTOR_ARGUMENT (body not JSON, or ActorArgumentError),
///   421 ERR_ACTOR_NOT_OWNER (NotOwner, see kNotOwnerStatus),
///   503 ERR_ACTOR_UNAVAILABLE (ActorUnavailable),
///   500 ERR_ACTOR_INVOKE_METHOD (anything else the method threw, its
///   what() as the message).
/// - `PUT .../method/timer/{name}`: fires the actor's timer (200; 404 when
///   the type is unknown). The body Dapr sends is not needed: corio timers
///   keep their callback and data.
/// - `PUT .../method/remind/{name}`: Dapr's body {"data", "dueTime",
///   "period"} (durations as parse_dapr_duration reads them) goes to
///   invoke_reminder_local (200; 400 for a bad body).
/// - `DELETE /actors/{type}/{id}`: deactivates it (200 whether or not it was
///   active, as Dapr's SDKs answer; 404 for an unknown type).
/// - `GET /healthz`: 200.
///
/// Path parameters are matched after percent-decoding (the router's rule),
/// so a type, id or method holding '/' cannot be reached through these
/// routes (404). Handlers run on the server's loop; `runtime` must be used
/// from that loop and outlive the server. Cancellation of a handler (the
/// client went away) cancels the call as ActorProxy::call documents. Routes
/// `app` already had for these paths are tried first (the router's order).
/// Never throws.
void add_actor_routes(http::web::Application& app, Runtime& runtime);

/// `d` as Go's time.Duration.String() writes it ("1h0m0s", "30s",
/// "1m30s", "500ms", "1.5s", "0s"), the form of Dapr's /dapr/config.
std::string format_go_duration(Duration d);

/// `d` in the form Dapr sends reminder and timer times in ("0h0m9s0ms").
std::string format_dapr_duration(Duration d);

/// A duration as Dapr writes one: a Go duration ("0h0m9s0ms", "2h30m",
/// "1.5s", "500ms", "10us"), or ISO 8601 ("PT9S", "PT2H30M", "P1DT1H",
/// "PT0.5S"; a repetition prefix "R5/PT1M" is accepted and its count
/// ignored). An empty string is zero. Throws std::invalid_argument for
/// anything else, or a negative duration.
Duration parse_dapr_duration(std::string_view text);

// --------------------------------------------------------------------------
// The calling side

/// Settings of an HttpRemote.
struct HttpRemoteOptions {
    /// Connections opened to one host at most; concurrent calls beyond it
    /// are pipelined on them. Fewer, deeper pipelines batch more calls per
    /// system call (measured with 512 callers: 8 connections carried
    /// 1.1-1.5x the calls/s of 64); more connections keep a slow turn
    /// from delaying the calls queued behind it on the same connection (a
    /// host answers a connection's requests in order).
    std::size_t connections_per_host = 8;
    /// A call's whole limit (connect, send, the remote turn, the answer);
    /// past it the call fails with ActorUnavailable.
    Duration call_timeout = std::chrono::seconds(30);
    /// How long connecting may take (then ActorUnavailable).
    Duration connect_timeout = std::chrono::seconds(5);
};

/// Forwards calls to the process at an address ("host:port") with
/// `PUT http://{address}/actors/{type}/{id}/method/{method}` (type, id and
/// method percent-encoded), the JSON body, and the call chain in
/// `Dapr-Reentrancy-Id`. Each address gets a pool of up to
/// `connections_per_host` keep-alive HTTP/1.1 connections; a call goes to
/// the connection with the fewest calls in flight, a new one is opened
/// while every open one is busy, and calls beyond that are pipelined on
/// the connections (HTTP/1.1 pipelining: requests written back to back,
/// answers read in order), so many concurrent calls share few system
/// calls. Maps the answer back:
///   200 -> the JSON result (an empty body is null);
///   421 -> NotOwner; 404 -> ActorNotFound; 400 -> ActorArgumentError;
///   500 -> ActorMethodError with the remote message;
///   503, another status, connection refused or reset, a server that
///   closed the connection, a timeout -> ActorUnavailable.
/// Use it from one loop (the one its runtime runs on). A connection that
/// fails fails every call in flight on it with ActorUnavailable (their
/// turns may have run remotely). Cancelling a call (or its timeout) leaves
/// its answer to be read and dropped; the remote turn may still run.
class HttpRemote final : public Remote {
public:
    /// Opens nothing yet: connections are made per host on the first call.
    explicit HttpRemote(HttpRemoteOptions options = {});
    ~HttpRemote() override;
    HttpRemote(const HttpRemote&) = delete;
    HttpRemote& operator=(const HttpRemote&) = delete;

    /// See Remote::invoke and the class. Suspends for the round trip.
    Task<Json> invoke(const std::string& address, const ActorId& actor, std::string method,
                      Json body, std::string call_chain) override;
    /// PUT http://{address}/actors/{type}/{id}/method/remind/{name}, Dapr's
    /// reminder callback; errors as invoke().
    Task<void> remind(const std::string& address, const ActorId& actor, std::string name,
                      Json body) override;
    /// Closes the pooled connections; later calls throw ActorUnavailable.
    /// Idempotent.
    Task<void> close() override;

    /// Connections opened so far (to observe reuse).
    std::uint64_t connections_opened() const noexcept;

    struct Pool;

private:
    Task<Json> put(const std::string& address, std::string path, std::string what, Json body,
                   std::string call_chain);
    std::unique_ptr<Pool> pool_;
};

namespace detail {
/// "/actors/{type}/{id}/method/{method}" with each part percent-encoded
/// (RFC 3986 unreserved characters kept).
std::string actor_method_path(const ActorId& actor, std::string_view method);
/// `s` with every byte but the RFC 3986 unreserved ones as %XX.
std::string percent_encode(std::string_view s);
/// `j` as compact JSON text for a wire body; invalid UTF-8 in its strings
/// becomes U+FFFD instead of throwing (a body must always be writable).
std::string dump_json(const Json& j);
}  // namespace detail

}  // namespace corio::actors
