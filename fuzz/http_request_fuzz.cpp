// fuzz/http_request_fuzz.cpp - libFuzzer target for the HTTP/1.1 parsers.
// The input is parsed whole and cut at random points, through parse()
// (head kept by the caller) and feed() (head copied), and every way must
// give the same transcript of heads, bodies, message ends and errors; any
// crash, sanitizer report or difference is a finding.
//
// Input: byte 0 picks the parser and its limits:
//   bit 0: response parser (else request parser)
//   bit 1: tiny limits (URI 32, head 128, 4 fields, body 64, trailers 16)
//   bit 2: responses answer a HEAD request
// the rest is the byte stream.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_support.hpp"
#include "http/internal/transcripts.hpp"

using namespace corio::http;
using corio::http::testing::FeedMode;
using corio::http::testing::Transcript;

namespace {

Transcript run(std::uint8_t flags, const std::vector<std::string_view>& pieces, FeedMode mode) {
    corio::fuzz::Placer place;
    if (flags & 1) {
        return corio::http::testing::drive_responses(pieces, place, mode,
                                                     (flags & 4) ? Method::HEAD : Method::GET);
    }
    detail::ParserLimits limits;
    if (flags & 2) {
        limits.max_uri_size = 32;
        limits.max_head_size = 128;
        limits.max_headers = 4;
        limits.max_body_size = 64;
        limits.max_trailer_size = 16;
        limits.max_chunk_line_size = 16;
    }
    return corio::http::testing::drive_requests(pieces, place, mode, limits);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) {
        return 0;
    }
    const std::uint8_t flags = data[0];
    const std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
    const Transcript whole = run(flags, {input}, FeedMode::parse);
    corio::fuzz::check_same(whole, run(flags, {input}, FeedMode::feed), "feed() whole");
    corio::fuzz::Rng rng(corio::fuzz::hash(input));
    for (int round = 0; round < 4; ++round) {
        auto pieces = corio::fuzz::random_pieces(input, rng, 8);
        corio::fuzz::check_same(whole, run(flags, pieces, FeedMode::parse), "parse() split");
        corio::fuzz::check_same(whole, run(flags, pieces, FeedMode::feed), "feed() split");
    }
    return 0;
}
