// permessage-deflate (RFC 7692): the Sec-WebSocket-Extensions grammar, the
// server's and the client's negotiation (valid, declined and malformed
// offers and answers), RFC 7692's own frame examples, compression with and
// without context takeover, fragmented compressed messages, RSV1 rules and
// the inflated-size limit. Decoder inputs are fed whole, at every split
// and byte by byte.
#include "http/websocket_deflate.hpp"

#include <gtest/gtest.h>

#include <random>
#include <stdexcept>
#include <string>

#include "http/internal/transcripts.hpp"
#include "http/websocket_codec.hpp"
#include "support/split_feed.hpp"

using namespace corio::http;
using namespace corio::http::detail;
using corio::http::testing::drive_websocket;
using corio::http::testing::Transcript;
using corio::testing::feed_all_ways;

namespace {

std::string bytes(std::initializer_list<int> b) {
    std::string s;
    for (int c : b) {
        s.push_back(static_cast<char>(c));
    }
    return s;
}

/// Decodes server frames as a client that negotiated permessage-deflate
/// (deflate 1: with context takeover, 2: without).
Transcript client(std::string_view input, int deflate = 1, const WsLimits& limits = {}) {
    return feed_all_ways(input, [&](const auto& pieces, auto& place) {
        return drive_websocket(pieces, place, WsRole::client, limits, deflate);
    });
}

/// Decodes the whole input at once (for large inputs).
Transcript client_whole(std::string_view input, int deflate, const WsLimits& limits = {}) {
    return drive_websocket(
        {input}, [](std::string_view v) { return v; }, WsRole::client, limits, deflate);
}

std::optional<std::vector<WsExtension>> parse(std::vector<std::string_view> v) {
    return parse_websocket_extensions(v);
}

/// What a server with `bits` answers to `offer` ("-" when it declines).
std::string server_answer(std::string_view offer, int bits = 15, bool nct = false,
                          WsDeflateParams* out = nullptr) {
    auto offers = parse({offer});
    if (!offers) {
        return "malformed";
    }
    WsDeflateParams p;
    std::string r;
    if (!negotiate_deflate_server(*offers, bits, nct, p, r)) {
        return "-";
    }
    if (out != nullptr) {
        *out = p;
    }
    return r;
}

/// What a client that offered deflate_offer(bits, nct) makes of `answer`.
std::string client_check(std::string_view answer, int bits = 15, bool nct = false,
                         WsDeflateParams* out = nullptr) {
    std::optional<WsDeflateParams> p;
    std::vector<std::string_view> values;
    if (!answer.empty()) {
        values.push_back(answer);
    }
    std::string_view bad = accept_deflate_response(values, bits, nct, p);
    if (!bad.empty()) {
        return std::string(bad);
    }
    if (out != nullptr && p) {
        *out = *p;
    }
    return p ? "deflate" : "none";
}

}  // namespace

TEST(WebSocketExtensions, ParsesTheGrammar) {
    auto e = parse({"permessage-deflate; client_max_window_bits, x-foo;a=1;B=\"2\"",
                    " , Permessage-Deflate ;server_no_context_takeover ,"});
    ASSERT_TRUE(e);
    ASSERT_EQ(e->size(), 3u);
    EXPECT_EQ((*e)[0].name, "permessage-deflate");
    ASSERT_EQ((*e)[0].params.size(), 1u);
    EXPECT_EQ((*e)[0].params[0].name, "client_max_window_bits");
    EXPECT_FALSE((*e)[0].params[0].value);
    EXPECT_EQ((*e)[1].name, "x-foo");
    ASSERT_EQ((*e)[1].params.size(), 2u);
    EXPECT_EQ((*e)[1].params[0].value, "1");
    EXPECT_EQ((*e)[1].params[1].name, "b");
    EXPECT_EQ((*e)[1].params[1].value, "2");  // unquoted
    EXPECT_EQ((*e)[2].name, "permessage-deflate");
    EXPECT_TRUE(parse({})->empty());
    EXPECT_TRUE(parse({""})->empty());
}

