// corio/actors/store.hpp - where actors keep their state and reminders.
//
// The runtime reads and writes an actor's state only through a StateStore,
// and keeps reminders only in a ReminderStore. Two families implement them:
// MemoryStore (this header: one process, the embedded default, lost when
// the process ends) and the Redis stores (corio/actors/redis.hpp: a hash
// per actor written with MULTI/EXEC, reminders in a sorted set, shared by
// every process of a cluster and surviving restarts).
//
// Dapr's names: a StateStore is the actor state store component
// (`actorStateStore: true`); a ReminderStore is where Dapr's placement and
// scheduler services keep reminders.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "corio/task.hpp"

namespace corio::actors {

using Json = nlohmann::json;

/// An actor's address: its type name and its id. Dapr: ActorId plus the
/// actor type. Ids are any non-empty string; types are registered names.
struct ActorId {
    std::string type;
    std::string id;

    friend bool operator==(const ActorId&, const ActorId&) = default;
    friend auto operator<=>(const ActorId&, const ActorId&) = default;
    /// "type/id", for logs and error messages.
    std::string str() const { return type + "/" + id; }
};

struct ActorIdHash {
    std::size_t operator()(const ActorId& a) const noexcept {
        return std::hash<std::string>{}(a.type) * 31 + std::hash<std::string>{}(a.id);
    }
};

/// One change of a turn's state, applied with the turn's others at once.
struct StateOp {
    enum class Kind { upsert, remove };
    Kind kind = Kind::upsert;
    std::string key;
    Json value;  // upsert only
};

/// Where actor state lives. Every call may suspend (a network round trip
/// for Redis). apply() is transactional: all of a turn's changes land, or
/// none does and it throws.
class StateStore {
public:
    virtual ~StateStore() = default;
    /// The value stored under `key` for `actor`, or nullopt.
    virtual Task<std::optional<Json>> get(const ActorId& actor, std::string key) = 0;
    /// Applies the changes atomically. Throws on a store error; then none
    /// of them is applied.
    virtual Task<void> apply(const ActorId& actor, std::vector<StateOp> ops) = 0;
};

/// Wall-clock milliseconds since the Unix epoch, the unit of reminder times
/// (they outlive processes, so they cannot be loop times).
using EpochMs = std::int64_t;

/// A persisted reminder. Dapr: a reminder registered with
/// `register_reminder(name, state, due_time, period)`.
struct Reminder {
    ActorId actor;
    std::string name;
    Json data;                   // passed back to receive_reminder
    EpochMs due = 0;             // next time it fires
    std::int64_t period_ms = 0;  // 0: fires once, then is removed
    /// Bumped by every register, so a completion of an older registration
    /// does not remove or reschedule a newer one.
    std::uint64_t version = 0;
};

/// Where reminders live, and who fires each. A claimed reminder is hidden
/// from other claimers for `lease`, so each firing goes to one process;
/// a process that dies before complete() lets the lease lapse and another
/// fires it again (at least once).
class ReminderStore {
public:
    virtual ~ReminderStore() = default;
    /// Creates or replaces the reminder `r.actor`/`r.name` (a new version).
    virtual Task<void> upsert(Reminder r) = 0;
    /// Removes it. Removing an absent reminder is not an error.
    virtual Task<void> remove(const ActorId& actor, std::string name) = 0;
    /// Up to `max` reminders due at or before `now`, each now hidden from
    /// other claimers until `now + lease_ms`.
    virtual Task<std::vector<Reminder>> claim_due(EpochMs now, std::int64_t lease_ms,
                                                  std::size_t max) = 0;
    /// After `r` fired at `fired_at`: a periodic reminder is rescheduled
    /// to `fired_at + period`, a one-shot one removed; nothing happens if
    /// the reminder was re-registered or removed since (version differs).
    virtual Task<void> complete(const Reminder& r, EpochMs fired_at) = 0;
    /// Gives up a claim (delivery failed): the reminder is due again at
    /// `retry_at`, for any process.
    virtual Task<void> release(const Reminder& r, EpochMs retry_at) = 0;
    /// The earliest due time stored, if any (a hint for how long to sleep;
    /// other processes may add earlier ones).
    virtual Task<std::optional<EpochMs>> next_due() = 0;
};

/// State and reminders in this process's memory: the default. Nothing
/// suspends. Not shared between processes and lost when the process ends.
class MemoryStore final : public StateStore, public ReminderStore {
public:
    Task<std::optional<Json>> get(const ActorId& actor, std::string key) override;
    Task<void> apply(const ActorId& actor, std::vector<StateOp> ops) override;

    Task<void> upsert(Reminder r) override;
    Task<void> remove(const ActorId& actor, std::string name) override;
    Task<std::vector<Reminder>> claim_due(EpochMs now, std::int64_t lease_ms,
                                          std::size_t max) override;
    Task<void> complete(const Reminder& r, EpochMs fired_at) override;
    Task<void> release(const Reminder& r, EpochMs retry_at) override;
    Task<std::optional<EpochMs>> next_due() override;

    /// Synchronous forms of get() and apply().
    const Json* find(const ActorId& actor, const std::string& key) const;
    void apply_now(const ActorId& actor, std::vector<StateOp>& ops);
    /// The live key/value table of one actor, created empty if absent. The
    /// reference stays valid as long as the store does (tables are never
    /// dropped): the runtime reads and saves an active actor's state
    /// through it without a lookup per turn.
    std::unordered_map<std::string, Json>& table(const ActorId& actor) { return state_[actor]; }
    /// How many reminders are stored (tests).
    std::size_t reminder_count() const noexcept { return reminders_.size(); }

private:
    std::unordered_map<ActorId, std::unordered_map<std::string, Json>, ActorIdHash> state_;
    struct Entry {
        Reminder r;
        EpochMs visible_at = 0;  // hidden by a claim until then
    };
    std::map<std::pair<ActorId, std::string>, Entry> reminders_;
    std::uint64_t versions_ = 0;
};

}  // namespace corio::actors
