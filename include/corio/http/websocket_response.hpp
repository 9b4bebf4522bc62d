// corio/http/websocket_response.hpp - WebSocket connections: the server's
// WebSocketResponse and the client's ws_connect(), with WSMessage,
// receive/send_str/send_bytes/ping/pong/close and a heartbeat.
//
// Mirrors aiohttp: `web.WebSocketResponse(heartbeat=...)` (prepare,
// receive, send_str, send_bytes, ping, pong, close, closed, close_code),
// `ClientSession.ws_connect()` returning `ClientWebSocketResponse`, and
// `WSMessage` (type, data, extra). Frames follow RFC 6455 through the
// sans-I/O codec, with permessage-deflate (RFC 7692, aiohttp's `compress`)
// negotiated by default (WebSocketOptions::compress); pings are answered
// automatically; a close frame from the peer is answered and ends the
// connection.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "corio/event_loop.hpp"
#include "corio/http/client.hpp"
#include "corio/http/web.hpp"
#include "corio/http/websocket.hpp"
#include "corio/task.hpp"

namespace corio::http {

namespace detail {
class WsSession;
}  // namespace detail

/// One received message. `type` is TEXT or BINARY (`data` holds it), CLOSE
/// (the peer's close frame: `extra` its code, 1005 for none, `data` the
/// reason), ERROR (the connection failed: `data` says why, `extra` the
/// close code sent or 1006), or CLOSED (nothing more will come).
/// aiohttp: `aiohttp.WSMessage(type, data, extra)`.
struct WSMessage {
    WSMsgType type = WSMsgType::CLOSED;
    std::string data;
    int extra = 0;
};

/// receive_json() got a message that is not TEXT. aiohttp raises TypeError.
class WSMessageTypeError : public std::runtime_error {
public:
    explicit WSMessageTypeError(WSMessage message);
    /// The message received instead (CLOSE, ERROR, CLOSED or BINARY).
    const WSMessage& message() const noexcept { return message_; }

private:
    WSMessage message_;
};

/// Options of a WebSocket connection (trivially destructible, see
/// net::ConnectOptions). aiohttp: the keyword arguments of
/// WebSocketResponse / ws_connect.
struct WebSocketOptions {
    /// Send a ping after this long without a frame from the peer; if no
    /// pong (or other frame) arrives within half of it, the connection is
    /// closed and receive() returns ERROR "heartbeat: no pong ..." with
    /// extra 1006 - also when nobody is calling receive(). aiohttp: `heartbeat`.
    std::optional<Duration> heartbeat;
    /// Largest message (and frame) accepted; larger closes with 1009.
    /// aiohttp: `max_msg_size` (4 MiB).
    std::uint64_t max_msg_size = 4 * 1024 * 1024;
    /// How long close() waits for the peer's close frame. aiohttp: `timeout` (10 s).
    Duration close_timeout = std::chrono::seconds(10);
    /// Largest frame payload sent: a longer text or binary message goes out
    /// as a first frame and continuation frames of at most this many bytes
    /// (a text message is checked as UTF-8 whole; a frame may end inside a
    /// character, as RFC 6455 allows). 0 (the default): one frame per
    /// message. aiohttp has none (it sends one frame). With compression it
    /// cuts the compressed bytes.
    std::size_t max_frame_size = 0;
    /// permessage-deflate (RFC 7692): the LZ77 window, as window bits (9 to
    /// 15), that corio compresses its messages with; 0 turns the extension
    /// off. A server accepts the first valid offer of a client (declining
    /// invalid ones; an unparsable Sec-WebSocket-Extensions is answered
    /// 400); a client offers it and fails the handshake
    /// (ClientResponseError) on an answer outside its offer. Once agreed,
    /// every text and binary message is sent compressed (zlib's default
    /// level; RSV1 on its first frame), compressed messages are accepted,
    /// and max_msg_size bounds the inflated size (a larger one closes with
    /// 1009). Other values throw std::invalid_argument from prepare() /
    /// ws_connect(). zlib cannot compress with 8 bits, so corio never
    /// agrees to: a server declines an offer asking for
    /// server_max_window_bits=8, a client fails an answer asking for
    /// client_max_window_bits=8. Cost per connection once agreed: zlib's
    /// state, 2^(compress+2) bytes + 128 KiB for compressing (256 KiB at 15)
    /// and about 44 KiB for decompressing, plus CPU per message; servers
    /// with many idle connections may prefer 0 or a smaller window.
    /// Default 15, on both sides (as browsers
    /// and Python's websockets); aiohttp: `WebSocketResponse(compress=True)`
    /// accepts too, but `ws_connect(compress=0)` offers nothing by default.
    int compress = 15;
    /// With compress: ask for no context takeover in both directions
    /// (server_no_context_takeover and client_no_context_takeover): each
    /// message is compressed on its own, so neither end keeps a 32 KiB
    /// window per connection between messages, at some cost in ratio.
    /// Takeover is also dropped when the peer asks for it. aiohttp:
    /// ws_connect's `notakeover`.
    bool compress_no_context_takeover = false;
};

/// The operations both ends share. Use from the loop that made it.
class WebSocketConnection {
public:
    /// The next message (see WSMessage). Suspends until one arrives, the
    /// connection ends (CLOSED), or `timeout` passes (TimeoutError, the
    /// connection stays usable). Cancellation loses no message.
    /// aiohttp: `await ws.receive(timeout)`.
    Task<WSMessage> receive(std::optional<Duration> timeout = std::nullopt);
    /// Sends a text message (one frame, or several past
    /// WebSocketOptions::max_frame_size). Throws std::invalid_argument for
    /// text that is not UTF-8, RuntimeError when not connected or closing.
    /// Does not suspend in this version (the transport buffers; it sends at
    /// the end of the loop iteration). aiohttp: `await ws.send_str(data)`.
    Task<void> send_str(std::string_view data);
    /// Sends a binary message. Throws as send_str. aiohttp: `send_bytes`.
    Task<void> send_bytes(std::string_view data);
    /// Sends `data` serialized as compact JSON in a text message. Throws as
    /// send_str, and nlohmann::json::type_error for a string in `data` that
    /// is not UTF-8. aiohttp: `await ws.send_json(data)`.
    Task<void> send_json(const nlohmann::json& data);
    /// Receives the next message (as receive()) and parses it as JSON.
    /// Throws WSMessageTypeError when it is not TEXT (a CLOSE, ERROR or
    /// CLOSED message is consumed all the same; the exception carries it),
    /// std::invalid_argument naming the parse error for text that is not
    /// JSON, TimeoutError as receive(). aiohttp: `await ws.receive_json()`.
    Task<nlohmann::json> receive_json(std::optional<Duration> timeout = std::nullopt);
    /// Sends a ping / an unsolicited pong (payload <= 125 bytes, else
    /// std::invalid_argument). aiohttp: `ping`, `pong`.
    Task<void> ping(std::string_view payload = {});
    Task<void> pong(std::string_view payload = {});
    /// Starts the closing handshake with `code` and `message`, waits for
    /// the peer's close frame (at most WebSocketOptions::close_timeout),
    /// then closes the connection. Returns false when it was already
    /// closed. Throws std::invalid_argument for a code a peer would reject.
    /// Cancellation closes the connection at once. aiohttp: `await ws.close()`.
    Task<bool> close(int code = 1000, std::string_view message = {});
    /// Whether the connection is closed or closing. aiohttp: `ws.closed`.
    bool closed() const noexcept;
    /// The close code once closed (the peer's, ours, or 1006 for a dropped
    /// connection or a missed heartbeat). aiohttp: `ws.close_code`.
    std::optional<int> close_code() const noexcept;

protected:
    WebSocketConnection() = default;
    std::shared_ptr<detail::WsSession> ws_;
};

}  // namespace corio::http

