// corio/actors/actor.hpp - virtual actors in Dapr's model.
//
// Python (Dapr's SDK):                       corio:
//   class Counter(Actor, CounterInterface):    struct Counter : actors::Actor {
//       async def add(self, n: int) -> int:        Task<int> add(int n) {
//           v = await self._state_manager \            int v = co_await state().get_or<int>("v", 0)
//           + n;
//                  .get_or_add_state("v", 0) + n       state().set("v", v);
//           await self._state_manager \                co_return v;
//                  .set_state("v", v)              }
//           return v                           };
//   runtime.register_actor(Counter)            runtime.register_actor<Counter>("Counter")
//                                                  .method("add", &Counter::add);
//   proxy = ActorProxy.create("Counter",       auto proxy = runtime.proxy("Counter", "c1");
//       ActorId("c1"), CounterInterface)       int v = co_await proxy.call<int>("add", 5);
//   v = await proxy.add(5)
//
// The model:
// - An actor is addressed by (type, id) and exists virtually: the first call
//   activates it (on_activate), and it is deactivated (on_deactivate) after
//   RuntimeOptions::idle_timeout without calls.
// - Turn-based: one call at a time per actor, in arrival order, each turn
//   running to its end before the next begins. Timer and reminder callbacks
//   are turns too. With reentrancy on, a call made from inside a turn (its
//   call chain) may enter the same actor again instead of deadlocking.
// - State: state() reads through to the StateStore once per key and caches;
//   set()/remove() change the cache; the changes are saved in one
//   transaction when the turn ends without an exception, and dropped when
//   it throws or is cancelled.
// - Arguments and results travel as JSON (nlohmann-json, with its
//   to_json/from_json customisation) between processes and languages.
//   Calls to an actor in the same process take a fast path with no JSON
//   when the proxy's argument and result types match the method's.
// - Placement (optional, corio/actors/redis.hpp): each actor is active in at
//   most one process of a cluster, and calls to an actor that lives in
//   another process are forwarded there (corio/actors/http.hpp).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <typeinfo>
#include <unordered_map>
#include <utility>
#include <vector>

#include "corio/actors/store.hpp"
#include "corio/errors.hpp"
#include "corio/event_loop.hpp"
#include "corio/task.hpp"

namespace corio::actors {

using Duration = std::chrono::nanoseconds;

class Runtime;
class Actor;
class ActorProxy;

namespace detail {
struct Activation;
struct RuntimeImpl;
}  // namespace detail

// --------------------------------------------------------------------------
// Errors

/// Base of the actor runtime's errors.
class ActorError : public corio::Error {
public:
    using corio::Error::Error;
};

/// The type is not registered, or has no such method. Dapr answers these
/// calls with 404 / 501.
class ActorNotFound : public ActorError {
public:
    using ActorError::ActorError;
};

/// The method threw: carries its message (and, across processes, the
/// remote error's text). The turn's state changes were not saved.
class ActorMethodError : public ActorError {
public:
    using ActorError::ActorError;
};

/// Arguments or a result that do not convert to or from JSON as the method
/// needs (the remote side of a std::invalid_argument).
class ActorArgumentError : public ActorError {
public:
    using ActorError::ActorError;
};

/// The actor's host could not be reached, or placement could not settle
/// where it lives, within the call's deadline.
class ActorUnavailable : public ActorError {
public:
    using ActorError::ActorError;
};

// --------------------------------------------------------------------------
// State

/// An actor's state, as Dapr's ActorStateManager: reads go to the store
/// once per key and are cached for the activation's life; writes stay in
/// the cache until the turn ends, then are saved together (save() saves
/// earlier). Values convert with nlohmann-json.
class StateManager {
public:
    /// The value under `key`, or nullopt. Suspends only for the first read
    /// of a key from a store that is not in memory. Throws what the store
    /// throws, or ActorArgumentError if the value does not convert to T.
    template <class T>
    Task<std::optional<T>> try_get(std::string key);
    /// The value under `key`; throws corio::LookupError if there is none
    /// (Dapr's get_state raises KeyError).
    template <class T>
    Task<T> get(std::string key);
    /// The value under `key`, or `fallback` if there is none (not stored).
    template <class T>
    Task<T> get_or(std::string key, T fallback);
    /// True if `key` has a value.
    Task<bool> contains(std::string key);
    /// Sets `key` for this turn; saved when the turn ends. Never suspends.
    template <class T>
    void set(std::string key, T&& value) {
        set_json(std::move(key), Json(std::forward<T>(value)));
    }
    /// Removes `key` for this turn (no error if it has no value).
    void remove(std::string key);
    /// Saves this turn's changes now, in one transaction (Dapr: save_state).
    /// Throws what the store throws; then the changes are dropped and the
    /// cache is cleared (what the store holds is unknown: the next read goes
    /// to it), so the turn should fail.
    Task<void> save();
    /// Forgets the cache and the pending changes (after a failed turn).
    void clear_cache() noexcept;
    /// True if changes are pending.
    bool dirty() const noexcept { return dirty_; }

private:
    friend class Runtime;
    friend struct detail::RuntimeImpl;
    friend struct detail::Activation;
    struct Slot {
        std::optional<Json> value;  // nullopt: known absent
        bool changed = false;
    };
    Task<const std::optional<Json>*> load(std::string key);
    const std::optional<Json>* cached(const std::string& key) const;
    void set_json(std::string key, Json value);
    // Hands each pending change to `f(key, value)` (value nullopt: removed)
    // and marks it saved; defined where it is used (runtime.cpp).
    template <class F>
    void drain_changes(F&& f);

