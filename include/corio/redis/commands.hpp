// corio/redis/commands.hpp - typed helpers for the common Redis commands,
// shared by Client and Pool: strings, keys and expiry, hashes, lists, sets,
// sorted sets, the SCAN family as async generators, EVAL/EVALSHA.
//
// Mirrors redis-py's redis/commands/core.py. Each helper encodes its command
// at once (arguments may be temporaries) through the owner's execute(), and
// returns a Task that converts the reply. Awaiting it suspends until the
// reply; it throws what execute()'s future throws (ReplyError with the
// server's message, ConnectionError, ProtocolError) and ReplyTypeError when
// the reply does not have the documented shape. Cancelling the awaiting task
// drops the reply when it comes; the command may still have run.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "corio/async_generator.hpp"
#include "corio/redis/errors.hpp"
#include "corio/redis/reply.hpp"
#include "corio/redis/resp.hpp"
#include "corio/task.hpp"

namespace corio::redis {

/// SET's options. redis-py: `set(ex=, px=, nx=, xx=, keepttl=, get=)`.
struct SetOptions {
    /// Expiry (EX in whole seconds when `ex`, PX in milliseconds when `px`).
    std::optional<std::chrono::seconds> ex;
    std::optional<std::chrono::milliseconds> px;
    bool nx = false;  // only if the key does not exist
    bool xx = false;  // only if it exists
    bool keepttl = false;
};

/// A Lua script run by EVALSHA, loaded with EVAL when the server does not
/// know it yet (NOSCRIPT, e.g. after SCRIPT FLUSH or a restart): redis-py's
/// `register_script`. The SHA1 is computed once, here.
class Script {
public:
    explicit Script(std::string source);
    const std::string& source() const noexcept { return source_; }
    const std::string& sha() const noexcept { return sha_; }

private:
    std::string source_;
    std::string sha_;
};

namespace detail {
template <class T, class A>
Task<T> reply_as(A aw) {
    Reply r = co_await std::move(aw);
    co_return std::move(r).template to<T>();
}
template <class A>
Task<void> reply_ok(A aw) {
    Reply r = co_await std::move(aw);
    r.throw_if_error();
}
template <class A>
Task<std::optional<std::pair<std::string, std::string>>> reply_key_value(A aw) {
    Reply r = co_await std::move(aw);
    if (r.is_null()) {
        co_return std::nullopt;
    }
    auto v = std::move(r).to_string_vector();
    if (v.size() != 2) {
        throw ReplyTypeError("expected a [key, value] pair, got " + std::to_string(v.size()) +
                             " elements");
    }
    co_return std::pair{std::move(v[0]), std::move(v[1])};
}
template <class A>
Task<std::vector<std::pair<std::string, double>>> reply_scored(A aw) {
    Reply r = co_await std::move(aw);
    std::vector<std::pair<std::string, double>> out;
    const auto& items = r.as_array();
    if (!items.empty() && items[0].is_array()) {  // RESP3: [[member, score], ...]
        for (const Reply& pair : items) {
            const auto& p = pair.as_array();
            if (p.size() != 2) {
                throw ReplyTypeError("expected [member, score] pairs");
            }
            out.emplace_back(p[0].to_string(), p[1].to_double());
        }
        co_return out;
    }
    if (items.size() % 2 != 0) {  // RESP2: member, score, member, score
        throw ReplyTypeError("expected member, score pairs");
    }
    for (std::size_t i = 0; i < items.size(); i += 2) {
        out.emplace_back(items[i].to_string(), items[i + 1].to_double());
    }
    co_return out;
}
// [cursor, [items...]]: the cursor and the items.
std::pair<std::string, std::vector<Reply>> scan_page(Reply reply);
}  // namespace detail

/// The typed helpers, mixed into `Owner` (Client, Pool), which provides
/// `execute(args...)` returning an awaitable of Reply. redis-py:
/// `redis.commands.core.CoreCommands`.
template <class Owner>
class Commands {
public:
    // -- connection -----------------------------------------------------------
    /// PING; returns "PONG".
    Task<std::string> ping() { return detail::reply_as<std::string>(self().execute("PING")); }

