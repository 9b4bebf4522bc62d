// corio/redis/pool.hpp - explicit pipelines, MULTI/EXEC transactions with
// WATCH, and a connection pool with a limit.
//
// Mirrors redis-py's redis.asyncio Pipeline (transaction=False / True) and
// ConnectionPool / BlockingConnectionPool (aioredis' create_redis_pool).
//
// A Pool shares its connections two ways:
// - pool.execute() and the typed helpers (pool.get(...), pool.hgetall(...))
//   multiplex: the command goes to the first connection nobody holds with
//   fewer than max_pipeline commands in flight, a new one being opened when
//   all are that deep and the limit allows (at the limit: the least busy).
//   Many tasks' commands then share few connections and pipeline
//   automatically: one write and one read carry many commands.
// - co_await pool.acquire() lends one connection exclusively (a Lease that
//   gives it back when destroyed): for blocking commands (BRPOP), WATCH /
//   MULTI / EXEC, or anything that changes connection state. It suspends
//   while every connection allowed is held.
#pragma once

#include <cstddef>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "corio/future.hpp"
#include "corio/redis/client.hpp"
#include "corio/task.hpp"

namespace corio::redis {

/// Commands gathered and sent together in one write, their replies read
/// together. With `transaction`, wrapped in MULTI ... EXEC (redis-py:
/// `pipeline(transaction=True)`). Made by Client::pipeline()/multi() or
/// Pipeline(client); the Client must be kept (the handle is copied in).
class Pipeline {
public:
    explicit Pipeline(Client client, bool transaction = false)
        : client_(std::move(client)), transaction_(transaction) {}

    /// Queues one command (encoded now). Never suspends; throws as
    /// encode_command. Returns *this for chaining.
    template <command_arg... Args>
    Pipeline& execute(const Args&... args) {
        encode_command(buffer_, args...);
        ++count_;
        return *this;
    }
    std::size_t size() const noexcept { return count_; }

    /// Sends everything in one write and waits for every reply. Without a
    /// transaction: the replies in order; an error reply among them is
    /// thrown as ReplyError once all have arrived (redis-py's
    /// raise_on_error). With a transaction: EXEC's replies, error replies
    /// kept as values (is_error()), or nullopt when a WATCHed key changed
    /// and Redis discarded the transaction; a command Redis refused to
    /// queue throws ReplyError (EXECABORT follows on the server). Throws
    /// ConnectionError when the connection breaks. The pipeline is empty
    /// afterwards. Cancelling it drops the replies when they come (the
    /// commands may still have run).
    Task<std::vector<Reply>> run();
    Task<std::optional<std::vector<Reply>>> exec();

private:
    Client client_;
    bool transaction_;
    std::string buffer_;
    std::size_t count_ = 0;
};

/// Options of a Pool.
struct PoolOptions {
    ClientOptions client;
    /// Connections open at once, at most (multiplexed and lent together).
    std::size_t max_connections = 10;
    /// Commands a shared connection carries in flight (sent or waiting to
    /// be) before the pool opens another one for the next command. Deep
    /// pipelines on few connections cost the server and the client fewer
    /// system calls per command; 1 gives a connection per busy command
    /// (redis-py's ConnectionPool). A slow command delays the ones behind
    /// it on its connection.
    std::size_t max_pipeline = 64;
};

/// A connection pool with a limit. redis-py: `ConnectionPool` with
/// `BlockingConnectionPool`'s waiting; aioredis: `create_redis_pool`.
/// Loop thread only; not copyable; it must outlive its leases.
class Pool : public Commands<Pool> {
public:
    /// Opens nothing yet: connections are made on first use. Throws
    /// std::invalid_argument for max_connections or max_pipeline == 0.
    explicit Pool(PoolOptions options);
    /// Pool(PoolOptions{parse_url(url), max_connections}).
    explicit Pool(std::string_view url, std::size_t max_connections = 10);
    ~Pool();
    Pool(const Pool&) = delete;
    Pool& operator=(const Pool&) = delete;

    /// One connection lent exclusively until the Lease is destroyed (or
    /// release()d). Movable. Using it after the pool is gone is undefined.
    class Lease {
    public:
        Lease() = default;
        Lease(Lease&& o) noexcept : pool_(std::exchange(o.pool_, nullptr)), index_(o.index_) {}
        Lease& operator=(Lease&& o) noexcept;
        ~Lease() { release(); }
        Client& operator*() const;
        Client* operator->() const { return &**this; }
        /// Gives the connection back now. A connection still waiting for
        /// replies (a cancelled blocking command) is closed rather than
        /// lent again.
        void release() noexcept;

    private:
        friend class Pool;
        Lease(Pool* pool, std::size_t index) noexcept : pool_(pool), index_(index) {}
        Pool* pool_ = nullptr;
        std::size_t index_ = 0;
    };

    /// Lends a connection: an idle one, else a new one while under the
    /// limit (connected by its first command), else suspends until one is
    /// given back (FIFO). Cancelling the wait takes nothing. Never throws
    /// for connection problems: the lease's first command does.
    /// redis-py: `pool.get_connection()`; aioredis: `async with pool as conn`.
    Task<Lease> acquire();

    /// Sends one command on a shared connection (see the file comment) and
    /// returns its reply, as Client::execute. The command is encoded at
    /// once; it leaves at once when a connection is free to share, else
    /// when one is given back (FIFO with acquire()).
    template <command_arg... Args>
    Task<Reply> execute(const Args&... args) {
        std::string encoded;
        encode_command(encoded, args...);
        return execute_encoded(std::move(encoded));
    }

    /// Connections open, lent, and tasks waiting in acquire().
    std::size_t size() const noexcept { return conns_.size(); }
    std::size_t in_use() const noexcept;
    std::size_t waiting() const noexcept { return waiters_.size(); }
    const PoolOptions& options() const noexcept { return options_; }
    /// Closes every connection (lent ones too: their commands fail).
    void close();

private:
    struct Slot {
        Client client;
        bool lent = false;
    };
    Task<Reply> execute_encoded(std::string encoded);
    /// The slot not lent with the fewest replies outstanding, or null.
    Slot* least_busy() noexcept;
    Client* pick();
    std::size_t open_slot();
    void give_back(std::size_t index, bool replace_if_busy = true) noexcept;

    PoolOptions options_;
    std::vector<Slot> conns_;
    std::deque<Future<std::size_t>> waiters_;
};

}  // namespace corio::redis