TEST(WebSocketExtensions, RejectsMalformedValues) {
    for (std::string_view bad : {"permessage-deflate;", "; x", "a b", "a;=1", "a;b=", "a;b=\"1",
                                 "a;b=\"1 2\"", "a;b=\"\"", "a;b=1 2", "a,,b c", "a;b=(1)"}) {
        EXPECT_FALSE(parse({bad})) << bad;
    }
}

TEST(WebSocketDeflateNegotiation, ServerAcceptsValidOffers) {
    WsDeflateParams p;
    EXPECT_EQ(server_answer("permessage-deflate", 15, false, &p), "permessage-deflate");
    EXPECT_FALSE(p.server_no_context_takeover);
    EXPECT_FALSE(p.client_no_context_takeover);
    EXPECT_EQ(p.server_max_window_bits, 15);
    EXPECT_EQ(server_answer("permessage-deflate; client_max_window_bits"), "permessage-deflate");
    EXPECT_EQ(server_answer("permessage-deflate; client_max_window_bits=10", 15, false, &p),
              "permessage-deflate");
    EXPECT_EQ(p.client_max_window_bits, 10);
    // The server's window: the smaller of the offer's and ours, always stated.
    EXPECT_EQ(server_answer("permessage-deflate; server_max_window_bits=10", 15, false, &p),
              "permessage-deflate; server_max_window_bits=10");
    EXPECT_EQ(p.server_max_window_bits, 10);
    EXPECT_EQ(server_answer("permessage-deflate; server_max_window_bits=\"12\"", 11),
              "permessage-deflate; server_max_window_bits=11");
    EXPECT_EQ(server_answer("permessage-deflate", 12),
              "permessage-deflate; server_max_window_bits=12");
    // No context takeover: echoed, or asked for by the server itself.
    EXPECT_EQ(server_answer("permessage-deflate; server_no_context_takeover; "
                            "client_no_context_takeover",
                            15, false, &p),
              "permessage-deflate; server_no_context_takeover; client_no_context_takeover");
    EXPECT_TRUE(p.server_no_context_takeover);
    EXPECT_TRUE(p.client_no_context_takeover);
    EXPECT_EQ(server_answer("permessage-deflate; client_no_context_takeover", 15, false, &p),
              "permessage-deflate; client_no_context_takeover");
    EXPECT_FALSE(p.server_no_context_takeover);
    EXPECT_EQ(server_answer("permessage-deflate", 15, true),
              "permessage-deflate; server_no_context_takeover; client_no_context_takeover");
    // Names are case-insensitive.
    EXPECT_EQ(server_answer("PerMessage-Deflate; Server_No_Context_Takeover"),
              "permessage-deflate; server_no_context_takeover");
}

TEST(WebSocketDeflateNegotiation, ServerDeclinesInvalidOffersAndTakesTheNextValidOne) {
    for (std::string_view bad :
         {"permessage-deflate; foo", "permessage-deflate; server_max_window_bits",
          "permessage-deflate; server_max_window_bits=16",
          "permessage-deflate; server_max_window_bits=7",
          "permessage-deflate; server_max_window_bits=09",
          "permessage-deflate; client_max_window_bits=abc",
          "permessage-deflate; server_no_context_takeover=1",
          "permessage-deflate; client_no_context_takeover; client_no_context_takeover",
          "permessage-deflate; server_max_window_bits=10; server_max_window_bits=10",
          // zlib cannot compress with an 8-bit window
          "permessage-deflate; server_max_window_bits=8", "x-webkit-deflate-frame"}) {
        EXPECT_EQ(server_answer(bad), "-") << bad;
    }
    WsDeflateParams p;
    EXPECT_EQ(server_answer("permessage-deflate; server_max_window_bits=8, permessage-deflate; "
                            "client_no_context_takeover, permessage-deflate",
                            15, false, &p),
              "permessage-deflate; client_no_context_takeover");
    EXPECT_TRUE(p.client_no_context_takeover);
    // Decompression takes any window: a client compressing with 8 bits is fine.
    EXPECT_EQ(server_answer("permessage-deflate; client_max_window_bits=8"), "permessage-deflate");
    EXPECT_EQ(server_answer("permessage-deflate; a\"b"), "malformed");
}

