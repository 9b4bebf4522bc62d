// RedisPlacement: a lease per process (SET PX, renewed in the background)
// and one owner per actor (a compare-and-set script).
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "../redis/token_lease.hpp"
#include "corio/actors/redis.hpp"
#include "corio/redis/commands.hpp"
#include "corio/timeouts.hpp"

namespace corio::actors {
namespace {

// KEYS place, places-set, hosts-of-type set; ARGV self, host key prefix,
// may_claim ("1"/"0"), places-set prefix, a random number.
// The live recorded owner; else (may_claim, and self's host key exists)
// self, recorded; else (not may_claim: this process does not host the
// type) a live host of the type picked at random, recorded for it; else nil.
const redis::Script& locate_script() {
    static const redis::Script s(R"lua(
local owner = redis.call('GET', KEYS[1])
if owner and redis.call('EXISTS', ARGV[2] .. owner) == 1 then
  if owner ~= ARGV[1] or ARGV[3] == '1' then return owner end
end
if ARGV[3] ~= '1' then
  local live = {}
  for _, h in ipairs(redis.call('SMEMBERS', KEYS[3])) do
    if redis.call('EXISTS', ARGV[2] .. h) == 1 then
      live[#live + 1] = h
    else
      redis.call('SREM', KEYS[3], h)
    end
  end
  if #live == 0 then return false end
  table.sort(live)
  local pick = live[(tonumber(ARGV[5]) % #live) + 1]
  redis.call('SET', KEYS[1], pick)
  redis.call('SADD', ARGV[4] .. pick, KEYS[1])
  return pick
end
if redis.call('EXISTS', ARGV[2] .. ARGV[1]) == 0 then return false end
redis.call('SET', KEYS[1], ARGV[1])
redis.call('SADD', KEYS[2], KEYS[1])
return ARGV[1])lua");
    return s;
}

// KEYS place, places-set; ARGV self. 1 when deleted.
const redis::Script& release_script() {
    static const redis::Script s(R"lua(
redis.call('SREM', KEYS[2], KEYS[1])
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0)lua");
    return s;
}

// KEYS host, places-set; ARGV token, self. Deletes the host key if it is
// ours and every placement of the set that still names self.
const redis::Script& stop_script() {
    static const redis::Script s(R"lua(
local n = 0
for _, k in ipairs(redis.call('SMEMBERS', KEYS[2])) do
  if redis.call('GET', k) == ARGV[2] then
    redis.call('DEL', k)
    n = n + 1
  end
end
redis.call('DEL', KEYS[2])
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
end
return n)lua");
    return s;
}

std::int64_t millis(Duration d) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
}

}  // namespace

RedisPlacement::RedisPlacement(redis::Client client, std::string address,
                               RedisPlacementOptions options)
    : client_(std::move(client)), self_(std::move(address)), options_(std::move(options)) {
    if (self_.empty())
        throw std::invalid_argument("RedisPlacement: the address is empty");
    if (millis(options_.lease) <= 0)
        throw std::invalid_argument("RedisPlacement: the lease must be at least 1 ms");
    if (options_.renew_every <= Duration::zero())
        options_.renew_every = options_.lease / 3;
    if (options_.renew_every >= options_.lease)
        throw std::invalid_argument("RedisPlacement: renew_every must be below the lease");
    host_key_ = options_.prefix + "host:" + self_;
    places_key_ = options_.prefix + "places:" + self_;
}

RedisPlacement::~RedisPlacement() {
    stop_renewing();
}

std::string RedisPlacement::place_key(const ActorId& actor) const {
    return options_.prefix + "place:" + actor.type + "||" + actor.id;
}

bool RedisPlacement::lease_valid() const noexcept {
    return registered_ && get_running_loop().time() < deadline_;
}

Task<void> RedisPlacement::register_host() {
    TimePoint sent = get_running_loop().time();
    std::string token = redis::detail::random_token();
    redis::SetOptions px;
    px.px = std::chrono::milliseconds(millis(options_.lease));
    co_await client_.set(host_key_, token, px);
    for (const std::string& type : types_)
        co_await client_.execute("SADD", options_.prefix + "hosts:" + type, self_);
    token_ = std::move(token);
    deadline_ = sent + options_.lease;
    registered_ = true;
}

void RedisPlacement::lose_lease() {
    registered_ = false;
    owners_.clear();
    ++leases_lost_;
    if (on_lease_lost)
        on_lease_lost();
}

Task<void> RedisPlacement::renew_once() {
    auto& loop = get_running_loop();
    if (registered_) {
        TimePoint sent = loop.time();
        bool renewed = false;
        if (sent < deadline_) {
            try {
                // An answer after the deadline is no use: by then others may
                // take our actors, so the activations must go at the
                // deadline, not whenever the server answers.
                std::vector<std::string> keys{host_key_};
                std::vector<std::string> args{token_, std::to_string(millis(options_.lease))};
                redis::Reply r = co_await wait_for(
                    client_.run(redis::detail::extend_if_token_script(), keys, args),
                    deadline_ - sent);
                renewed = r.to_integer() == 1;
            } catch (const std::exception&) {
                // Unreachable: the lease holds until its deadline.
                if (loop.time() < deadline_)
                    co_return;
            }
        }
        if (renewed) {
            if (loop.time() < deadline_) {
                deadline_ = sent + options_.lease;
                co_return;
            }
            // Renewed after our own deadline: others may have taken our
            // actors meanwhile, so it counts as lost all the same.
        }
        if (registered_)  // owns() may have found it lapsed meanwhile
            lose_lease();
    }
    try {
        co_await wait_for(register_host(), options_.lease);
    } catch (const std::exception&) {
        // Tried again at the next period.
    }
}

Task<void> RedisPlacement::keep_renewing() {
    for (;;) {
        co_await sleep(options_.renew_every);
        co_await renew_once();
    }
}

void RedisPlacement::stop_renewing() noexcept {
    if (renewer_ && !renewer_->done())
        renewer_->cancel();
    renewer_.reset();
}

Task<void> RedisPlacement::start() {
    if (renewer_)
        co_return;
    co_await register_host();
    renewer_ = create_task(keep_renewing(), "actors-placement-lease:" + self_);
}

void RedisPlacement::abandon() noexcept {
    stop_renewing();
}

Task<void> RedisPlacement::stop() {
    if (renewer_) {
        TaskHandle<void> t = std::move(*renewer_);
        renewer_.reset();
        t.cancel();
        try {
            co_await t;
        } catch (const CancelledError&) {
        }
    }
    owners_.clear();
    if (!registered_ && token_.empty())
        co_return;
    registered_ = false;
    std::vector<std::string> keys{host_key_, places_key_};
    std::vector<std::string> args{token_, self_};
    token_.clear();
    redis::Reply r = co_await client_.run(stop_script(), keys, args);
    r.throw_if_error();
}

Task<std::string> RedisPlacement::locate(const ActorId& actor,
                                         std::optional<std::string> stale_owner, bool can_host) {
    auto& loop = get_running_loop();
    auto it = owners_.find(actor);
    if (it != owners_.end() &&
        ((stale_owner && it->second.owner == *stale_owner) || loop.time() >= it->second.until)) {
        owners_.erase(it);
        it = owners_.end();
    }
    const bool lease = lease_valid();
    if (!lease && registered_)
        lose_lease();  // clears the cache
    else if (it != owners_.end())
        co_return it->second.owner;
    const bool may_claim = lease && can_host;
    ++lookups_;
    thread_local std::mt19937 pick_rng{std::random_device{}()};
    std::vector<std::string> keys{place_key(actor), places_key_,
                                  options_.prefix + "hosts:" + actor.type};
    std::vector<std::string> args{
        self_, options_.prefix + "host:", may_claim ? "1" : "0",
        options_.prefix + "places:", std::to_string(pick_rng() % 1000000)};
    redis::Reply r = co_await client_.run(locate_script(), keys, args);
    std::optional<std::string> owner = r.to_optional_string();
    if (!owner) {
        if (!can_host)
            throw ActorUnavailable("placement of " + actor.str() +
                                   ": no live process hosts type '" + actor.type + "'");
        throw ActorUnavailable("placement of " + actor.str() +
                               ": no live owner, and this process (" + self_ +
                               ") holds no lease to claim it");
    }
    // A claim answered after our lease lapsed is not ours to keep.
    if (*owner == self_ && !lease_valid())
        throw ActorUnavailable("placement of " + actor.str() + ": the lease of " + self_ +
                               " lapsed while claiming it");
    // Our own placements hold while our lease does; another's is trusted
    // for renew_every (it may die, and nobody reports it stale to us when
    // the calls come from other processes).
    owners_[actor] =
        Cached{*owner, *owner == self_ ? TimePoint::max() : loop.time() + options_.renew_every};
    co_return *owner;
}

Task<bool> RedisPlacement::owns(const ActorId& actor) {
    if (!lease_valid()) {
        if (registered_)
            lose_lease();
        co_return false;
    }
    if (auto it = owners_.find(actor); it != owners_.end() && it->second.owner == self_)
        co_return true;
    std::optional<std::string> owner = co_await client_.get(place_key(actor));
    bool mine = owner && *owner == self_ && lease_valid();
    if (mine)
        owners_[actor] = Cached{self_, TimePoint::max()};
    co_return mine;
}

Task<void> RedisPlacement::release(const ActorId& actor) {
    owners_.erase(actor);
    std::vector<std::string> keys{place_key(actor), places_key_};
    std::vector<std::string> args{self_};
    redis::Reply r = co_await client_.run(release_script(), keys, args);
    r.throw_if_error();
}

}  // namespace corio::actors
