// corio/http/websocket.hpp - WebSocket (RFC 6455) vocabulary: message
// types and close codes.
//
// Mirrors aiohttp's `aiohttp.WSMsgType` and `aiohttp.WSCloseCode`. The
// server's WebSocketResponse and the client's ws_connect() that use them
// are in websocket_response.hpp.
#pragma once

#include <cstdint>

namespace corio::http {

/// The kind of a received WebSocket message or event, with aiohttp's names
/// and values: the frame opcodes (CONTINUATION..PONG), then the states a
/// receive() can report (CLOSING, CLOSED, ERROR). aiohttp: `WSMsgType`.
enum class WSMsgType : std::uint16_t {
    CONTINUATION = 0x0,
    TEXT = 0x1,
    BINARY = 0x2,
    PING = 0x9,
    PONG = 0xA,
    CLOSE = 0x8,
    CLOSING = 0x100,
    CLOSED = 0x101,
    ERROR = 0x102,
};

/// Close status codes (RFC 6455 7.4.1 and the IANA registry), with
/// aiohttp's names. aiohttp: `WSCloseCode`.
enum class WSCloseCode : std::uint16_t {
    OK = 1000,
    GOING_AWAY = 1001,
    PROTOCOL_ERROR = 1002,
    UNSUPPORTED_DATA = 1003,
    ABNORMAL_CLOSURE = 1006,  // never sent: the connection dropped without a close frame
    INVALID_TEXT = 1007,
    POLICY_VIOLATION = 1008,
    MESSAGE_TOO_BIG = 1009,
    MANDATORY_EXTENSION = 1010,
    INTERNAL_ERROR = 1011,
    SERVICE_RESTART = 1012,
    TRY_AGAIN_LATER = 1013,
    BAD_GATEWAY = 1014,
};

/// Whether a close frame may carry `code` (RFC 6455 7.4): 1000-1003 and
/// 1007-1014 (registered), 3000-4999 (libraries and applications). 1004,
/// 1005, 1006 and 1015 are reserved and never sent; anything else is
/// invalid. A peer's close frame with another code is a protocol error.
constexpr bool is_valid_close_code(int code) noexcept {
    return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
           (code >= 3000 && code <= 4999);
}

}  // namespace corio::http