    // -- strings --------------------------------------------------------------
    /// GET: the value, or nullopt when the key does not exist.
    Task<std::optional<std::string>> get(std::string_view key) {
        return detail::reply_as<std::optional<std::string>>(self().execute("GET", key));
    }
    /// SET with options; true when set (false when NX / XX prevented it).
    template <command_arg V>
    Task<bool> set(std::string_view key, const V& value, SetOptions o = {}) {
        std::vector<std::string> extra;
        if (o.ex) {
            extra.insert(extra.end(), {"EX", std::to_string(o.ex->count())});
        }
        if (o.px) {
            extra.insert(extra.end(), {"PX", std::to_string(o.px->count())});
        }
        if (o.nx) {
            extra.emplace_back("NX");
        }
        if (o.xx) {
            extra.emplace_back("XX");
        }
        if (o.keepttl) {
            extra.emplace_back("KEEPTTL");
        }
        return set_result(self().execute("SET", key, value, extra));
    }
    /// MGET: one optional value per key.
    template <command_arg Keys>
    Task<std::vector<std::optional<std::string>>> mget(const Keys& keys) {
        return detail::reply_as<std::vector<std::optional<std::string>>>(
            self().execute("MGET", keys));
    }
    /// MSET of a map or range of (key, value) pairs.
    template <command_arg Pairs>
    Task<void> mset(const Pairs& pairs) {
        return detail::reply_ok(self().execute("MSET", pairs));
    }
    /// INCR / INCRBY / DECR / DECRBY: the new value.
    Task<std::int64_t> incr(std::string_view key, std::int64_t by = 1) {
        return detail::reply_as<std::int64_t>(self().execute("INCRBY", key, by));
    }
    Task<std::int64_t> decr(std::string_view key, std::int64_t by = 1) {
        return detail::reply_as<std::int64_t>(self().execute("DECRBY", key, by));
    }
    /// INCRBYFLOAT: the new value.
    Task<double> incrbyfloat(std::string_view key, double by) {
        return detail::reply_as<double>(self().execute("INCRBYFLOAT", key, by));
    }
    /// APPEND: the new length.
    template <command_arg V>
    Task<std::int64_t> append(std::string_view key, const V& value) {
        return detail::reply_as<std::int64_t>(self().execute("APPEND", key, value));
    }
    /// GETDEL: the value before deleting, or nullopt.
    Task<std::optional<std::string>> getdel(std::string_view key) {
        return detail::reply_as<std::optional<std::string>>(self().execute("GETDEL", key));
    }

    // -- keys -----------------------------------------------------------------
    /// DEL of one or more keys (strings or ranges): how many existed.
    template <command_arg... Keys>
    Task<std::int64_t> del(const Keys&... keys) {
        return detail::reply_as<std::int64_t>(self().execute("DEL", keys...));
    }
    /// EXISTS: how many of the keys exist.
    template <command_arg... Keys>
    Task<std::int64_t> exists(const Keys&... keys) {
        return detail::reply_as<std::int64_t>(self().execute("EXISTS", keys...));
    }
    /// PEXPIRE (millisecond precision whatever the duration's unit): true
    /// when the key exists.
    Task<bool> expire(std::string_view key, Duration ttl) {
        auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(ttl).count();
        return detail::reply_as<bool>(self().execute("PEXPIRE", key, ms));
    }
    /// PERSIST: true when a timeout was removed.
    Task<bool> persist(std::string_view key) {
        return detail::reply_as<bool>(self().execute("PERSIST", key));
    }
    /// TTL / PTTL as Redis gives them: -2 no such key, -1 no expiry.
    Task<std::int64_t> ttl(std::string_view key) {
        return detail::reply_as<std::int64_t>(self().execute("TTL", key));
    }
    Task<std::int64_t> pttl(std::string_view key) {
        return detail::reply_as<std::int64_t>(self().execute("PTTL", key));
    }
    /// TYPE: "string", "list", "hash", ..., "none".
    Task<std::string> type(std::string_view key) {
        return detail::reply_as<std::string>(self().execute("TYPE", key));
    }
    /// KEYS (blocks the server on big databases: prefer scan()).
    Task<std::vector<std::string>> keys(std::string_view pattern = "*") {
        return detail::reply_as<std::vector<std::string>>(self().execute("KEYS", pattern));
    }
    Task<void> rename(std::string_view from, std::string_view to) {
        return detail::reply_ok(self().execute("RENAME", from, to));
    }
    Task<std::int64_t> dbsize() { return detail::reply_as<std::int64_t>(self().execute("DBSIZE")); }
    Task<void> flushdb() { return detail::reply_ok(self().execute("FLUSHDB")); }

