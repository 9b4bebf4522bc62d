// UTF-8 validation: the well-formed ranges of Unicode table 3-7, and the
// same verdict at every split of the input.
#include "http/utf8.hpp"

#include <gtest/gtest.h>

#include <string>

using corio::http::detail::is_valid_utf8;
using corio::http::detail::Utf8Validator;

namespace {

/// The verdict for `s` fed whole, at every split and byte by byte; the test
/// fails if they differ.
bool valid_all_ways(std::string_view s) {
    const bool whole = is_valid_utf8(s);
    for (std::size_t i = 0; i <= s.size(); ++i) {
        Utf8Validator v;
        bool ok = v.feed(s.substr(0, i)) && v.feed(s.substr(i)) && v.complete();
        EXPECT_EQ(ok, whole) << "split at " << i;
    }
    Utf8Validator v;
    bool ok = true;
    for (char c : s) {
        ok = ok && v.feed(&c, 1);
    }
    EXPECT_EQ(ok && v.complete(), whole) << "byte by byte";
    return whole;
}

}  // namespace

TEST(Utf8, AcceptsWellFormedSequences) {
    EXPECT_TRUE(valid_all_ways(""));
    EXPECT_TRUE(valid_all_ways("plain ASCII, long enough for the 8-byte path"));
    EXPECT_TRUE(valid_all_ways("\x7f"));
    EXPECT_TRUE(valid_all_ways("\xc2\x80\xdf\xbf"));                  // U+0080, U+07FF
    EXPECT_TRUE(valid_all_ways("\xe0\xa0\x80\xef\xbf\xbf"));          // U+0800, U+FFFF
    EXPECT_TRUE(valid_all_ways("\xed\x9f\xbf\xee\x80\x80"));          // U+D7FF, U+E000
    EXPECT_TRUE(valid_all_ways("\xf0\x90\x80\x80\xf4\x8f\xbf\xbf"));  // U+10000, U+10FFFF
    EXPECT_TRUE(
        valid_all_ways("Hello-\xc2\xb5@\xc3\x9f\xc3\xb6\xc3\xa4\xc3\xbc\xc3\xa0\xc3\xa1-UTF-8!!"));
    EXPECT_TRUE(valid_all_ways(std::string("nul\0inside", 10)));
}

TEST(Utf8, RejectsOverlongForms) {
    EXPECT_FALSE(valid_all_ways("\xc0\x80"));  // U+0000 in two bytes
    EXPECT_FALSE(valid_all_ways("\xc1\xbf"));
    EXPECT_FALSE(valid_all_ways("\xe0\x80\x80"));      // U+0000 in three
    EXPECT_FALSE(valid_all_ways("\xe0\x9f\xbf"));      // U+07FF in three
    EXPECT_FALSE(valid_all_ways("\xf0\x80\x80\x80"));  // U+0000 in four
    EXPECT_FALSE(valid_all_ways("\xf0\x8f\xbf\xbf"));  // U+FFFF in four
}

TEST(Utf8, RejectsSurrogatesAndBeyondU10FFFF) {
    EXPECT_FALSE(valid_all_ways("\xed\xa0\x80"));              // U+D800
    EXPECT_FALSE(valid_all_ways("\xed\xbf\xbf"));              // U+DFFF
    EXPECT_FALSE(valid_all_ways("\xed\xa0\x80\xed\xb0\x80"));  // a CESU-8 pair
    EXPECT_FALSE(valid_all_ways("\xf4\x90\x80\x80"));          // U+110000
    EXPECT_FALSE(valid_all_ways("\xf5\x80\x80\x80"));
    EXPECT_FALSE(valid_all_ways("\xff"));
    EXPECT_FALSE(valid_all_ways("\xfe"));
}

TEST(Utf8, RejectsStrayAndMissingContinuations) {
    EXPECT_FALSE(valid_all_ways("\x80"));
    EXPECT_FALSE(valid_all_ways("a\xbf"));
    EXPECT_FALSE(valid_all_ways("\xc3"));  // truncated at the end
    EXPECT_FALSE(valid_all_ways("\xe2\x82"));
    EXPECT_FALSE(valid_all_ways("\xf0\x9f\x98"));
    EXPECT_FALSE(valid_all_ways("\xc3("));  // continuation replaced
    EXPECT_FALSE(valid_all_ways("\xe2\x28\xa1"));
}

TEST(Utf8, FailsOnTheFirstBadByteAndStaysFailed) {
    Utf8Validator v;
    EXPECT_TRUE(v.feed("ok \xce\xba"));
    EXPECT_TRUE(v.complete());
    EXPECT_TRUE(v.feed("\xe2\x82"));  // may still be completed
    EXPECT_FALSE(v.complete());
    EXPECT_FALSE(v.failed());
    EXPECT_FALSE(v.feed("A"));  // cannot be
    EXPECT_TRUE(v.failed());
    EXPECT_FALSE(v.feed("plain"));
    v.reset();
    EXPECT_TRUE(v.feed("plain"));
}
