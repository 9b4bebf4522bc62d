// The WebSocket frame codec.
//
// Decoder invariants: in State::header, hdr_[0..hdr_len_) holds the start of
// the next frame's header (2 to 14 bytes once complete); in State::payload,
// remaining_ payload bytes of the frame described by fin_/opcode_/mask_ are
// due, the ones before went (unmasked) to control_ for a control frame or
// to message_ for a data frame, and mask_pos_ is the mask index of the next
// byte. in_message_ holds from a data frame without FIN until the frame with
// FIN, across control frames in between.
#include "websocket_codec.hpp"

#include <algorithm>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <string>

namespace corio::http::detail {

namespace {

bool is_control(WsOpcode op) noexcept {
    return (static_cast<std::uint8_t>(op) & 0x8) != 0;
}

bool is_known(std::uint8_t op) noexcept {
    return op <= 0x2 || (op >= 0x8 && op <= 0xA);
}

std::uint64_t big_endian(const unsigned char* p, std::size_t n) noexcept {
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < n; ++i) {
        v = (v << 8) | p[i];
    }
    return v;
}

WsEvent need_data(std::size_t consumed) noexcept {
    WsEvent e;
    e.consumed = consumed;
    return e;
}

/// XORs `d[0..n)` with the masking key (RFC 6455 5.3), starting at key
/// byte `pos`, eight bytes at a time where it can; returns the key byte for
/// the byte after them.
std::size_t apply_mask(char* d, std::size_t n, const std::array<unsigned char, 4>& key,
                       std::size_t pos) noexcept {
    std::size_t j = 0;
    while (j < n && pos != 0) {
        d[j++] ^= static_cast<char>(key[pos]);
        pos = (pos + 1) & 3;
    }
    std::uint64_t k8;
    std::memcpy(&k8, key.data(), 4);
    std::memcpy(reinterpret_cast<char*>(&k8) + 4, key.data(), 4);
    for (; j + 8 <= n; j += 8) {
        std::uint64_t w;
        std::memcpy(&w, d + j, 8);
        w ^= k8;
        std::memcpy(d + j, &w, 8);
    }
    for (; j < n; ++j) {
        d[j] ^= static_cast<char>(key[pos]);
        pos = (pos + 1) & 3;
    }
    return pos;
}

/// Header size announced by the first two bytes: 2, plus 2 or 8 for an
/// extended length, plus 4 for a mask.
std::size_t header_size(unsigned char b1) noexcept {
    std::size_t len7 = b1 & 0x7f;
    std::size_t n = 2 + (len7 == 126 ? 2 : len7 == 127 ? 8 : 0);
    return n + ((b1 & 0x80) != 0 ? 4 : 0);
}

}  // namespace

WsEvent WebSocketDecoder::fail(WSCloseCode code, const char* message,
                               std::size_t consumed) noexcept {
    state_ = State::error;
    WsEvent e;
    e.kind = WsEvent::error;
    e.consumed = consumed;
    e.close_code = static_cast<std::uint16_t>(code);
    e.error_message = message;
    error_code_ = e.close_code;
    error_message_ = message;
    return e;
}

const char* WebSocketDecoder::check_first_bytes() const noexcept {
    const unsigned char b0 = hdr_[0];
    const unsigned char b1 = hdr_[1];
    if ((b0 & 0x30) != 0) {
        return "RSV2 or RSV3 set, but no extension was negotiated";
    }
    const std::uint8_t op = b0 & 0x0f;
    if (!is_known(op)) {
        return "reserved opcode";
    }
    if ((b0 & 0x40) != 0) {
        if (!inflater_) {
            return "RSV1 set, but permessage-deflate was not negotiated";
        }
        if (op == 0) {
            return "RSV1 set on a continuation frame";
        }
        if (is_control(static_cast<WsOpcode>(op))) {
            return "RSV1 set on a control frame";
        }
    }
    const bool masked = (b1 & 0x80) != 0;
    if (role_ == WsRole::server && !masked) {
        return "a client frame must be masked";
    }
    if (role_ == WsRole::client && masked) {
        return "a server frame must not be masked";
    }
    if (is_control(static_cast<WsOpcode>(op))) {
        if ((b0 & 0x80) == 0) {
            return "fragmented control frame";
        }
        if ((b1 & 0x7f) > 125) {
            return "control frame payload over 125 bytes";
        }
    } else if (op == 0 && !in_message_) {
        return "continuation frame outside a fragmented message";
    } else if (op != 0 && in_message_) {
        return "new data frame inside a fragmented message";
    }
    return nullptr;
}

