// src/redis/client_state.hpp - the state behind a Client handle and the
// protocol that reads its replies (private).
//
// Invariants:
// - `transport` and `proto` are set together (proto is owned by transport)
//   and reset together; proto->owner is this state until detach().
// - phase == ready  <=>  the handshake on `proto` is done and it is not lost:
//   commands then go straight to the transport, their futures to
//   proto->pending (FIFO, one per expected reply). Otherwise they wait in
//   `backlog` / `backlog_futures` and a connection is being made.
// - A future in `pending` that is already done was cancelled by its
//   awaiter: its reply is read and dropped.
#pragma once

#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "corio/net/transports.hpp"
#include "corio/redis/client.hpp"

namespace corio::redis::detail {

class ClientState;

class ReplyProtocol final : public net::BufferedProtocol {
public:
    ReplyProtocol(ClientState* owner, DecoderLimits limits, std::string peer)
        : owner_(owner), decoder_(limits), peer_(std::move(peer)) {}
    ~ReplyProtocol() override;

    void connection_made(net::Transport& transport) override { transport_ = &transport; }
    std::span<char> get_buffer(std::size_t sizehint) override;
    void buffer_updated(std::size_t nbytes) override;
    void connection_lost(std::exception_ptr exc) override;

    /// Writes `bytes` (commands, or nothing) to the transport.
    void write(std::string_view bytes);
    /// Queues the future of the next reply not yet expected.
    void expect(Future<Reply> future) { pending_.push_back(std::move(future)); }
    /// write() of one command and expect() of its reply.
    void send(std::string_view bytes, Future<Reply> future);
    void detach() noexcept { owner_ = nullptr; }
    bool lost() const noexcept { return lost_; }
    std::size_t pending() const noexcept { return pending_.size(); }
    /// A subscriber connection under RESP2: replies nobody waits for are
    /// pushes, not protocol errors.
    void set_subscriber(bool on) noexcept { subscriber_ = on; }

private:
    void deliver(Reply reply);
    void fail(std::string message, bool protocol_error);
    void fail_all(const std::exception_ptr& e);

    ClientState* owner_;
    net::Transport* transport_ = nullptr;
    Decoder decoder_;
    std::string peer_;
    std::unique_ptr<char[]> buf_;
    std::size_t cap_ = 0, start_ = 0, end_ = 0;
    std::deque<Future<Reply>> pending_;
    bool lost_ = false;
    bool subscriber_ = false;
};

class ClientState : public std::enable_shared_from_this<ClientState> {
public:
    enum class Phase { idle, connecting, ready };

    ClientState(ClientOptions o, EventLoop& l) : options(std::move(o)), loop(&l) {}
    ~ClientState();

    /// Commands can go straight to the connection (see the invariants).
    bool can_send() const noexcept { return phase == Phase::ready && proto && !proto->lost(); }
    Future<Reply> submit(std::string_view encoded);
    void send_without_reply(std::string_view encoded);
    std::vector<Future<Reply>> submit_many(std::string_view encoded, std::size_t replies);
    /// Makes a connection (with retries): phase ready, or throws.
    Task<void> establish();
    void close();
    void on_lost(ReplyProtocol* p) noexcept;
    std::string peer() const;
    std::size_t backlog_size() const noexcept { return backlog_futures_.size(); }

    ClientOptions options;
    EventLoop* loop;
    std::string scratch;
    Phase phase = Phase::idle;
    int protocol = 0;
    std::uint64_t connections = 0;
    bool subscriber = false;
    std::function<void(Reply)> on_push;
    std::function<void(Client&)> on_connect;

    std::shared_ptr<net::Transport> transport;
    ReplyProtocol* proto = nullptr;
    /// close() was called: a subscriber stops reconnecting.
    bool closed = false;

private:
    void ensure_connecting();
    /// command_timeout: fails `f` with TimeoutError unless it is done by
    /// then. Deadlines come in call order (one timeout for all commands),
    /// so one timer, armed for the oldest, serves them all.
    void watch(const Future<Reply>& f);
    void on_deadline();
    void arm_deadline(TimePoint when);
    /// The TLS context of a rediss:// client, made once (throws ConnectionError).
    void make_tls_context();
    void fail_backlog(const std::exception_ptr& e);
    void drop_connection() noexcept;
    Task<void> connect_once();
    Task<Reply> call(std::vector<std::string> args);
    static Task<void> reconnect(std::shared_ptr<ClientState> self);

    std::optional<TaskHandle<void>> reconnecting_;
    std::shared_ptr<net::SslContext> ssl_;
    std::deque<std::pair<TimePoint, Future<Reply>>> deadlines_;
    TimerHandle deadline_timer_;
    std::string backlog_;
    std::deque<Future<Reply>> backlog_futures_;
};

}  // namespace corio::redis::detail
