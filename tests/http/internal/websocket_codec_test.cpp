// The WebSocket frame codec: RFC 6455's own examples, fragmentation,
// control frames, every protocol error with its close code, UTF-8 across
// fragments, size limits, and the encoder. Each decoder input is fed whole,
// at every split and byte by byte.
#include "http/websocket_codec.hpp"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

#include "http/internal/transcripts.hpp"
#include "support/split_feed.hpp"

using namespace corio::http;
using namespace corio::http::detail;
using corio::http::testing::drive_websocket;
using corio::http::testing::Transcript;
using corio::testing::feed_all_ways;

namespace {

Transcript decode(std::string_view input, WsRole role, const WsLimits& limits = {}) {
    return feed_all_ways(input, [&](const auto& pieces, auto& place) {
        return drive_websocket(pieces, place, role, limits);
    });
}
Transcript server(std::string_view input, const WsLimits& limits = {}) {
    return decode(input, WsRole::server, limits);
}
Transcript client(std::string_view input, const WsLimits& limits = {}) {
    return decode(input, WsRole::client, limits);
}

constexpr unsigned char kKey[4] = {0x37, 0xfa, 0x21, 0x3d};

/// A frame with first byte `b0` carrying `payload`, masked with kKey or not.
/// `len_form` forces the 16-bit (126) or 64-bit (127) length form.
std::string raw(unsigned b0, std::string_view payload, bool masked, int len_form = 0) {
    std::string f(1, static_cast<char>(b0));
    const unsigned mbit = masked ? 0x80 : 0;
    const std::uint64_t n = payload.size();
    if (len_form == 0 && n < 126) {
        f += static_cast<char>(mbit | n);
    } else if (len_form == 126 || (len_form == 0 && n <= 0xffff)) {
        f += static_cast<char>(mbit | 126);
        f += static_cast<char>(n >> 8);
        f += static_cast<char>(n & 0xff);
    } else {
        f += static_cast<char>(mbit | 127);
        for (int s = 56; s >= 0; s -= 8) {
            f += static_cast<char>((n >> s) & 0xff);
        }
    }
    if (masked) {
        f.append(reinterpret_cast<const char*>(kKey), 4);
    }
    for (std::size_t i = 0; i < payload.size(); ++i) {
        f += static_cast<char>(payload[i] ^ (masked ? kKey[i % 4] : 0));
    }
    return f;
}
std::string masked(unsigned b0, std::string_view payload) {
    return raw(b0, payload, true);
}

std::string close_payload(int code, std::string_view reason = {}) {
    std::string p;
    p += static_cast<char>(code >> 8);
    p += static_cast<char>(code & 0xff);
    return p.append(reason);
}

}  // namespace

// RFC 6455 5.7, byte for byte.
TEST(WebSocketDecoder, Rfc6455Examples) {
    EXPECT_EQ(client("\x81\x05\x48\x65\x6c\x6c\x6f"), (Transcript{"text Hello"}));
    EXPECT_EQ(server("\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58"), (Transcript{"text Hello"}));
    EXPECT_EQ(client("\x01\x03\x48\x65\x6c\x80\x02\x6c\x6f"), (Transcript{"text Hello"}));
    EXPECT_EQ(client("\x89\x05\x48\x65\x6c\x6c\x6f"), (Transcript{"ping Hello"}));
    EXPECT_EQ(server("\x8a\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58"), (Transcript{"pong Hello"}));
    std::string b256(256, 'x');
    EXPECT_EQ(client(std::string("\x82\x7e\x01\x00", 4) + b256), (Transcript{"binary " + b256}));
    std::string b64k(65536, 'y');
    EXPECT_EQ(client(std::string("\x82\x7f\x00\x00\x00\x00\x00\x01\x00\x00", 10) + b64k)[0].size(),
              7 + b64k.size());
}

TEST(WebSocketDecoder, FragmentsWithControlFramesBetween) {
    EXPECT_EQ(server(masked(0x01, "Hel") + masked(0x89, "p1") + masked(0x00, "l") +
                     masked(0x8a, "") + masked(0x80, "o!") + masked(0x82, "bin")),
              (Transcript{"ping p1", "pong ", "text Hello!", "binary bin"}));
}

TEST(WebSocketDecoder, EmptyFramesAndMessages) {
    EXPECT_EQ(server(masked(0x81, "") + masked(0x02, "") + masked(0x80, "")),
              (Transcript{"text ", "binary "}));
}

TEST(WebSocketDecoder, CloseFrames) {
    EXPECT_EQ(server(masked(0x88, close_payload(1000, "bye"))), (Transcript{"close 1000 bye"}));
    EXPECT_EQ(server(masked(0x88, "")), (Transcript{"close 1005 "}));
    EXPECT_EQ(server(masked(0x88, close_payload(4999, "\xce\xba"))),
              (Transcript{"close 4999 \xce\xba"}));
    // After the close frame the rest is ignored.
    EXPECT_EQ(server(masked(0x88, close_payload(1001)) + "garbage\xff"),
              (Transcript{"close 1001 "}));
}

