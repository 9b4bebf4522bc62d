// corio/actors/redis.hpp - actors on Redis: RedisStateStore (a hash per
// actor, written with MULTI/EXEC), RedisReminderStore (a sorted set of due
// times and the definitions, claimed by Lua scripts) and RedisPlacement
// (host leases and one owner per actor, for a cluster of processes).
//
// Dapr's names: RedisStateStore is the Redis state component with
// `actorStateStore: true`; RedisReminderStore is where Dapr's scheduler keeps
// reminders; RedisPlacement does the job of Dapr's placement service (a hash
// ring there, a compare-and-set per actor here).
//
// Keys (prefix default "corio:actors:"; one Redis server or a replicated
// primary - the scripts touch keys they compute, so not Redis Cluster):
//   {prefix}state:{type}||{id}      hash: state key -> JSON text
//   {prefix}reminders               sorted set: member -> next visible time (ms)
//   {prefix}reminders:defs          hash: member -> "version|due|period|JSON"
//   {prefix}reminders:version       counter (INCR) of reminder versions
//   {prefix}host:{address}          a process's lease (SET PX), its token
//   {prefix}place:{type}||{id}      the owner's address (no TTL)
//   {prefix}places:{address}        set of the placements an address took
//
// Every object here uses one corio::redis::Client: commands of one loop
// iteration share a round trip (automatic pipelining), and a MULTI ...
// EXEC written in one go cannot interleave with other commands on it. The
// Client must be used on the loop that runs the actors. Loop thread only.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "corio/actors/actor.hpp"
#include "corio/actors/store.hpp"
#include "corio/redis/client.hpp"
#include "corio/task.hpp"

namespace corio::actors {

/// Options of the Redis stores.
struct RedisStoreOptions {
    /// Prepended to every key (several clusters can share a server).
    std::string prefix = "corio:actors:";
};

/// Actor state in Redis: one hash per actor, key `{prefix}state:{type}||{id}`,
/// field = state key, value = the JSON text. Shared by every process of a
/// cluster; survives restarts as far as the server persists.
class RedisStateStore final : public StateStore {
public:
    /// Sends nothing. `client` may be shared with other work.
    explicit RedisStateStore(redis::Client client, RedisStoreOptions options = {});

    /// HGET: one round trip (shared with the iteration's other commands).
    /// Throws redis::ConnectionError / ReplyError (e.g. WRONGTYPE), and
    /// ActorArgumentError when the stored text is not JSON. Cancelling
    /// stops the wait only.
    Task<std::optional<Json>> get(const ActorId& actor, std::string key) override;
    /// MULTI, HSET/HDEL in order, EXEC: written at once, one round trip.
    /// Every op touches the one hash, so Redis applies all or (an error
    /// such as the key holding another type) none; then it throws
    /// redis::ReplyError. A broken connection throws redis::ConnectionError:
    /// if EXEC had not reached the server nothing is applied, otherwise all
    /// is (never a part). No ops: no round trip. Cancelling stops the wait
    /// only: the transaction is on its way and lands or not as a whole.
    Task<void> apply(const ActorId& actor, std::vector<StateOp> ops) override;

    /// The hash holding `actor`'s state.
    std::string key_of(const ActorId& actor) const;

private:
    redis::Client client_;
    RedisStoreOptions options_;
};

/// Reminders in Redis, shared by every process: a sorted set scored by the
/// time each reminder is next visible to claim_due (ms since the epoch),
/// and a hash of definitions with their versions (from INCR). claim_due,
/// complete, release, upsert and remove are Lua scripts (EVALSHA), so each
/// is atomic across processes: a claimed reminder is hidden from every
/// other claimer for the lease. Semantics exactly MemoryStore's. Every call
/// is one round trip and throws what the client throws
/// (redis::ConnectionError, ReplyError); cancelling stops the wait only.
class RedisReminderStore final : public ReminderStore {
public:
    /// Reminders under `options.prefix` through `client` (kept: the handle is
    /// copied in). Sends nothing yet.
    explicit RedisReminderStore(redis::Client client, RedisStoreOptions options = {});

    Task<void> upsert(Reminder r) override;
    Task<void> remove(const ActorId& actor, std::string name) override;
    Task<std::vector<Reminder>> claim_due(EpochMs now, std::int64_t lease_ms,
                                          std::size_t max) override;
    Task<void> complete(const Reminder& r, EpochMs fired_at) override;
    Task<void> release(const Reminder& r, EpochMs retry_at) override;
    Task<std::optional<EpochMs>> next_due() override;

