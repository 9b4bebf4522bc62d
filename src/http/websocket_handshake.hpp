// http/websocket_handshake.hpp (private) - the HTTP side of a WebSocket
// opening handshake (RFC 6455 4): checking a client's upgrade request,
// computing Sec-WebSocket-Accept, and checking a server's 101 answer.
// aiohttp: `WebSocketResponse._handshake` and the checks of `ws_connect`.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "corio/http/message.hpp"

namespace corio::http::detail {

/// The outcome of checking an upgrade request.
struct WsRequestCheck {
    bool ok = false;
    /// When not ok: 400, or 426 (Upgrade Required, to be sent with
    /// "Sec-WebSocket-Version: 13") for a version other than 13.
    int status = 400;
    const char* reason = "";
    std::string_view key;  // when ok: the Sec-WebSocket-Key (a view into the headers)
};

/// Base64 (RFC 4648, padded) of `data`.
std::string base64_encode(std::string_view data);
/// Whether `key` is a base64 encoding of exactly 16 bytes: 22 alphabet
/// characters and "==" (RFC 6455 4.1 item 7).
bool is_valid_websocket_key(std::string_view key) noexcept;
/// The Sec-WebSocket-Key for 16 random bytes (the client picks them).
std::string make_websocket_key(const std::array<std::uint8_t, 16>& nonce);
/// Sec-WebSocket-Accept for `key`: base64(SHA-1(key + the RFC 6455 GUID)),
/// through OpenSSL's EVP API. Throws std::runtime_error if OpenSSL fails.
std::string websocket_accept(std::string_view key);

/// Whether any of `values` (every occurrence of one field) lists `token`
/// (has_token()).
bool any_has_token(const std::vector<std::string_view>& values, std::string_view token) noexcept;

/// The check behind check_websocket_request(), on the relevant fields'
/// values (every occurrence, in order).
WsRequestCheck check_websocket_request_fields(Method method, HttpVersion version,
                                              const std::vector<std::string_view>& upgrade,
                                              const std::vector<std::string_view>& connection,
                                              const std::vector<std::string_view>& ws_version,
                                              const std::vector<std::string_view>& key);

/// Checks a client's opening handshake: GET, HTTP/1.1 or later, Upgrade
/// with the token "websocket", Connection with the token "upgrade", exactly
/// one Sec-WebSocket-Version, equal to 13, and exactly one valid
/// Sec-WebSocket-Key. `Fields` is Headers or the parser's HeaderFields.
template <class Fields>
WsRequestCheck check_websocket_request(Method method, HttpVersion version, const Fields& headers) {
    return check_websocket_request_fields(
        method, version, headers.get_all("upgrade"), headers.get_all("connection"),
        headers.get_all("sec-websocket-version"), headers.get_all("sec-websocket-key"));
}

/// Checks a server's answer to our handshake: 101, Upgrade "websocket",
/// Connection "upgrade", and Sec-WebSocket-Accept matching `sent_key`.
/// Returns "" when it is right, else what is wrong.
template <class Fields>
std::string_view check_websocket_response(int status, const Fields& headers,
                                          std::string_view sent_key) {
    if (status != 101) {
        return "status is not 101 Switching Protocols";
    }
    std::vector<std::string_view> upgrade = headers.get_all("upgrade");
    if (upgrade.size() != 1 || !has_token(upgrade[0], "websocket")) {
        return "no Upgrade: websocket";
    }
    if (!any_has_token(headers.get_all("connection"), "upgrade")) {
        return "no Connection: upgrade";
    }
    std::vector<std::string_view> accept = headers.get_all("sec-websocket-accept");
    if (accept.size() != 1 || accept[0] != websocket_accept(sent_key)) {
        return "Sec-WebSocket-Accept does not match the key";
    }
    return {};
}

}  // namespace corio::http::detail
