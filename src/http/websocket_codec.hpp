// http/websocket_codec.hpp (private) - the RFC 6455 frame codec, sans-I/O:
// a decoder that turns bytes into messages and control frames, and an
// encoder for frames. aiohttp's counterparts: `WebSocketReader` and
// `WebSocketWriter` (aiohttp/_websocket).
//
// Decoder policy:
//  - RSV2 and RSV3 must be 0. RSV1 must be 0 unless permessage-deflate was
//    negotiated (enable_deflate()); then it may be set on the first frame
//    of a data message, which marks the message compressed (RFC 7692 6),
//    and never on a continuation or control frame.
//  - Opcodes other than 0, 1, 2, 8, 9, 10 are errors.
//  - A server decodes client frames, which must be masked; a client decodes
//    server frames, which must not be.
//  - Payload lengths: 7-bit, 16-bit (126) or 64-bit (127) with the most
//    significant bit 0. The sender MUST use the minimal form (5.2), and the
//    decoder enforces it: 126 with a length below 126, or 127 with one below
//    65536, is a protocol error. Strict on purpose: no conforming peer is
//    hurt, and one framing per length leaves nothing to disagree on.
//  - Control frames: payload <= 125 bytes, never fragmented, allowed between
//    the fragments of a message.
//  - Fragments are reassembled; a frame above max_frame_size or a message
//    above max_message_size is refused as soon as its header says so (1009).
//  - Text is validated as UTF-8 incrementally, failing on the first bad byte
//    even mid-message (1007); a close frame's reason too. A compressed text
//    message is validated once inflated.
//  - A compressed message is inflated when its last frame arrives; the
//    max_message_size limit applies to the inflated size, and inflating
//    stops as soon as it is passed (1009: a decompression bomb costs at most
//    the limit). Its compressed frames may exceed the limits slightly
//    (deflate's worst-case growth of incompressible data, see
//    compressed_bound()). Data that does not inflate is a protocol error.
//  - A close payload is empty (no code: 1005 reported), or a valid code
//    (is_valid_close_code) and a UTF-8 reason; 1 byte, or a reserved or
//    unknown code, is a protocol error (1002).
// Errors are final and carry the code the connection sends in its close
// frame before closing: 1002 (protocol), 1007 (invalid text), 1009 (size).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "corio/http/websocket.hpp"
#include "utf8.hpp"
#include "websocket_deflate.hpp"

namespace corio::http::detail {

/// Frame opcodes (RFC 6455 5.2).
enum class WsOpcode : std::uint8_t {
    continuation = 0x0,
    text = 0x1,
    binary = 0x2,
    close = 0x8,
    ping = 0x9,
    pong = 0xA,
};

/// Which end of the connection the codec works for.
enum class WsRole : std::uint8_t {
    server,  // decodes masked frames, encodes unmasked ones
    client,  // decodes unmasked frames, encodes masked ones
};

/// Size bounds of the decoder. aiohttp: max_msg_size (4 MiB).
struct WsLimits {
    std::uint64_t max_frame_size = 4 * 1024 * 1024;
    std::uint64_t max_message_size = 4 * 1024 * 1024;
};

/// What one WebSocketDecoder::decode() call found.
struct WsEvent {
    enum Kind : std::uint8_t {
        need_data,  // every byte consumed; call again with more
        message,    // a whole text or binary message: `type`, `payload`
        ping,       // `payload`: answer with a pong carrying it
        pong,       // `payload`
        close,      // the peer's close frame: `close_code` (1005: none), `payload` = reason
        error,      // fail the connection: send close `close_code`, then close
    };
    Kind kind = need_data;
    std::size_t consumed = 0;
    WSMsgType type = WSMsgType::BINARY;  // message: TEXT or BINARY
    std::string_view payload;            // unmasked, valid until the next decode()
    std::uint16_t close_code = 0;
    const char* error_message = "";  // error: what was wrong
};

/// Decodes one direction of a WebSocket connection. Payloads are unmasked
/// into the decoder's own buffers (up to 64 KiB of capacity is kept: no
/// allocation per message once warm, and no huge buffer held after a huge
/// message). After a close frame, further bytes are consumed and ignored;
/// after an error nothing more is decoded. Not thread-safe.
class WebSocketDecoder {
public:
    /// Message buffer capacity kept between messages.
    static constexpr std::size_t kKeptCapacity = 64 * 1024;

    explicit WebSocketDecoder(WsRole role, const WsLimits& limits = {}) noexcept
        : role_(role), limits_(limits) {}

