// src/amqp/connection_state.hpp - the state behind Connection and Channel
// handles, and the protocol that reads their frames (private).
//
// Invariants:
// - `proto` is owned by `transport`; proto->owner is this state until the
//   state dies (detach()). Every frame is read as it arrives (reading is
//   never paused), so heartbeats are checked whether or not anybody awaits.
// - A channel's `rpcs` hold one future per synchronous method sent and not
//   yet answered, in order; a reply goes to the oldest entry expecting its
//   method (and consumer tag). A done future there was cancelled by its
//   awaiter: its reply is read and dropped (the channel stays in step).
// - In confirm mode `unconfirmed` holds the future of every publish not yet
//   acked or nacked, by sequence number (1, 2, ...).
// - `channels` maps open channel numbers to their states (weak: a channel
//   nobody holds is forgotten, its frames dropped).
#pragma once

#include <deque>
#include <map>
#include <memory>
#include <random>
#include <span>
#include <string>

#include "corio/amqp/connection.hpp"
#include "corio/net/transports.hpp"

namespace corio::amqp::detail {

class ConnectionState;

class FrameProtocol final : public net::BufferedProtocol {
public:
    FrameProtocol(ConnectionState* owner, std::uint32_t max_frame)
        : owner_(owner), decoder_(DecoderLimits{.max_frame_size = max_frame}) {}
    void connection_made(net::Transport& transport) override { transport_ = &transport; }
    std::span<char> get_buffer(std::size_t sizehint) override;
    void buffer_updated(std::size_t nbytes) override;
    void connection_lost(std::exception_ptr exc) override;
    void detach() noexcept { owner_ = nullptr; }
    void set_max_frame(std::uint32_t n) noexcept { decoder_.set_max_frame_size(n); }

private:
    ConnectionState* owner_;
    net::Transport* transport_ = nullptr;
    FrameDecoder decoder_;
    std::unique_ptr<char[]> buf_;
    std::size_t cap_ = 0, start_ = 0, end_ = 0;
};

/// What a synchronous method's reply brings: the method, and for
/// basic.get-ok the message.
struct RpcReply {
    Method method;
    std::optional<Message> message;
};

struct ConsumerState {
    std::deque<Message> buffer;
    std::optional<Future<void>> waiter;
    bool ended = false;
    /// The iteration was abandoned: deliveries until cancel-ok are requeued.
    bool abandoned = false;
    bool no_ack = false;
    /// consume-ok came: a recovery restarts it (with `queue`, `request`).
    bool started = false;
    std::string queue;
    Method request;
    std::exception_ptr error;
    void wake() {
        if (waiter && !waiter->done()) {
            waiter->set_result();
        }
        waiter.reset();
    }
};

class ChannelState : public std::enable_shared_from_this<ChannelState> {
public:
    ChannelState(std::shared_ptr<ConnectionState> c, std::uint16_t n) : conn(std::move(c)), id(n) {}

    /// Throws the error the channel closed with.
    void check_open() const;
    /// Sends `m` and waits for a reply of id `a` (or `b`); while the
    /// connection is reconnecting, first waits for the recovery.
    Task<RpcReply> call(Method m, MethodId a, MethodId b = {});
    /// The same, at once (the recovery's own calls).
    Task<RpcReply> call_now(Method m, MethodId a, MethodId b = {});
    /// The connection was lost and will be recovered: pending calls and
    /// unconfirmed publishes fail with `e`, consumers stay (their unyielded
    /// messages are dropped: the server redelivers them), delivery tags up
    /// to the highest given out belong to the old connection.
    void interrupt(std::exception_ptr e);
    /// A delivery tag the user holds, as the server knows it (0: one of
    /// the old connection's, to drop).
    std::uint64_t server_tag(std::uint64_t user_tag) const noexcept {
        return user_tag == 0 ? 0 : (user_tag <= tag_base ? 0 : user_tag - tag_base);
    }
    /// Sends `m` and queues a reply nobody waits for.
    void call_detached(const Method& m, MethodId a);
    void send(const Method& m);
    void on_frame(Frame& f);
    /// The channel is closed with `e`: every pending call fails with it;
    /// consumers end (with `e` when `consumers_fail`).
    void fail(std::exception_ptr e, bool consumers_fail);
    void consumer_gone(const std::string& tag, ConsumerState& c);
    std::string make_tag();

    std::shared_ptr<ConnectionState> conn;
    std::uint16_t id;
    bool open = true;
    std::exception_ptr closed_error;
    struct Rpc {
        MethodId a, b;
        Future<RpcReply> future;
        /// consume-ok / cancel-ok: the consumer tag the reply must carry.
        std::string tag;
    };
    static std::string reply_tag(const Method& m);
    std::deque<Rpc> rpcs;