    detail::Activation* owner_ = nullptr;
    std::unordered_map<std::string, Slot> slots_;
    bool dirty_ = false;
};

// --------------------------------------------------------------------------
// Actors

/// Base class of actor implementations. The runtime creates one per
/// activation with the factory given to register_actor; the hooks and
/// methods run as turns on the runtime's loop.
class Actor {
public:
    virtual ~Actor() = default;
    Actor() = default;
    Actor(const Actor&) = delete;
    Actor& operator=(const Actor&) = delete;

    /// Called once per activation, before its first turn (as part of the
    /// first turn). An exception fails that call and the activation is
    /// dropped; the next call tries again. Dapr: `_on_activate`.
    virtual Task<void> on_activate() { co_return; }
    /// Called when the actor is deactivated (idle timeout, shutdown, Dapr's
    /// DELETE), as its last turn. State changes made here are saved.
    /// Dapr: `_on_deactivate`.
    virtual Task<void> on_deactivate() { co_return; }
    /// A reminder fired. Runs as a turn; throwing counts as not delivered,
    /// and the reminder fires again. Dapr: `receive_reminder`.
    virtual Task<void> receive_reminder(std::string name, Json data, Duration due, Duration period);

    /// This actor's address.
    const ActorId& id() const noexcept { return id_; }
    /// This actor's state.
    StateManager& state() noexcept { return *state_; }
    /// The runtime hosting it.
    Runtime& runtime() noexcept { return *runtime_; }