    /// How many reminders are stored (ZCARD; tests).
    Task<std::size_t> count();

private:
    std::string member_of(const ActorId& actor, const std::string& name) const;
    redis::Client client_;
    RedisStoreOptions options_;
    std::string zset_, defs_, version_;
};

/// Options of RedisPlacement.
struct RedisPlacementOptions {
    std::string prefix = "corio:actors:";
    /// How long this process's host key lives without renewal: how long
    /// its actors stay unreachable after it dies.
    Duration lease = std::chrono::seconds(10);
    /// How often the lease is renewed (zero: lease / 3).
    Duration renew_every = Duration::zero();
};

/// Placement on Redis. Each process holds a lease, the key
/// `{prefix}host:{address}` (SET PX, renewed in the background); an actor's
/// owner is the address in `{prefix}place:{type}||{id}`, valid while that
/// address's lease lives. The first locate() of an unowned actor (or one
/// whose owner's lease lapsed) records the caller as owner, in one Lua
/// script: of concurrent first calls exactly one wins.
///
/// The process's view of its own lease is conservative: valid until the
/// time the last successful renewal was sent plus the lease, which is never
/// later than the server's expiry. Once it passes, or a renewal finds the
/// host key gone, this process owns nothing: on_lease_lost runs (the
/// runtime drops its activations without saving), the owner cache is
/// cleared, and the host key is registered again. on_lease_lost runs on the
/// loop, from the renewal task or from inside locate()/owns() (whichever
/// sees the deadline pass first), once per loss.
class RedisPlacement final : public Placement {
public:
    /// `address` is what Remote forwards to ("host:port"). Sends nothing.
    /// Throws std::invalid_argument for an empty address or a lease that
    /// is not positive (or a renew_every not below it).
    RedisPlacement(redis::Client client, std::string address, RedisPlacementOptions options = {});
    /// Stops the renewal task (nothing is deleted: call stop() for that).
    ~RedisPlacement() override;
    RedisPlacement(const RedisPlacement&) = delete;
    RedisPlacement& operator=(const RedisPlacement&) = delete;

    const std::string& self() const noexcept override { return self_; }
    /// Registers the host key (SET PX; one round trip) and starts renewing
    /// it every renew_every on the running loop. Throws what the client
    /// throws (nothing is started then). Idempotent while started.
    Task<void> start() override;
    /// Stops renewing, then in one script deletes the host key (if it is
    /// still this process's) and every placement that still names this
    /// address. Idempotent. Throws what the client throws (the lease then
    /// lapses by itself).
    Task<void> stop() override;
    /// The owner of `actor`: from the local cache when known (no round
    /// trip; another process's ownership is cached for renew_every, this
    /// process's own while its lease holds), else one script that returns the recorded owner if its
    /// lease lives, or records and returns self(). `stale_owner` drops a cached entry naming it
    /// first (an owner whose lease still lives is returned again all the same). Throws
    /// ActorUnavailable when this process has no valid lease and no live owner is recorded, and
    /// what the client throws.
    Task<std::string> locate(const ActorId& actor, std::optional<std::string> stale_owner = {},
                             bool can_host = true) override;
    /// Records the types this process hosts: start() adds this process to
    /// `{prefix}hosts:{type}` for each, where processes that do not host a
    /// type find one that does.
    void set_hosted_types(std::vector<std::string> types) override { types_ = std::move(types); }
    /// True if the lease is valid and `actor`'s placement names this
    /// address (cached, else one GET). A lapsed lease found here runs
    /// on_lease_lost first and answers false.
    Task<bool> owns(const ActorId& actor) override;
    /// Deletes `actor`'s placement if it still names this address.
    Task<void> release(const ActorId& actor) override;

    /// Stops renewing without giving anything up, as a process that dies
    /// does: the lease lapses after `lease` and others take the actors
    /// over. For tests and hard exits.
    void abandon() noexcept;
    /// True while this process's own view of its lease is valid.
    bool lease_valid() const noexcept;
    /// Times the lease was found lost (on_lease_lost calls).
    std::uint64_t leases_lost() const noexcept { return leases_lost_; }
    /// locate() calls answered by Redis (not by the cache).
    std::uint64_t lookups() const noexcept { return lookups_; }
    /// The key of this process's lease and of `actor`'s placement.
    const std::string& host_key() const noexcept { return host_key_; }
    std::string place_key(const ActorId& actor) const;

private:
    Task<void> register_host();
    Task<void> renew_once();
    Task<void> keep_renewing();
    void lose_lease();
    void stop_renewing() noexcept;

    redis::Client client_;
    std::string self_;
    std::vector<std::string> types_;
    RedisPlacementOptions options_;
    std::string host_key_;
    std::string places_key_;
    std::string token_;
    bool registered_ = false;
    TimePoint deadline_{};
    struct Cached {
        std::string owner;
        TimePoint until;  // trusted until then (self: while the lease holds)
    };
    std::unordered_map<ActorId, Cached, ActorIdHash> owners_;
    std::optional<TaskHandle<void>> renewer_;
    std::uint64_t leases_lost_ = 0;
    std::uint64_t lookups_ = 0;
};

}  // namespace corio::actors
