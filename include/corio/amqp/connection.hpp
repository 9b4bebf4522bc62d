// corio/amqp/connection.hpp - an AMQP 0-9-1 connection to RabbitMQ and its
// channels: ConnectionOptions (and amqp:// URLs), Connection, Channel,
// Message.
//
// Mirrors aioamqp (aioamqp.connect, AmqpProtocol, Channel): one Connection
// is one TCP (or TLS) connection, a BufferedProtocol on corio::net's
// transport that reads every frame as it arrives, whether or not anybody
// awaits anything, so heartbeats are answered and checked by the library
// itself. Channels are multiplexed on it, each with its own flow: calls on
// a channel that wait for a reply (queue_declare, basic_qos, ...) are
// pipelined and matched to their replies in order. Every frame written in
// one loop iteration leaves in one send at the end of the iteration.
//
// Cancellation never desynchronises a channel: cancelling a task blocked in
// a call cancels only its wait; the reply is still read and dropped.
//
//   auto conn = co_await corio::amqp::Connection::connect("amqp://u:p@host/");
//   auto ch = co_await conn.channel();
//   co_await ch.confirm_select();
//   co_await ch.queue_declare("jobs", durable);
//   co_await ch.basic_publish("hello", "", "jobs");   // resolves on the ack
//   auto messages = ch.basic_consume("jobs");
//   while (auto m = co_await messages.next()) { ch.basic_ack(m->delivery_tag); }
#pragma once

#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "corio/amqp/errors.hpp"
#include "corio/amqp/frame.hpp"
#include "corio/async_generator.hpp"
#include "corio/event_loop.hpp"
#include "corio/future.hpp"
#include "corio/net/tls.hpp"
#include "corio/task.hpp"

namespace corio::amqp {

/// Opt-in reconnection (ConnectionOptions::reconnect). aio-pika:
/// `connect_robust`.
///
/// When a connection that was open is lost (the socket closes, heartbeats
/// stop, the server closes it, e.g. 320 CONNECTION_FORCED on shutdown), the
/// Connection does not end: it waits initial_delay, then reconnects, each
/// failed attempt doubling the wait (times `multiplier`) up to max_delay;
/// every wait is shortened by a random fraction of at most `jitter` (0.2:
/// between 80 % and 100 % of it), so clients do not reconnect in step. It
/// retries until it succeeds or close() is called. On the new connection it
/// reopens every open channel (same numbers, same Channel handles) and
/// re-declares, in the order they were first made, what was declared
/// through the library: exchanges, queues (server-named ones get a new name,
/// which the library substitutes for the old one wherever a queue name is
/// passed), exchange and queue bindings, basic_qos and confirm_select; then
/// restarts every consumer with its tag, so consumer generators keep
/// yielding. Deletions and unbinds remove what they undo.
///
/// What is lost at the break: every call waiting for a reply and every
/// publish not yet confirmed fails with ConnectionError (never reported
/// confirmed); messages delivered and not acked are redelivered by the
/// server (marked redelivered). Acks, nacks and rejects of the old
/// connection's delivery tags are dropped, not sent (delivery tags keep
/// growing across reconnects, so a new tag never equals an old one).
/// While reconnecting, calls that wait for a reply wait for the recovery,
/// basic_publish throws ConnectionError at once, and is_open() is false.
/// A basic_consume whose consume-ok had not come at the break ends with the
/// ConnectionError. The first connect is not retried (connect() throws).
/// close() is what stops a recovery: while one is under way it keeps the
/// connection alive even when every handle to it is dropped.
struct ReconnectOptions {
    Duration initial_delay = std::chrono::milliseconds(100);
    Duration max_delay = std::chrono::seconds(30);
    double multiplier = 2.0;
    double jitter = 0.2;
    /// Called on the loop after each successful recovery (its argument: the
    /// number of recoveries so far). Must not throw.
    std::function<void(std::uint64_t)> on_reconnect;
    /// Called on the loop when an open connection is lost and recovery
    /// starts (its argument: why). Must not throw.
    std::function<void(std::exception_ptr)> on_disconnect;
};

/// Where and how to connect. aioamqp: the keyword arguments of `connect()`.
/// Fill a named variable and pass it: do not write options that own strings
/// as a braced list inside a co_await expression (GCC 12 destroys such an
/// aggregate temporary twice; see net::ConnectOptions).
struct ConnectionOptions {
    std::string host = "127.0.0.1";
    std::uint16_t port = 5672;
    /// PLAIN authentication.
    std::string user = "guest";
    std::string password = "guest";
    std::string vhost = "/";
    /// The heartbeat interval we ask for, in seconds (0: none). The
    /// negotiated value is the smaller of ours and the server's (ours when
    /// the server proposes 0). A heartbeat is sent whenever nothing else was
    /// written for half an interval; a peer silent for two intervals is
    /// declared dead: every pending call fails with ConnectionError.
    std::uint16_t heartbeat = 60;
    /// The most channels and the largest frame we accept (0: the server's).
    std::uint16_t channel_max = 2047;
    std::uint32_t frame_max = 131072;
    /// Limit for the TCP connect, TLS handshake and AMQP handshake together.
    std::optional<Duration> connect_timeout = std::chrono::seconds(30);
    /// Sent in the client properties ("connection_name"; empty: none).
    std::string client_name;