    /// Registers (or replaces) a timer: `callback` runs as a turn after
    /// `due`, then every `period` (zero: once). Timers are not persisted:
    /// they end with the activation. Dapr: `register_timer`.
    void register_timer(std::string name, std::function<Task<void>(Json)> callback, Duration due,
                        Duration period = Duration::zero(), Json data = {});
    /// Stops a timer; no error if there is none. Dapr: `unregister_timer`.
    void unregister_timer(const std::string& name);
    /// Registers (or replaces) a reminder: receive_reminder(name, data, ...)
    /// runs after `due`, then every `period` (zero: once), whether or not
    /// the actor is active, in whichever process hosts it then. Persisted
    /// in the runtime's ReminderStore before this returns. Dapr:
    /// `register_reminder`.
    Task<void> register_reminder(std::string name, Json data, Duration due,
                                 Duration period = Duration::zero());
    /// Removes a reminder; no error if there is none. Dapr:
    /// `unregister_reminder`.
    Task<void> unregister_reminder(std::string name);

private:
    friend class Runtime;
    friend struct detail::RuntimeImpl;
    friend struct detail::Activation;
    ActorId id_;
    StateManager* state_ = nullptr;
    Runtime* runtime_ = nullptr;
    detail::Activation* activation_ = nullptr;
};

namespace detail {

template <class T>
Json to_json_value(T&& v) {
    return Json(std::forward<T>(v));
}

template <class T>
T from_json_value(const Json& j, std::string_view what) {
    try {
        return j.get<T>();
    } catch (const nlohmann::json::exception& e) {
        throw ActorArgumentError(std::string(what) + ": " + e.what());
    }
}

/// A call's JSON result as R: nothing for void, the JSON itself for Json.
template <class R>
R result_as(Json&& out, std::string_view method) {
    if constexpr (std::is_void_v<R>)
        return;
    else if constexpr (std::is_same_v<R, Json>)
        return std::move(out);
    else
        return from_json_value<R>(out, method);
}

/// Decodes a call body into a method's arguments: no arguments ignore it,
/// one argument is the whole body, more are a JSON array of that length.
template <class... A>
std::tuple<A...> decode_args(const Json& body, std::string_view method) {
    if constexpr (sizeof...(A) == 0) {
        return {};
    } else if constexpr (sizeof...(A) == 1) {
        return std::tuple<A...>{from_json_value<A>(body, method)...};
    } else {
        if (!body.is_array() || body.size() != sizeof...(A))
            throw ActorArgumentError(std::string(method) + ": expected a JSON array of " +
                                     std::to_string(sizeof...(A)) + " arguments");
        return [&]<std::size_t... I>(std::index_sequence<I...>) {
            return std::tuple<A...>{from_json_value<A>(body[I], method)...};
        }
        (std::index_sequence_for<A...>{});
    }
}

/// Encodes call arguments as decode_args expects them.
template <class... A>
Json encode_args(A&&... args) {
    if constexpr (sizeof...(A) == 0) {
        return Json();
    } else if constexpr (sizeof...(A) == 1) {
        return Json(std::forward<A>(args)...);
    } else {
        Json arr = Json::array();
        (arr.push_back(Json(std::forward<A>(args))), ...);
        return arr;
    }
}

/// A registered method, callable with JSON from anywhere.
struct MethodBase {
    virtual ~MethodBase() = default;
    virtual Task<Json> call_json(Actor& self, Json body, std::string_view name) const = 0;
};

/// The typed face of a method with result R and (decayed) arguments A...:
/// what a local call with matching types uses, skipping JSON.
template <class R, class... A>
struct TypedMethod : MethodBase {
    virtual Task<R> call(Actor& self, std::tuple<A...>& args) const = 0;
};

template <class T, class R, class... A>
struct MemberMethod final : TypedMethod<R, std::decay_t<A>...> {
    using Fn = Task<R> (T::*)(A...);
    Fn fn;
    explicit MemberMethod(Fn f) : fn(f) {}

    Task<R> call(Actor& self, std::tuple<std::decay_t<A>...>& args) const override {
        return std::apply([&](auto&... a) { return (static_cast<T&>(self).*fn)(std::move(a)...); },
                          args);
    }
    Task<Json> call_json(Actor& self, Json body, std::string_view name) const override {
        auto args = decode_args<std::decay_t<A>...>(body, name);
        if constexpr (std::is_void_v<R>) {
            co_await call(self, args);
            co_return Json();
        } else {
            R r = co_await call(self, args);
            co_return Json(std::move(r));
        }
    }
};

struct StringHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept {
        return std::hash<std::string_view>{}(s);
    }
};

/// One registered actor type.
struct TypeInfo {
    std::string name;
    std::function<std::unique_ptr<Actor>()> factory;
    std::unordered_map<std::string, std::unique_ptr<MethodBase>, StringHash, std::equal_to<>>
        methods;
    const MethodBase* find(std::string_view method) const {
        auto it = methods.find(method);
        return it == methods.end() ? nullptr : it->second.get();
    }
};

}  // namespace detail