    // -- hashes ---------------------------------------------------------------
    /// HSET of one field: 1 when the field is new.
    template <command_arg V>
    Task<std::int64_t> hset(std::string_view key, std::string_view field, const V& value) {
        return detail::reply_as<std::int64_t>(self().execute("HSET", key, field, value));
    }
    /// HSET of a map (or range of pairs): how many fields were new.
    /// aioredis: `hmset_dict`.
    template <command_arg Map>
    Task<std::int64_t> hset(std::string_view key, const Map& fields) {
        return detail::reply_as<std::int64_t>(self().execute("HSET", key, fields));
    }
    Task<std::optional<std::string>> hget(std::string_view key, std::string_view field) {
        return detail::reply_as<std::optional<std::string>>(self().execute("HGET", key, field));
    }
    /// HGETALL as a map (RESP3 map or RESP2 flat array alike).
    Task<std::map<std::string, std::string>> hgetall(std::string_view key) {
        return detail::reply_as<std::map<std::string, std::string>>(self().execute("HGETALL", key));
    }
    template <command_arg Fields>
    Task<std::vector<std::optional<std::string>>> hmget(std::string_view key,
                                                        const Fields& fields) {
        return detail::reply_as<std::vector<std::optional<std::string>>>(
            self().execute("HMGET", key, fields));
    }
    template <command_arg... Fields>
    Task<std::int64_t> hdel(std::string_view key, const Fields&... fields) {
        return detail::reply_as<std::int64_t>(self().execute("HDEL", key, fields...));
    }
    Task<bool> hexists(std::string_view key, std::string_view field) {
        return detail::reply_as<bool>(self().execute("HEXISTS", key, field));
    }
    Task<std::int64_t> hincrby(std::string_view key, std::string_view field, std::int64_t by) {
        return detail::reply_as<std::int64_t>(self().execute("HINCRBY", key, field, by));
    }
    Task<std::int64_t> hlen(std::string_view key) {
        return detail::reply_as<std::int64_t>(self().execute("HLEN", key));
    }
    Task<std::vector<std::string>> hkeys(std::string_view key) {
        return detail::reply_as<std::vector<std::string>>(self().execute("HKEYS", key));
    }

    // -- lists ----------------------------------------------------------------
    /// LPUSH / RPUSH of values (or ranges of values): the new length.
    template <command_arg... Vs>
    Task<std::int64_t> lpush(std::string_view key, const Vs&... values) {
        return detail::reply_as<std::int64_t>(self().execute("LPUSH", key, values...));
    }
    template <command_arg... Vs>
    Task<std::int64_t> rpush(std::string_view key, const Vs&... values) {
        return detail::reply_as<std::int64_t>(self().execute("RPUSH", key, values...));
    }
    /// LPOP / RPOP: the value, or nullopt when the list is empty.
    Task<std::optional<std::string>> lpop(std::string_view key) {
        return detail::reply_as<std::optional<std::string>>(self().execute("LPOP", key));
    }
    Task<std::optional<std::string>> rpop(std::string_view key) {
        return detail::reply_as<std::optional<std::string>>(self().execute("RPOP", key));
    }
    /// BLPOP / BRPOP over `keys` (a key or a range of keys), waiting up to
    /// `timeout` on the server (zero: forever): (key, value), or nullopt on
    /// timeout. The connection is busy meanwhile: give blocking commands a
    /// client of their own (or a pooled one).
    template <command_arg Keys>
    Task<std::optional<std::pair<std::string, std::string>>> blpop(const Keys& keys,
                                                                   Duration timeout) {
        return detail::reply_key_value(self().execute("BLPOP", keys, seconds(timeout)));
    }
    template <command_arg Keys>
    Task<std::optional<std::pair<std::string, std::string>>> brpop(const Keys& keys,
                                                                   Duration timeout) {
        return detail::reply_key_value(self().execute("BRPOP", keys, seconds(timeout)));
    }
    /// LRANGE start..stop inclusive (negative: from the end).
    Task<std::vector<std::string>> lrange(std::string_view key, std::int64_t start,
                                          std::int64_t stop) {
        return detail::reply_as<std::vector<std::string>>(
            self().execute("LRANGE", key, start, stop));
    }
    Task<std::int64_t> llen(std::string_view key) {
        return detail::reply_as<std::int64_t>(self().execute("LLEN", key));
    }
    /// LMOVE source destination LEFT|RIGHT LEFT|RIGHT: the element moved.
    Task<std::optional<std::string>> lmove(std::string_view source, std::string_view destination,
                                           std::string_view wherefrom = "RIGHT",
                                           std::string_view whereto = "LEFT") {
        return detail::reply_as<std::optional<std::string>>(
            self().execute("LMOVE", source, destination, wherefrom, whereto));
    }
    template <command_arg V>
    Task<std::int64_t> lrem(std::string_view key, std::int64_t count, const V& value) {
        return detail::reply_as<std::int64_t>(self().execute("LREM", key, count, value));
    }