bool WebSocketDecoder::finish_header(WsEvent& err, std::size_t consumed) {
    const unsigned char b0 = hdr_[0];
    const unsigned char b1 = hdr_[1];
    const std::size_t len7 = b1 & 0x7f;
    std::uint64_t len = len7;
    std::size_t at = 2;
    if (len7 == 126) {
        len = big_endian(hdr_.data() + 2, 2);
        at = 4;
        if (len < 126) {
            err = fail(WSCloseCode::PROTOCOL_ERROR, "16-bit length below 126 (not minimal)",
                       consumed);
            return false;
        }
    } else if (len7 == 127) {
        len = big_endian(hdr_.data() + 2, 8);
        at = 10;
        if ((len >> 63) != 0) {
            err = fail(WSCloseCode::PROTOCOL_ERROR, "64-bit length with the top bit set", consumed);
            return false;
        }
        if (len < 65536) {
            err = fail(WSCloseCode::PROTOCOL_ERROR, "64-bit length below 65536 (not minimal)",
                       consumed);
            return false;
        }
    }
    fin_ = (b0 & 0x80) != 0;
    opcode_ = static_cast<WsOpcode>(b0 & 0x0f);
    // Whether this frame carries compressed data: RSV1 on a message's first
    // frame, or a continuation of such a message.
    const bool compressed = opcode_ == WsOpcode::continuation ? compressed_ : (b0 & 0x40) != 0;
    const std::uint64_t max_frame =
        compressed ? compressed_bound(limits_.max_frame_size) : limits_.max_frame_size;
    const std::uint64_t max_message =
        compressed ? compressed_bound(limits_.max_message_size) : limits_.max_message_size;
    if (len > max_frame) {
        err = fail(WSCloseCode::MESSAGE_TOO_BIG, "frame larger than max_frame_size", consumed);
        return false;
    }
    if (!is_control(opcode_)) {
        std::uint64_t so_far = opcode_ == WsOpcode::continuation ? message_.size() : 0;
        if (len > max_message - so_far) {
            err = fail(WSCloseCode::MESSAGE_TOO_BIG, "message larger than max_message_size",
                       consumed);
            return false;
        }
        if (opcode_ != WsOpcode::continuation) {
            // Keep a working buffer, but not the peak of one huge message
            // for the rest of the connection.
            if (message_.capacity() > kKeptCapacity) {
                std::string().swap(message_);
            }
            message_.clear();
            compressed_ = compressed;
            text_ = opcode_ == WsOpcode::text;
            utf8_.reset();
            in_message_ = true;
        }
    } else {
        control_.clear();
    }
    masked_ = (b1 & 0x80) != 0;
    if (masked_) {
        std::memcpy(mask_.data(), hdr_.data() + at, 4);
    }
    mask_pos_ = 0;
    remaining_ = len;
    hdr_len_ = 0;
    state_ = State::payload;
    return true;
}

