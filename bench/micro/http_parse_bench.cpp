// bench/micro/http_parse_bench.cpp - the HTTP codecs' hot paths (Google
// Benchmark): parsing wrk's GET, a browser-like GET, a keep-alive
// pipelined batch, a head split across reads, a chunked upload; writing a
// response; decoding a masked WebSocket frame. W6 (bench/README.md) needs the
// parse path far below the ~10 us a request may cost at 100 K req/s.
//
//   cmake --preset release && cmake --build build/release --target http_parse_bench
//   build/release/bench/http_parse_bench
#include <benchmark/benchmark.h>

#include <chrono>
#include <string>
#include <string_view>

#include "http/chunked.hpp"
#include "http/date.hpp"
#include "http/parser.hpp"
#include "http/serializer.hpp"
#include "http/websocket_codec.hpp"

using namespace corio::http;
using namespace corio::http::detail;

namespace {

// What wrk sends for `wrk http://127.0.0.1:8080/`.
constexpr std::string_view kWrkGet = "GET / HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n";

constexpr std::string_view kBrowserGet =
    "GET /static/app.js?v=1.4.2 HTTP/1.1\r\n"
    "Host: www.example.com\r\n"
    "Connection: keep-alive\r\n"
    "User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36\r\n"
    "Accept: */*\r\n"
    "Sec-Fetch-Site: same-origin\r\n"
    "Sec-Fetch-Mode: no-cors\r\n"
    "Sec-Fetch-Dest: script\r\n"
    "Referer: https://www.example.com/\r\n"
    "Accept-Encoding: gzip, deflate, br\r\n"
    "Accept-Language: en-US,en;q=0.9\r\n"
    "Cookie: session=3f2a9c1e7b; theme=dark\r\n\r\n";

constexpr std::string_view kChunkedPost =
    "POST /upload HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n"
    "Content-Type: application/octet-stream\r\n\r\n"
    "40\r\n0123456789012345678901234567890123456789012345678901234567890123\r\n"
    "40\r\n0123456789012345678901234567890123456789012345678901234567890123\r\n"
    "0\r\n\r\n";

/// Parses every message in `in`; returns the number of heads.
int parse_all(RequestParser& p, std::string_view in) {
    int heads = 0;
    for (;;) {
        ParseStep s = p.parse(in);
        in.remove_prefix(s.consumed);
        if (s.event == ParseStep::head) {
            ++heads;
            benchmark::DoNotOptimize(p.head().path.data());
        } else if (s.event == ParseStep::body) {
            benchmark::DoNotOptimize(s.bytes.data());
        } else if (s.event == ParseStep::need_data) {
            return heads;
        } else if (s.event != ParseStep::message_complete) {
            return -1;
        }
    }
}

void run_parse(benchmark::State& state, std::string_view input, int per_input) {
    RequestParser p;
    for (auto _ : state) {
        if (parse_all(p, input) != per_input) {
            state.SkipWithError("unexpected parse result");
            break;
        }
    }
    state.SetItemsProcessed(state.iterations() * per_input);
    state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(input.size()));
}

void BM_ParseWrkGet(benchmark::State& state) {
    run_parse(state, kWrkGet, 1);
}
BENCHMARK(BM_ParseWrkGet);

void BM_ParseBrowserGet(benchmark::State& state) {
    run_parse(state, kBrowserGet, 1);
}
BENCHMARK(BM_ParseBrowserGet);

// wrk with a pipelining script: 16 requests per read on one connection.
void BM_ParsePipelinedBatch16(benchmark::State& state) {
    std::string batch;
    for (int i = 0; i < 16; ++i) {
        batch += kWrkGet;
    }
    run_parse(state, batch, 16);
}
BENCHMARK(BM_ParsePipelinedBatch16);

void BM_ParseChunkedPost(benchmark::State& state) {
    run_parse(state, kChunkedPost, 1);
}
BENCHMARK(BM_ParseChunkedPost);

// The browser head arriving in two reads, through feed() (copies the first part).
void BM_FeedBrowserGetSplit(benchmark::State& state) {
    RequestParser p;
    const std::string_view a = kBrowserGet.substr(0, kBrowserGet.size() / 2);
    const std::string_view b = kBrowserGet.substr(a.size());
    for (auto _ : state) {
        ParseStep s1 = p.feed(a);
        ParseStep s2 = p.feed(b);
        ParseStep s3 = p.feed({});
        if (s1.event != ParseStep::need_data || s2.event != ParseStep::head ||
            s3.event != ParseStep::message_complete) {
            state.SkipWithError("unexpected parse result");
            break;
        }
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_FeedBrowserGetSplit);

// W6's answer: status line, Content-Type, Content-Length, Date, body.
void BM_SerializeHelloResponse(benchmark::State& state) {
    DateCache dates;
    Headers headers{{"Content-Type", "text/plain; charset=utf-8"}};
    std::string out;
    out.reserve(512);
    for (auto _ : state) {
        out.clear();
        ResponseHeadOptions o;
        o.date = dates.get(std::chrono::system_clock::now());
        serialize_response(out, o, headers, "Hello, World!");
        benchmark::DoNotOptimize(out.data());
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SerializeHelloResponse);

void BM_FormatHttpDate(benchmark::State& state) {
    char buf[kHttpDateSize];
    std::int64_t t = 1700000000;
    for (auto _ : state) {
        format_http_date(t++, buf);
        benchmark::DoNotOptimize(buf);
    }
}
BENCHMARK(BM_FormatHttpDate);

// A 128-byte masked text frame, as a browser sends it.
void BM_DecodeMaskedTextFrame(benchmark::State& state) {
    WebSocketEncoder enc(WsRole::client, [] { return 0x37fa213dU; });
    std::string frame;
    enc.text(frame, std::string(static_cast<std::size_t>(state.range(0)), 'a'));
    WebSocketDecoder dec(WsRole::server);
    for (auto _ : state) {
        WsEvent e = dec.decode(frame);
        if (e.kind != WsEvent::message) {
            state.SkipWithError("unexpected decode result");
            break;
        }
        benchmark::DoNotOptimize(e.payload.data());
    }
    state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(frame.size()));
}
BENCHMARK(BM_DecodeMaskedTextFrame)->Arg(128)->Arg(16384);

}  // namespace

BENCHMARK_MAIN();