/// Returned by Runtime::register_actor: adds the type's methods.
template <class T>
class ActorTypeBuilder {
public:
    /// Makes `fn` callable as `name`. Its arguments and result must convert
    /// to and from JSON (nlohmann-json) for calls from other processes.
    template <class R, class... A>
    ActorTypeBuilder& method(std::string name, Task<R> (T::*fn)(A...)) {
        info_->methods[std::move(name)] = std::make_unique<detail::MemberMethod<T, R, A...>>(fn);
        return *this;
    }

private:
    friend class Runtime;
    explicit ActorTypeBuilder(detail::TypeInfo* info) : info_(info) {}
    detail::TypeInfo* info_;
};

// --------------------------------------------------------------------------
// Placement and forwarding (implemented by corio/actors/redis.hpp and
// corio/actors/http.hpp; without them every actor lives in this process).

/// Decides which process of a cluster hosts an actor.
class Placement {
public:
    virtual ~Placement() = default;
    /// This process's address (what other processes forward to).
    virtual const std::string& self() const noexcept = 0;
    /// Starts whatever keeps this process's ownership alive (a lease).
    virtual Task<void> start() = 0;
    /// Gives everything up (deactivation has happened).
    virtual Task<void> stop() = 0;
    /// The types this process hosts (Runtime::start() tells it before
    /// start()): a process only claims actors of these, and a process that
    /// hosts none (a pure client) sends every call to one that does.
    virtual void set_hosted_types(std::vector<std::string> types) { (void)types; }
    /// The owner of `actor`: this process (self()) if it owns it now or
    /// just claimed it, or the live owner's address. `stale_owner`, when
    /// given, is an address the caller found unreachable or not owning:
    /// the answer must not be it unless its lease is still valid.
    /// `can_host`: whether this process hosts the actor's type; if not,
    /// and the actor has no live owner, a live process that hosts the type
    /// is chosen for it. Throws ActorUnavailable when no process can take it.
    virtual Task<std::string> locate(const ActorId& actor,
                                     std::optional<std::string> stale_owner = {},
                                     bool can_host = true) = 0;
    /// True if this process may still host `actor` (its lease holds). The
    /// runtime asks before serving a forwarded call.
    virtual Task<bool> owns(const ActorId& actor) = 0;
    /// `actor` was deactivated here; its placement may go.
    virtual Task<void> release(const ActorId& actor) = 0;
    /// Called by the runtime when this process lost its lease (the
    /// placement tells it through this hook): every local activation is
    /// dropped without saving.
    std::function<void()> on_lease_lost;
};

/// Thrown by a Remote when the process it called no longer hosts the
/// actor: the runtime locates it again.
class NotOwner : public ActorError {
public:
    using ActorError::ActorError;
};

/// Carries a call to the process that hosts the actor.
class Remote {
public:
    virtual ~Remote() = default;
    /// Calls `method` on `actor` in the process at `address` with a JSON
    /// body; returns the JSON result. Throws NotOwner if that process does
    /// not host it, ActorUnavailable if it cannot be reached, and the
    /// remote actor errors as ActorError subclasses.
    virtual Task<Json> invoke(const std::string& address, const ActorId& actor, std::string method,
                              Json body, std::string call_chain) = 0;
    /// Fires reminder `name` of `actor` in the process at `address` (Dapr's
    /// PUT .../method/remind/{name} with {"data", "dueTime", "period"}).
    /// Throws as invoke() does.
    virtual Task<void> remind(const std::string& address, const ActorId& actor, std::string name,
                              Json body) = 0;
    /// Closes connections.
    virtual Task<void> close() = 0;
};

// --------------------------------------------------------------------------
// The runtime

