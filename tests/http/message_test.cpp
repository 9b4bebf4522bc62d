// Method, HttpVersion, the field-syntax checks and Headers' insertion check.
#include "corio/http/message.hpp"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

using namespace corio::http;

TEST(Method, NamesRoundTrip) {
    for (Method m : {Method::GET, Method::HEAD, Method::POST, Method::PUT, Method::DELETE,
                     Method::CONNECT, Method::OPTIONS, Method::TRACE, Method::PATCH}) {
        EXPECT_EQ(parse_method(method_name(m)), m) << method_name(m);
    }
    EXPECT_EQ(method_name(Method::GET), "GET");
    EXPECT_EQ(method_name(Method::other), "");
}

TEST(Method, ParseIsCaseSensitiveAndKeepsExtensionTokens) {
    EXPECT_EQ(parse_method("get"), Method::other);  // RFC 9110 9.1: case-sensitive
    EXPECT_EQ(parse_method("PROPFIND"), Method::other);
    EXPECT_EQ(parse_method(""), std::nullopt);
    EXPECT_EQ(parse_method("GE T"), std::nullopt);
}

TEST(HttpVersion, OrdersByMajorThenMinor) {
    EXPECT_LT(HttpVersion10, HttpVersion11);
    EXPECT_EQ((HttpVersion{1, 1}), HttpVersion11);
    EXPECT_LT(HttpVersion11, (HttpVersion{2, 0}));
}

TEST(FieldSyntax, TokensAndValues) {
    EXPECT_TRUE(is_token("Content-Length"));
    EXPECT_TRUE(is_token("!#$%&'*+-.^_`|~09azAZ"));
    EXPECT_FALSE(is_token(""));
    EXPECT_FALSE(is_token("Content Length"));
    EXPECT_FALSE(is_token("a:b"));
    EXPECT_FALSE(is_token("caf\xc3\xa9"));
    EXPECT_TRUE(is_field_value("text/html; charset=utf-8"));
    EXPECT_TRUE(is_field_value("tab\there and obs-text \xff"));
    EXPECT_TRUE(is_field_value(""));
    EXPECT_FALSE(is_field_value("a\r\nX-Injected: 1"));
    EXPECT_FALSE(is_field_value("a\nb"));
    EXPECT_FALSE(is_field_value(std::string("a\0b", 3)));
    EXPECT_FALSE(is_field_value("bell\x07"));
    EXPECT_FALSE(is_field_value("del\x7f"));
}

TEST(FieldSyntax, HasTokenReadsCommaLists) {
    EXPECT_TRUE(has_token("keep-alive, Upgrade", "upgrade"));
    EXPECT_TRUE(has_token("  upgrade  ", "Upgrade"));
    EXPECT_TRUE(has_token("a,,b", "b"));
    EXPECT_FALSE(has_token("upgraded", "upgrade"));
    EXPECT_FALSE(has_token("", "upgrade"));
    EXPECT_FALSE(has_token("up grade", "upgrade"));
}

TEST(Headers, CaseInsensitiveMultimapKeepingOrderAndSpelling) {
    Headers h{{"Host", "example.com"}, {"Set-Cookie", "a=1"}, {"set-cookie", "b=2"}};
    EXPECT_EQ(h.get("HOST"), "example.com");
    EXPECT_EQ(h.get_all("Set-Cookie"), (std::vector<std::string_view>{"a=1", "b=2"}));
    EXPECT_TRUE(h.contains("set-COOKIE"));
    h.set("SET-COOKIE", "c=3");
    EXPECT_EQ(h.get_all("set-cookie"), (std::vector<std::string_view>{"c=3"}));
    EXPECT_EQ(std::next(h.begin())->key, "Set-Cookie");
    EXPECT_EQ(h.remove("host"), 1u);
    EXPECT_FALSE(h.contains("Host"));
}

TEST(Headers, RejectsWhatCouldInjectALine) {
    Headers h;
    EXPECT_THROW(h.add("X-A", "ok\r\nX-Injected: 1"), std::invalid_argument);
    EXPECT_THROW(h.add("X-A", "ok\n"), std::invalid_argument);
    EXPECT_THROW(h.set("X-A", std::string("a\0", 2)), std::invalid_argument);
    EXPECT_THROW(h.add("Bad Name", "v"), std::invalid_argument);
    EXPECT_THROW(h.add("", "v"), std::invalid_argument);
    EXPECT_THROW(h.add("X-A:", "v"), std::invalid_argument);
    EXPECT_TRUE(h.empty());  // nothing half-added
    try {
        h.add("X-Bad", "a\rb");
        FAIL() << "no exception";
    } catch (const std::invalid_argument& e) {
        EXPECT_NE(std::string(e.what()).find("X-Bad"), std::string::npos) << e.what();
    }
}
