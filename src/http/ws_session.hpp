// http/ws_session.hpp (private) - one WebSocket connection after its
// handshake, for either end: decodes what the transport delivers into an
// inbox of messages, answers pings and close frames, runs the heartbeat,
// and encodes what the user sends. The server's Connection and the
// client's protocol feed it; WebSocketConnection (websocket_response.hpp)
// is its user-facing view.
//
// Invariants: after `done_` (a close frame was received and answered, an
// error or heartbeat failure, or the transport was lost) nothing more is
// decoded and the inbox ends with one CLOSE/ERROR/CLOSED message; later
// receive() calls return CLOSED. Timers capture `this` and are cancelled
// by the destructor and when the session ends.
#pragma once

#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "corio/event_loop.hpp"
#include "corio/http/websocket_response.hpp"
#include "corio/locks.hpp"
#include "corio/task.hpp"
#include "websocket_codec.hpp"
#include "websocket_deflate.hpp"

namespace corio::net {
class Transport;
}  // namespace corio::net

namespace corio::http::detail {

class WsSession {
public:
    /// `deflate`: the permessage-deflate parameters agreed in the
    /// handshake, if any (data messages are then sent compressed and
    /// compressed ones accepted).
    WsSession(WsRole role, std::shared_ptr<net::Transport> transport,
              const WebSocketOptions& options,
              const std::optional<WsDeflateParams>& deflate = std::nullopt);
    ~WsSession();
    WsSession(const WsSession&) = delete;
    WsSession& operator=(const WsSession&) = delete;

    /// Bytes from the transport.
    void feed(std::string_view data);
    /// The transport reached EOF or was lost.
    void connection_lost();

    Task<WSMessage> receive(std::optional<Duration> timeout);
    void send(WsOpcode op, std::string_view payload);
    Task<bool> close(int code, std::string_view message);
    bool closed() const noexcept { return done_ || close_sent_; }
    std::optional<int> close_code() const noexcept { return close_code_; }
    /// Aborts the transport (a client object destroyed while open).
    void abort() noexcept;
    /// Starts the closing handshake with 1001 (server shutdown) without
    /// waiting: the peer's answering close frame ends the session.
    void going_away();

private:
    void push(WSMessage m);
    void finish(int code);
    void reset_heartbeat();
    void on_ping_timer();

    std::shared_ptr<net::Transport> tr_;
    WebSocketOptions options_;
    WebSocketDecoder decoder_;
    WebSocketEncoder encoder_;
    std::string out_;
    std::unique_ptr<WsDeflater> deflater_;  // when permessage-deflate was agreed
    std::string zbuf_;                      // a message, compressed
    std::deque<WSMessage> inbox_;
    Event inbox_ready_;
    Event peer_closed_;         // the peer's close frame came (or the connection ended)
    bool done_ = false;         // no more messages will be queued
    bool close_sent_ = false;   // our close frame is out
    bool final_given_ = false;  // the last message was handed out
    std::optional<int> close_code_;
    TimerHandle ping_timer_;
    TimerHandle pong_timer_;
};

/// Splits an http(s):// URL (client.cpp).
void split_url(std::string url, bool& tls, std::string& host, std::uint16_t& port,
               std::string& host_header, std::string& target);

}  // namespace corio::http::detail