    /// Accepts compressed messages (permessage-deflate was negotiated);
    /// `no_context_takeover` when the peer resets its compressor after each
    /// message. Call before the first decode(). Throws std::runtime_error
    /// if zlib cannot be initialized.
    void enable_deflate(bool no_context_takeover);

    /// The largest compressed size accepted for a message of at most
    /// `limit` inflated bytes: deflate grows incompressible data by 5 bytes
    /// per stored block (zlib's are up to 64 KiB); this allows 16 bytes per
    /// 16 KiB, plus 64.
    static std::uint64_t compressed_bound(std::uint64_t limit) noexcept;

    /// Decodes from the start of `in`, which follows the bytes consumed by
    /// earlier calls; returns at most one event.
    WsEvent decode(std::string_view in);

    /// Whether a close frame was received.
    bool closed() const noexcept { return state_ == State::closed; }

private:
    enum class State : std::uint8_t { header, payload, closed, error };

    WsEvent fail(WSCloseCode code, const char* message, std::size_t consumed) noexcept;
    const char* check_first_bytes() const noexcept;
    bool finish_header(WsEvent& err, std::size_t consumed);
    WsEvent finish_frame(std::size_t consumed);
    void unmask_into(std::string& out, const char* p, std::size_t n);

    WsRole role_;
    WsLimits limits_;
    State state_ = State::header;
    std::array<unsigned char, 14> hdr_{};  // the current frame header, as far as received
    std::size_t hdr_len_ = 0;
    bool fin_ = false;
    WsOpcode opcode_ = WsOpcode::continuation;  // of the current frame
    std::uint64_t remaining_ = 0;               // payload bytes of the current frame still due
    std::array<unsigned char, 4> mask_{};
    bool masked_ = false;
    std::size_t mask_pos_ = 0;
    bool in_message_ = false;               // a fragmented message is being assembled
    bool text_ = false;                     // ... and it is text
    bool compressed_ = false;               // ... and it is compressed (RSV1 on its first frame)
    std::string message_;                   // the data message being assembled
    std::string inflated_;                  // a compressed message, inflated
    std::unique_ptr<WsInflater> inflater_;  // when permessage-deflate was negotiated
    std::string control_;                   // the current control frame's payload
    Utf8Validator utf8_;
    std::uint16_t error_code_ = 0;  // after an error: what decode() repeats
    const char* error_message_ = "";
};

/// Returns a fresh 32-bit masking key per masked frame. Clients must use
/// an unpredictable source (RFC 6455 10.3), e.g. a CSPRNG.
using MaskKeyGenerator = std::function<std::uint32_t()>;

/// Encodes frames for one direction. A client encoder masks every frame
/// with a key from its generator; a server encoder masks nothing.
/// Fragmenting is the caller's: frame(text, "a", false), then
/// frame(continuation, "b", true). Not thread-safe.
class WebSocketEncoder {
public:
    /// Throws std::invalid_argument when a client role gets no generator.
    explicit WebSocketEncoder(WsRole role, MaskKeyGenerator mask_key = {});

    /// Appends one frame to `out`, with RSV1 set when `rsv1` (the first
    /// frame of a compressed message). Throws std::invalid_argument for a
    /// control frame above 125 bytes, fragmented or with RSV1, or an opcode
    /// that is not one of RFC 6455's.
    void frame(std::string& out, WsOpcode op, std::string_view payload, bool fin = true,
               bool rsv1 = false);
    /// A whole text message; throws std::invalid_argument when `text` is
    /// not valid UTF-8. aiohttp: `send_str`.
    void text(std::string& out, std::string_view text);
    /// A whole binary message. aiohttp: `send_bytes`.
    void binary(std::string& out, std::string_view data) { frame(out, WsOpcode::binary, data); }
    /// A ping (payload <= 125 bytes). aiohttp: `ping`.
    void ping(std::string& out, std::string_view payload = {}) {
        frame(out, WsOpcode::ping, payload);
    }
    /// A pong (payload <= 125 bytes). aiohttp: `pong`.
    void pong(std::string& out, std::string_view payload = {}) {
        frame(out, WsOpcode::pong, payload);
    }
    /// A close frame with `code` and `reason` (at most 123 bytes of UTF-8).
    /// Throws std::invalid_argument for a code is_valid_close_code()
    /// rejects or a bad reason. aiohttp: `close(code=, message=)`.
    void close(std::string& out, int code = 1000, std::string_view reason = {});
    /// A close frame with no payload (the peer sees 1005, no status).
    void close_empty(std::string& out) { frame(out, WsOpcode::close, {}); }

private:
    WsRole role_;
    MaskKeyGenerator mask_key_;
};

}  // namespace corio::http::detail
