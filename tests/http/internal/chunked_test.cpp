// The chunked coding: the decoder's strictness and limits (each input fed
// whole, at every split and byte by byte), the encoder, and round trips.
#include "http/chunked.hpp"

#include <gtest/gtest.h>

#include <string>

#include "http/internal/transcripts.hpp"
#include "support/split_feed.hpp"

using namespace corio::http::detail;
using corio::http::testing::drive_chunked;
using corio::http::testing::Transcript;
using corio::testing::feed_all_ways;

namespace {

Transcript chunked(std::string_view input, const ChunkedLimits& limits = {}) {
    return feed_all_ways(input, [&](const auto& pieces, auto& place) {
        return drive_chunked(pieces, place, limits);
    });
}

std::string error_of(std::string_view input, const ChunkedLimits& limits = {}) {
    Transcript t = chunked(input, limits);
    for (const std::string& line : t) {
        if (line.rfind("error ", 0) == 0) {
            return line.substr(6);
        }
    }
    return "";
}

}  // namespace

TEST(ChunkedDecoder, DecodesChunksExtensionsAndTrailers) {
    EXPECT_EQ(chunked("5\r\nhello\r\n1;name=value;quoted=\"a b\"\r\n \r\n"
                      "A ; x\r\n0123456789\r\n0\r\nX-Sum: abc\r\nX-Other: 1\r\n\r\nnext"),
              (Transcript{"body hello 0123456789", "done", "rest next"}));
}

TEST(ChunkedDecoder, HexDigitsInEitherCaseWithLeadingZeros) {
    EXPECT_EQ(chunked("00000a\r\n0123456789\r\nB\r\nabcdefghijk\r\n000\r\n\r\n"),
              (Transcript{"body 0123456789abcdefghijk", "done"}));
}

TEST(ChunkedDecoder, EmptyBody) {
    EXPECT_EQ(chunked("0\r\n\r\n"), (Transcript{"body ", "done"}));
    EXPECT_EQ(chunked("0\r\n"), (Transcript{"partial body ", "incomplete"}));
}

TEST(ChunkedDecoder, ChunkSizeMustBeHexDigitsOnly) {
    EXPECT_EQ(error_of("\r\n"), "invalid_chunk");
    EXPECT_EQ(error_of("0x5\r\nhello\r\n0\r\n\r\n"), "invalid_chunk");
    EXPECT_EQ(error_of("+5\r\nhello\r\n0\r\n\r\n"), "invalid_chunk");
    EXPECT_EQ(error_of("-1\r\n"), "invalid_chunk");
    EXPECT_EQ(error_of(" 5\r\nhello\r\n0\r\n\r\n"), "invalid_chunk");
    EXPECT_EQ(error_of("5 \r\nhello\r\n0\r\n\r\n"), "invalid_chunk");  // BWS only before ';'
    EXPECT_EQ(error_of("5g\r\nhello\r\n0\r\n\r\n"), "invalid_chunk");
    EXPECT_EQ(error_of("5;\x01\r\nhello\r\n0\r\n\r\n"), "invalid_chunk");
}

TEST(ChunkedDecoder, ChunkSizeOverflow) {
    // The largest size that fits 64 bits is a size (refused by a body limit).
    EXPECT_EQ(chunked("ffffffffffffffff\r\n"), (Transcript{"partial body ", "incomplete"}));
    ChunkedLimits l;
    l.max_body_size = 1u << 20;
    EXPECT_EQ(error_of("ffffffffffffffff\r\n", l), "body_too_large");
    EXPECT_EQ(error_of("10000000000000000\r\n"), "chunk_size_overflow");
    EXPECT_EQ(chunked("10000000000000000\r\n"),
              (Transcript{"partial body ", "error chunk_size_overflow", "rest 0\r\n"}));
}

TEST(ChunkedDecoder, EveryLineEndsInCrlf) {
    EXPECT_EQ(error_of("5\nhello\r\n0\r\n\r\n"), "bare_lf");
    EXPECT_EQ(error_of("5;ext\nhello\r\n0\r\n\r\n"), "bare_lf");
    EXPECT_EQ(error_of("5\rhello\r\n0\r\n\r\n"), "bare_cr");
    EXPECT_EQ(error_of("5\r\nhello\n0\r\n\r\n"), "bare_lf");
    EXPECT_EQ(error_of("5\r\nhello\rX0\r\n\r\n"), "bare_cr");
    EXPECT_EQ(error_of("5\r\nhelloX\r\n0\r\n\r\n"), "invalid_chunk");
    EXPECT_EQ(error_of("0\r\nX: 1\n\r\n"), "bare_lf");
    EXPECT_EQ(error_of("0\r\n\n"), "bare_lf");
    EXPECT_EQ(error_of("0\r\n\rX"), "bare_cr");
}

