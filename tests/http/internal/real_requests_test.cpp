// Real requests, captured from curl and from Python's aiohttp client by
// scripts/capture_http_requests.py (see tests/http/data/README.md), parsed
// sans-I/O: whole, at every split and byte by byte.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

#include "http/internal/transcripts.hpp"
#include "http/parser.hpp"
#include "http/websocket_codec.hpp"
#include "http/websocket_handshake.hpp"
#include "support/split_feed.hpp"

using namespace corio::http;
using namespace corio::http::detail;
using corio::http::testing::drive_requests;
using corio::http::testing::drive_websocket;
using corio::http::testing::FeedMode;
using corio::http::testing::Transcript;
using corio::testing::feed_all_ways;

namespace {

std::string load(const std::string& name) {
    std::ifstream f(std::string(CORIO_HTTP_TEST_DATA) + "/" + name, std::ios::binary);
    EXPECT_TRUE(f) << "missing test data " << name;
    std::ostringstream s;
    s << f.rdbuf();
    return s.str();
}

Transcript requests(std::string_view input) {
    Transcript parsed = feed_all_ways(input, [&](const auto& pieces, auto& place) {
        return drive_requests(pieces, place, FeedMode::parse);
    });
    Transcript fed = feed_all_ways(input, [&](const auto& pieces, auto& place) {
        return drive_requests(pieces, place, FeedMode::feed);
    });
    EXPECT_EQ(parsed, fed);
    return parsed;
}

bool starts_with(const std::string& s, std::string_view prefix) {
    return s.compare(0, prefix.size(), prefix) == 0;
}

}  // namespace

TEST(RealRequests, CurlGet) {
    Transcript t = requests(load("curl_get.http"));
    ASSERT_EQ(t.size(), 3u);
    EXPECT_TRUE(starts_with(t[0],
                            "head GET target=/hello/world?x=1&y=%20z path=/hello/world "
                            "query=x=1&y=%20z v=1.1 ka=1 upgrade=0 expect=0 body=none "
                            "[Host: 127.0.0.1:"))
        << t[0];
    EXPECT_NE(t[0].find("|User-Agent: curl/7.88.1|Accept: */*|X-Custom: a b]"), std::string::npos)
        << t[0];
    EXPECT_EQ(t[1], "complete ka=1");
}

TEST(RealRequests, CurlPostForm) {
    Transcript t = requests(load("curl_post_form.http"));
    ASSERT_EQ(t.size(), 4u);
    EXPECT_NE(t[0].find("head POST target=/form"), std::string::npos) << t[0];
    EXPECT_NE(t[0].find("body=length(23)"), std::string::npos) << t[0];
    EXPECT_EQ(t[1], "body name=corio&lang=c%2B%2B");
}

TEST(RealRequests, CurlChunked) {
    Transcript t = requests(load("curl_chunked.http"));
    ASSERT_EQ(t.size(), 4u);
    EXPECT_NE(t[0].find("body=chunked"), std::string::npos) << t[0];
    EXPECT_EQ(t[1], "body chunked body from curl\n");
}

TEST(RealRequests, CurlHttp10ClosesAfterOneRequest) {
    Transcript t = requests(load("curl_http10.http"));
    ASSERT_EQ(t.size(), 3u);
    EXPECT_NE(t[0].find("v=1.0 ka=0"), std::string::npos) << t[0];
    EXPECT_EQ(t[1], "complete ka=0");
    EXPECT_EQ(t[2], "closed");
}

TEST(RealRequests, CurlExpectContinue) {
    Transcript t = requests(load("curl_expect.http"));
    ASSERT_EQ(t.size(), 4u);
    EXPECT_NE(t[0].find("expect=1 body=length(2000)"), std::string::npos) << t[0];
    EXPECT_EQ(t[1], "body " + std::string(2000, 'y'));
}

TEST(RealRequests, AiohttpGet) {
    Transcript t = requests(load("aiohttp_get.http"));
    ASSERT_EQ(t.size(), 3u);
    EXPECT_TRUE(starts_with(t[0],
                            "head GET target=/search?q=corio+http&page=2 path=/search "
                            "query=q=corio+http&page=2 v=1.1 ka=1"))
        << t[0];
    EXPECT_NE(t[0].find("|User-Agent: Python/3.11 aiohttp/3.8.4]"), std::string::npos) << t[0];
}

TEST(RealRequests, AiohttpPostJson) {
    Transcript t = requests(load("aiohttp_post_json.http"));
    ASSERT_EQ(t.size(), 4u);
    EXPECT_NE(t[0].find("Content-Type: application/json"), std::string::npos) << t[0];
    EXPECT_EQ(t[1], R"(body {"name": "widget", "price": 3.5})");
}

TEST(RealRequests, AiohttpChunkedUpload) {
    Transcript t = requests(load("aiohttp_chunked.http"));
    ASSERT_EQ(t.size(), 4u);
    EXPECT_NE(t[0].find("body=chunked"), std::string::npos) << t[0];
    EXPECT_EQ(t[1], "body first,second,third");
}

TEST(RealRequests, AiohttpWebSocketSession) {
    const std::string capture = load("aiohttp_websocket.bin");
    Transcript t = requests(capture);
    ASSERT_EQ(t.size(), 4u);
    EXPECT_NE(t[0].find("head GET target=/ws"), std::string::npos) << t[0];
    EXPECT_NE(t[0].find("upgrade=1"), std::string::npos) << t[0];
    EXPECT_EQ(t[2], "upgrade");
    ASSERT_EQ(t[3].rfind("rest ", 0), 0u);
    const std::string frames = t[3].substr(5);

    RequestParser p;
    ASSERT_EQ(p.parse(capture).event, ParseStep::head);
    WsRequestCheck c = check_websocket_request(p.head().method, p.head().version, p.head().headers);
    EXPECT_TRUE(c.ok) << c.reason;

    Transcript ws = feed_all_ways(frames, [](const auto& pieces, auto& place) {
        return drive_websocket(pieces, place, WsRole::server);
    });
    EXPECT_EQ(
        ws, (Transcript{"text hello \xc3\xa9", std::string("binary \x00\x01\x02", 10),
                        "ping are you there", "text " + std::string(200, 'x'), "close 1000 done"}));
}
