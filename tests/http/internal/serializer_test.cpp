// The response serializer and the Date formatter (RFC 9110 IMF-fixdate),
// with serialized responses read back by ResponseParser.
#include "http/serializer.hpp"

#include <gtest/gtest.h>

#include <ctime>
#include <random>
#include <regex>
#include <stdexcept>
#include <string>

#include "http/chunked.hpp"
#include "http/date.hpp"
#include "http/parser.hpp"

using namespace corio::http;
using namespace corio::http::detail;

namespace {

std::string date_of(std::int64_t t) {
    char buf[kHttpDateSize];
    format_http_date(t, buf);
    return std::string(buf, kHttpDateSize);
}

std::string serialize(const ResponseHeadOptions& o, const Headers& h = {},
                      std::string_view body = {}) {
    std::string out;
    serialize_response(out, o, h, body);
    return out;
}

}  // namespace

TEST(HttpDate, Rfc9110Example) {
    EXPECT_EQ(date_of(784111777), "Sun, 06 Nov 1994 08:49:37 GMT");
    EXPECT_EQ(date_of(0), "Thu, 01 Jan 1970 00:00:00 GMT");
    EXPECT_EQ(date_of(951782400), "Tue, 29 Feb 2000 00:00:00 GMT");  // leap day of a 400-year
    EXPECT_EQ(date_of(4107542399), "Sun, 28 Feb 2100 23:59:59 GMT");
    EXPECT_EQ(date_of(4107542400), "Mon, 01 Mar 2100 00:00:00 GMT");  // 2100 is not leap
    EXPECT_EQ(date_of(-1), "Wed, 31 Dec 1969 23:59:59 GMT");
}

TEST(HttpDate, MatchesGmtimeAndTheImfFixdateGrammar) {
    // RFC 9110 5.6.7: day-name "," SP day SP month SP year SP hour ":" minute ":" second SP "GMT"
    const std::regex grammar(
        "(Mon|Tue|Wed|Thu|Fri|Sat|Sun), [0-9]{2} "
        "(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [0-9]{4} "
        "[0-9]{2}:[0-9]{2}:[0-9]{2} GMT");
    std::mt19937_64 rng(42);
    std::uniform_int_distribution<std::int64_t> when(0, 253402300799);  // up to 9999-12-31
    for (int i = 0; i < 20000; ++i) {
        const std::int64_t t = when(rng);
        const std::time_t tt = static_cast<std::time_t>(t);
        std::tm tm{};
        ASSERT_NE(gmtime_r(&tt, &tm), nullptr);
        char expected[64];
        // The C locale's %a and %b are the English abbreviations.
        std::strftime(expected, sizeof expected, "%a, %d %b %Y %H:%M:%S GMT", &tm);
        const std::string got = date_of(t);
        ASSERT_EQ(got, expected) << t;
        ASSERT_TRUE(std::regex_match(got, grammar)) << got;
    }
}

TEST(DateCache, FormatsOncePerSecond) {
    using namespace std::chrono;
    DateCache cache;
    EXPECT_EQ(cache.value(), "");
    const system_clock::time_point t0{seconds(784111777)};
    std::string_view first = cache.get(t0 + milliseconds(10));
    EXPECT_EQ(first, "Sun, 06 Nov 1994 08:49:37 GMT");
    EXPECT_EQ(cache.get(t0 + milliseconds(999)).data(), first.data());
    EXPECT_EQ(cache.get(t0 + seconds(1)), "Sun, 06 Nov 1994 08:49:38 GMT");
    EXPECT_EQ(cache.value(), "Sun, 06 Nov 1994 08:49:38 GMT");
}

TEST(ResponseSerializer, StatusLineFieldsLengthDateAndBody) {
    ResponseHeadOptions o;
    o.date = "Sun, 06 Nov 1994 08:49:37 GMT";
    Headers h{{"Content-Type", "text/plain; charset=utf-8"}};
    EXPECT_EQ(serialize(o, h, "Hello, World!"),
              "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\n"
              "Content-Length: 13\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\n\r\nHello, World!");
}