TEST(WebSocketDeflateNegotiation, ClientOffer) {
    EXPECT_EQ(deflate_offer(15, false), "permessage-deflate; client_max_window_bits");
    EXPECT_EQ(deflate_offer(10, true),
              "permessage-deflate; server_no_context_takeover; client_no_context_takeover; "
              "server_max_window_bits=10; client_max_window_bits");
    // Every offer the client makes is one the server accepts.
    for (int bits = 9; bits <= 15; ++bits) {
        for (bool nct : {false, true}) {
            std::string answer = server_answer(deflate_offer(bits, nct), 15);
            EXPECT_EQ(client_check(answer, bits, nct), "deflate") << answer;
        }
    }
}

TEST(WebSocketDeflateNegotiation, ClientChecksTheAnswer) {
    WsDeflateParams p;
    EXPECT_EQ(client_check(""), "none");
    EXPECT_EQ(client_check("permessage-deflate", 15, false, &p), "deflate");
    EXPECT_FALSE(p.client_no_context_takeover);
    EXPECT_EQ(p.client_max_window_bits, 15);
    EXPECT_EQ(client_check("permessage-deflate; client_max_window_bits=10; "
                           "server_no_context_takeover; client_no_context_takeover",
                           12, false, &p),
              "server_max_window_bits above the one offered");
    EXPECT_EQ(client_check("permessage-deflate; client_max_window_bits=10; "
                           "server_no_context_takeover; client_no_context_takeover; "
                           "server_max_window_bits=12",
                           12, false, &p),
              "deflate");
    EXPECT_EQ(p.client_max_window_bits, 10);
    EXPECT_EQ(p.server_max_window_bits, 12);
    EXPECT_TRUE(p.server_no_context_takeover);
    EXPECT_TRUE(p.client_no_context_takeover);
    // Our window is at most what we offered.
    EXPECT_EQ(client_check("permessage-deflate; server_max_window_bits=9", 11, false, &p),
              "deflate");
    EXPECT_EQ(p.client_max_window_bits, 11);

    EXPECT_EQ(client_check("x-foo"),
              "Sec-WebSocket-Extensions names an extension that was not offered");
    EXPECT_EQ(client_check("permessage-deflate, permessage-deflate"),
              "Sec-WebSocket-Extensions names an extension that was not offered");
    EXPECT_EQ(client_check("permessage-deflate; foo=1"), "unknown permessage-deflate parameter");
    EXPECT_EQ(client_check("permessage-deflate; client_max_window_bits"),
              "server_max_window_bits needs a value");
    EXPECT_EQ(client_check("permessage-deflate; server_max_window_bits=16"),
              "window bits must be 8 to 15");
    EXPECT_EQ(client_check("permessage-deflate; client_max_window_bits=8"),
              "client_max_window_bits=8 is not supported (zlib)");
    EXPECT_EQ(client_check("permessage-deflate", 15, true),
              "server_no_context_takeover was offered but not accepted");
    EXPECT_EQ(client_check("permessage-deflate;"), "malformed Sec-WebSocket-Extensions");
}

// -- RFC 7692 7.2.3's examples (server frames, unmasked) ----------------------

TEST(WebSocketDeflateCodec, Rfc7692Examples) {
    const std::string hello = bytes({0xc1, 0x07, 0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00});
    EXPECT_EQ(client(hello), (Transcript{"text Hello"}));
    // 7.2.3.1, fragmented: RSV1 on the first frame only.
    EXPECT_EQ(client(bytes({0x41, 0x03, 0xf2, 0x48, 0xcd, 0x80, 0x04, 0xc9, 0xc9, 0x07, 0x00})),
              (Transcript{"text Hello"}));
    // 7.2.3.2: the second "Hello" refers to the first (context takeover).
    const std::string again = bytes({0xc1, 0x05, 0xf2, 0x00, 0x11, 0x00, 0x00});
    EXPECT_EQ(client(hello + again), (Transcript{"text Hello", "text Hello"}));
    // ... which a decoder told there is no takeover cannot read.
    EXPECT_EQ(client(hello + again, 2),
              (Transcript{"text Hello", "error 1002 compressed message does not inflate"}));
    // 7.2.3.3: a stored block; 7.2.3.4: BFINAL set; 7.2.3.5: two blocks.
    EXPECT_EQ(client(bytes(
                  {0xc1, 0x0b, 0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00})),
              (Transcript{"text Hello"}));
    EXPECT_EQ(client(bytes({0xc1, 0x08, 0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00}) + hello),
              (Transcript{"text Hello", "text Hello"}));
    EXPECT_EQ(client(bytes({0xc1, 0x0d, 0xf2, 0x48, 0x05, 0x00, 0x00, 0x00, 0xff, 0xff, 0xca, 0xc9,
                            0xc9, 0x07, 0x00})),
              (Transcript{"text Hello"}));
    // An uncompressed message (RSV1 clear) is still fine once negotiated.
    EXPECT_EQ(client(bytes({0x81, 0x02, 'h', 'i'}) + hello), (Transcript{"text hi", "text Hello"}));
}

