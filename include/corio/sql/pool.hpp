// corio/sql/pool.hpp - a connection pool for either SQL driver.
//
// aiomysql's Pool and asyncpg's Pool in one template: at most `maxsize`
// connections, `minsize` of them opened up front by open(), handed out one
// task at a time by acquire() as a scoped Lease that gives the connection
// back when it goes out of scope:
//
//   sql::Pool<pg::Connection> pool(pg::ConnectOptions::from_url(url), {.maxsize = 10});
//   co_await pool.open();
//   {
//       auto conn = co_await pool.acquire();      // async with pool.acquire() as conn:
//       co_await conn->execute("UPDATE ...");
//   }                                             // back in the pool
//   co_await pool.close();
//
// Choices, named:
// - Waiters are served first come, first served (an asyncio.Semaphore's
//   order), and acquire_timeout bounds the whole acquisition, waiting and
//   connecting (asyncpg's acquire(timeout=)).
// - A connection comes back only if it says it is reusable (connected, idle,
//   no open transaction, no unread result): one left mid-query by a
//   cancelled task, in a transaction, or broken by a lost server is
//   destroyed instead (its destructor closes the socket at once, without
//   waiting), and its place is free for a new connection. The pool never
//   hands a desynchronised connection to the next user.
// - acquire() also checks an idle connection before handing it out and
//   drops it if it is no longer reusable, or older than `recycle`
//   (aiomysql's pool_recycle), so a restarted server costs no failed query
//   for connections the driver can see are dead.
// - Loop thread only, like the connections. The Pool may be moved; leases
//   keep the pool's state alive, so a lease may outlive its Pool object.
#pragma once

#include <chrono>
#include <concepts>
#include <cstddef>
#include <deque>
#include <exception>
#include <memory>
#include <optional>
#include <stdexcept>
#include <utility>

#include "corio/event_loop.hpp"
#include "corio/locks.hpp"
#include "corio/task.hpp"
#include "corio/timeouts.hpp"

namespace corio::sql {

/// What Pool needs of a connection type.
template <class C>
concept PoolableConnection = std::movable<C> &&
    requires(C& c, const C& cc, const typename C::Options& o) {
    { C::connect(o) } -> std::same_as<Task<C>>;
    { cc.is_reusable() } -> std::convertible_to<bool>;
    { c.close() } -> std::same_as<Task<void>>;
};

/// Sizes and limits of a Pool.
struct PoolOptions {
    /// Connections open() makes up front (aiomysql minsize, asyncpg
    /// min_size). The pool does not shrink below what it has on its own.
    std::size_t minsize = 1;
    /// At most this many connections, lent or idle (aiomysql maxsize,
    /// asyncpg max_size). Must be at least 1 and at least minsize.
    std::size_t maxsize = 10;
    /// An idle connection older than this is closed instead of handed out
    /// (aiomysql pool_recycle). None: kept for ever.
    std::optional<Duration> recycle;
    /// acquire() throws TimeoutError after this long. None: waits for ever.
    std::optional<Duration> acquire_timeout;
};

template <PoolableConnection C>
class Pool {
    struct Idle {
        C conn;
        TimePoint born;
    };
    struct State {
        typename C::Options options;
        PoolOptions limits;
        Semaphore permits;
        std::deque<Idle> idle;
        std::size_t lent = 0;
        bool closed = false;
        Event all_back;

        State(typename C::Options o, PoolOptions l)
            : options(std::move(o)), limits(l), permits(static_cast<long>(l.maxsize)) {}
    };

public:
    /// A connection on loan: use it through -> and *; it goes back to the
    /// pool (or is destroyed, see the file comment) when the Lease is
    /// destroyed or release() is called. Movable, not copyable.
    class Lease {
    public:
        Lease(Lease&& o) noexcept
            : state_(std::move(o.state_)), conn_(std::move(o.conn_)), born_(o.born_) {}
        Lease& operator=(Lease&& o) noexcept {
            if (this != &o) {
                release();
                state_ = std::move(o.state_);
                conn_ = std::move(o.conn_);
                born_ = o.born_;
            }
            return *this;
        }
        ~Lease() { release(); }

        /// The lent connection (the Lease must hold one: not after release()).
        C& operator*() noexcept { return *conn_; }
        C* operator->() noexcept { return &*conn_; }
        /// False once released or discarded.
        explicit operator bool() const noexcept { return conn_.has_value(); }

        /// Gives the connection back now (what the destructor does).
        void release() noexcept {
            if (!state_) {
                return;
            }
            std::shared_ptr<State> s = std::move(state_);
            if (conn_) {
                if (conn_->is_reusable()) {
                    s->idle.push_back(Idle{std::move(*conn_), born_});
                }
                conn_.reset();
            }
            --s->lent;
            s->permits.release();
            if (s->lent == 0) {
                s->all_back.set();
            }
        }
        /// Destroys the connection instead of giving it back (a connection
        /// the caller knows is bad); its place in the pool is freed.
        void discard() noexcept {
            conn_.reset();
            release();
        }

    private:
        friend class Pool;
        Lease(std::shared_ptr<State> s, C conn, TimePoint born)
            : state_(std::move(s)), conn_(std::move(conn)), born_(born) {}