struct RuntimeOptions {
    /// Deactivate actors idle this long (Dapr's actorIdleTimeout: 60 min).
    Duration idle_timeout = std::chrono::minutes(60);
    /// How often idle actors are looked for (Dapr's actorScanInterval: 30 s).
    Duration scan_interval = std::chrono::seconds(30);
    /// Dapr's reentrancy: a call from inside a turn (same call chain) may
    /// enter an actor that the chain already holds. Off by default, as in
    /// Dapr. The chain is a context variable: tasks created inside a turn
    /// inherit it (and may then enter the actor beside the turn), timer
    /// callbacks start none, and the chain's first turn saves the changes
    /// of its reentrant calls. Across processes over HttpRemote, a chain
    /// that comes back to a process on a connection whose earlier request
    /// waits for the same actor waits until call_timeout: keep reentrant
    /// chains within a process, or give the remote more connections.
    bool reentrancy = false;
    /// How long a forwarded call keeps retrying when the owner is
    /// unreachable or placement disagrees (then ActorUnavailable). No new
    /// attempt starts after it; an attempt under way is bounded by the
    /// Remote's own timeout (HttpRemoteOptions::call_timeout). Local turns
    /// are not bounded: wrap the call in wait_for() for that.
    Duration placement_timeout = std::chrono::seconds(30);
    /// How often reminders are polled for in the ReminderStore, at most
    /// (the runtime also wakes for the earliest it knows of).
    Duration reminder_poll = std::chrono::seconds(1);
    /// How long a fired reminder stays claimed by this process before
    /// another may fire it again.
    Duration reminder_lease = std::chrono::seconds(30);
    /// Where state lives (default: an in-memory store of the runtime).
    std::shared_ptr<StateStore> state_store = nullptr;
    /// Where reminders live (default: the in-memory store).
    std::shared_ptr<ReminderStore> reminder_store = nullptr;
    /// Cluster placement and forwarding: both or neither.
    std::shared_ptr<Placement> placement = nullptr;
    std::shared_ptr<Remote> remote = nullptr;
};

/// Counters, for tests and benchmarks.
struct RuntimeStats {
    std::uint64_t activations = 0;
    std::uint64_t deactivations = 0;
    std::uint64_t local_calls = 0;
    std::uint64_t forwarded_calls = 0;
    std::uint64_t reminders_fired = 0;
    std::size_t active = 0;
};

/// Calls methods of one actor. Cheap to copy; valid while its runtime is.
class ActorProxy {
public:
    ActorProxy() = default;
    /// The actor it calls.
    const ActorId& id() const noexcept { return id_; }

    /// Calls `method` with `args` and returns its result as R (void for
    /// none). Suspends until the call's turn has run, here or in the
    /// hosting process. Throws ActorNotFound (no such type or method),
    /// ActorArgumentError (JSON conversion), ActorUnavailable, or what
    /// the method threw (as ActorMethodError when it came from another
    /// process; ActorUnavailable too when this process lost the actor's
    /// lease while the call ran, whose changes were then not saved).
    /// Cancellation while waiting for the turn leaves the queue; during the
    /// method it cancels the method, whose state changes are then dropped;
    /// during the end-of-turn save to a remote store the save may still
    /// land (the transaction was sent).
    /// The arguments are taken by value (a coroutine must not keep
    /// references to its caller's temporaries), but the proxy is not: keep
    /// it alive until the call ends (`create_task(rt.proxy(...).call(...))`
    /// would use a destroyed proxy; name the proxy first).
    template <class R = Json, class... Args>
    Task<R> call(std::string method, Args... args) const;

    /// The JSON form: `body` as decode_args expects it (nothing, the one
    /// argument, or an array of them); returns the result as JSON.
    Task<Json> call_json(std::string method, Json body) const;

private:
    friend class Runtime;
    ActorProxy(Runtime* rt, const detail::TypeInfo* type, ActorId id)
        : rt_(rt), type_(type), id_(std::move(id)) {}
    Runtime* rt_ = nullptr;
    const detail::TypeInfo* type_ = nullptr;  // null: not registered here
    ActorId id_;
    // The activation last called through this proxy (skips the lookup).
    mutable std::weak_ptr<detail::Activation> cache_;
};