WsEvent WebSocketDecoder::finish_frame(std::size_t consumed) {
    state_ = State::header;
    WsEvent e;
    e.consumed = consumed;
    switch (opcode_) {
        case WsOpcode::ping:
            e.kind = WsEvent::ping;
            e.payload = control_;
            return e;
        case WsOpcode::pong:
            e.kind = WsEvent::pong;
            e.payload = control_;
            return e;
        case WsOpcode::close: {
            std::string_view p = control_;
            if (p.size() == 1) {
                return fail(WSCloseCode::PROTOCOL_ERROR, "close payload of one byte", consumed);
            }
            e.close_code = 1005;  // RFC 6455 7.1.5: no status code was present
            if (p.size() >= 2) {
                e.close_code = static_cast<std::uint16_t>(
                    big_endian(reinterpret_cast<const unsigned char*>(p.data()), 2));
                if (!is_valid_close_code(e.close_code)) {
                    return fail(WSCloseCode::PROTOCOL_ERROR, "invalid close code", consumed);
                }
                p.remove_prefix(2);
                if (!is_valid_utf8(p)) {
                    return fail(WSCloseCode::INVALID_TEXT, "close reason is not UTF-8", consumed);
                }
            }
            state_ = State::closed;
            e.kind = WsEvent::close;
            e.payload = p;
            return e;
        }
        default:
            break;
    }
    if (!fin_) {
        return e;  // need_data: the message goes on
    }
    in_message_ = false;
    e.kind = WsEvent::message;
    e.type = text_ ? WSMsgType::TEXT : WSMsgType::BINARY;
    if (compressed_) {
        if (inflated_.capacity() > kKeptCapacity) {
            std::string().swap(inflated_);
        }
        switch (inflater_->decompress(message_, limits_.max_message_size, inflated_)) {
            case WsInflater::Result::ok:
                break;
            case WsInflater::Result::too_big:
                return fail(WSCloseCode::MESSAGE_TOO_BIG,
                            "decompressed message larger than max_message_size", consumed);
            case WsInflater::Result::corrupt:
                return fail(WSCloseCode::PROTOCOL_ERROR, "compressed message does not inflate",
                            consumed);
        }
        if (text_ && !is_valid_utf8(inflated_)) {
            return fail(WSCloseCode::INVALID_TEXT, "text message is not UTF-8", consumed);
        }
        e.payload = inflated_;
        return e;
    }
    if (text_ && !utf8_.complete()) {
        return fail(WSCloseCode::INVALID_TEXT, "text message ends inside a UTF-8 sequence",
                    consumed);
    }
    e.payload = message_;
    return e;
}

void WebSocketDecoder::unmask_into(std::string& out, const char* p, std::size_t n) {
    const std::size_t old = out.size();
    out.append(p, n);
    if (masked_) {
        mask_pos_ = apply_mask(out.data() + old, n, mask_, mask_pos_);
    }
}

void WebSocketDecoder::enable_deflate(bool no_context_takeover) {
    inflater_ = std::make_unique<WsInflater>(no_context_takeover);
}

std::uint64_t WebSocketDecoder::compressed_bound(std::uint64_t limit) noexcept {
    const std::uint64_t slack = (limit >> 10) + 64;  // 16 bytes per 16 KiB, and the ends
    const std::uint64_t max = std::numeric_limits<std::uint64_t>::max();
    return limit > max - slack ? max : limit + slack;
}

WsEvent WebSocketDecoder::decode(std::string_view in) {
    if (state_ == State::error) {
        WsEvent e;
        e.kind = WsEvent::error;
        e.close_code = error_code_;
        e.error_message = error_message_;
        return e;
    }
    if (state_ == State::closed) {
        return need_data(in.size());
    }
    std::size_t i = 0;
    const std::size_t n = in.size();
    for (;;) {
        if (state_ == State::header) {
            while (hdr_len_ < 2 && i < n) {
                hdr_[hdr_len_++] = static_cast<unsigned char>(in[i++]);
            }
            if (hdr_len_ < 2) {
                return need_data(i);
            }
            if (const char* why = check_first_bytes()) {
                return fail(WSCloseCode::PROTOCOL_ERROR, why, i);
            }
            const std::size_t need = header_size(hdr_[1]);
            while (hdr_len_ < need && i < n) {
                hdr_[hdr_len_++] = static_cast<unsigned char>(in[i++]);
            }
            if (hdr_len_ < need) {
                return need_data(i);
            }
            WsEvent err;
            if (!finish_header(err, i)) {
                return err;
            }
        }
        if (remaining_ > 0) {
            if (i == n) {
                return need_data(i);
            }
            const auto take = static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, n - i));
            const bool control = is_control(opcode_);
            std::string& buf = control ? control_ : message_;
            const std::size_t before = buf.size();
            unmask_into(buf, in.data() + i, take);
            i += take;
            remaining_ -= take;
            if (!control && text_ && !compressed_ && !utf8_.feed(buf.data() + before, take)) {
                return fail(WSCloseCode::INVALID_TEXT, "text message is not UTF-8", i);
            }
            if (remaining_ > 0) {
                return need_data(i);
            }
        }
        WsEvent e = finish_frame(i);
        if (e.kind != WsEvent::need_data) {
            return e;
        }
    }
}