TEST(ChunkedDecoder, TrailerFieldsAreCheckedAndDropped) {
    EXPECT_EQ(error_of("0\r\nX: 1\r\n folded\r\n\r\n"), "obs_fold");
    EXPECT_EQ(error_of("0\r\nNo colon\r\n\r\n"), "invalid_chunk");
    EXPECT_EQ(error_of("0\r\nX : 1\r\n\r\n"), "invalid_chunk");
    EXPECT_EQ(error_of("0\r\n:1\r\n\r\n"), "invalid_chunk");
    EXPECT_EQ(error_of("0\r\nX: \x7f\r\n\r\n"), "invalid_chunk");
    EXPECT_EQ(chunked("0\r\nX:\r\n\r\n"), (Transcript{"body ", "done"}));
}

TEST(ChunkedDecoder, Limits) {
    ChunkedLimits l;
    l.max_body_size = 10;
    EXPECT_EQ(chunked("5\r\nhello\r\n5\r\nworld\r\n0\r\n\r\n", l),
              (Transcript{"body helloworld", "done"}));
    EXPECT_EQ(
        chunked("5\r\nhello\r\n6\r\nworld!\r\n0\r\n\r\n", l),
        (Transcript{"partial body hello", "error body_too_large", "rest \nworld!\r\n0\r\n\r\n"}));
    l = {};
    l.max_line_size = 8;
    EXPECT_EQ(error_of("5;abcdef\r\nhello\r\n0\r\n\r\n", l), "");  // 8 bytes
    EXPECT_EQ(error_of("5;abcdefg\r\nhello\r\n0\r\n\r\n", l), "invalid_chunk");
    l = {};
    l.max_trailer_size = 8;  // "X: 1\r\n" and the final CRLF
    EXPECT_EQ(error_of("0\r\nX: 1\r\n\r\n", l), "");
    EXPECT_EQ(error_of("0\r\nX: 12\r\n\r\n", l), "trailer_too_large");
}

TEST(ChunkedDecoder, ErrorAndDoneAreFinal) {
    ChunkedDecoder d;
    ChunkedStep s = d.decode("0\r\n\r\nmore");
    EXPECT_EQ(s.status, ChunkedStep::done);
    EXPECT_EQ(s.consumed, 5u);
    EXPECT_TRUE(d.done());
    EXPECT_EQ(d.decode("1\r\na\r\n").status, ChunkedStep::done);
    d.reset();
    EXPECT_EQ(d.decode("z").status, ChunkedStep::error);
    EXPECT_EQ(d.error(), ParseError::invalid_chunk);
    EXPECT_EQ(d.decode("1\r\n").status, ChunkedStep::error);
}

TEST(ChunkedEncoder, ChunkHeaderIsLowercaseHex) {
    std::array<char, kChunkHeaderMax> buf;
    EXPECT_EQ(chunk_header(1, buf), "1\r\n");
    EXPECT_EQ(chunk_header(255, buf), "ff\r\n");
    EXPECT_EQ(chunk_header(4096, buf), "1000\r\n");
    EXPECT_EQ(chunk_header(UINT64_MAX, buf), "ffffffffffffffff\r\n");
}

TEST(ChunkedEncoder, RoundTripsThroughTheDecoder) {
    std::string encoded;
    std::string body;
    for (std::size_t n : {1u, 15u, 16u, 255u, 256u, 0u, 4097u}) {
        std::string piece(n, static_cast<char>('a' + n % 26));
        append_chunk(encoded, piece);
        body += piece;
    }
    append_last_chunk(encoded);
    EXPECT_EQ(encoded.substr(0, 3), "1\r\n");
    EXPECT_EQ(encoded.substr(encoded.size() - 5), "0\r\n\r\n");
    ChunkedDecoder d;
    std::string out;
    std::string_view in = encoded;
    for (;;) {
        ChunkedStep s = d.decode(in);
        in.remove_prefix(s.consumed);
        if (s.status == ChunkedStep::data) {
            out.append(s.bytes);
            continue;
        }
        ASSERT_EQ(s.status, ChunkedStep::done);
        break;
    }
    EXPECT_EQ(out, body);
    EXPECT_EQ(d.body_size(), body.size());
    EXPECT_TRUE(in.empty());
}
