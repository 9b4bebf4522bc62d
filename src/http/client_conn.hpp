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
#pragma once

#include <cstdint>
#include <exception>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "corio/event_loop.hpp"
#include "corio/http/client.hpp"
#include "corio/net/streams.hpp"
#include "parser.hpp"

namespace corio::http::detail {

struct ClientConn {
    net::StreamReader reader;
    net::StreamWriter writer;
    TimePoint idle_since{};
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

struct ClientPool {
    std::map<std::string, std::vector<std::unique_ptr<ClientConn>>> idle;
    bool closed = false;
    Duration keepalive_timeout{};
    std::size_t max_idle_per_host = 0;

    /// A live idle connection for `key` (scheme://host:port), or null.
    std::unique_ptr<ClientConn> take(const std::string& key);
    /// Pools `conn`, or closes it (pool closed or full).
    void give_back(const std::string& key, std::unique_ptr<ClientConn> conn);
    std::size_t size() const noexcept;
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
};

}  // namespace corio::http::detail
