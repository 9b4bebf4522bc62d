// RedisStateStore (a hash per actor, MULTI/EXEC) and RedisReminderStore
// (a sorted set of due times plus definitions, changed by Lua scripts).
#include <charconv>
#include <string>
#include <vector>

#include "corio/actors/redis.hpp"
#include "corio/redis/commands.hpp"
#include "corio/redis/pool.hpp"
#include "corio/redis/resp.hpp"

namespace corio::actors {

// --------------------------------------------------------------------------
// State

RedisStateStore::RedisStateStore(redis::Client client, RedisStoreOptions options)
    : client_(std::move(client)), options_(std::move(options)) {}

std::string RedisStateStore::key_of(const ActorId& actor) const {
    return options_.prefix + "state:" + actor.type + "||" + actor.id;
}

Task<std::optional<Json>> RedisStateStore::get(const ActorId& actor, std::string key) {
    std::optional<std::string> text = co_await client_.hget(key_of(actor), key);
    if (!text)
        co_return std::nullopt;
    Json value = Json::parse(*text, nullptr, /*allow_exceptions=*/false);
    if (value.is_discarded())
        throw ActorArgumentError("state " + actor.str() + " '" + key +
                                 "': the stored value is not JSON");
    co_return value;
}

Task<void> RedisStateStore::apply(const ActorId& actor, std::vector<StateOp> ops) {
    if (ops.empty())
        co_return;
    const std::string hash = key_of(actor);
    // MULTI ... EXEC in one write: nothing comes between them on this
    // connection. A refused command throws ReplyError (EXECABORT: nothing
    // applied); a command that failed inside EXEC is thrown below.
    redis::Pipeline tx(client_, /*transaction=*/true);
    for (const auto& op : ops) {
        if (op.kind == StateOp::Kind::upsert)
            tx.execute("HSET", hash, op.key, op.value.dump());
        else
            tx.execute("HDEL", hash, op.key);
    }
    std::optional<std::vector<redis::Reply>> replies = co_await tx.exec();
    if (!replies)  // no WATCH here, so Redis has no reason to discard it
        throw redis::ReplyError("EXECABORT the transaction for " + actor.str() + " was discarded");
    for (const redis::Reply& r : *replies)
        r.throw_if_error();
}

// --------------------------------------------------------------------------
// Reminders

namespace {

// A definition is stored as "version|due|period|JSON" (JSON: type, id,
// name, data), so the scripts can read and rewrite the numbers without
// decoding (and re-encoding, with Lua's doubles) the reminder's data.

// KEYS zset, defs, version; ARGV member, due, period, JSON. The new version.
const redis::Script& upsert_script() {
    static const redis::Script s(R"lua(
local v = redis.call('INCR', KEYS[3])
redis.call('HSET', KEYS[2], ARGV[1],
           string.format('%d', v) .. '|' .. ARGV[2] .. '|' .. ARGV[3] .. '|' .. ARGV[4])
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
return v)lua");
    return s;
}

// KEYS zset, defs; ARGV member.
const redis::Script& remove_script() {
    static const redis::Script s(R"lua(
redis.call('ZREM', KEYS[1], ARGV[1])
return redis.call('HDEL', KEYS[2], ARGV[1]))lua");
    return s;
}

// KEYS zset, defs; ARGV now, lease, max. The claimed definitions.
const redis::Script& claim_script() {
    static const redis::Script s(R"lua(
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
local hidden = string.format('%.0f', tonumber(ARGV[1]) + tonumber(ARGV[2]))
local out = {}
for _, m in ipairs(due) do
  local d = redis.call('HGET', KEYS[2], m)
  if d then
    redis.call('ZADD', KEYS[1], hidden, m)
    out[#out + 1] = d
  else
    redis.call('ZREM', KEYS[1], m)
  end
end
return out)lua");
    return s;
}

// KEYS zset, defs; ARGV member, version, fired_at. 0: stale, 1: removed,
// 2: rescheduled.
const redis::Script& complete_script() {
    static const redis::Script s(R"lua(
local d = redis.call('HGET', KEYS[2], ARGV[1])
if not d then return 0 end
local ver, due, period, rest = string.match(d, '^(%d+)|(%-?%d+)|(%-?%d+)|(.*)$')
if ver ~= ARGV[2] then return 0 end
local p = tonumber(period)
if p <= 0 then
  redis.call('HDEL', KEYS[2], ARGV[1])
  redis.call('ZREM', KEYS[1], ARGV[1])
  return 1
end
local nxt = tonumber(due)
local fired = tonumber(ARGV[3])
if nxt <= fired then
  nxt = nxt + (math.floor((fired - nxt) / p) + 1) * p
end
local s = string.format('%.0f', nxt)
redis.call('HSET', KEYS[2], ARGV[1], ver .. '|' .. s .. '|' .. period .. '|' .. rest)
redis.call('ZADD', KEYS[1], s, ARGV[1])
return 2)lua");
    return s;
}

// KEYS zset, defs; ARGV member, version, retry_at. 1 when released.
const redis::Script& release_script() {
    static const redis::Script s(R"lua(
local d = redis.call('HGET', KEYS[2], ARGV[1])
if not d then return 0 end
local ver = string.match(d, '^(%d+)|')
if ver ~= ARGV[2] then return 0 end
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
return 1)lua");
    return s;
}

std::int64_t parse_int(std::string_view s, std::string_view what) {
    std::int64_t v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || p != s.data() + s.size())
        throw redis::ReplyTypeError("reminder definition: bad " + std::string(what) + " '" +
                                    std::string(s) + "'");
    return v;
}

Reminder parse_definition(const std::string& text) {
    std::size_t a = text.find('|');
    std::size_t b = a == std::string::npos ? a : text.find('|', a + 1);
    std::size_t c = b == std::string::npos ? b : text.find('|', b + 1);
    if (c == std::string::npos)
        throw redis::ReplyTypeError("reminder definition: not version|due|period|JSON");
    std::string_view v(text);
    Reminder r;
    r.version = static_cast<std::uint64_t>(parse_int(v.substr(0, a), "version"));
    r.due = parse_int(v.substr(a + 1, b - a - 1), "due");
    r.period_ms = parse_int(v.substr(b + 1, c - b - 1), "period");
    Json j = Json::parse(v.substr(c + 1), nullptr, /*allow_exceptions=*/false);
    if (!j.is_object() || !j.contains("type") || !j.contains("id") || !j.contains("name"))
        throw redis::ReplyTypeError("reminder definition: bad JSON");
    r.actor.type = j["type"].get<std::string>();
    r.actor.id = j["id"].get<std::string>();
    r.name = j["name"].get<std::string>();
    if (auto it = j.find("data"); it != j.end())
        r.data = std::move(*it);
    return r;
}

}  // namespace

RedisReminderStore::RedisReminderStore(redis::Client client, RedisStoreOptions options)
    : client_(std::move(client)),
      options_(std::move(options)),
      zset_(options_.prefix + "reminders"),
      defs_(options_.prefix + "reminders:defs"),
      version_(options_.prefix + "reminders:version") {}

std::string RedisReminderStore::member_of(const ActorId& actor, const std::string& name) const {
    // A JSON array: unambiguous whatever the strings hold.
    return Json::array({actor.type, actor.id, name}).dump();
}

Task<void> RedisReminderStore::upsert(Reminder r) {
    Json def = {{"type", r.actor.type}, {"id", r.actor.id}, {"name", r.name}, {"data", r.data}};
    std::vector<std::string> keys{zset_, defs_, version_};
    std::vector<std::string> args{member_of(r.actor, r.name), std::to_string(r.due),
                                  std::to_string(r.period_ms), def.dump()};
    redis::Reply reply = co_await client_.run(upsert_script(), keys, args);
    reply.throw_if_error();
}

Task<void> RedisReminderStore::remove(const ActorId& actor, std::string name) {
    std::vector<std::string> keys{zset_, defs_};
    std::vector<std::string> args{member_of(actor, name)};
    redis::Reply reply = co_await client_.run(remove_script(), keys, args);
    reply.throw_if_error();
}

Task<std::vector<Reminder>> RedisReminderStore::claim_due(EpochMs now, std::int64_t lease_ms,
                                                          std::size_t max) {
    std::vector<Reminder> out;
    if (max == 0)
        co_return out;
    std::vector<std::string> keys{zset_, defs_};
    std::vector<std::string> args{std::to_string(now), std::to_string(lease_ms),
                                  std::to_string(max)};
    redis::Reply reply = co_await client_.run(claim_script(), keys, args);
    for (const std::string& def : reply.to_string_vector())
        out.push_back(parse_definition(def));
    co_return out;
}

Task<void> RedisReminderStore::complete(const Reminder& r, EpochMs fired_at) {
    std::vector<std::string> keys{zset_, defs_};
    std::vector<std::string> args{member_of(r.actor, r.name), std::to_string(r.version),
                                  std::to_string(fired_at)};
    redis::Reply reply = co_await client_.run(complete_script(), keys, args);
    reply.throw_if_error();
}

Task<void> RedisReminderStore::release(const Reminder& r, EpochMs retry_at) {
    std::vector<std::string> keys{zset_, defs_};
    std::vector<std::string> args{member_of(r.actor, r.name), std::to_string(r.version),
                                  std::to_string(retry_at)};
    redis::Reply reply = co_await client_.run(release_script(), keys, args);
    reply.throw_if_error();
}

Task<std::optional<EpochMs>> RedisReminderStore::next_due() {
    auto first = co_await client_.zrange_withscores(zset_, 0, 0);
    if (first.empty())
        co_return std::nullopt;
    co_return static_cast<EpochMs>(first.front().second);
}

Task<std::size_t> RedisReminderStore::count() {
    co_return static_cast<std::size_t>(co_await client_.zcard(zset_));
}

}  // namespace corio::actors