    /// TLS (`amqps://`): the server's certificate and host name are verified
    /// by default, against the system's CAs or ssl_ca_certs.
    bool tls = false;
    std::shared_ptr<net::SslContext> ssl_context;
    /// A PEM file of CA certificates to trust (URL `?cacertfile=/path`).
    std::string ssl_ca_certs;
    /// `required` (the default) or `none` (URL `?verify=verify_none`).
    net::VerifyMode ssl_cert_reqs = net::VerifyMode::required;
    /// The name checked against the certificate (empty: host).
    std::string ssl_server_hostname;

    /// Reconnect when the connection is lost, and recover the topology
    /// (see ReconnectOptions). Empty (the default): a lost connection ends.
    std::optional<ReconnectOptions> reconnect;
};

/// Reads `amqp://[user[:password]@]host[:port][/vhost][?heartbeat=N&
/// channel_max=N&frame_max=N&connection_timeout=MS]` (the vhost is the
/// percent-decoded path without its leading '/'; no path, or "/", is the
/// vhost "/", as aioamqp's from_url reads it; "%2F" is "/" too) and
/// `amqps://` (TLS, port 5671 by default;
/// `cacertfile`, `verify=verify_none`, `server_name_indication`). Throws
/// std::invalid_argument naming the part that is wrong. Never suspends.
ConnectionOptions parse_url(std::string_view url);

class Channel;
namespace detail {
class ConnectionState;
class ChannelState;
}  // namespace detail

/// A message: delivered to a consumer, got with basic_get, or returned by
/// the server to its publisher (mandatory and unroutable).
struct Message {
    std::string body;
    Properties properties;
    std::string exchange;
    std::string routing_key;
    /// Consumers and basic_get: the tag to ack / nack / reject with.
    std::uint64_t delivery_tag = 0;
    bool redelivered = false;
    /// Consumers: the consumer's tag.
    std::string consumer_tag;
    /// basic_get: messages left in the queue.
    std::uint32_t message_count = 0;
    /// Returned messages: the reason (312 NO_ROUTE).
    std::uint16_t reply_code = 0;
    std::string reply_text;
};

/// queue.declare-ok. aioamqp: the dict queue_declare returns.
struct QueueDeclareOk {
    std::string queue;
    std::uint32_t message_count = 0;
    std::uint32_t consumer_count = 0;
};

/// Flags and arguments of exchange_declare.
struct ExchangeOptions {
    bool passive = false;
    bool durable = false;
    bool auto_delete = false;
    bool internal = false;
    FieldTable arguments;
};

/// Flags and arguments of queue_declare. Arguments RabbitMQ reads:
/// x-message-ttl (int, ms), x-dead-letter-exchange, x-dead-letter-routing-key
/// (string), x-max-length (int), x-queue-type ("classic", "quorum"), ...
struct QueueOptions {
    bool passive = false;
    bool durable = false;
    bool exclusive = false;
    bool auto_delete = false;
    FieldTable arguments;
};

/// Options of basic_consume.
struct ConsumeOptions {
    /// The consumer's tag (empty: the client makes one, "corio.N").
    std::string consumer_tag;
    /// Deliveries need no ack (they count as acked when sent).
    bool no_ack = false;
    bool exclusive = false;
    FieldTable arguments;
};

/// One channel of a connection (a handle: copies share it). Loop thread
/// only. aioamqp: `Channel`.
///
/// Errors: a call on a channel the server closed (or that closed with its
/// connection) throws ChannelClosed (with the server's reply code and text)
/// or ConnectionError; the same exception fails every call pending when it
/// closed.
class Channel {
public:
    Channel() = default;
    explicit Channel(std::shared_ptr<detail::ChannelState> s) noexcept : s_(std::move(s)) {}

