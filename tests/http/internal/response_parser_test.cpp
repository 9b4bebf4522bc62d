// ResponseParser: body framing by status, method and headers, interim
// responses, upgrades, end of stream; every input fed whole, at every split
// and byte by byte, through parse() and feed().
#include <gtest/gtest.h>

#include <string>

#include "http/internal/transcripts.hpp"
#include "http/parser.hpp"
#include "support/split_feed.hpp"

using namespace corio::http;
using namespace corio::http::detail;
using corio::http::testing::drive_responses;
using corio::http::testing::FeedMode;
using corio::http::testing::Transcript;
using corio::testing::feed_all_ways;

namespace {

Transcript responses(std::string_view input, Method request_method = Method::GET) {
    Transcript parsed = feed_all_ways(input, [&](const auto& pieces, auto& place) {
        return drive_responses(pieces, place, FeedMode::parse, request_method);
    });
    Transcript fed = feed_all_ways(input, [&](const auto& pieces, auto& place) {
        return drive_responses(pieces, place, FeedMode::feed, request_method);
    });
    EXPECT_EQ(parsed, fed) << "parse() and feed() differ";
    return parsed;
}

}  // namespace

TEST(ResponseParser, ContentLengthAndChunkedBodiesKeepAlive) {
    EXPECT_EQ(responses("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"
                        "HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n"
                        "4\r\nnope\r\n0\r\n\r\n"),
              (Transcript{"head 200 reason=OK v=1.1 ka=1 upgrade=0 body=length(5) "
                          "[Content-Length: 5]",
                          "body hello", "complete ka=1",
                          "head 404 reason=Not Found v=1.1 ka=1 upgrade=0 body=chunked "
                          "[Transfer-Encoding: chunked]",
                          "body nope", "complete ka=1", "closed"}));
}

TEST(ResponseParser, BodyUntilEofEndsAtFinish) {
    EXPECT_EQ(responses("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nall of this"),
              (Transcript{"head 200 reason=OK v=1.1 ka=0 upgrade=0 body=eof "
                          "[Content-Type: text/plain]",
                          "body all of this", "complete ka=0", "closed"}));
    // A transfer coding that does not end in chunked: read until close too.
    EXPECT_EQ(responses("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nzzz")[0],
              "head 200 reason=OK v=1.1 ka=0 upgrade=0 body=eof [Transfer-Encoding: gzip]");
}

TEST(ResponseParser, StatusesWithoutBody) {
    EXPECT_EQ(
        responses("HTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 304 Not Modified\r\n"
                  "Content-Length: 10\r\n\r\n"),
        (Transcript{"head 204 reason=No Content v=1.1 ka=1 upgrade=0 body=none []", "complete ka=1",
                    "head 304 reason=Not Modified v=1.1 ka=1 upgrade=0 body=none "
                    "[Content-Length: 10]",
                    "complete ka=1", "closed"}));
}

TEST(ResponseParser, AnswerToHeadHasNoBody) {
    EXPECT_EQ(responses("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n"
                        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
                        Method::HEAD),
              (Transcript{"head 200 reason=OK v=1.1 ka=1 upgrade=0 body=none "
                          "[Content-Length: 1000]",
                          "complete ka=1",
                          "head 200 reason=OK v=1.1 ka=1 upgrade=0 body=none "
                          "[Transfer-Encoding: chunked]",
                          "complete ka=1", "closed"}));
}

TEST(ResponseParser, InterimResponsesPrecedeTheFinalOne) {
    EXPECT_EQ(
        responses("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </s>\r\n\r\n"
                  "HTTP/1.1 201 Created\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"),
        (Transcript{"head 100 reason=Continue v=1.1 ka=1 upgrade=0 body=none []", "complete ka=1",
                    "head 103 reason=Early Hints v=1.1 ka=1 upgrade=0 body=none "
                    "[Link: </s>]",
                    "complete ka=1",
                    "head 201 reason=Created v=1.1 ka=0 upgrade=0 body=length(2) "
                    "[Content-Length: 2|Connection: close]",
                    "body ok", "complete ka=0", "closed"}));
}

TEST(ResponseParser, SwitchingProtocolsLeavesTheRest) {
    EXPECT_EQ(responses("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                        "Connection: Upgrade\r\nSec-WebSocket-Accept: x\r\n\r\n\x81\x02hi"),
              (Transcript{"head 101 reason=Switching Protocols v=1.1 ka=1 upgrade=1 body=none "
                          "[Upgrade: websocket|Connection: Upgrade|Sec-WebSocket-Accept: x]",
                          "complete ka=1", "upgrade", "rest \x81\x02hi"}));
    // A 2xx answer to CONNECT opens a tunnel.
    EXPECT_EQ(responses("HTTP/1.1 200 Connection established\r\n\r\nTLS...", Method::CONNECT),
              (Transcript{"head 200 reason=Connection established v=1.1 ka=1 upgrade=1 "
                          "body=none []",
                          "complete ka=1", "upgrade", "rest TLS..."}));
}

TEST(ResponseParser, Http10KeepAliveNeedsTheHeader) {
    EXPECT_EQ(responses("HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\nx")[0],
              "head 200 reason=OK v=1.0 ka=0 upgrade=0 body=length(1) [Content-Length: 1]");
    EXPECT_EQ(
        responses("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 1\r\n\r\nx")[0],
        "head 200 reason=OK v=1.0 ka=1 upgrade=0 body=length(1) "
        "[Connection: keep-alive|Content-Length: 1]");
}

TEST(ResponseParser, EmptyReasonPhrase) {
    EXPECT_EQ(responses("HTTP/1.1 200 \r\nContent-Length: 0\r\n\r\n")[0],
              "head 200 reason= v=1.1 ka=1 upgrade=0 body=length(0) [Content-Length: 0]");
}

TEST(ResponseParser, MalformedResponses) {
    EXPECT_EQ(responses("HTTP/1.1 099 Low\r\n\r\n"), (Transcript{"error invalid_status"}));
    EXPECT_EQ(responses("HTTP/1.1 1000 Big\r\n\r\n"), (Transcript{"error invalid_status"}));
    EXPECT_EQ(responses("HTTP/2.0 200 OK\r\n\r\n"), (Transcript{"error invalid_version"}));
    EXPECT_EQ(responses("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"),
              (Transcript{"error duplicate_content_length"}));
    EXPECT_EQ(responses("HTTP/1.1 200 OK\nContent-Length: 1\r\n\r\nx"),
              (Transcript{"error bare_lf"}));
    EXPECT_EQ(responses("HTTP/1.1 200 OK\r\nX: a\r\n b\r\n\r\n"), (Transcript{"error obs_fold"}));
    EXPECT_EQ(responses("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab"),
              (Transcript{"head 200 reason=OK v=1.1 ka=1 upgrade=0 body=length(5) "
                          "[Content-Length: 5]",
                          "partial body ab", "error unexpected_eof"}));
}

TEST(ResponseParser, HasNoBodyLimitByDefault) {
    ResponseParser p;
    EXPECT_EQ(p.limits().max_body_size, UINT64_MAX);
    ParseStep s = p.parse("HTTP/1.1 200 OK\r\nContent-Length: 10000000000\r\n\r\n");
    EXPECT_EQ(s.event, ParseStep::head);
    EXPECT_EQ(p.head().content_length, 10000000000u);
}