namespace corio::http::web {

/// The server's side: prepare() answers the opening handshake with 101 and
/// switches the connection to WebSocket; the handler then receives and
/// sends until it closes, and returns the object (`co_return ws;`). The
/// connection is closed when the handler returns. aiohttp:
/// `web.WebSocketResponse`.
class WebSocketResponse : public Response, public WebSocketConnection {
public:
    /// A response that will answer 101 with the fields of headers() added;
    /// `options` (heartbeat, limits, timeouts) apply once prepared.
    explicit WebSocketResponse(WebSocketOptions options = {});
    /// Whether `request` is a valid opening handshake. aiohttp: `can_prepare`.
    static bool can_prepare(const Request& request);
    /// Answers the handshake, accepting permessage-deflate per
    /// WebSocketOptions::compress. Throws HTTPException(400, or 426 with
    /// Sec-WebSocket-Version: 13) when `request` is not a valid opening
    /// handshake (400 too for a Sec-WebSocket-Extensions that does not
    /// parse), std::invalid_argument for a `compress` other than 0 or
    /// 9-15, RuntimeError when prepared twice or the request did not
    /// come from a server, std::invalid_argument for headers() that set
    /// Content-Length or Transfer-Encoding. Does not suspend in this version.
    /// aiohttp: `await ws.prepare(request)`.
    Task<void> prepare(Request& request);

private:
    WebSocketOptions options_;
};

}  // namespace corio::http::web

namespace corio::http {

/// The client's side, made by ws_connect(). Destroying it while open
/// aborts the connection. aiohttp: `ClientWebSocketResponse`.
class ClientWebSocketResponse : public WebSocketConnection {
public:
    explicit ClientWebSocketResponse(std::shared_ptr<detail::WsSession> ws) noexcept {
        ws_ = std::move(ws);
    }
    ClientWebSocketResponse(ClientWebSocketResponse&&) noexcept = default;
    ClientWebSocketResponse& operator=(ClientWebSocketResponse&&) noexcept = default;
    ~ClientWebSocketResponse();
};

/// Opens a WebSocket to `url` (ws:// or wss://, also http(s)://): connects,
/// sends the opening handshake with a random key (and `headers`), checks
/// the 101 answer and its Sec-WebSocket-Accept. Suspends until then, at
/// most `handshake_timeout`. Throws std::invalid_argument for a bad URL,
/// std::system_error / GaiError / SslError for connection failures,
/// TimeoutError, and ClientResponseError (with the status) when the server
/// refuses the upgrade or answers with extensions outside our offer
/// (WebSocketOptions::compress), std::invalid_argument for a `compress`
/// other than 0 or 9-15. Cancellation closes the connection. wss:// uses
/// `ssl` (null: SslContext::client(), verifying). aiohttp:
/// `session.ws_connect(url, heartbeat=...)`.
Task<ClientWebSocketResponse> ws_connect(std::string url, WebSocketOptions options = {},
                                         Headers headers = {},
                                         std::shared_ptr<net::SslContext> ssl = nullptr,
                                         Duration handshake_timeout = std::chrono::seconds(30));

}  // namespace corio::http
