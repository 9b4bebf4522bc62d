// fuzz/http_chunked_fuzz.cpp - libFuzzer target for the chunked coding.
// 1. The input, as a chunked body, decoded whole and cut at random points
//    must give the same transcript (body, end, error, leftover bytes).
// 2. The input, as plain data, encoded in random chunk sizes and decoded
//    again must come back unchanged.
//
// Input: byte 0 picks tiny limits (bit 0: body 64, line 8, trailers 16);
// the rest is the byte stream.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "fuzz_support.hpp"
#include "http/chunked.hpp"
#include "http/internal/transcripts.hpp"

using namespace corio::http;
using corio::http::testing::Transcript;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) {
        return 0;
    }
    detail::ChunkedLimits limits;
    if (data[0] & 1) {
        limits.max_body_size = 64;
        limits.max_line_size = 8;
        limits.max_trailer_size = 16;
    }
    const std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
    corio::fuzz::Placer place;
    const Transcript whole = corio::http::testing::drive_chunked({input}, place, limits);
    corio::fuzz::Rng rng(corio::fuzz::hash(input));
    for (int round = 0; round < 4; ++round) {
        auto pieces = corio::fuzz::random_pieces(input, rng, 8);
        corio::fuzz::check_same(whole, corio::http::testing::drive_chunked(pieces, place, limits),
                                "chunked split");
    }

    // Round trip: encode `input` in random chunk sizes, with a trailer-free end.
    std::string encoded;
    std::size_t at = 0;
    while (at < input.size()) {
        std::size_t n = 1 + rng.below(std::min<std::size_t>(input.size() - at, 300));
        detail::append_chunk(encoded, input.substr(at, n));
        at += n;
    }
    detail::append_last_chunk(encoded);
    detail::ChunkedDecoder d;
    std::string decoded;
    std::string_view rest = encoded;
    for (;;) {
        detail::ChunkedStep s = d.decode(rest);
        rest.remove_prefix(s.consumed);
        if (s.status == detail::ChunkedStep::data) {
            decoded.append(s.bytes);
            continue;
        }
        if (s.status != detail::ChunkedStep::done || !rest.empty() || decoded != input) {
            std::fprintf(stderr, "chunked round trip failed (status %d)\n",
                         static_cast<int>(s.status));
            std::abort();
        }
        break;
    }
    return 0;
}
