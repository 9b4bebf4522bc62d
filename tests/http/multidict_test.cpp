// MultiDict and CIMultiDict: order, repeated keys, multidict's set/remove.
#include "corio/http/multidict.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

using corio::http::CIMultiDict;
using corio::http::iequals;
using corio::http::MultiDict;

TEST(Iequals, IgnoresAsciiCaseOnly) {
    EXPECT_TRUE(iequals("Content-Length", "content-LENGTH"));
    EXPECT_FALSE(iequals("Content-Length", "Content-Lengt"));
    EXPECT_FALSE(iequals("a-b", "a_b"));
    EXPECT_FALSE(iequals("\xc3\xa9", "\xc3\x89"));  // é vs É: not ASCII, compared exactly
    EXPECT_TRUE(iequals("", ""));
}

TEST(MultiDict, KeepsOrderAndRepeatedKeys) {
    MultiDict md{{"a", "1"}, {"b", "2"}, {"a", "3"}};
    EXPECT_EQ(md.size(), 3u);
    EXPECT_EQ(md.get("a"), "1");
    EXPECT_EQ(md.get_all("a"), (std::vector<std::string_view>{"1", "3"}));
    EXPECT_EQ(md.count("a"), 2u);
    std::vector<std::string> keys;
    for (const auto& e : md) {
        keys.push_back(e.key);
    }
    EXPECT_EQ(keys, (std::vector<std::string>{"a", "b", "a"}));
}

TEST(MultiDict, KeysAreCaseSensitive) {
    MultiDict md{{"Key", "1"}};
    EXPECT_TRUE(md.contains("Key"));
    EXPECT_FALSE(md.contains("key"));
    EXPECT_EQ(md.get("key"), std::nullopt);
    EXPECT_EQ(md.get("key", "fallback"), "fallback");
}

TEST(MultiDict, SetReplacesFirstInPlaceAndDropsTheRest) {
    MultiDict md{{"a", "1"}, {"b", "2"}, {"a", "3"}, {"c", "4"}};
    md.set("a", "9");
    ASSERT_EQ(md.size(), 3u);
    auto it = md.begin();
    EXPECT_EQ(it->key, "a");
    EXPECT_EQ(it->value, "9");
    ++it;
    EXPECT_EQ(it->key, "b");
    ++it;
    EXPECT_EQ(it->key, "c");
    md.set("d", "5");  // absent: appended
    EXPECT_EQ(md.size(), 4u);
    EXPECT_EQ(md.get("d"), "5");
}

TEST(MultiDict, RemoveDropsEveryEntryOfTheKey) {
    MultiDict md{{"a", "1"}, {"b", "2"}, {"a", "3"}};
    EXPECT_EQ(md.remove("a"), 2u);
    EXPECT_EQ(md.remove("a"), 0u);
    ASSERT_EQ(md.size(), 1u);
    EXPECT_EQ(md.begin()->key, "b");
    md.clear();
    EXPECT_TRUE(md.empty());
}

TEST(CIMultiDict, LookupsIgnoreCaseAndKeepTheSpelling) {
    CIMultiDict md;
    md.add("Content-Type", "text/plain");
    md.add("X-Thing", "1");
    md.add("x-thing", "2");
    EXPECT_EQ(md.get("content-type"), "text/plain");
    EXPECT_EQ(md.get_all("X-THING"), (std::vector<std::string_view>{"1", "2"}));
    EXPECT_EQ(md.begin()->key, "Content-Type");
    md.set("CONTENT-TYPE", "text/html");
    EXPECT_EQ(md.begin()->key, "Content-Type");  // the first entry keeps its spelling
    EXPECT_EQ(md.get("Content-Type"), "text/html");
    EXPECT_EQ(md.remove("X-THING"), 2u);
    EXPECT_EQ(md.size(), 1u);
}

TEST(CIMultiDict, EqualityComparesEntriesInOrder) {
    CIMultiDict a{{"A", "1"}, {"B", "2"}};
    CIMultiDict b{{"A", "1"}, {"B", "2"}};
    CIMultiDict c{{"B", "2"}, {"A", "1"}};
    EXPECT_EQ(a, b);
    EXPECT_NE(a, c);
}
