// corio/redis/client.hpp - a Redis connection with automatic pipelining:
// ClientOptions (and redis:// URLs), Client, and the generic execute().
//
// Mirrors redis-py's redis.asyncio.Redis / Connection (aioredis). A Client
// is one connection to one server. Every command is encoded into the
// transport's write buffer when it is issued; what the tasks of one loop
// iteration issue leaves in one send at the end of the iteration, and the
// replies, which Redis sends in order, are matched to a FIFO of futures.
// So N tasks each awaiting a GET cost one round trip, not N: that is
// automatic pipelining, with no API to learn.
//
// The connection is (re)made on demand: commands issued while it is down
// wait in a backlog and leave, in order, after the handshake (HELLO 3 or
// the RESP2 fallback, AUTH, CLIENT SETNAME, SELECT). A command whose
// connection breaks fails with ConnectionError: Redis may or may not have
// run it, so it is never re-sent behind the caller's back.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "corio/event_loop.hpp"
#include "corio/future.hpp"
#include "corio/net/tls.hpp"
#include "corio/redis/commands.hpp"
#include "corio/redis/errors.hpp"
#include "corio/redis/reply.hpp"
#include "corio/redis/resp.hpp"
#include "corio/task.hpp"

namespace corio::redis {

/// Where and how to connect. redis-py: the keyword arguments of `Redis()`.
///
/// Fill a named variable (or take parse_url's result) and pass that: do not
/// write the options as a braced list inside a co_await expression
/// (`co_await Client::connect({.port = 6380})`). GCC 12 destroys such an
/// aggregate temporary twice, once at a wrong address (see
/// net::ConnectOptions), which only trivially destructible types survive,
/// and these options own strings. LockOptions, WorkQueueOptions and
/// SetOptions are trivially destructible: write those in place freely.
struct ClientOptions {
    std::string host = "127.0.0.1";
    std::uint16_t port = 6379;
    /// A Unix-domain socket path; when set, host and port are not used.
    std::string unix_socket;
    /// ACL user (empty: the default user) and password (empty: no AUTH).
    std::string username;
    std::string password;
    /// The database SELECTed after connecting (0: none sent).
    int db = 0;
    /// CLIENT SETNAME (empty: none).
    std::string client_name;
    /// 3: HELLO 3, falling back to RESP2 when the server refuses HELLO;
    /// 2: RESP2 only (AUTH and CLIENT SETNAME as separate commands).
    int protocol = 3;
    /// Limit for one connection attempt, handshake included (null: none).
    std::optional<Duration> connect_timeout = std::chrono::seconds(5);
    /// Attempts per (re)connection before the waiting commands fail, and
    /// the pause before the second one, doubled after each failure.
    int connect_attempts = 3;
    Duration reconnect_backoff = std::chrono::milliseconds(50);
    /// The reply decoder's limits.
    DecoderLimits limits;

    /// TLS (`rediss://`): the connection is encrypted, and the server's
    /// certificate and host name are verified by default. redis-py: `ssl=True`.
    bool tls = false;
    /// The TLS client context to use (shared by every connection made with
    /// these options). Null: one is made from the ssl_* options below
    /// (net::SslContext::client(), which trusts the system's CAs).
    std::shared_ptr<net::SslContext> ssl_context;
    /// A PEM file of CA certificates to trust instead of the system's
    /// (redis-py: `ssl_ca_certs`; URL `?ssl_ca_certs=/path`).
    std::string ssl_ca_certs;
    /// Certificate checking: `required` (the default), or `none` to accept
    /// any certificate (redis-py: `ssl_cert_reqs`; URL `?ssl_cert_reqs=none`).
    net::VerifyMode ssl_cert_reqs = net::VerifyMode::required;
    /// Check that the certificate names `host` (or ssl_server_hostname).
    /// redis-py: `ssl_check_hostname`; URL `?ssl_check_hostname=false`.
    bool ssl_check_hostname = true;
    /// The name sent as SNI and checked against the certificate (empty: host).
    std::string ssl_server_hostname;

