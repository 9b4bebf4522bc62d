// fuzz/resp_fuzz.cpp - libFuzzer target for the RESP3 decoder and encoders.
//
// Input: byte 0 picks the limits (default, or small ones so that every limit
// is hit), byte 1 seeds the split points; the rest is the byte stream a
// server sends. The stream is decoded as a read loop does (reply after
// reply, until an error or the end):
//   1. fed whole, then in random pieces, then (when short) byte by byte: the
//      outcomes must be identical, replies, consumed counts and error
//      messages alike. Every piece is copied to a heap block of exactly its
//      size, so ASan catches a read one byte too far.
//   2. every reply re-encodes (encode_reply) to bytes that decode to an equal
//      reply, and re-encoding that gives the same bytes (a fixed point);
//   3. an array of plain bulk strings encodes the same through encode_command
//      as through encode_reply (what a server reads is what a server sends).
// Memory errors, leaks and unbounded allocations (a declared length of 2^62)
// are the sanitizers' and libFuzzer's -rss_limit_mb's to catch.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "corio/redis/resp.hpp"
#include "support/resp_feed.hpp"

namespace {

using corio::redis::DecoderLimits;
using corio::redis::DecodeStatus;
using corio::redis::Reply;
using corio_test::RespOutcome;

[[noreturn]] void fail(const char* what, const std::string& detail) {
    std::fprintf(stderr, "resp_fuzz: %s\n%s\n", what, detail.c_str());
    std::abort();
}

std::string describe(const std::vector<RespOutcome>& outcomes) {
    std::string s;
    for (const RespOutcome& o : outcomes) {
        s += o.status == DecodeStatus::complete     ? "complete " + o.reply.repr()
             : o.status == DecodeStatus::incomplete ? std::string("incomplete")
                                                    : "error " + o.message;
        s += " (" + std::to_string(o.consumed) + ")\n";
    }
    return s;
}

/// Copies each piece to a heap block of exactly its size.
struct ExactCopy {
    std::unique_ptr<char[]> block;
    std::string_view operator()(std::string_view bytes) {
        block = std::make_unique<char[]>(bytes.size());
        if (!bytes.empty()) {
            std::memcpy(block.get(), bytes.data(), bytes.size());
        }
        return {block.get(), bytes.size()};
    }
};

DecoderLimits pick_limits(std::uint8_t b) {
    if ((b & 1) == 0) {
        return {};
    }
    return DecoderLimits{.max_depth = std::size_t{1} + (b >> 1) % 4,
                         .max_aggregate_length = std::uint64_t{1} + (b >> 3) % 4,
                         .max_bulk_length = std::uint64_t{1} + (b >> 5) * 3};
}

std::vector<std::size_t> random_cuts(std::size_t n, std::uint32_t seed) {
    std::uint32_t x = seed * 2654435761u + 1;
    std::vector<std::size_t> cuts;
    std::size_t at = 0;
    while (at < n) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        at += 1 + x % 16;
        cuts.push_back(at < n ? at : n);
    }
    if (cuts.empty()) {
        cuts.push_back(0);
    }
    return cuts;
}

void check_reencoding(const Reply& reply) {
    std::string bytes;
    try {
        corio::redis::encode_reply(bytes, reply);
    } catch (const std::exception& e) {
        fail("a decoded reply does not re-encode", reply.repr() + ": " + e.what());
    }
    ExactCopy copy;
    std::vector<RespOutcome> again = corio_test::decode_in_steps(bytes, {bytes.size()}, {}, copy);
    if (again.size() != 1 || again[0].status != DecodeStatus::complete ||
        again[0].consumed != bytes.size() || !(again[0].reply == reply)) {
        fail("a re-encoded reply decodes differently",
             reply.repr() + "\nre-encoded: " + Reply::bulk_string(bytes).repr() + "\ngives:\n" +
                 describe(again));
    }
    std::string twice;
    corio::redis::encode_reply(twice, again[0].reply);
    if (twice != bytes) {
        fail("encode_reply is not a fixed point",
             Reply::bulk_string(bytes).repr() + "\nthen " + Reply::bulk_string(twice).repr());
    }
    if (reply.type() != Reply::Type::array || reply.has_attributes() || reply.as_array().empty()) {
        return;
    }
    for (const Reply& e : reply.as_array()) {
        if (e.type() != Reply::Type::bulk_string || e.has_attributes()) {
            return;
        }
    }
    std::string command;
    corio::redis::encode_command(command, reply.to_string_vector());
    if (command != bytes) {
        fail("encode_command and encode_reply disagree on an array of bulk strings",
             Reply::bulk_string(command).repr() + "\nvs " + Reply::bulk_string(bytes).repr());
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 2) {
        return 0;
    }
    const DecoderLimits limits = pick_limits(data[0]);
    const std::uint32_t seed = data[1];
    const std::string_view input(reinterpret_cast<const char*>(data + 2), size - 2);

    ExactCopy copy;
    const std::vector<RespOutcome> whole =
        corio_test::decode_in_steps(input, {input.size()}, limits, copy);
    const std::vector<RespOutcome> pieces =
        corio_test::decode_in_steps(input, random_cuts(input.size(), seed), limits, copy);
    if (pieces != whole) {
        fail("fed in pieces, the outcome differs from fed whole",
             "whole:\n" + describe(whole) + "pieces:\n" + describe(pieces));
    }
    if (input.size() <= 512) {
        std::vector<std::size_t> bytewise;
        for (std::size_t k = 0; k <= input.size(); ++k) {
            bytewise.push_back(k);
        }
        const std::vector<RespOutcome> single =
            corio_test::decode_in_steps(input, bytewise, limits, copy);
        if (single != whole) {
            fail("fed byte by byte, the outcome differs from fed whole",
                 "whole:\n" + describe(whole) + "bytewise:\n" + describe(single));
        }
    }
    for (const RespOutcome& o : whole) {
        if (o.status == DecodeStatus::complete) {
            check_reencoding(o.reply);
        }
    }
    return 0;
}
