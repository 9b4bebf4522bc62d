// The WebSocket opening handshake's checks, SHA-1 and base64.
#include "websocket_handshake.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <stdexcept>

namespace corio::http::detail {

namespace {

constexpr std::string_view kGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

bool is_base64_char(char c) noexcept {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
           c == '/';
}

}  // namespace

std::string base64_encode(std::string_view data) {
    // EVP_EncodeBlock writes the padded encoding and a NUL after it.
    std::string out(4 * ((data.size() + 2) / 3) + 1, '\0');
    int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                            reinterpret_cast<const unsigned char*>(data.data()),
                            static_cast<int>(data.size()));
    out.resize(static_cast<std::size_t>(n));
    return out;
}

bool is_valid_websocket_key(std::string_view key) noexcept {
    if (key.size() != 24 || key.substr(22) != "==") {
        return false;
    }
    for (std::size_t i = 0; i < 22; ++i) {
        if (!is_base64_char(key[i])) {
            return false;
        }
    }
    return true;
}

std::string make_websocket_key(const std::array<std::uint8_t, 16>& nonce) {
    return base64_encode(
        std::string_view(reinterpret_cast<const char*>(nonce.data()), nonce.size()));
}

std::string websocket_accept(std::string_view key) {
    std::string input;
    input.reserve(key.size() + kGuid.size());
    input.append(key).append(kGuid);
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (EVP_Digest(input.data(), input.size(), digest, &len, EVP_sha1(), nullptr) != 1) {
        throw std::runtime_error("websocket_accept: OpenSSL SHA-1 failed");
    }
    return base64_encode(std::string_view(reinterpret_cast<const char*>(digest), len));
}

bool any_has_token(const std::vector<std::string_view>& values, std::string_view token) noexcept {
    return std::any_of(values.begin(), values.end(),
                       [token](std::string_view v) { return has_token(v, token); });
}

WsRequestCheck check_websocket_request_fields(Method method, HttpVersion version,
                                              const std::vector<std::string_view>& upgrade,
                                              const std::vector<std::string_view>& connection,
                                              const std::vector<std::string_view>& ws_version,
                                              const std::vector<std::string_view>& key) {
    WsRequestCheck r;
    if (method != Method::GET) {
        r.reason = "a WebSocket handshake must be a GET";
        return r;
    }
    if (version < HttpVersion11) {
        r.reason = "a WebSocket handshake needs HTTP/1.1";
        return r;
    }
    if (!any_has_token(upgrade, "websocket")) {
        r.reason = "no Upgrade: websocket";
        return r;
    }
    if (!any_has_token(connection, "upgrade")) {
        r.reason = "no Connection: upgrade";
        return r;
    }
    if (ws_version.size() != 1 || ws_version[0] != "13") {
        r.status = 426;
        r.reason = "Sec-WebSocket-Version must be 13";
        return r;
    }
    if (key.size() != 1 || !is_valid_websocket_key(key[0])) {
        r.reason = "Sec-WebSocket-Key must be one base64-encoded 16-byte value";
        return r;
    }
    r.ok = true;
    r.status = 101;
    r.key = key[0];
    return r;
}

}  // namespace corio::http::detail
