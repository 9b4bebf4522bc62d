// bench/micro/resp_bench.cpp - Google Benchmark for the RESP3 codec's hot
// paths: decoding the replies a pipelined client reads most (+OK, :1, a short
// bulk string, an array of 100 of them), resuming a large reply fed in small
// pieces, and encoding commands into a reused write buffer.
//
//   cmake --preset release && cmake --build build/release --target resp_bench
//   build/release/bench/resp_bench
// Time per iteration is per reply (or per command); items_per_second counts
// replies, bytes_per_second input bytes.
#include <benchmark/benchmark.h>

#include <string>
#include <string_view>
#include <vector>

#include "corio/redis/resp.hpp"

namespace {

using corio::redis::Decoder;
using corio::redis::DecodeResult;

std::string array_of_bulks(int n) {
    std::string s = "*" + std::to_string(n) + "\r\n";
    for (int i = 0; i < n; ++i) {
        s += "$3\r\nxxx\r\n";
    }
    return s;
}

void decode_repeatedly(benchmark::State& state, std::string_view in) {
    Decoder decoder;
    for (auto _ : state) {
        DecodeResult r = decoder.feed(in);
        benchmark::DoNotOptimize(r);
        if (!r.complete()) {
            state.SkipWithError("not complete");
            break;
        }
    }
    state.SetItemsProcessed(state.iterations());
    state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(in.size()));
}

void BM_DecodeSimpleString(benchmark::State& state) {
    decode_repeatedly(state, "+OK\r\n");
}
BENCHMARK(BM_DecodeSimpleString);

void BM_DecodeInteger(benchmark::State& state) {
    decode_repeatedly(state, ":1\r\n");
}
BENCHMARK(BM_DecodeInteger);

void BM_DecodeBulkString(benchmark::State& state) {
    decode_repeatedly(state, "$3\r\nxxx\r\n");
}
BENCHMARK(BM_DecodeBulkString);

void BM_DecodeArrayOf100BulkStrings(benchmark::State& state) {
    decode_repeatedly(state, array_of_bulks(100));
}
BENCHMARK(BM_DecodeArrayOf100BulkStrings);

/// A reply of 10,000 bulk strings (90 KB) arriving in pieces of range(0)
/// bytes, fed as a read loop does (all bytes so far, each time): the time per
/// reply stays close to the whole-buffer time if resuming is O(new bytes).
void BM_DecodeLargeArrayInPieces(benchmark::State& state) {
    const std::string in = array_of_bulks(10000);
    const auto piece = static_cast<std::size_t>(state.range(0));
    for (auto _ : state) {
        Decoder decoder;
        DecodeResult r;
        for (std::size_t have = piece; !r.complete(); have += piece) {
            r = decoder.feed(std::string_view(in).substr(0, have < in.size() ? have : in.size()));
        }
        benchmark::DoNotOptimize(r);
    }
    state.SetItemsProcessed(state.iterations());
    state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(in.size()));
}
BENCHMARK(BM_DecodeLargeArrayInPieces)->Arg(1 << 20)->Arg(1460)->Arg(64)->Arg(1);

void BM_EncodeSet(benchmark::State& state) {
    std::string out;
    const std::string key = "key:000000001234";
    for (auto _ : state) {
        out.clear();
        corio::redis::encode_command(out, "SET", key, std::string_view("xxx"));
        benchmark::DoNotOptimize(out.data());
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_EncodeSet);

void BM_EncodeMixedArguments(benchmark::State& state) {
    std::string out;
    for (auto _ : state) {
        out.clear();
        corio::redis::encode_command(out, "ZADD", "leaderboard", 1234.5, "member", 42);
        benchmark::DoNotOptimize(out.data());
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_EncodeMixedArguments);

void BM_EncodePipelineOf100Sets(benchmark::State& state) {
    std::string out;
    for (auto _ : state) {
        out.clear();
        for (int i = 0; i < 100; ++i) {
            corio::redis::encode_command(out, "SET", "key", i);
        }
        benchmark::DoNotOptimize(out.data());
    }
    state.SetItemsProcessed(state.iterations() * 100);
}
BENCHMARK(BM_EncodePipelineOf100Sets);

}  // namespace

BENCHMARK_MAIN();
