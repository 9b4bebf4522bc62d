// corio/redis/lock.hpp - a distributed lock on Redis: Lock, LockOptions,
// with_lock.
//
// Mirrors redis-py's redis.asyncio.lock.Lock (and the single-instance
// algorithm of the Redis documentation's "Distributed locks" page): the lock
// is a key set with SET NX PX to a random token; only the holder of the
// token may release it (compare-and-delete, in a Lua script) or extend it
// (compare-and-PEXPIRE). The key expires if its holder dies or stalls
// longer than the lock's time to live: mutual exclusion then holds only for
// holders that finish (or extend) in time - which is what the fencing token
// is for. Each acquisition also increments a counter (key `<name>:fence`) in
// the same script, and the holder passes that number to the resource it
// protects, which refuses numbers older than one it has seen.
#pragma once

#include <chrono>
#include <cstdint>
#include <exception>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

#include "corio/errors.hpp"
#include "corio/redis/client.hpp"
#include "corio/task.hpp"

namespace corio::redis {

/// Options of a Lock. redis-py: `Lock(timeout=, blocking_timeout=, sleep=)`.
struct LockOptions {
    /// How long the key lives unless extended (PX). redis-py: `timeout`.
    Duration ttl = std::chrono::seconds(10);
    /// How long acquire() tries (null: until it succeeds; zero: once).
    /// redis-py: `blocking_timeout`.
    std::optional<Duration> acquire_timeout;
    /// The pause between two attempts. redis-py: `sleep`.
    Duration retry_interval = std::chrono::milliseconds(20);
    /// While held, extend the key to `ttl` every ttl/3 (a background task
    /// that stops at release). corio's own: redis-py leaves it to you.
    bool auto_extend = false;
};

/// A lock named `name` on the server of `client`. Loop thread only; one
/// object is one would-be holder (make one per task or process that
/// contends). The client may be shared with other work: its commands are
/// not blocking.
class Lock {
public:
    /// Sends nothing yet. The key is `name`, its fencing counter
    /// `name:fence`. Throws std::invalid_argument when options.ttl is not
    /// positive.
    Lock(Client client, std::string name, LockOptions options = {});
    /// Stops the auto-extension; does not release (the key expires).
    ~Lock();
    Lock(const Lock&) = delete;
    Lock& operator=(const Lock&) = delete;

    /// Tries to take the lock with a fresh random token, retrying every
    /// retry_interval until acquire_timeout. Returns true when taken (then
    /// fencing_token() is the new counter value), false on timeout.
    /// Suspends between attempts and for each round trip. Throws
    /// RuntimeError if this object already holds it, and what the client
    /// throws (ConnectionError, ReplyError). Cancelling it stops trying; a
    /// lock taken by the attempt in flight when cancelled is released (as
    /// the connection allows) so that it is never held by nobody.
    /// redis-py: `Lock.acquire`.
    Task<bool> acquire();
    /// Releases the lock if this object's token still holds it. Returns
    /// false when it had expired (and maybe been taken by another): the
    /// other holder's lock is left alone. Stops the auto-extension. Throws
    /// RuntimeError when not acquired, and what the client throws.
    /// redis-py: `Lock.release` (which raises LockNotOwnedError instead of
    /// returning false).
    Task<bool> release();
    /// Sets the key's time to live to `ttl` (default: options.ttl) if this
    /// object's token still holds it; false otherwise. redis-py:
    /// `Lock.reacquire` / `extend(replace_ttl=True)`.
    Task<bool> extend(std::optional<Duration> ttl = std::nullopt);
    /// Whether the key exists (anybody's). redis-py: `Lock.locked`.
    Task<bool> locked();
    /// Whether this object's token is the key's value now. redis-py:
    /// `Lock.owned`.
    Task<bool> owned();

    /// True between a successful acquire() and release() (what this object
    /// believes; owned() asks the server).
    bool held() const noexcept { return held_; }
    /// The counter value of the current (or last) acquisition.
    std::int64_t fencing_token() const noexcept { return fence_; }
    /// The random value of the current (or last) acquisition: the key's
    /// value while this object holds it.
    const std::string& token() const noexcept { return token_; }
    /// The lock's key.
    const std::string& name() const noexcept { return name_; }

private:
    Task<void> keep_extending();
    void stop_extending() noexcept;

    Client client_;
    std::string name_;
    std::string fence_key_;
    LockOptions options_;
    std::string token_;
    std::int64_t fence_ = 0;
    bool held_ = false;
    std::optional<TaskHandle<void>> extender_;
};

/// Acquires `lock`, runs `body()` (a callable returning a Task) and always
/// releases, also when body throws or the task is cancelled while body runs.
/// Returns what body returns. Throws TimeoutError when acquire() gives up,
/// and what acquire(), body and release() throw (body's exception first).
/// redis-py: `async with r.lock(name):`.
template <class F>
auto with_lock(Lock& lock, F body) -> Task<typename std::invoke_result_t<F&>::value_type> {
    using T = typename std::invoke_result_t<F&>::value_type;
    if (!co_await lock.acquire()) {
        throw TimeoutError("with_lock: could not acquire the lock '" + lock.name() + "'");
    }
    std::exception_ptr error;
    if constexpr (std::is_void_v<T>) {
        try {
            co_await body();
        } catch (...) {
            error = std::current_exception();
        }
        co_await lock.release();
        if (error) {
            std::rethrow_exception(error);
        }
    } else {
        std::optional<T> result;
        try {
            result.emplace(co_await body());
        } catch (...) {
            error = std::current_exception();
        }
        co_await lock.release();
        if (error) {
            std::rethrow_exception(error);
        }
        co_return std::move(*result);
    }
}

}  // namespace corio::redis