    // The content being assembled (after deliver / return / get-ok).
    enum class Content { none, header, body } content = Content::none;
    Method content_method;
    Message assembling;
    std::uint64_t body_left = 0;

    bool confirm = false;
    std::uint64_t next_seq = 1;
    std::map<std::uint64_t, Future<void>> unconfirmed;
    std::map<std::uint64_t, std::pair<std::uint16_t, std::string>> returned;
    std::map<std::string, std::shared_ptr<ConsumerState>> consumers;
    std::function<void(Message)> on_return;
    std::uint64_t tags = 0;
    std::string scratch;
    /// Delivery tags given to the user are the server's plus tag_base (the
    /// highest given out before the last recovery).
    std::uint64_t tag_base = 0;
    std::uint64_t max_tag = 0;

private:
    void deliver_content();
    void on_method(const Method& m);
    void settle(std::uint64_t tag, bool multiple, bool ack);
};

/// What recovery re-declares: one entry per declaration or binding made
/// through the library, in the order the server confirmed them.
struct TopologyEntry {
    enum class Kind { exchange, queue, exchange_binding, queue_binding, qos, confirm } kind;
    /// The channel it was made on (qos and confirm: only it; the others go
    /// to another channel when it is gone).
    std::weak_ptr<ChannelState> channel;
    /// exchange / queue: the name (a server-named queue: the name the
    /// server first gave, the key of queue_names); bindings: destination.
    std::string name;
    /// Bindings: the source exchange and routing key.
    std::string source, routing_key;
    bool server_named = false;
    /// The method to send again (queues and bindings: names resolved anew).
    Method method;
    MethodId reply;
};

class ConnectionState : public std::enable_shared_from_this<ConnectionState> {
public:
    ConnectionState(ConnectionOptions o, EventLoop& l);
    ~ConnectionState();

    Task<void> open();
    void on_frame(Frame& f);
    void on_bytes() noexcept;
    void on_lost(std::exception_ptr exc);
    void on_protocol_error(const std::string& message);
    /// Ends the connection: every channel and waiter fails with `e`
    /// (`closed_` resolves normally when `clean`).
    void fail_all(std::exception_ptr e, bool clean);
    void write(std::string_view bytes);
    /// A publish's frames: written, or held while the server blocks us.
    void write_publish(std::string_view bytes, std::optional<Future<void>> written);
    void send_method(std::uint16_t channel, const Method& m);
    std::string peer() const;
    std::exception_ptr closed_error() const;
    void forget_channel(std::uint16_t id) { channels.erase(id); }
    std::uint16_t free_channel_id() const;

    // -- recovery --
    /// The connection is gone (`e`): recover when enabled and it was open,
    /// else fail_all(e, clean).
    void lost(std::exception_ptr e, bool clean);
    void begin_recovery(std::exception_ptr e);
    Task<void> recover();
    Task<void> restore();
    void teardown() noexcept;
    /// Stops recovering: the connection ends (close() or an error).
    void stop_recovery();
    /// The current name of a queue the user knows by `name`.
    const std::string& resolve(const std::string& name) const;
    void record(TopologyEntry e);
    void forget(TopologyEntry::Kind kind, const std::string& name, const std::string& source = {},
                const std::string& routing_key = {});
    bool recovering = false;
    std::uint64_t recoveries = 0;
    /// Resolves when the recovery under way ends (either way).
    std::optional<Future<void>> recovered;
    std::optional<TaskHandle<void>> recovery_task;
    std::vector<TopologyEntry> topology;
    std::map<std::string, std::string> queue_names;
    std::minstd_rand rng{std::random_device{}()};

    ConnectionOptions options;
    EventLoop* loop;
    std::shared_ptr<net::Transport> transport;
    FrameProtocol* proto = nullptr;
    // Phases of one connection: connecting (handshake), open, closing
    // (close() sent), closed (the end). A recovery goes back to connecting
    // with `recovering` set; closed is final.
    enum class Phase { connecting, open, closing, closed } phase = Phase::connecting;
    Future<void> opened;
    Future<void> closed;
    std::exception_ptr error;
    /// What ended the connection (null: close(), or still open).
    std::exception_ptr close_reason;
    std::map<std::uint16_t, std::weak_ptr<ChannelState>> channels;
    FieldTable server_properties;
    std::uint16_t channel_max = 0;
    std::uint32_t frame_max = 0;
    std::uint16_t heartbeat = 0;
    bool blocked = false;
    std::string held;
    std::vector<Future<void>> held_futures;
    std::string scratch;

private:
    void tick();
    void arm_tick();
    void handshake(const Method& m);
    void make_tls_context();

    std::shared_ptr<net::SslContext> ssl_;
    TimerHandle heartbeat_timer_;
    TimePoint last_recv_{};
    bool wrote_ = false;
};

}  // namespace corio::amqp::detail
