// http/client_conn.hpp (private) - what ClientSession, ClientResponse and
// ContentReader share: a pooled connection, the pool, and the state of one
// response's body.
//
// Ownership: the session owns the ClientPool through a shared_ptr; a
// response's ResponseBody holds a weak_ptr to it, so a response may outlive
// its session (its connection is then closed instead of pooled). A
// ClientConn is owned by exactly one of: the pool (idle: no unread byte, no
// request in flight), the request being sent, or the ResponseBody of the
// response being read. It goes back to the pool only after a complete
// keep-alive response with nothing after it; every other path (error,
// timeout, cancellation, a body not read to its end) destroys it, which
// aborts its transport.
//
// Limits (ClientSessionOptions::limit, limit_per_host): every open
// connection, and every one being opened, holds a Place; the pool counts
// places per key and in all. A request that finds no idle connection and
// no free place queues in `waiters` (FIFO). Invariant, true whenever no
// pool function is running: no waiter still queued could be served (its
// key has an idle connection, or a place is free for it, or one could be
// made by closing an idle connection); wake() restores it after every
// change (a place freed, a connection pooled), serving waiters in order.
// A Place's destructor frees it, so a connection closed on any path,
// however its owner dies, gives its place back.
#pragma once

#include <cstdint>
#include <exception>
#include <list>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "corio/event_loop.hpp"
#include "corio/future.hpp"
#include "corio/http/client.hpp"
#include "corio/net/streams.hpp"
#include "corio/task.hpp"
#include "parser.hpp"

namespace corio::http::detail {

struct ClientPool;

/// One counted connection under the session's limits (see above), freed
/// by its destructor (which may wake waiters). Empty when default-made.
class Place {
public:
    Place() = default;
    Place(std::weak_ptr<ClientPool> pool, std::string key) noexcept
        : pool_(std::move(pool)), key_(std::move(key)), held_(true) {}
    Place(Place&& o) noexcept
        : pool_(std::move(o.pool_)),
          key_(std::move(o.key_)),
          held_(std::exchange(o.held_, false)) {}
    Place& operator=(Place&& o) noexcept;
    ~Place() { reset(); }
    explicit operator bool() const noexcept { return held_; }
    void reset() noexcept;

private:
    std::weak_ptr<ClientPool> pool_;
    std::string key_;
    bool held_ = false;
};

struct ClientConn {
    Place place;  // destroyed last: the place is free once the transport is
    net::StreamReader reader;
    net::StreamWriter writer;
    TimePoint idle_since{};
    bool reused = false;  // it has been in the pool
    ClientConn(net::StreamReader r, net::StreamWriter w)
        : reader(std::move(r)), writer(std::move(w)) {}
    ClientConn(const ClientConn&) = delete;
    ClientConn& operator=(const ClientConn&) = delete;
    ~ClientConn() {
        if (!writer.is_closing()) {
            writer.abort();
        }
    }
};

struct ClientPool : std::enable_shared_from_this<ClientPool> {
    /// What acquire() gives: an idle connection, or a place to open one.
    struct Lease {
        std::unique_ptr<ClientConn> conn;
        Place place;
        explicit operator bool() const noexcept { return conn || place; }
    };
    struct Waiter {
        std::string key;
        Future<void> ready;  // set when `lease` is filled
        Lease lease;
    };

    std::map<std::string, std::vector<std::unique_ptr<ClientConn>>> idle;
    bool closed = false;
    Duration keepalive_timeout{};
    std::size_t max_idle_per_host = 0;
    std::size_t limit = 0;           // places in all (0: none)
    std::size_t limit_per_host = 0;  // places per key (0: none)
    std::size_t open = 0;            // places held
    std::map<std::string, std::size_t> open_per_host;
    std::list<std::shared_ptr<Waiter>> waiters;  // FIFO

    /// A connection for `key` (scheme://host:port): an idle one, or a place
    /// to open a new one, waiting in FIFO order while the limits allow
    /// neither. Cancelling it leaves no place taken (one granted meanwhile
    /// goes to the next waiter). Throws RuntimeError once the pool closes.
    Task<Lease> acquire(std::string key);
    /// An idle connection or a free place for `key` now, else an empty Lease.
    Lease try_acquire(const std::string& key);
    /// A live idle connection for `key`, or null.
    std::unique_ptr<ClientConn> take(const std::string& key);
    /// Pools `conn`, or closes it (pool closed or full).
    void give_back(const std::string& key, std::unique_ptr<ClientConn> conn);
    /// Closes the pool: idle connections are closed (returned to be waited
    /// for), waiters get RuntimeError.
    std::vector<std::unique_ptr<ClientConn>> shut();
    /// Serves the waiters that can be served now, in order (re-entrant:
    /// a nested call makes the running one go round again).
    void wake() noexcept;
    /// Called by Place: one place of `key` is free.
    void free_place(const std::string& key) noexcept;
    std::size_t size() const noexcept;

private:
    bool close_oldest_idle() noexcept;
    bool waking_ = false;
    bool rewake_ = false;
};

/// Throws the error of a response that failed to parse: ServerDisconnectedError
/// for an EOF inside it, ClientPayloadError otherwise.
[[noreturn]] void throw_parse_error(const ResponseParser& parser);

/// One response's parser and body. Invariants: `conn` is set until the
/// message completes (then it was given back or closed) or an error
/// (then it was aborted: `error` is set); `buf[buf_off..]` are decoded body
/// bytes not yet read; `input[input_off..]` socket bytes not yet parsed.
struct ResponseBody {
    ResponseBody(const ParserLimits& limits) : parser(limits) {}

    std::weak_ptr<ClientPool> pool;
    std::string key;
    std::unique_ptr<ClientConn> conn;
    ResponseParser parser;
    std::optional<Duration> sock_read;
    std::optional<TimePoint> deadline;  // ClientTimeout::total's end
    std::size_t read_size = 65536;

    std::string input;
    std::size_t input_off = 0;
    bool eof = false;              // the socket reached EOF
    bool nothing_received = true;  // no byte of the response yet
    bool complete = false;         // the body ended (conn released)
    std::exception_ptr error;      // the body failed (conn aborted)

    std::string buf;
    std::size_t buf_off = 0;
    std::size_t peak = 0;

    bool loaded = false;  // `body` holds the whole rest (read() was called)
    std::string body;
    std::shared_ptr<ResponseBody> replay;  // content() of a loaded body

    /// The next parser event, reading from the socket as needed. Throws
    /// ServerDisconnectedError (EOF before any byte), TimeoutError, the
    /// socket's errors.
    Task<ParseStep> next_event();
    /// Appends decoded body bytes to buf; false once the body has ended.
    /// On any failure (cancellation too) aborts the connection.
    Task<bool> fill();
    /// Unread bytes: decoded, undecoded, and waiting in the socket reader.
    std::size_t buffered() const noexcept;
    std::size_t unread() const noexcept { return buf.size() - buf_off; }
    /// Takes up to `n` bytes from buf.
    std::string take(std::size_t n);
    /// The body ended: the connection goes back to the pool if it can.
    void finish_message();
    /// Drops the connection (closing it) unless the body ended.
    void release() noexcept;
    /// Past the deadline with the body not ended: fails the body with
    /// TimeoutError (the connection closed) and throws it.
    void check_deadline();
};

}  // namespace corio::http::detail
