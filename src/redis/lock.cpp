// src/redis/lock.cpp - Lock: SET NX PX with a random token and a fencing
// counter, released and extended by compare-and-act scripts.
#include "corio/redis/lock.hpp"

#include <random>
#include <vector>

#include "corio/redis/commands.hpp"
#include "numbers.hpp"
#include "token_lease.hpp"

namespace corio::redis {

namespace detail {

// KEYS[1] lock; ARGV[1] token, ARGV[2] ttl in ms. 1 when extended.
const Script& extend_if_token_script() {
    static const Script s(R"lua(
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0)lua");
    return s;
}

std::string random_token() {
    thread_local std::mt19937_64 rng{std::random_device{}()};
    static const char hex[] = "0123456789abcdef";
    std::string out;
    for (int word = 0; word < 2; ++word) {
        std::uint64_t v = rng();
        for (int i = 0; i < 16; ++i) {
            out += hex[(v >> (4 * i)) & 15];
        }
    }
    return out;
}

}  // namespace detail

namespace {

// KEYS[1] lock, KEYS[2] fence counter; ARGV[1] token, ARGV[2] ttl in ms.
// Returns the new fencing token, or 0 when the lock is held by another.
const Script& acquire_script() {
    static const Script s(R"lua(
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return redis.call('INCR', KEYS[2])
end
return 0)lua");
    return s;
}

// KEYS[1] lock; ARGV[1] token. 1 when deleted, 0 when not ours.
const Script& release_script() {
    static const Script s(R"lua(
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0)lua");
    return s;
}

}  // namespace

Lock::Lock(Client client, std::string name, LockOptions options)
    : client_(std::move(client)),
      name_(std::move(name)),
      fence_key_(name_ + ":fence"),
      options_(options) {
    if (options_.ttl <= Duration::zero()) {
        throw std::invalid_argument("Lock: options.ttl must be positive");
    }
}

Lock::~Lock() {
    stop_extending();
}

Task<bool> Lock::acquire() {
    if (held_) {
        throw RuntimeError("Lock::acquire: '" + name_ + "' is already held by this object");
    }
    auto& loop = get_running_loop();
    std::optional<TimePoint> deadline;
    if (options_.acquire_timeout) {
        deadline = loop.time() + *options_.acquire_timeout;
    }
    std::vector<std::string> keys{name_, fence_key_};
    for (;;) {
        std::string token = detail::random_token();
        std::vector<std::string> args{token, std::to_string(detail::millis(options_.ttl))};
        // Sent at once; if this task is cancelled while it is in flight, the
        // reply still decides: a lock it took is released below.
        Task<Reply> attempt = client_.run(acquire_script(), keys, args);
        Reply r;
        bool cancelled = false;
        try {
            r = co_await std::move(attempt);
        } catch (const CancelledError&) {
            cancelled = true;
        }
        if (cancelled) {
            // Best effort: a compare-and-delete with the token we sent.
            std::vector<std::string> release_args{token};
            std::vector<std::string> lock_key{name_};
            Future<Reply> undo = client_.eval(release_script().source(), lock_key, release_args);
            undo.add_done_callback([](Future<Reply> f) { (void)f.exception(); });
            throw CancelledError();
        }
        if (std::int64_t fence = r.to_integer(); fence > 0) {
            token_ = std::move(token);
            fence_ = fence;
            held_ = true;
            if (options_.auto_extend) {
                extender_ = create_task(keep_extending(), "redis-lock-extend:" + name_);
            }
            co_return true;
        }
        if (deadline && loop.time() + options_.retry_interval > *deadline) {
            co_return false;
        }
        co_await sleep(options_.retry_interval);
    }
}

Task<bool> Lock::release() {
    if (!held_) {
        throw RuntimeError("Lock::release: '" + name_ + "' is not held by this object");
    }
    held_ = false;
    stop_extending();
    std::vector<std::string> keys{name_};
    std::vector<std::string> args{token_};
    Reply r = co_await client_.run(release_script(), keys, args);
    co_return r.to_integer() == 1;
}

Task<bool> Lock::extend(std::optional<Duration> ttl) {
    if (!held_) {
        throw RuntimeError("Lock::extend: '" + name_ + "' is not held by this object");
    }
    std::vector<std::string> keys{name_};
    std::vector<std::string> args{token_,
                                  std::to_string(detail::millis(ttl.value_or(options_.ttl)))};
    Reply r = co_await client_.run(detail::extend_if_token_script(), keys, args);
    co_return r.to_integer() == 1;
}

Task<bool> Lock::locked() {
    co_return co_await client_.exists(name_) == 1;
}

Task<bool> Lock::owned() {
    auto v = co_await client_.get(name_);
    co_return v && !token_.empty() && *v == token_;
}

Task<void> Lock::keep_extending() {
    for (;;) {
        co_await sleep(options_.ttl / 3);
        if (!held_) {
            co_return;
        }
        bool extended = true;
        try {
            extended = co_await extend();
        } catch (const std::exception&) {
            // The server is unreachable now: try again at the next period;
            // the key may expire meanwhile, which the fencing token covers.
        }
        if (!extended) {
            co_return;  // lost to expiry: nothing left to extend
        }
    }
}

void Lock::stop_extending() noexcept {
    if (extender_ && !extender_->done()) {
        extender_->cancel();
    }
    extender_.reset();
}

}  // namespace corio::redis
