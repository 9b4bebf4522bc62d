// http/websocket_deflate.hpp (private) - permessage-deflate (RFC 7692):
// negotiating it in the opening handshake's Sec-WebSocket-Extensions
// fields, and compressing / decompressing messages with zlib's raw deflate.
// aiohttp's counterparts: `ws_ext_parse`, `ws_ext_gen` and the compressor of
// `WebSocketWriter` / the decompressor of `WebSocketReader`.
//
// Window sizes: zlib cannot compress with an 8-bit window in raw mode (it
// needs 9), so corio never agrees to compress with 8: a server declines an
// offer asking for server_max_window_bits=8, and a client fails a response
// asking it for client_max_window_bits=8. Decompression takes any window
// (it always inflates with 15 bits, which reads every smaller one).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace corio::http::detail {

/// The parameters agreed for one connection (RFC 7692 7.1).
struct WsDeflateParams {
    bool server_no_context_takeover = false;
    bool client_no_context_takeover = false;
    int server_max_window_bits = 15;  // the server's compressor window (9..15 here)
    int client_max_window_bits = 15;  // the client's compressor window (9..15 here)
};

/// One parameter of an extension (`name` or `name=value`, the value
/// unquoted).
struct WsExtensionParam {
    std::string name;
    std::optional<std::string> value;
};

/// One element of a Sec-WebSocket-Extensions list.
struct WsExtension {
    std::string name;
    std::vector<WsExtensionParam> params;
};

/// Parses every occurrence of Sec-WebSocket-Extensions (RFC 6455 9.1:
/// `ext *( ";" param [ "=" ( token / quoted-string ) ] )`, comma-separated,
/// names case-insensitive and returned lower-case). Returns nullopt when a
/// value does not follow the grammar.
std::optional<std::vector<WsExtension>> parse_websocket_extensions(
    const std::vector<std::string_view>& values);

/// The server's choice: the first permessage-deflate offer in `offers` that
/// is valid (known parameters, none twice, window bits 8..15 with a value
/// where one is required) and acceptable; invalid ones are declined (RFC
/// 7692 5.1). `window_bits` (9..15) is the largest window the server
/// compresses with; `no_context_takeover` makes the server ask for no
/// context takeover in both directions. On success fills `params` and
/// `response` (the Sec-WebSocket-Extensions value to answer with).
bool negotiate_deflate_server(const std::vector<WsExtension>& offers, int window_bits,
                              bool no_context_takeover, WsDeflateParams& params,
                              std::string& response);

/// The client's offer (a Sec-WebSocket-Extensions value): permessage-deflate
/// with client_max_window_bits (the server may pick our window), plus
/// server_max_window_bits when `window_bits` < 15 and both
/// *_no_context_takeover when `no_context_takeover`.
std::string deflate_offer(int window_bits, bool no_context_takeover);

/// Checks the server's answer to deflate_offer(window_bits,
/// no_context_takeover): nothing (no extension: returns "" and leaves
/// `params` empty), or exactly one valid permessage-deflate within what was
/// offered. Returns "" when it is acceptable, else what is wrong.
std::string_view accept_deflate_response(const std::vector<std::string_view>& values,
                                         int window_bits, bool no_context_takeover,
                                         std::optional<WsDeflateParams>& params);

/// Compresses messages for one direction: raw deflate with a sync flush,
/// the trailing 00 00 ff ff removed (RFC 7692 7.2.1). With context
/// takeover the LZ77 window carries over from message to message; without,
/// each message starts afresh. Not thread-safe.
class WsDeflater {
public:
    /// Throws std::runtime_error if zlib cannot be initialized (no memory).
    WsDeflater(int window_bits, bool no_context_takeover);
    ~WsDeflater();
    WsDeflater(const WsDeflater&) = delete;
    WsDeflater& operator=(const WsDeflater&) = delete;

    /// Replaces `out` with the compressed form of `message`.
    void compress(std::string_view message, std::string& out);

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
    bool no_context_takeover_;
};

/// Decompresses messages of one direction (the inverse of WsDeflater).
class WsInflater {
public:
    enum class Result : std::uint8_t { ok, too_big, corrupt };

    /// Throws std::runtime_error if zlib cannot be initialized (no memory).
    explicit WsInflater(bool no_context_takeover);
    ~WsInflater();
    WsInflater(const WsInflater&) = delete;
    WsInflater& operator=(const WsInflater&) = delete;

    /// Replaces `out` with the inflated `compressed` message (the tail
    /// 00 00 ff ff appended), stopping with too_big as soon as it would
    /// exceed `max_size` bytes (a decompression bomb costs at most that
    /// much memory). After too_big or corrupt the stream is unusable.
    Result decompress(std::string_view compressed, std::uint64_t max_size, std::string& out);

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
    bool no_context_takeover_;
};

}  // namespace corio::http::detail