// -- Encoder -------------------------------------------------------------------

WebSocketEncoder::WebSocketEncoder(WsRole role, MaskKeyGenerator mask_key)
    : role_(role), mask_key_(std::move(mask_key)) {
    if (role_ == WsRole::client && !mask_key_) {
        throw std::invalid_argument("mask_key: a client encoder needs a masking key generator");
    }
}

void WebSocketEncoder::frame(std::string& out, WsOpcode op, std::string_view payload, bool fin,
                             bool rsv1) {
    const auto code = static_cast<std::uint8_t>(op);
    if (!is_known(code)) {
        throw std::invalid_argument("op: not an RFC 6455 opcode");
    }
    if (rsv1 && (is_control(op) || op == WsOpcode::continuation)) {
        throw std::invalid_argument("rsv1: only on the first frame of a data message");
    }
    if (is_control(op) && (payload.size() > 125 || !fin)) {
        throw std::invalid_argument(
            "payload: a control frame carries at most 125 bytes, unfragmented");
    }
    const bool mask = role_ == WsRole::client;
    unsigned char hdr[14];
    std::size_t h = 0;
    hdr[h++] = static_cast<unsigned char>((fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) | code);
    const unsigned char mask_bit = mask ? 0x80 : 0;
    const std::uint64_t len = payload.size();
    if (len < 126) {
        hdr[h++] = static_cast<unsigned char>(mask_bit | len);
    } else if (len <= 0xffff) {
        hdr[h++] = mask_bit | 126;
        hdr[h++] = static_cast<unsigned char>(len >> 8);
        hdr[h++] = static_cast<unsigned char>(len);
    } else {
        hdr[h++] = mask_bit | 127;
        for (int shift = 56; shift >= 0; shift -= 8) {
            hdr[h++] = static_cast<unsigned char>(len >> shift);
        }
    }
    std::array<unsigned char, 4> key{};
    if (mask) {
        const std::uint32_t k = mask_key_();
        for (int i = 0; i < 4; ++i) {
            key[i] = static_cast<unsigned char>(k >> (24 - 8 * i));
            hdr[h++] = key[i];
        }
    }
    out.reserve(out.size() + h + payload.size());
    out.append(reinterpret_cast<const char*>(hdr), h);
    const std::size_t start = out.size();
    out.append(payload);
    if (mask) {
        apply_mask(out.data() + start, payload.size(), key, 0);
    }
}

void WebSocketEncoder::text(std::string& out, std::string_view text) {
    if (!is_valid_utf8(text)) {
        throw std::invalid_argument("text: not valid UTF-8");
    }
    frame(out, WsOpcode::text, text);
}

void WebSocketEncoder::close(std::string& out, int code, std::string_view reason) {
    if (!is_valid_close_code(code)) {
        throw std::invalid_argument("code: " + std::to_string(code) +
                                    " may not be sent in a close frame");
    }
    if (reason.size() > 123 || !is_valid_utf8(reason)) {
        throw std::invalid_argument("reason: at most 123 bytes of valid UTF-8");
    }
    char payload[125];
    payload[0] = static_cast<char>(code >> 8);
    payload[1] = static_cast<char>(code & 0xff);
    if (!reason.empty()) {  // memcpy from a null data() is undefined even for 0 bytes
        std::memcpy(payload + 2, reason.data(), reason.size());
    }
    frame(out, WsOpcode::close, std::string_view(payload, 2 + reason.size()));
}

}  // namespace corio::http::detail