TEST(WebSocketDecoder, InvalidClosePayloads) {
    EXPECT_EQ(server(masked(0x88, "\x03")), (Transcript{"error 1002 close payload of one byte"}));
    for (int code : {0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000}) {
        EXPECT_EQ(server(masked(0x88, close_payload(code))),
                  (Transcript{"error 1002 invalid close code"}))
            << code;
    }
    EXPECT_EQ(server(masked(0x88, close_payload(1000, "\xc0\x80"))),
              (Transcript{"error 1007 close reason is not UTF-8"}));
}

TEST(WebSocketDecoder, MaskingRules) {
    EXPECT_EQ(server(raw(0x81, "hi", false)),
              (Transcript{"error 1002 a client frame must be masked"}));
    EXPECT_EQ(client(raw(0x81, "hi", true)),
              (Transcript{"error 1002 a server frame must not be masked"}));
}

TEST(WebSocketDecoder, ReservedBitsAndOpcodes) {
    EXPECT_EQ(server(masked(0x81 | 0x40, "x")),
              (Transcript{"error 1002 RSV1 set, but permessage-deflate was not negotiated"}));
    for (unsigned rsv : {0x20u, 0x10u}) {
        EXPECT_EQ(server(masked(0x81 | rsv, "x")),
                  (Transcript{"error 1002 RSV2 or RSV3 set, but no extension was negotiated"}));
    }
    for (unsigned op : {0x3u, 0x4u, 0x5u, 0x6u, 0x7u, 0xbu, 0xcu, 0xdu, 0xeu, 0xfu}) {
        EXPECT_EQ(server(masked(0x80 | op, "x")), (Transcript{"error 1002 reserved opcode"})) << op;
    }
}

TEST(WebSocketDecoder, ControlFrameRules) {
    EXPECT_EQ(server(masked(0x09, "x")), (Transcript{"error 1002 fragmented control frame"}));
    EXPECT_EQ(server(masked(0x89, std::string(125, 'p')))[0], "ping " + std::string(125, 'p'));
    EXPECT_EQ(server(raw(0x89, std::string(126, 'p'), true)),
              (Transcript{"error 1002 control frame payload over 125 bytes"}));
}

TEST(WebSocketDecoder, FragmentationRules) {
    EXPECT_EQ(server(masked(0x80, "x")),
              (Transcript{"error 1002 continuation frame outside a fragmented message"}));
    EXPECT_EQ(server(masked(0x01, "a") + masked(0x81, "b")),
              (Transcript{"error 1002 new data frame inside a fragmented message"}));
    EXPECT_EQ(server(masked(0x01, "a") + masked(0x02, "b")),
              (Transcript{"error 1002 new data frame inside a fragmented message"}));
}

TEST(WebSocketDecoder, LengthsMustBeMinimalAndFit63Bits) {
    EXPECT_EQ(server(raw(0x82, "short", true, 126)),
              (Transcript{"error 1002 16-bit length below 126 (not minimal)"}));
    EXPECT_EQ(server(raw(0x82, std::string(300, 'z'), true, 127)),
              (Transcript{"error 1002 64-bit length below 65536 (not minimal)"}));
    EXPECT_EQ(server(raw(0x82, std::string(126, 'z'), true, 126))[0],
              "binary " + std::string(126, 'z'));
    EXPECT_EQ(client(std::string("\x82\x7f\x80\x00\x00\x00\x00\x00\x00\x01", 10)),
              (Transcript{"error 1002 64-bit length with the top bit set"}));
}

TEST(WebSocketDecoder, SizeLimits) {
    WsLimits l;
    l.max_frame_size = 4;
    l.max_message_size = 6;
    EXPECT_EQ(server(masked(0x82, "1234"), l), (Transcript{"binary 1234"}));
    EXPECT_EQ(server(masked(0x82, "12345"), l),
              (Transcript{"error 1009 frame larger than max_frame_size"}));
    EXPECT_EQ(server(masked(0x02, "123") + masked(0x80, "456"), l), (Transcript{"binary 123456"}));
    EXPECT_EQ(server(masked(0x02, "123") + masked(0x00, "45") + masked(0x80, "67"), l),
              (Transcript{"error 1009 message larger than max_message_size"}));
    // Refused from the header: a huge announced length needs no payload.
    EXPECT_EQ(client(std::string("\x82\x7f\x00\x00\x00\x01\x00\x00\x00\x00", 10)),
              (Transcript{"error 1009 frame larger than max_frame_size"}));
}