TEST(WebSocketDeflateCodec, Rsv1Rules) {
    const std::string hello = bytes({0xc1, 0x07, 0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00});
    EXPECT_EQ(client(hello, 0),
              (Transcript{"error 1002 RSV1 set, but permessage-deflate was not negotiated"}));
    EXPECT_EQ(client(bytes({0x41, 0x03, 0xf2, 0x48, 0xcd, 0xc0, 0x04, 0xc9, 0xc9, 0x07, 0x00})),
              (Transcript{"error 1002 RSV1 set on a continuation frame"}));
    EXPECT_EQ(client(bytes({0xc9, 0x00})), (Transcript{"error 1002 RSV1 set on a control frame"}));
    EXPECT_EQ(client(bytes({0xa1, 0x00})),
              (Transcript{"error 1002 RSV2 or RSV3 set, but no extension was negotiated"}));
    // Not deflate data; deflate data that is not UTF-8 in a text message.
    EXPECT_EQ(client(bytes({0xc2, 0x02, 0xff, 0xff})),
              (Transcript{"error 1002 compressed message does not inflate"}));
    std::string z;
    WsDeflater(15, false).compress("ok \xff", z);
    std::string frame;
    WebSocketEncoder(WsRole::server).frame(frame, WsOpcode::text, z, true, true);
    EXPECT_EQ(client(frame), (Transcript{"error 1007 text message is not UTF-8"}));
    WebSocketEncoder enc(WsRole::server);
    EXPECT_THROW(enc.frame(frame, WsOpcode::ping, "", true, true), std::invalid_argument);
    EXPECT_THROW(enc.frame(frame, WsOpcode::continuation, "", true, true), std::invalid_argument);
}

// -- Round trips through WsDeflater -----------------------------------------

namespace {

/// Server frames for `messages`, compressed (each cut into frames of at
/// most `max_frame` bytes, with a ping between the frames of a message
/// when `pings`).
std::string compressed_frames(const std::vector<std::string>& messages, bool no_takeover,
                              std::size_t max_frame = 0, int bits = 15, bool pings = false) {
    WsDeflater d(bits, no_takeover);
    WebSocketEncoder enc(WsRole::server);
    std::string out, z;
    for (const std::string& m : messages) {
        d.compress(m, z);
        const std::size_t step = max_frame ? max_frame : std::max<std::size_t>(z.size(), 1);
        std::size_t at = 0;
        bool first = true;
        do {
            std::string_view piece = std::string_view(z).substr(at, step);
            at += piece.size();
            enc.frame(out, first ? WsOpcode::binary : WsOpcode::continuation, piece, at == z.size(),
                      first);
            if (pings && at < z.size()) {
                enc.ping(out, "p");
            }
            first = false;
        } while (at < z.size());
    }
    return out;
}

std::string random_bytes(std::size_t n, unsigned seed) {
    std::mt19937 rng(seed);
    std::string s(n, '\0');
    for (char& c : s) {
        c = static_cast<char>(rng());
    }
    return s;
}

}  // namespace

TEST(WebSocketDeflateCodec, HelloMatchesRfc7692) {
    std::string z;
    WsDeflater d(15, false);
    d.compress("Hello", z);
    EXPECT_EQ(z, bytes({0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00}));
    d.compress("Hello", z);  // the window is kept: a back-reference
    EXPECT_EQ(z, bytes({0xf2, 0x00, 0x11, 0x00, 0x00}));
    WsDeflater fresh(15, true);
    fresh.compress("Hello", z);
    fresh.compress("Hello", z);  // reset: the same bytes as the first time
    EXPECT_EQ(z, bytes({0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00}));
}

