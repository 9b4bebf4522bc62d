// http/ws_session.cpp - WsSession: one WebSocket connection's engine.
#include "ws_session.hpp"

#include <openssl/rand.h>

#include <algorithm>
#include <stdexcept>
#include <utility>

#include "corio/errors.hpp"
#include "corio/net/transports.hpp"
#include "corio/timeouts.hpp"
#include "utf8.hpp"

namespace corio::http::detail {

namespace {

std::uint32_t random_mask_key() {
    std::uint32_t key = 0;
    if (RAND_bytes(reinterpret_cast<unsigned char*>(&key), sizeof key) != 1) {
        throw std::runtime_error("RAND_bytes failed");
    }
    return key;
}

WsLimits limits_of(const WebSocketOptions& o) {
    return WsLimits{o.max_msg_size, o.max_msg_size};
}

}  // namespace

WsSession::WsSession(WsRole role, std::shared_ptr<net::Transport> transport,
                     const WebSocketOptions& options, const std::optional<WsDeflateParams>& deflate)
    : tr_(std::move(transport)),
      options_(options),
      decoder_(role, limits_of(options)),
      encoder_(role,
               role == WsRole::client ? MaskKeyGenerator(random_mask_key) : MaskKeyGenerator()) {
    if (deflate) {
        const bool server = role == WsRole::server;
        // Ours are the server_* parameters on the server, client_* on the client.
        deflater_ = std::make_unique<WsDeflater>(
            server ? deflate->server_max_window_bits : deflate->client_max_window_bits,
            server ? deflate->server_no_context_takeover : deflate->client_no_context_takeover);
        decoder_.enable_deflate(server ? deflate->client_no_context_takeover
                                       : deflate->server_no_context_takeover);
    }
    reset_heartbeat();
}

WsSession::~WsSession() {
    ping_timer_.cancel();
    pong_timer_.cancel();
}

void WsSession::feed(std::string_view data) {
    while (!data.empty() && !done_) {
        WsEvent ev = decoder_.decode(data);
        data.remove_prefix(ev.consumed);
        switch (ev.kind) {
            case WsEvent::need_data:
                return;
            case WsEvent::message:
                reset_heartbeat();
                push(WSMessage{ev.type, std::string(ev.payload), 0});
                break;
            case WsEvent::ping:
                reset_heartbeat();
                if (!close_sent_) {
                    send(WsOpcode::pong, ev.payload);
                }
                break;
            case WsEvent::pong:
                reset_heartbeat();
                break;
            case WsEvent::close: {
                std::string reason(ev.payload);
                if (!close_sent_) {  // answer with the same code, then close
                    out_.clear();
                    if (ev.close_code == 1005) {
                        encoder_.close_empty(out_);
                    } else {
                        encoder_.close(out_, ev.close_code);
                    }
                    tr_->write(out_);
                    close_sent_ = true;
                }
                peer_closed_.set();
                push(WSMessage{WSMsgType::CLOSE, std::move(reason), ev.close_code});
                finish(ev.close_code);
                tr_->close();
                return;
            }
            case WsEvent::error:
                if (!close_sent_) {
                    out_.clear();
                    encoder_.close(out_, ev.close_code);
                    tr_->write(out_);
                    close_sent_ = true;
                }
                push(WSMessage{WSMsgType::ERROR, ev.error_message, ev.close_code});
                finish(ev.close_code);
                tr_->close();
                return;
        }
    }
}

void WsSession::connection_lost() {
    peer_closed_.set();
    if (!done_) {
        push(WSMessage{WSMsgType::CLOSED, {}, 1006});
        finish(1006);
    }
}

void WsSession::push(WSMessage m) {
    inbox_.push_back(std::move(m));
    inbox_ready_.set();
}

void WsSession::finish(int code) {
    done_ = true;
    if (!close_code_) {
        close_code_ = code;
    }
    ping_timer_.cancel();
    pong_timer_.cancel();
}

void WsSession::abort() noexcept {
    if (!done_) {
        finish(1006);
    }
    tr_->abort();
}

void WsSession::going_away() {
    if (done_ || close_sent_) {
        return;
    }
    out_.clear();
    encoder_.close(out_, static_cast<int>(WSCloseCode::GOING_AWAY), "server shutdown");
    tr_->write(out_);
    close_sent_ = true;
}

void WsSession::reset_heartbeat() {
    ping_timer_.cancel();
    pong_timer_.cancel();
    if (!options_.heartbeat || done_) {
        return;
    }
    ping_timer_ = get_running_loop().call_later(*options_.heartbeat, [this] { on_ping_timer(); });
}

void WsSession::on_ping_timer() {
    if (done_ || close_sent_) {
        return;
    }
    send(WsOpcode::ping, {});
    pong_timer_ = get_running_loop().call_later(*options_.heartbeat / 2, [this] {
        if (done_) {
            return;
        }
        auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(*options_.heartbeat / 2);
        push(WSMessage{
            WSMsgType::ERROR,
            "heartbeat: no pong from the peer within " + std::to_string(ms.count()) + " ms", 1006});
        finish(1006);
        tr_->abort();
    });
}

Task<WSMessage> WsSession::receive(std::optional<Duration> timeout) {
    while (inbox_.empty()) {
        if (done_ || final_given_) {
            co_return WSMessage{WSMsgType::CLOSED, {}, close_code_.value_or(1006)};
        }
        inbox_ready_.clear();
        if (timeout) {
            co_await wait_for(inbox_ready_.wait(), *timeout);
        } else {
            co_await inbox_ready_.wait();
        }
    }
    WSMessage m = std::move(inbox_.front());
    inbox_.pop_front();
    if (m.type == WSMsgType::CLOSE || m.type == WSMsgType::ERROR || m.type == WSMsgType::CLOSED) {
        final_given_ = true;
    }
    co_return m;
}

void WsSession::send(WsOpcode op, std::string_view payload) {
    if (done_ || (close_sent_ && op != WsOpcode::close)) {
        throw RuntimeError("WebSocket is closed");
    }
    out_.clear();
    const std::size_t max = options_.max_frame_size;
    const bool data = op == WsOpcode::text || op == WsOpcode::binary;
    if (data && deflater_) {
        // Compressed: RSV1 on the first frame; max_frame_size cuts the
        // compressed bytes.
        if (op == WsOpcode::text && !is_valid_utf8(payload)) {
            throw std::invalid_argument("text: not valid UTF-8");
        }
        deflater_->compress(payload, zbuf_);
        const std::string_view z = zbuf_;
        const std::size_t step = max > 0 ? max : std::max<std::size_t>(z.size(), 1);
        WsOpcode frame_op = op;
        std::size_t at = 0;
        do {
            const std::string_view piece = z.substr(at, step);
            at += piece.size();
            encoder_.frame(out_, frame_op, piece, at == z.size(), frame_op == op);
            frame_op = WsOpcode::continuation;
        } while (at < z.size());
        if (zbuf_.capacity() > WebSocketDecoder::kKeptCapacity) {
            std::string().swap(zbuf_);
        }
        tr_->write(out_);
        return;
    }
    if (data && max > 0 && payload.size() > max) {
        // Fragmented: the first frame with the message's opcode, then
        // continuations, the last with FIN.
        if (op == WsOpcode::text && !is_valid_utf8(payload)) {
            throw std::invalid_argument("text: not valid UTF-8");
        }
        WsOpcode frame_op = op;
        for (std::size_t at = 0; at < payload.size(); at += max) {
            const std::string_view piece = payload.substr(at, max);
            encoder_.frame(out_, frame_op, piece, at + piece.size() == payload.size());
            frame_op = WsOpcode::continuation;
        }
    } else if (op == WsOpcode::text) {
        encoder_.text(out_, payload);
    } else {
        encoder_.frame(out_, op, payload);
    }
    tr_->write(out_);
}

Task<bool> WsSession::close(int code, std::string_view message) {
    if (done_ || close_sent_) {
        co_return false;
    }
    out_.clear();
    encoder_.close(out_, code, message);  // throws for a bad code: nothing sent
    tr_->write(out_);
    close_sent_ = true;
    ping_timer_.cancel();
    pong_timer_.cancel();
    bool timed_out = false;
    try {
        co_await wait_for(peer_closed_.wait(), options_.close_timeout);
    } catch (const TimeoutError&) {
        timed_out = true;
    } catch (...) {
        tr_->abort();
        throw;
    }
    if (!done_) {
        finish(timed_out ? 1006 : code);
    }
    close_code_ = close_code_.value_or(code);
    inbox_.clear();  // the handshake consumed the peer's close (aiohttp's close() too)
    final_given_ = true;
    tr_->close();
    co_return true;
}

}  // namespace corio::http::detail
