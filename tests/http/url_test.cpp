// Percent-decoding and query strings, including the malformed escapes that
// Python passes through and corio rejects.
#include "corio/http/url.hpp"

#include <gtest/gtest.h>

#include <string>

using namespace corio::http;

TEST(PercentDecode, DecodesEscapesInEitherCase) {
    EXPECT_EQ(percent_decode("/a%20b/%E2%82%ac"), "/a b/\xe2\x82\xac");
    EXPECT_EQ(percent_decode("%2f%2F"), "//");
    EXPECT_EQ(percent_decode("a+b"), "a+b");  // no form encoding in paths
    EXPECT_EQ(percent_decode(""), "");
    EXPECT_EQ(percent_decode("%00"), std::string("\0", 1));
}

TEST(PercentDecode, RejectsMalformedEscapes) {
    EXPECT_EQ(percent_decode("%"), std::nullopt);
    EXPECT_EQ(percent_decode("%4"), std::nullopt);
    EXPECT_EQ(percent_decode("a%4"), std::nullopt);
    EXPECT_EQ(percent_decode("%zz"), std::nullopt);
    EXPECT_EQ(percent_decode("%4g"), std::nullopt);
    EXPECT_EQ(percent_decode("%%41"), std::nullopt);
    EXPECT_EQ(percent_decode("ok%41%"), std::nullopt);
}

TEST(ParseQuery, PairsInOrderWithRepeatedKeys) {
    auto q = parse_query("a=1&b=x+y&a=%41&empty=&flag");
    ASSERT_TRUE(q);
    EXPECT_EQ(q->size(), 5u);
    EXPECT_EQ(q->get_all("a"), (std::vector<std::string_view>{"1", "A"}));
    EXPECT_EQ(q->get("b"), "x y");
    EXPECT_EQ(q->get("empty"), "");
    EXPECT_EQ(q->get("flag"), "");
}

TEST(ParseQuery, SplitsOnTheFirstEqualsAndSkipsEmptyPairs) {
    auto q = parse_query("&&k=v=w&&%3D=%26&");
    ASSERT_TRUE(q);
    EXPECT_EQ(q->size(), 2u);
    EXPECT_EQ(q->get("k"), "v=w");
    EXPECT_EQ(q->get("="), "&");
    EXPECT_TRUE(parse_query("")->empty());
}

TEST(ParseQuery, RejectsMalformedEscapesAnywhere) {
    EXPECT_EQ(parse_query("a=%zz"), std::nullopt);
    EXPECT_EQ(parse_query("%q=1"), std::nullopt);
    EXPECT_EQ(parse_query("a=1&b=%"), std::nullopt);
}