TEST(WebSocketDeflateCodec, RoundTripsWithAndWithoutContextTakeover) {
    const std::vector<std::string> msgs = {"abcabcabc", "", "abcabcabc", std::string(300, 'z'),
                                           random_bytes(40, 1)};
    Transcript want;
    for (const std::string& m : msgs) {
        want.push_back("binary " + m);
    }
    const std::string with = compressed_frames(msgs, false);
    const std::string without = compressed_frames(msgs, true);
    EXPECT_LT(with.size(), without.size());  // takeover shares the window
    EXPECT_EQ(client(with, 1), want);
    EXPECT_EQ(client(without, 2), want);
    EXPECT_EQ(client(without, 1), want);  // a reset stream reads fine with takeover
    for (int bits = 9; bits <= 15; ++bits) {
        EXPECT_EQ(client(compressed_frames(msgs, false, 0, bits), 1), want) << bits;
    }
}

TEST(WebSocketDeflateCodec, FragmentedCompressedMessages) {
    const std::vector<std::string> msgs = {std::string(500, 'q') + random_bytes(30, 2), "short",
                                           random_bytes(50, 3)};
    Transcript want;
    for (const std::string& m : msgs) {
        want.push_back("binary " + m);
    }
    // Frames of 3 bytes with a ping between: control frames interleave.
    Transcript got = client(compressed_frames(msgs, false, 3, 15, true), 1);
    Transcript data;
    for (const std::string& e : got) {
        if (e != "ping p") {
            data.push_back(e);
        }
    }
    EXPECT_EQ(data, want);
    EXPECT_GT(got.size(), want.size());
}

TEST(WebSocketDeflateCodec, LargeMessagesRoundTrip) {
    const std::vector<std::string> msgs = {random_bytes(1 << 20, 4), std::string(3 << 20, 'a'),
                                           random_bytes(70000, 5) + std::string(70000, 'b')};
    Transcript want;
    for (const std::string& m : msgs) {
        want.push_back("binary " + m);
    }
    EXPECT_EQ(client_whole(compressed_frames(msgs, false, 10000), 1), want);
    EXPECT_EQ(client_whole(compressed_frames(msgs, true), 2), want);
}

TEST(WebSocketDeflateCodec, TheLimitAppliesToTheInflatedSize) {
    const WsLimits limits{1 << 20, 1 << 20};
    // A zip bomb: 64 MiB of zeros is some 64 KiB compressed.
    const std::string bomb = compressed_frames({std::string(64 << 20, '\0')}, false);
    EXPECT_LT(bomb.size(), 100u * 1024);
    EXPECT_EQ(client_whole(bomb, 1, limits),
              (Transcript{"error 1009 decompressed message larger than max_message_size"}));
    // Exactly the limit passes; one byte more does not.
    const std::string exact(1 << 20, 'e');
    EXPECT_EQ(client_whole(compressed_frames({exact}, false), 1, limits),
              (Transcript{"binary " + exact}));
    EXPECT_EQ(client_whole(compressed_frames({exact + "e"}, false), 1, limits),
              (Transcript{"error 1009 decompressed message larger than max_message_size"}));
    // Incompressible data at the limit grows when compressed: still accepted,
    // in one frame or many.
    const std::string noise = random_bytes(1 << 20, 6);
    const std::string one = compressed_frames({noise}, false);
    EXPECT_GT(one.size(), noise.size());
    EXPECT_EQ(client_whole(one, 1, limits), (Transcript{"binary " + noise}));
    EXPECT_EQ(client_whole(compressed_frames({noise}, false, 4096), 1, limits),
              (Transcript{"binary " + noise}));
    // A compressed frame far above the limit is refused by its header.
    EXPECT_EQ(client_whole(compressed_frames({random_bytes(2 << 20, 7)}, false), 1, limits),
              (Transcript{"error 1009 frame larger than max_frame_size"}));
    EXPECT_EQ(WebSocketDecoder::compressed_bound(1 << 20), (1u << 20) + 1024 + 64);
}