    // -- sets -----------------------------------------------------------------
    template <command_arg... Ms>
    Task<std::int64_t> sadd(std::string_view key, const Ms&... members) {
        return detail::reply_as<std::int64_t>(self().execute("SADD", key, members...));
    }
    template <command_arg... Ms>
    Task<std::int64_t> srem(std::string_view key, const Ms&... members) {
        return detail::reply_as<std::int64_t>(self().execute("SREM", key, members...));
    }
    /// SMEMBERS, in the server's order.
    Task<std::vector<std::string>> smembers(std::string_view key) {
        return detail::reply_as<std::vector<std::string>>(self().execute("SMEMBERS", key));
    }
    template <command_arg M>
    Task<bool> sismember(std::string_view key, const M& member) {
        return detail::reply_as<bool>(self().execute("SISMEMBER", key, member));
    }
    Task<std::int64_t> scard(std::string_view key) {
        return detail::reply_as<std::int64_t>(self().execute("SCARD", key));
    }

    // -- sorted sets ----------------------------------------------------------
    /// ZADD of one member: 1 when new.
    template <command_arg M>
    Task<std::int64_t> zadd(std::string_view key, double score, const M& member) {
        return detail::reply_as<std::int64_t>(self().execute("ZADD", key, score, member));
    }
    /// ZADD of a map member -> score (each score written as a double
    /// argument: exactly; a NaN throws std::invalid_argument at once).
    Task<std::int64_t> zadd(std::string_view key, const std::map<std::string, double>& members) {
        std::vector<std::pair<double, std::string_view>> args;
        args.reserve(members.size());
        for (const auto& [m, s] : members) {
            args.emplace_back(s, m);
        }
        return detail::reply_as<std::int64_t>(self().execute("ZADD", key, args));
    }
    Task<std::optional<double>> zscore(std::string_view key, std::string_view member) {
        return detail::reply_as<std::optional<double>>(self().execute("ZSCORE", key, member));
    }
    Task<double> zincrby(std::string_view key, double by, std::string_view member) {
        return detail::reply_as<double>(self().execute("ZINCRBY", key, by, member));
    }
    /// ZRANGE by rank, lowest score first.
    Task<std::vector<std::string>> zrange(std::string_view key, std::int64_t start,
                                          std::int64_t stop) {
        return detail::reply_as<std::vector<std::string>>(
            self().execute("ZRANGE", key, start, stop));
    }
    /// ZRANGE ... WITHSCORES as (member, score) pairs.
    Task<std::vector<std::pair<std::string, double>>> zrange_withscores(std::string_view key,
                                                                        std::int64_t start,
                                                                        std::int64_t stop) {
        return detail::reply_scored(self().execute("ZRANGE", key, start, stop, "WITHSCORES"));
    }
    Task<std::optional<std::int64_t>> zrank(std::string_view key, std::string_view member) {
        return detail::reply_as<std::optional<std::int64_t>>(self().execute("ZRANK", key, member));
    }
    template <command_arg... Ms>
    Task<std::int64_t> zrem(std::string_view key, const Ms&... members) {
        return detail::reply_as<std::int64_t>(self().execute("ZREM", key, members...));
    }
    Task<std::int64_t> zcard(std::string_view key) {
        return detail::reply_as<std::int64_t>(self().execute("ZCARD", key));
    }