/// Hosts actor types on one loop. Dapr: the ActorRuntime of an app plus
/// the parts of the sidecar that activate, place and remind.
class Runtime {
public:
    /// A runtime on the running loop (bound at its first use). Registers
    /// nothing and starts nothing. Throws std::invalid_argument for a
    /// non-positive idle_timeout or scan_interval, or for placement given
    /// without remote (or the reverse). With no stores given, state and
    /// reminders live in one MemoryStore of the runtime.
    explicit Runtime(RuntimeOptions options = {});
    /// Call stop() first: destroying a started runtime cancels its
    /// background tasks but cannot wait for them, nor save or release its
    /// actors.
    ~Runtime();
    Runtime(const Runtime&) = delete;
    Runtime& operator=(const Runtime&) = delete;

    /// Registers actor type `name`, built by `factory` (default: T's default
    /// constructor). Add its methods on the returned builder. Register
    /// every type before start(). Throws RuntimeError for a duplicate name.
    template <class T>
    ActorTypeBuilder<T> register_actor(std::string name,
                                       std::function<std::unique_ptr<T>()> factory = {}) {
        static_assert(std::is_base_of_v<Actor, T>, "actor types derive from corio::actors::Actor");
        auto* info = add_type(std::move(name));
        if (factory)
            info->factory = [f = std::move(factory)] { return std::unique_ptr<Actor>(f()); };
        else
            info->factory = [] { return std::unique_ptr<Actor>(std::make_unique<T>()); };
        return ActorTypeBuilder<T>(info);
    }

    /// The names of the registered types (Dapr's /dapr/config "entities").
    std::vector<std::string> types() const;
    /// True if `type` is registered here.
    bool hosts(std::string_view type) const { return find_type(type) != nullptr; }

    /// Starts the idle sweeper, the reminder poller and the placement
    /// lease, on the running loop. Calls made before start() work too, but
    /// nothing is deactivated and no reminder fires until it.
    Task<void> start();
    /// Deactivates every actor (waiting for their current turns), stops
    /// the background tasks and gives up placement. Idempotent.
    Task<void> stop();

    /// A proxy for (type, id). The type need not be registered in this
    /// process when placement is on (it may live elsewhere).
    ActorProxy proxy(std::string type, std::string id);

    /// Runs `method` on a local activation (the entry point of forwarded
    /// and Dapr calls). With placement, throws NotOwner if this process
    /// does not own the actor. `call_chain` is the reentrancy id (empty:
    /// a new chain).
    Task<Json> invoke_local(ActorId actor, std::string_view method, Json body,
                            std::string call_chain = {});
    /// Fires a timer or reminder callback on a local activation (Dapr's
    /// PUT .../method/timer/{name} and .../method/remind/{name}).
    Task<void> invoke_timer_local(ActorId actor, std::string name);
    Task<void> invoke_reminder_local(ActorId actor, std::string name, Json data, Duration due,
                                     Duration period);
    /// Deactivates one actor if it is active here (Dapr's DELETE
    /// /actors/{type}/{id}). Returns false if it was not.
    Task<bool> deactivate(ActorId actor);

    /// The options it was made with (the stores filled in).
    const RuntimeOptions& options() const noexcept;
    /// Counters since it was made, and the actors active now.
    RuntimeStats stats() const noexcept;
    /// True if (type, id) is active in this process.
    bool is_active(const ActorId& actor) const;
    /// The call chain of the running turn, if the current task runs one.
    static std::string current_call_chain();

private:
    friend class ActorProxy;
    friend class Actor;
    friend class StateManager;
    friend struct detail::Activation;
    friend struct detail::RuntimeImpl;

    detail::TypeInfo* add_type(std::string name);
    const detail::TypeInfo* find_type(std::string_view name) const;

