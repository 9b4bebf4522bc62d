// fuzz/websocket_frame_fuzz.cpp - libFuzzer target for the WebSocket frame
// codec.
// 1. The input, as frames, decoded whole and cut at random points must
//    give the same events (messages, control frames, the error and its
//    close code).
// 2. The input, as a script, becomes messages that a client encoder
//    writes (fragmented at random points, with pings between fragments,
//    UTF-8 text split inside code points, random masking keys) and a
//    server decoder must read back exactly, at random splits too.
//
// With permessage-deflate negotiated (byte 0 bit 2; bit 3: no context
// takeover) part 1 accepts RSV1 and inflates, and part 2 compresses every
// message (zlib, RSV1 on the first frame) before cutting it into frames.
//
// Input: byte 0: bit 0 decodes as a client (unmasked server frames) in
// part 1, else as a server; bit 1 sets tiny limits (frame 64, message 128)
// in part 1; bits 2 and 3 as above. The rest is the byte stream / script.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_support.hpp"
#include "http/internal/transcripts.hpp"
#include "http/websocket_codec.hpp"
#include "http/websocket_deflate.hpp"

using namespace corio::http;
using namespace corio::http::detail;
using corio::http::testing::drive_websocket;
using corio::http::testing::Transcript;

namespace {

/// 0: plain, 1: permessage-deflate with context takeover, 2: without.
int deflate_mode(std::uint8_t flags) {
    return (flags & 4) == 0 ? 0 : (flags & 8) != 0 ? 2 : 1;
}

void decode_all_ways(std::uint8_t flags, std::string_view input, corio::fuzz::Rng& rng) {
    const int deflate = deflate_mode(flags);
    const WsRole role = (flags & 1) ? WsRole::client : WsRole::server;
    WsLimits limits;
    if (flags & 2) {
        limits.max_frame_size = 64;
        limits.max_message_size = 128;
    }
    corio::fuzz::Placer place;
    const Transcript whole = drive_websocket({input}, place, role, limits, deflate);
    for (int round = 0; round < 4; ++round) {
        auto pieces = corio::fuzz::random_pieces(input, rng, 8);
        corio::fuzz::check_same(whole, drive_websocket(pieces, place, role, limits, deflate),
                                "websocket split");
    }
}

/// Text made of 1- to 4-byte UTF-8 sequences chosen by the script bytes.
std::string utf8_text(std::string_view script, std::size_t n) {
    static const char* const kPieces[] = {"a",
                                          "Z",
                                          " ",
                                          "\xc3\xa9",
                                          "\xe2\x82\xac",
                                          "\xf0\x9f\x98\x80",
                                          "\xed\x9f\xbf",
                                          "\xf4\x8f\xbf\xbf"};
    std::string s;
    for (std::size_t i = 0; i < n; ++i) {
        unsigned char c =
            script.empty() ? 0 : static_cast<unsigned char>(script[i % script.size()]);
        s += kPieces[c % 8];
    }
    return s;
}

void round_trip(std::string_view script, corio::fuzz::Rng& rng, int deflate) {
    WebSocketEncoder enc(WsRole::client, [&rng] { return static_cast<std::uint32_t>(rng.next()); });
    WsDeflater deflater(15, deflate == 2);
    std::string compressed;
    std::string wire;
    Transcript expected;
    std::size_t i = 0;
    auto next = [&]() -> unsigned {
        return i < script.size() ? static_cast<unsigned char>(script[i++]) : 0;
    };
    for (int messages = 0; i < script.size() && messages < 8; ++messages) {
        const unsigned op = next();
        const std::size_t len = next() * ((op & 0x80) ? 16 : 1);  // up to 4 KiB: 16-bit lengths
        std::string payload;
        const bool text = (op & 3) == 0;
        if (text) {
            payload = utf8_text(script.substr(i), len / 4);
        } else {
            for (std::size_t k = 0; k < len; ++k) {
                payload += static_cast<char>(rng.next());
            }
        }
        if ((op & 3) == 2) {  // a ping on its own
            payload.resize(std::min<std::size_t>(payload.size(), 125));
            enc.ping(wire, payload);
            expected.push_back("ping " + payload);
            continue;
        }
        const std::size_t frags = 1 + (op >> 2) % 4;
        if (deflate != 0) {
            deflater.compress(payload, compressed);
        }
        auto cuts = corio::fuzz::random_pieces(deflate != 0 ? compressed : payload, rng, frags - 1);
        for (std::size_t f = 0; f < cuts.size(); ++f) {
            const WsOpcode code =
                f > 0 ? WsOpcode::continuation : (text ? WsOpcode::text : WsOpcode::binary);
            enc.frame(wire, code, cuts[f], f + 1 == cuts.size(), deflate != 0 && f == 0);
            if (f + 1 < cuts.size() && (op & 0x40)) {
                enc.pong(wire, "between");
                expected.push_back("pong between");
            }
        }
        expected.push_back((text ? "text " : "binary ") + payload);
    }
    enc.close(wire, 1000 + static_cast<int>(rng.below(4)), "bye");
    corio::fuzz::Placer place;
    Transcript whole =
        drive_websocket({std::string_view(wire)}, place, WsRole::server, {}, deflate);
    if (whole.empty() || whole.back().rfind("close 100", 0) != 0) {
        corio::fuzz::check_same(expected, whole, "round trip: no close at the end");
    }
    whole.pop_back();
    corio::fuzz::check_same(expected, whole, "round trip");
    for (int round = 0; round < 2; ++round) {
        auto pieces = corio::fuzz::random_pieces(wire, rng, 8);
        Transcript t = drive_websocket(pieces, place, WsRole::server, {}, deflate);
        t.pop_back();
        corio::fuzz::check_same(expected, t, "round trip split");
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) {
        return 0;
    }
    const std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
    corio::fuzz::Rng rng(corio::fuzz::hash(input));
    decode_all_ways(data[0], input, rng);
    round_trip(input, rng, deflate_mode(data[0]));
    return 0;
}