    /// The longest a command may wait for its reply, counted from the call
    /// (time spent waiting for a connection included); null: no limit.
    /// When it passes, the command's future fails with corio::TimeoutError
    /// (the command may still run); its reply, when it comes, is read and
    /// dropped, so the connection stays in step. Blocking commands (BLPOP,
    /// XREADGROUP BLOCK) count too: give them a longer server timeout only
    /// on a client without this limit. redis-py: `socket_timeout`, which
    /// drops the connection instead.
    std::optional<Duration> command_timeout;
};

/// Reads `redis://[[user]:password@]host[:port][/db]` (redis-py's
/// `from_url`), `rediss://` (the same over TLS: `tls` set), and
/// `unix://[[user]:password@]/path[?db=N]`. Query parameters: `db`,
/// `protocol`, `client_name`, and for rediss:// `ssl_ca_certs`,
/// `ssl_cert_reqs` (none, optional, required) and `ssl_check_hostname`
/// (true/false). Percent-escapes in user, password and query values are
/// decoded. Throws std::invalid_argument naming the part that is wrong.
/// Never suspends.
ClientOptions parse_url(std::string_view url);

class Pool;
namespace detail {
class ClientState;
}

/// One connection to a Redis server, shared by copies of the handle (the
/// connection closes when the last copy goes). Loop thread only.
/// redis-py: `redis.asyncio.Redis` with a single connection.
///
/// The typed helpers (get, set, hset, hgetall, lpush, ... see commands.hpp)
/// are members; anything else goes through execute().
class Client : public Commands<Client> {
public:
    /// Connects and runs the handshake. Suspends until ready. Throws
    /// ConnectionError (every attempt failed; the message says why; a TLS
    /// handshake or certificate verification failure is not retried and
    /// its message starts with "TLS handshake with redis at HOST:PORT
    /// failed"), ReplyError (authentication refused: no retry), TimeoutError
    /// is reported as ConnectionError. Cancelling it closes the connection
    /// attempt. redis-py: `Redis(...)` plus its first command.
    static Task<Client> connect(ClientOptions options);
    /// connect(parse_url(url)).
    static Task<Client> connect(std::string_view url);

    /// A client that connects on its first command (commands wait in order
    /// meanwhile; when every attempt fails they fail with ConnectionError).
    /// Never suspends. redis-py: `Redis(...)`, which is lazy too.
    static Client create(ClientOptions options);

    Client() = default;  // an empty handle: every call throws RuntimeError

    /// Sends one command (its arguments as encode_command takes them: see
    /// command_arg) and returns the future of its reply. The command is
    /// encoded at once, so argument temporaries may die after the call, and
    /// commands go out in the order of the calls. Awaiting the future
    /// suspends until the reply; it throws ReplyError for an error reply
    /// (carrying the server's message), ConnectionError when the
    /// connection broke (the command may or may not have run),
    /// ProtocolError when the server sent something that is not RESP (the
    /// connection is dropped), corio::TimeoutError when options'
    /// command_timeout passed first (the reply is dropped). Cancelling the task that awaits it
    /// cancels only the wait: the reply is still read and dropped, so later replies stay matched
    /// (the command itself may have run). Throws std::invalid_argument at once for a NaN argument
    /// or no arguments. redis-py: `execute_command`.
    template <command_arg... Args>
    Future<Reply> execute(const Args&... args) {
        std::string& out = scratch();
        out.clear();
        encode_command(out, args...);
        return submit(out);
    }
    /// Sends commands already encoded (encode_command / encode_commands),
    /// `replies` of them, and returns one future per reply, in order.
    std::vector<Future<Reply>> execute_encoded(std::string_view encoded, std::size_t replies);

    /// Closes the connection: commands still waiting fail with
    /// ConnectionError; later commands reconnect. Never suspends.
    void close();
    /// True while a connection is up and its handshake done.
    bool is_connected() const noexcept;
    /// The protocol the server agreed to: 3 or 2 (0 before connecting).
    int protocol() const noexcept;
    /// Commands sent and not yet answered.
    std::size_t pending() const noexcept;
    /// Connections made so far (1 after connect, +1 per reconnection).
    std::uint64_t connections_made() const noexcept;
    /// The options it was made with.
    const ClientOptions& options() const;

    /// Sets the function that receives the server's push messages (RESP3
    /// `>`: pub/sub messages, client-tracking invalidations) and, on a
    /// subscriber connection under RESP2, replies nobody waits for. Used by
    /// PubSub. `on_connect` runs after each handshake, before the backlog
    /// leaves (PubSub resubscribes there).
    void set_push_handler(std::function<void(Reply)> on_push);
    void set_on_connect(std::function<void(Client&)> on_connect);

    /// Writes commands whose answers come as pushes (SUBSCRIBE and kin):
    /// no future is queued. Sent after the handshake when disconnected.
    void send_without_reply(std::string_view encoded);
    /// Subscriber mode (PubSub): under RESP2, replies nobody waits for are
    /// pushes; a lost connection is remade at once, retried until close().
    void set_subscriber(bool on);

    /// Internal: a handle on an existing connection state (what connect()
    /// and create() return, and what on_connect is given).
    explicit Client(std::shared_ptr<detail::ClientState> state) noexcept
        : state_(std::move(state)) {}

private:
    friend class Pool;  // sends its single commands through submit()
    std::string& scratch();
    /// pending() plus the commands waiting for the connection.
    std::size_t load() const noexcept;
    Future<Reply> submit(std::string_view encoded);

    std::shared_ptr<detail::ClientState> state_;
};

}  // namespace corio::redis