    // -- SCAN family ----------------------------------------------------------
    /// SCAN as an async generator of key names: each next() may suspend for
    /// one SCAN round trip (COUNT `count`). Keys may repeat, as SCAN
    /// guarantees. The owner must outlive the generator. Cancelling the
    /// consumer stops at the pending page. redis-py: `scan_iter`.
    AsyncGenerator<std::string> scan(std::string match = "*", std::int64_t count = 100) {
        Owner* owner = &self();
        std::string cursor = "0";
        do {
            auto [next, items] = detail::scan_page(
                co_await owner->execute("SCAN", cursor, "MATCH", match, "COUNT", count));
            cursor = std::move(next);
            for (Reply& r : items) {
                co_yield std::move(r).to_string();
            }
        } while (cursor != "0");
    }
    /// HSCAN: (field, value) pairs. redis-py: `hscan_iter`.
    AsyncGenerator<std::pair<std::string, std::string>> hscan(std::string key,
                                                              std::string match = "*",
                                                              std::int64_t count = 100) {
        Owner* owner = &self();
        std::string cursor = "0";
        do {
            auto [next, items] = detail::scan_page(
                co_await owner->execute("HSCAN", key, cursor, "MATCH", match, "COUNT", count));
            cursor = std::move(next);
            for (std::size_t i = 0; i + 1 < items.size(); i += 2) {
                co_yield std::pair{std::move(items[i]).to_string(),
                                   std::move(items[i + 1]).to_string()};
            }
        } while (cursor != "0");
    }
    /// SSCAN: members. redis-py: `sscan_iter`.
    AsyncGenerator<std::string> sscan(std::string key, std::string match = "*",
                                      std::int64_t count = 100) {
        Owner* owner = &self();
        std::string cursor = "0";
        do {
            auto [next, items] = detail::scan_page(
                co_await owner->execute("SSCAN", key, cursor, "MATCH", match, "COUNT", count));
            cursor = std::move(next);
            for (Reply& r : items) {
                co_yield std::move(r).to_string();
            }
        } while (cursor != "0");
    }
    /// ZSCAN: (member, score) pairs. redis-py: `zscan_iter`.
    AsyncGenerator<std::pair<std::string, double>> zscan(std::string key, std::string match = "*",
                                                         std::int64_t count = 100) {
        Owner* owner = &self();
        std::string cursor = "0";
        do {
            auto [next, items] = detail::scan_page(
                co_await owner->execute("ZSCAN", key, cursor, "MATCH", match, "COUNT", count));
            cursor = std::move(next);
            for (std::size_t i = 0; i + 1 < items.size(); i += 2) {
                co_yield std::pair{std::move(items[i]).to_string(), items[i + 1].to_double()};
            }
        } while (cursor != "0");
    }

    // -- scripting ------------------------------------------------------------
    /// EVAL of `source` with keys and args (ranges of arguments).
    template <command_arg Keys, command_arg Args>
    auto eval(std::string_view source, const Keys& keys, const Args& args) {
        return self().execute("EVAL", source, arg_count(keys), keys, args);
    }
    /// Runs `script` by EVALSHA; on NOSCRIPT, loads and runs it with EVAL
    /// (once). Returns the script's reply. redis-py: `Script.__call__`.
    template <command_arg Keys, command_arg Args>
    Task<Reply> run(const Script& script, const Keys& keys, const Args& args) {
        // Encoded once, now (they may be temporaries): EVALSHA and a
        // fallback EVAL splice the same bytes.
        return run_script(&self(), script.source(), script.sha(), arg_count(keys),
                          detail::EncodedArgs::of(keys, args));
    }

private:
    Owner& self() { return static_cast<Owner&>(*this); }

    // Seconds as a double argument (its shortest exact text): a timeout
    // under a microsecond must not round to 0, which means forever.
    static double seconds(Duration d) { return std::chrono::duration<double>(d).count(); }
    template <class A>
    static Task<bool> set_result(A aw) {
        Reply r = co_await std::move(aw);
        r.throw_if_error();
        co_return !r.is_null();
    }
    template <class R>
    static std::size_t arg_count(const R& r) {
        return detail::ArgTraits<std::remove_cvref_t<R>>::count(r);
    }
    static Task<Reply> run_script(Owner* owner, std::string source, std::string sha,
                                  std::size_t numkeys, detail::EncodedArgs keys_and_args) {
        try {
            co_return co_await owner->execute("EVALSHA", sha, numkeys, keys_and_args);
        } catch (const ReplyError& e) {
            if (e.prefix() != "NOSCRIPT") {
                throw;
            }
        }
        co_return co_await owner->execute("EVAL", source, numkeys, keys_and_args);
    }
};

}  // namespace corio::redis