        std::shared_ptr<State> state_;
        std::optional<C> conn_;
        TimePoint born_{};
    };

    /// A pool that connects with `options`. Connects nothing yet: open()
    /// fills it to minsize, acquire() connects on demand. Throws
    /// std::invalid_argument for maxsize 0 or minsize > maxsize.
    explicit Pool(typename C::Options options, PoolOptions limits = {})
        : state_(std::make_shared<State>(std::move(options), check(limits))) {}
    Pool(Pool&&) noexcept = default;
    Pool& operator=(Pool&&) noexcept = default;
    /// Idle connections are destroyed (closed at once, without a goodbye);
    /// lent ones when their leases end.
    ~Pool() {
        if (state_) {
            state_->closed = true;
            state_->idle.clear();
        }
    }

    /// Opens connections until minsize exist, one after another. Throws
    /// what the driver's connect throws (the pool keeps what it opened).
    /// aiomysql: `create_pool`; asyncpg: `create_pool`.
    Task<void> open() {
        std::shared_ptr<State> s = state_;
        while (!s->closed && s->idle.size() + s->lent < s->limits.minsize &&
               s->permits.value() > 0) {
            C conn = co_await C::connect(s->options);
            s->idle.push_back(Idle{std::move(conn), get_running_loop().time()});
        }
    }

    /// A connection: an idle one (the oldest first), else a new one while
    /// fewer than maxsize exist, else the first one given back. Suspends
    /// while waiting and connecting. Throws TimeoutError after
    /// acquire_timeout, the driver's connect errors, RuntimeError after
    /// close(). Cancelling it
    /// takes nothing from the pool (a connection being made is dropped).
    /// aiomysql / asyncpg: `pool.acquire()`.
    Task<Lease> acquire() {
        std::shared_ptr<State> s = state_;
        co_return co_await wait_for(acquire_in(s), s->limits.acquire_timeout);
    }

    /// Stops lending (acquire() throws RuntimeError, waiting ones too),
    /// closes the idle connections, waits until every lease has come back,
    /// and closes those too (one not reusable is destroyed). aiomysql: `close()` + `wait_closed()`;
    /// asyncpg: `close()`.
    Task<void> close() {
        std::shared_ptr<State> s = state_;
        s->closed = true;
        while (true) {
            while (!s->idle.empty()) {
                C conn = std::move(s->idle.front().conn);
                s->idle.pop_front();
                try {
                    co_await conn.close();
                } catch (const std::exception&) {
                    // A broken connection's goodbye may fail; it is gone either way.
                }
            }
            if (s->lent == 0) {
                break;
            }
            s->all_back.clear();
            co_await s->all_back.wait();
        }
    }

    /// Connections open, lent or idle. aiomysql: `size`; asyncpg: `get_size()`.
    std::size_t size() const noexcept { return state_->idle.size() + state_->lent; }
    /// Idle connections. aiomysql: `freesize`; asyncpg: `get_idle_size()`.
    std::size_t idle() const noexcept { return state_->idle.size(); }
    /// Connections lent out now.
    std::size_t lent() const noexcept { return state_->lent; }
    /// The sizes and ages the pool was made with.
    const PoolOptions& limits() const noexcept { return state_->limits; }
    /// The options each new connection is opened with.
    const typename C::Options& options() const noexcept { return state_->options; }

private:
    static PoolOptions check(PoolOptions l) {
        if (l.maxsize == 0 || l.minsize > l.maxsize) {
            throw std::invalid_argument("sql::Pool: need 1 <= maxsize and minsize <= maxsize");
        }
        return l;
    }

    static Task<Lease> acquire_in(std::shared_ptr<State> s) {
        if (s->closed) {
            throw RuntimeError("sql::Pool: acquire() after close()");
        }
        co_await s->permits.acquire();
        // The permit is ours: give it back unless a Lease takes it over.
        bool handed = false;
        struct Undo {
            State* s;
            bool* handed;
            ~Undo() {
                if (!*handed) {
                    s->permits.release();
                }
            }
        } undo{s.get(), &handed};
        if (s->closed) {
            throw RuntimeError("sql::Pool: closed while waiting in acquire()");
        }
        TimePoint now = get_running_loop().time();
        while (!s->idle.empty()) {
            Idle got = std::move(s->idle.front());
            s->idle.pop_front();
            bool stale = s->limits.recycle && now - got.born > *s->limits.recycle;
            if (!stale && got.conn.is_reusable()) {
                ++s->lent;
                handed = true;
                co_return Lease(s, std::move(got.conn), got.born);
            }
            if (stale) {
                try {
                    co_await got.conn.close();
                } catch (const std::exception&) {
                    // Closing an old connection may fail; it is gone either way.
                }
            }
        }
        C conn = co_await C::connect(s->options);
        if (s->closed) {
            throw RuntimeError("sql::Pool: closed while connecting in acquire()");
        }
        ++s->lent;
        handed = true;
        co_return Lease(s, std::move(conn), get_running_loop().time());
    }

    std::shared_ptr<State> state_;
};

}  // namespace corio::sql