    std::uint16_t id() const noexcept;
    bool is_open() const noexcept;
    /// Sends channel.close and waits for close-ok. Pending calls fail with
    /// ChannelClosed (code 0). A closed channel: no-op. While the connection
    /// is reconnecting, waits for the recovery first (so the channel is not
    /// reopened afterwards).
    Task<void> close(std::uint16_t reply_code = 200, std::string reply_text = "Normal shutdown");

    // -- exchanges and queues (suspend until the server's -ok) --
    Task<void> exchange_declare(std::string exchange, std::string type,
                                ExchangeOptions options = {});
    Task<void> exchange_delete(std::string exchange, bool if_unused = false);
    Task<void> exchange_bind(std::string destination, std::string source, std::string routing_key,
                             FieldTable arguments = {});
    Task<void> exchange_unbind(std::string destination, std::string source, std::string routing_key,
                               FieldTable arguments = {});
    /// An empty name asks the server for one (in the result).
    Task<QueueDeclareOk> queue_declare(std::string queue = {}, QueueOptions options = {});
    Task<void> queue_bind(std::string queue, std::string exchange, std::string routing_key,
                          FieldTable arguments = {});
    Task<void> queue_unbind(std::string queue, std::string exchange, std::string routing_key,
                            FieldTable arguments = {});
    /// The number of messages purged.
    Task<std::uint32_t> queue_purge(std::string queue);
    /// The number of messages deleted with the queue.
    Task<std::uint32_t> queue_delete(std::string queue, bool if_unused = false,
                                     bool if_empty = false);

    // -- publishing --
    /// Puts the channel in confirm mode: every later basic_publish's future
    /// resolves when the server acks the message (it is then routed, and
    /// persisted when persistent to a durable queue). aioamqp: `confirm_select`.
    Task<void> confirm_select();
    /// Publishes a message. The frames are written at once (or, while the
    /// server has blocked the connection (connection.blocked), held until it
    /// unblocks it). The future resolves: in confirm mode, when the server
    /// acks it (a nack fails it with PublishFailed; with `mandatory` an
    /// unroutable message fails it with PublishFailed(312 NO_ROUTE)); else
    /// when the frames are written. Many may be in flight: the futures
    /// resolve in order. Cancelling the wait does not unpublish the message.
    /// A mandatory publish in confirm mode carries an "x-corio-seq" header,
    /// which is how its basic.return is matched to it. Throws at once
    /// (ChannelClosed, ConnectionError) when the channel is closed.
    /// aioamqp: `basic_publish`.
    Future<void> basic_publish(std::string_view body, std::string_view exchange,
                               std::string_view routing_key, const Properties& properties = {},
                               bool mandatory = false);
    /// Receives the messages the server returns (mandatory publishes that no
    /// queue took) when they are not matched to a confirm-mode publish.
    void set_return_handler(std::function<void(Message)> on_return);