TEST(WebSocketDecoder, TextIsUtf8AcrossFragments) {
    // U+20AC split over three fragments.
    EXPECT_EQ(server(masked(0x01, "\xe2") + masked(0x00, "\x82") + masked(0x80, "\xac")),
              (Transcript{"text \xe2\x82\xac"}));
    EXPECT_EQ(server(masked(0x81, "\xed\xa0\x80")),
              (Transcript{"error 1007 text message is not UTF-8"}));
    EXPECT_EQ(server(masked(0x81, "\xc0\xaf")),
              (Transcript{"error 1007 text message is not UTF-8"}));
    EXPECT_EQ(server(masked(0x81, "\xf4\x90\x80\x80")),
              (Transcript{"error 1007 text message is not UTF-8"}));
    EXPECT_EQ(server(masked(0x01, "ok\xe2\x82") + masked(0x80, "")),
              (Transcript{"error 1007 text message ends inside a UTF-8 sequence"}));
    // Binary messages are not checked.
    EXPECT_EQ(server(masked(0x82, "\xff\xfe")), (Transcript{"binary \xff\xfe"}));
}

TEST(WebSocketDecoder, InvalidTextFailsBeforeTheFrameEnds) {
    // The decoder sees the bad byte before the rest of the frame arrives.
    std::string frame = masked(0x81, "ab\xff" + std::string(100, 'c'));
    WebSocketDecoder d(WsRole::server);
    WsEvent e = d.decode(std::string_view(frame).substr(0, 6 + 3));
    EXPECT_EQ(e.kind, WsEvent::error);
    EXPECT_EQ(e.close_code, 1007);
    // And errors are final.
    EXPECT_EQ(d.decode(masked(0x81, "fine")).kind, WsEvent::error);
}

TEST(WebSocketEncoder, LengthFormsAreMinimal) {
    WebSocketEncoder e(WsRole::server);
    for (std::size_t n : {0u, 125u, 126u, 65535u, 65536u, 70000u}) {
        std::string out;
        e.binary(out, std::string(n, 'b'));
        std::size_t header = n < 126 ? 2 : n <= 65535 ? 4 : 10;
        ASSERT_EQ(out.size(), header + n) << n;
        EXPECT_EQ(static_cast<unsigned char>(out[0]), 0x82);
        EXPECT_EQ(out, raw(0x82, std::string(n, 'b'), false)) << n;
    }
}

TEST(WebSocketEncoder, ClientFramesAreMaskedWithTheGeneratorsKeys) {
    int calls = 0;
    WebSocketEncoder e(WsRole::client, [&] {
        ++calls;
        return 0x37fa213dU;
    });
    std::string out;
    e.text(out, "Hello");
    EXPECT_EQ(out, "\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58");  // RFC 6455 5.7
    EXPECT_EQ(calls, 1);
    e.ping(out, "p");
    EXPECT_EQ(calls, 2);
    // Long enough for the eight-bytes-at-a-time path, checked against the
    // byte-by-byte masking of raw().
    const std::string payload = "0123456789abcdefghijklmnopqrstuvwxyz!";
    out.clear();
    e.binary(out, payload);
    EXPECT_EQ(out, raw(0x82, payload, true));
}

TEST(WebSocketEncoder, RoundTripsThroughTheDecoder) {
    std::uint32_t key = 1;
    WebSocketEncoder e(WsRole::client, [&] { return key = key * 1664525u + 1013904223u; });
    std::string wire;
    e.text(wire, "h\xc3\xa9llo");
    e.binary(wire, std::string(70000, '\x01'));
    e.frame(wire, WsOpcode::text, "frag", false);
    e.ping(wire, "mid");
    e.frame(wire, WsOpcode::continuation, "ment", true);
    e.pong(wire);
    e.close(wire, 1001, "going");
    Transcript t = server(wire);
    ASSERT_EQ(t.size(), 6u);
    EXPECT_EQ(t[0], "text h\xc3\xa9llo");
    EXPECT_EQ(t[1], "binary " + std::string(70000, '\x01'));
    EXPECT_EQ(t[2], "ping mid");
    EXPECT_EQ(t[3], "text fragment");
    EXPECT_EQ(t[4], "pong ");
    EXPECT_EQ(t[5], "close 1001 going");
}

TEST(WebSocketEncoder, RefusesWhatThePeerWouldReject) {
    WebSocketEncoder e(WsRole::server);
    std::string out;
    EXPECT_THROW(e.ping(out, std::string(126, 'x')), std::invalid_argument);
    EXPECT_THROW(e.frame(out, WsOpcode::ping, "x", false), std::invalid_argument);
    EXPECT_THROW(e.frame(out, static_cast<WsOpcode>(3), "x"), std::invalid_argument);
    EXPECT_THROW(e.text(out, "\xff"), std::invalid_argument);
    EXPECT_THROW(e.close(out, 1005), std::invalid_argument);
    EXPECT_THROW(e.close(out, 1006), std::invalid_argument);
    EXPECT_THROW(e.close(out, 999), std::invalid_argument);
    EXPECT_THROW(e.close(out, 1000, std::string(124, 'r')), std::invalid_argument);
    EXPECT_THROW(e.close(out, 1000, "\xc3"), std::invalid_argument);
    EXPECT_TRUE(out.empty());
    e.close(out, 1000, std::string(123, 'r'));
    EXPECT_EQ(out.size(), 2u + 125u);
    EXPECT_THROW((void)WebSocketEncoder(WsRole::client), std::invalid_argument);
}