    // Takes a turn on the local activation of `actor`, activating it (and
    // claiming it through placement) if needed; nullptr when it lives in
    // another process. `forwarded`: the call came from another process, so
    // it must be served here or fail with NotOwner.
    Task<detail::Activation*> enter(const detail::TypeInfo& type, const ActorId& actor,
                                    bool forwarded = false,
                                    std::weak_ptr<detail::Activation>* cache = nullptr);
    // enter() without suspending, when the actor is active here, activated
    // and its turn free with nobody waiting; else nullptr (then enter()).
    detail::Activation* try_enter_now(const ActorId& actor,
                                      std::weak_ptr<detail::Activation>& cache);
    // Ends a turn: on success saves the state changes and passes the turn
    // on. Returns false when saving must suspend: then end_turn_async()
    // finishes it (and throws if the store failed; the changes are dropped).
    bool end_turn_sync(detail::Activation* a, bool ok);
    Task<void> end_turn_async(detail::Activation* a);
    Task<Json> forward(const ActorId& actor, std::string method, Json body);
    // Runs `here` when placement puts `actor` in this process, else
    // `there(owner)`; NotOwner and an unreachable owner are retried, backing
    // off, until placement_timeout.
    Task<Json> route(const ActorId& actor, const std::function<Task<Json>()>& here,
                     const std::function<Task<Json>(const std::string&)>& there);
    // Delivers a reminder where the actor lives (here, or through Remote).
    Task<void> forward_reminder(const Reminder& r, Duration due);
    [[noreturn]] void throw_no_method(const ActorId& actor, std::string_view method) const;

    std::unique_ptr<detail::RuntimeImpl> impl_;
};

// --------------------------------------------------------------------------
// Inline parts of the templates.

namespace detail {
// Exposes what a typed call needs without showing the Activation.
Actor& actor_of(Activation* a) noexcept;
}  // namespace detail

template <class T>
Task<std::optional<T>> StateManager::try_get(std::string key) {
    const std::optional<Json>* v = cached(key);
    if (!v)
        v = co_await load(std::move(key));
    if (!*v)
        co_return std::nullopt;
    co_return detail::from_json_value<T>(**v, "state");
}

template <class T>
Task<T> StateManager::get(std::string key) {
    std::string k = key;
    auto v = co_await try_get<T>(std::move(key));
    if (!v)
        throw corio::LookupError("no state under '" + k + "'");
    co_return std::move(*v);
}

template <class T>
Task<T> StateManager::get_or(std::string key, T fallback) {
    const std::optional<Json>* v = cached(key);
    if (!v)
        v = co_await load(std::move(key));
    if (!*v)
        co_return std::move(fallback);
    co_return detail::from_json_value<T>(**v, "state");
}

template <class R, class... Args>
Task<R> ActorProxy::call(std::string method, Args... args) const {
    if (!rt_)
        throw RuntimeError("ActorProxy: empty proxy");
    using Typed = detail::TypedMethod<R, Args...>;
    if (type_) {
        const detail::MethodBase* m = type_->find(method);
        if (!m)
            rt_->throw_no_method(id_, method);
        detail::Activation* a = rt_->try_enter_now(id_, cache_);
        if (!a)
            a = co_await rt_->enter(*type_, id_, false, &cache_);
        if (a) {
            using Slot = std::conditional_t<std::is_void_v<R>, bool, R>;
            std::optional<Slot> result;
            std::exception_ptr error;
            try {
                if (const auto* typed = dynamic_cast<const Typed*>(m)) {
                    std::tuple<Args...> tup(std::move(args)...);
                    if constexpr (std::is_void_v<R>) {
                        co_await typed->call(detail::actor_of(a), tup);
                        result.emplace(true);
                    } else {
                        result.emplace(co_await typed->call(detail::actor_of(a), tup));
                    }
                } else {
                    Json out = co_await m->call_json(
                        detail::actor_of(a), detail::encode_args(std::move(args)...), method);
                    if constexpr (std::is_void_v<R>)
                        result.emplace(true);
                    else
                        result.emplace(detail::result_as<R>(std::move(out), method));
                }
            } catch (...) {
                error = std::current_exception();
            }
            if (!rt_->end_turn_sync(a, !error))
                co_await rt_->end_turn_async(a);
            if (error)
                std::rethrow_exception(error);
            if constexpr (std::is_void_v<R>)
                co_return;
            else
                co_return std::move(*result);
        }
    }
    // Not hosted here: through JSON to the owner.
    Json out = co_await rt_->forward(id_, method, detail::encode_args(std::move(args)...));
    co_return detail::result_as<R>(std::move(out), method);
}

}  // namespace corio::actors