    // -- consuming --
    /// basic.qos: at most prefetch_count unacked deliveries on this channel
    /// (global=false: per consumer, RabbitMQ's meaning). Suspends until qos-ok.
    Task<void> basic_qos(std::uint16_t prefetch_count, std::uint32_t prefetch_size = 0,
                         bool global = false);
    /// Starts a consumer on `queue` when first iterated and yields its
    /// messages. The iteration ends (next() gives nullopt) when the consumer
    /// is cancelled, by basic_cancel(tag) or by the server (the queue was
    /// deleted); it throws ChannelClosed / ConnectionError when the channel
    /// or connection closes. Closing or dropping the generator, or
    /// cancelling the task iterating it, cancels the consumer and nacks
    /// (requeues) the messages received but not yet yielded; messages
    /// yielded and not acked go back to the queue when the channel closes.
    /// aioamqp: `basic_consume(callback, queue_name)`.
    AsyncGenerator<Message> basic_consume(std::string queue, ConsumeOptions options = {});
    /// Cancels a consumer and waits for cancel-ok: its iteration ends.
    Task<void> basic_cancel(std::string consumer_tag);
    /// One message, or nullopt when the queue is empty. aioamqp: `basic_get`.
    Task<std::optional<Message>> basic_get(std::string queue, bool no_ack = false);
    /// Acknowledge / refuse deliveries (never suspend: nothing is awaited).
    /// multiple: every unacked tag up to this one.
    void basic_ack(std::uint64_t delivery_tag, bool multiple = false);
    void basic_nack(std::uint64_t delivery_tag, bool multiple = false, bool requeue = true);
    void basic_reject(std::uint64_t delivery_tag, bool requeue = true);

    /// Internal: the shared state.
    const std::shared_ptr<detail::ChannelState>& state() const noexcept { return s_; }

private:
    detail::ChannelState& st() const;
    std::shared_ptr<detail::ChannelState> s_;
};

/// One connection to a RabbitMQ server (a handle: copies share it; the
/// connection closes when the last goes). Loop thread only.
class Connection {
public:
    /// Connects, authenticates (PLAIN), negotiates channel-max, frame-max and
    /// heartbeat, and opens the vhost. Suspends until open. Throws
    /// ConnectionError (refused, TLS failure, timeout, or the server closed
    /// the connection: 403 ACCESS_REFUSED for bad credentials, 530
    /// NOT_ALLOWED for a vhost the user may not use; reply_code() says
    /// which), ProtocolError (not an AMQP server). Cancelling it closes the
    /// attempt. aioamqp: `aioamqp.connect`.
    static Task<Connection> connect(ConnectionOptions options);
    static Task<Connection> connect(std::string_view url);

    Connection() = default;

    /// Opens a channel (the lowest free number). Suspends until open-ok.
    Task<Channel> channel();
    /// Sends connection.close and waits for close-ok (or the peer closing).
    /// Every channel's pending calls fail with ConnectionError. Closed: no-op.
    /// While reconnecting: stops reconnecting and closes at once.
    Task<void> close(std::uint16_t reply_code = 200, std::string reply_text = "Normal shutdown");
    /// Open, and not reconnecting.
    bool is_open() const noexcept;
    /// Lost, and reconnecting (ConnectionOptions::reconnect).
    bool is_reconnecting() const noexcept;
    /// The number of successful recoveries so far.
    std::uint64_t reconnects() const noexcept;
    /// Resolves when the connection is open: at once when it is, else when
    /// the recovery under way completes. Throws ConnectionError if the
    /// connection ends first.
    Task<void> wait_open();
    /// The server asked publishers to stop (connection.blocked, memory or
    /// disk alarm): publishes are held until it unblocks.
    bool is_blocked() const noexcept;
    /// Negotiated values.
    std::uint16_t channel_max() const noexcept;
    std::uint32_t frame_max() const noexcept;
    std::uint16_t heartbeat() const noexcept;
    const FieldTable& server_properties() const noexcept;
    /// Resolves (never fails) when the connection ends, by close() or by
    /// an error; close_reason() then says which.
    Future<void> closed() const;
    /// The error that ended the connection (ConnectionError, ProtocolError),
    /// or null (open, or closed by close()).
    std::exception_ptr close_reason() const noexcept;

    explicit Connection(std::shared_ptr<detail::ConnectionState> s) noexcept : s_(std::move(s)) {}
    const std::shared_ptr<detail::ConnectionState>& state() const noexcept { return s_; }

private:
    detail::ConnectionState& st() const;
    std::shared_ptr<detail::ConnectionState> s_;
};

}  // namespace corio::amqp
