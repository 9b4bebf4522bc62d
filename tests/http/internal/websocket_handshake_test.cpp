// The WebSocket opening handshake: Sec-WebSocket-Accept (RFC 6455's
// example), base64, and the request and response checks.
#include "http/websocket_handshake.hpp"

#include <gtest/gtest.h>

#include <string>

#include "http/parser.hpp"

using namespace corio::http;
using namespace corio::http::detail;

namespace {

const Headers kGood{{"Host", "server.example.com"},
                    {"Upgrade", "websocket"},
                    {"Connection", "Upgrade"},
                    {"Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="},
                    {"Sec-WebSocket-Version", "13"}};

Headers with(std::string_view name, std::string_view value) {
    Headers h = kGood;
    h.set(name, value);
    return h;
}

Headers without(std::string_view name) {
    Headers h = kGood;
    h.remove(name);
    return h;
}

}  // namespace

TEST(WebSocketHandshake, AcceptKeyOfRfc6455Example) {
    EXPECT_EQ(websocket_accept("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

TEST(WebSocketHandshake, Base64Rfc4648Vectors) {
    EXPECT_EQ(base64_encode(""), "");
    EXPECT_EQ(base64_encode("f"), "Zg==");
    EXPECT_EQ(base64_encode("fo"), "Zm8=");
    EXPECT_EQ(base64_encode("foo"), "Zm9v");
    EXPECT_EQ(base64_encode("foob"), "Zm9vYg==");
    EXPECT_EQ(base64_encode("fooba"), "Zm9vYmE=");
    EXPECT_EQ(base64_encode("foobar"), "Zm9vYmFy");
}

TEST(WebSocketHandshake, KeysAreBase64Of16Bytes) {
    EXPECT_TRUE(is_valid_websocket_key("dGhlIHNhbXBsZSBub25jZQ=="));
    EXPECT_FALSE(is_valid_websocket_key("dGhlIHNhbXBsZSBub25jZQ="));
    EXPECT_FALSE(is_valid_websocket_key("dGhlIHNhbXBsZSBub25jZQ==="));
    EXPECT_FALSE(is_valid_websocket_key("dGhlIHNhbXBsZSBub25j!Q=="));
    EXPECT_FALSE(is_valid_websocket_key("dGhlIHNhbXBsZSBub25jZQAA"));  // 18 bytes, unpadded
    EXPECT_FALSE(is_valid_websocket_key(""));
    std::array<std::uint8_t, 16> nonce{};
    for (std::size_t i = 0; i < nonce.size(); ++i) {
        nonce[i] = static_cast<std::uint8_t>(0xf0 + i);
    }
    std::string key = make_websocket_key(nonce);
    EXPECT_TRUE(is_valid_websocket_key(key)) << key;
}

TEST(WebSocketHandshake, AcceptsAValidRequest) {
    WsRequestCheck c = check_websocket_request(Method::GET, HttpVersion11, kGood);
    EXPECT_TRUE(c.ok) << c.reason;
    EXPECT_EQ(c.status, 101);
    EXPECT_EQ(c.key, "dGhlIHNhbXBsZSBub25jZQ==");
    // Token lists and case, and Connection split over two fields.
    Headers h = with("Upgrade", "WebSocket, foo/2");
    h.set("Connection", "keep-alive");
    h.add("Connection", "UPGRADE");
    EXPECT_TRUE(check_websocket_request(Method::GET, HttpVersion11, h).ok);
}

TEST(WebSocketHandshake, RefusesBadRequests) {
    auto check = [](Method m, HttpVersion v, const Headers& h) {
        return check_websocket_request(m, v, h);
    };
    EXPECT_FALSE(check(Method::POST, HttpVersion11, kGood).ok);
    EXPECT_FALSE(check(Method::GET, HttpVersion10, kGood).ok);
    EXPECT_FALSE(check(Method::GET, HttpVersion11, without("Upgrade")).ok);
    EXPECT_FALSE(check(Method::GET, HttpVersion11, with("Upgrade", "h2c")).ok);
    EXPECT_FALSE(check(Method::GET, HttpVersion11, with("Connection", "keep-alive")).ok);
    EXPECT_FALSE(check(Method::GET, HttpVersion11, without("Sec-WebSocket-Key")).ok);
    EXPECT_FALSE(check(Method::GET, HttpVersion11, with("Sec-WebSocket-Key", "c2hvcnQ=")).ok);
    Headers two_keys = kGood;
    two_keys.add("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==");
    EXPECT_FALSE(check(Method::GET, HttpVersion11, two_keys).ok);
    WsRequestCheck v = check(Method::GET, HttpVersion11, with("Sec-WebSocket-Version", "8"));
    EXPECT_FALSE(v.ok);
    EXPECT_EQ(v.status, 426);
    EXPECT_EQ(check(Method::GET, HttpVersion11, without("Sec-WebSocket-Version")).status, 426);
    EXPECT_EQ(check(Method::POST, HttpVersion11, kGood).status, 400);
}

TEST(WebSocketHandshake, WorksOnParsedHeads) {
    RequestParser p;
    ParseStep s = p.parse(
        "GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\n"
        "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        "Origin: http://example.com\r\nSec-WebSocket-Version: 13\r\n\r\n");
    ASSERT_EQ(s.event, ParseStep::head);
    WsRequestCheck c = check_websocket_request(p.head().method, p.head().version, p.head().headers);
    EXPECT_TRUE(c.ok) << c.reason;
    EXPECT_EQ(websocket_accept(c.key), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

TEST(WebSocketHandshake, ChecksTheServersAnswer) {
    const std::string key = "dGhlIHNhbXBsZSBub25jZQ==";
    Headers ok{{"Upgrade", "websocket"},
               {"Connection", "Upgrade"},
               {"Sec-WebSocket-Accept", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="}};
    EXPECT_EQ(check_websocket_response(101, ok, key), "");
    EXPECT_NE(check_websocket_response(200, ok, key), "");
    Headers bad = ok;
    bad.set("Sec-WebSocket-Accept", "AAAAAAAAAAAAAAAAAAAAAAAAAAA=");
    EXPECT_NE(check_websocket_response(101, bad, key), "");
    bad = ok;
    bad.remove("Connection");
    EXPECT_NE(check_websocket_response(101, bad, key), "");
    bad = ok;
    bad.set("Upgrade", "h2c");
    EXPECT_NE(check_websocket_response(101, bad, key), "");
}