TEST(ResponseSerializer, ConnectionFollowsKeepAliveAndVersion) {
    ResponseHeadOptions o;
    o.keep_alive = false;
    EXPECT_EQ(serialize(o), "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    o.keep_alive = true;
    o.version = HttpVersion10;
    EXPECT_EQ(serialize(o),
              "HTTP/1.0 200 OK\r\nContent-Length: 0\r\nConnection: keep-alive\r\n\r\n");
    Headers h{{"Connection", "close"}};  // the caller's own Connection is kept as it is
    EXPECT_EQ(serialize(o, h), "HTTP/1.0 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
}

TEST(ResponseSerializer, ChunkedAndItsHttp10Fallback) {
    ResponseHeadOptions o;
    o.framing = ResponseFraming::chunked;
    std::string out = serialize(o);
    EXPECT_EQ(out, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
    o.version = HttpVersion10;
    EXPECT_EQ(serialize(o), "HTTP/1.0 200 OK\r\nConnection: close\r\n\r\n");
}

TEST(ResponseSerializer, NoBodyStatusesAndHead) {
    ResponseHeadOptions o;
    o.status = 204;
    EXPECT_EQ(serialize(o), "HTTP/1.1 204 No Content\r\n\r\n");
    o.status = 304;
    EXPECT_EQ(serialize(o), "HTTP/1.1 304 Not Modified\r\n\r\n");
    o.status = 101;
    Headers up{{"Upgrade", "websocket"}, {"Connection", "Upgrade"}};
    EXPECT_EQ(
        serialize(o, up),
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n");
    o.status = 200;
    o.head_request = true;
    o.content_length = 1234;
    EXPECT_EQ(serialize(o), "HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n");
    EXPECT_THROW(serialize(o, {}, "body"), std::invalid_argument);
    o.head_request = false;
    o.status = 204;
    EXPECT_THROW(serialize(o, {}, "body"), std::invalid_argument);
}

TEST(ResponseSerializer, ReasonPhrases) {
    ResponseHeadOptions o;
    o.status = 599;
    EXPECT_EQ(serialize(o).substr(0, 22), "HTTP/1.1 599 Unknown\r\n");
    o.status = 404;
    o.reason = "Nothing Here";
    EXPECT_EQ(serialize(o).substr(0, 27), "HTTP/1.1 404 Nothing Here\r\n");
    o.reason = "Bad\r\nX-Injected: 1";
    EXPECT_THROW(serialize(o), std::invalid_argument);
}

TEST(ResponseSerializer, RefusesWhatWouldBreakFraming) {
    ResponseHeadOptions o;
    EXPECT_THROW(serialize(o, Headers{{"Content-Length", "5"}}, "hello"), std::invalid_argument);
    EXPECT_THROW(serialize(o, Headers{{"transfer-encoding", "chunked"}}), std::invalid_argument);
    o.status = 99;
    EXPECT_THROW(serialize(o), std::invalid_argument);
    o.status = 1000;
    EXPECT_THROW(serialize(o), std::invalid_argument);
    o.status = 200;
    o.framing = ResponseFraming::chunked;
    EXPECT_THROW(serialize(o, {}, "inline body"), std::invalid_argument);
}

TEST(ResponseSerializer, AppendsToTheCallersBufferWithoutReallocating) {
    ResponseHeadOptions o;
    Headers h{{"Content-Type", "text/plain"}};
    std::string out;
    out.reserve(4096);
    const char* before = out.data();
    for (int i = 0; i < 10; ++i) {
        serialize_response(out, o, h, "hi");
    }
    EXPECT_EQ(out.data(), before);
    EXPECT_EQ(out.size(), 10 * std::string_view("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                                                "Content-Length: 2\r\n\r\nhi")
                                   .size());
}

TEST(ResponseSerializer, WhatItWritesParsesBack) {
    ResponseHeadOptions o;
    o.date = "Sun, 06 Nov 1994 08:49:37 GMT";
    std::string wire;
    serialize_response(wire, o, Headers{{"X-A", "1"}}, "first");
    o.framing = ResponseFraming::chunked;
    serialize_response(wire, o, Headers{});
    append_chunk(wire, "sec");
    append_chunk(wire, "ond");
    append_last_chunk(wire);
    ResponseParser p;
    std::string_view in = wire;
    std::string bodies;
    int heads = 0;
    int completes = 0;
    for (;;) {
        ParseStep s = p.parse(in);
        in.remove_prefix(s.consumed);
        if (s.event == ParseStep::head) {
            ++heads;
            EXPECT_EQ(p.head().headers.get("Date"), "Sun, 06 Nov 1994 08:49:37 GMT");
        } else if (s.event == ParseStep::body) {
            bodies.append(s.bytes);
        } else if (s.event == ParseStep::message_complete) {
            ++completes;
            bodies += "|";
        } else {
            EXPECT_EQ(s.event, ParseStep::need_data);
            break;
        }
    }
    EXPECT_EQ(heads, 2);
    EXPECT_EQ(completes, 2);
    EXPECT_EQ(bodies, "first|second|");
}
