// The codec, sans-I/O: round trips of every supported type, canonical
// bytes, and clear errors on truncated or malformed input. Every decode
// reads its input placed against a guard page.
#include "corio/process/codec.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <unordered_map>
#include <variant>
#include <vector>

#include "support/guard_page.hpp"

namespace {

using corio::process::CodecError;
using corio::process::decode;
using corio::process::DecodeLimits;
using corio::process::encode;

enum class Color : std::uint8_t { red = 1, green = 2 };

struct Point {
    int x = 0;
    double y = 0;
    std::string label;
    std::optional<Color> color;
    CORIO_PROCESS_FIELDS(x, y, label, color)
    bool operator==(const Point&) const = default;
};

struct Tree {
    int value = 0;
    std::vector<Tree> children;
    CORIO_PROCESS_FIELDS(value, children)
    bool operator==(const Tree&) const = default;
};

corio_test::GuardPage& guard() {
    static corio_test::GuardPage g(1 << 20);
    return g;
}

template <class T>
T through_guard(const std::string& bytes) {
    return decode<T>(guard().place(bytes));
}

// decode(encode(v)) == v, and the bytes are canonical: re-encoding the
// decoded value gives the same bytes.
template <class T>
void round_trip(const T& v) {
    std::string bytes = encode(v);
    T back = through_guard<T>(bytes);
    EXPECT_EQ(back, v);
    EXPECT_EQ(encode(back), bytes);
}

// Every strict prefix of a valid encoding is rejected with CodecError.
template <class T>
void every_prefix_fails(const T& v) {
    std::string bytes = encode(v);
    for (std::size_t n = 0; n < bytes.size(); ++n) {
        EXPECT_THROW(through_guard<T>(bytes.substr(0, n)), CodecError) << "prefix of " << n;
    }
}

std::string message_of(auto&& fn) {
    try {
        fn();
    } catch (const CodecError& e) {
        return e.what();
    }
    return "no error";
}

TEST(Codec, ArithmeticTypesRoundTripAtTheirLimits) {
    round_trip(true);
    round_trip(false);
    round_trip('x');
    round_trip(std::numeric_limits<std::int8_t>::min());
    round_trip(std::numeric_limits<std::uint16_t>::max());
    round_trip(std::numeric_limits<std::int32_t>::min());
    round_trip(std::numeric_limits<std::int64_t>::min());
    round_trip(std::numeric_limits<std::uint64_t>::max());
    round_trip(3.25f);
    round_trip(-0.0);
    round_trip(std::numeric_limits<double>::infinity());
    round_trip(Color::green);
    round_trip(std::chrono::milliseconds(-1500));
    EXPECT_EQ(encode(std::int32_t{1}), std::string("\x01\x00\x00\x00", 4));
}

TEST(Codec, StringsAndContainersRoundTrip) {
    round_trip(std::string());
    round_trip(std::string("hello\0world", 11));
    round_trip(std::string(300, 'z'));  // a two-byte length
    round_trip(std::vector<int>{1, -2, 3});
    round_trip(std::vector<bool>{true, false, true});
    round_trip(std::vector<std::string>{"a", "", "ccc"});
    round_trip(std::map<std::string, std::vector<int>>{{"a", {1}}, {"b", {}}});
    // An unordered map's bytes follow its iteration order: equal values, and
    // bytes that are a permutation of the entries.
    std::unordered_map<int, std::string> um{{1, "one"}, {2, "two"}};
    EXPECT_EQ(through_guard<decltype(um)>(encode(um)), um);
    round_trip(std::set<long>{5, 1, 3});
    round_trip(std::array<short, 3>{1, 2, 3});
    round_trip(std::pair<int, std::string>{7, "seven"});
    round_trip(std::tuple<int, std::string, double>{1, "x", 2.5});
    round_trip(std::tuple<>{});
    round_trip(std::optional<std::string>());
    round_trip(std::optional<std::string>("here"));
    round_trip(std::variant<int, std::string>(std::string("alt")));
    round_trip(std::vector<std::monostate>(3));
    EXPECT_EQ(encode(std::string("ab")),
              "\x02"
              "ab");
}

TEST(Codec, UserStructsEncodeTheirFieldsInOrder) {
    Point p{3, 1.5, "p", Color::red};
    round_trip(p);
    EXPECT_EQ(encode(p), encode(std::tuple(3, 1.5, std::string("p"), std::optional(Color::red))));
    round_trip(std::vector<Point>{p, Point{}});
    round_trip(Tree{1, {Tree{2, {}}, Tree{3, {Tree{4, {}}}}}});
}

TEST(Codec, EveryTruncationThrowsCodecError) {
    every_prefix_fails(std::int64_t{42});
    every_prefix_fails(std::string("hello"));
    every_prefix_fails(std::vector<std::string>{"a", "bc"});
    every_prefix_fails(std::map<int, std::string>{{1, "x"}});
    every_prefix_fails(Point{3, 1.5, "p", Color::red});
    every_prefix_fails(std::optional<int>(5));
    every_prefix_fails(std::variant<int, double>(2.0));
}

TEST(Codec, ErrorsSayWhatWasBeingReadAndWhere) {
    std::string m = message_of([] { decode<std::int32_t>(std::string("\x01\x02", 2)); });
    EXPECT_NE(m.find("truncated input: a integer needs 4 bytes, 2 left"), std::string::npos) << m;
    EXPECT_NE(m.find("at byte 0 of 2"), std::string::npos) << m;
    m = message_of([] {
        decode<std::string>(
            std::string("\x05"
                        "ab"));
    });
    EXPECT_NE(m.find("string length 5 exceeds the 2 bytes left"), std::string::npos) << m;
}

TEST(Codec, MalformedInputIsRejected) {
    EXPECT_THROW(decode<bool>(std::string("\x02", 1)), CodecError);
    EXPECT_THROW(decode<std::monostate>(std::string("\x01", 1)), CodecError);
    // An overlong length (a redundant zero continuation byte).
    EXPECT_THROW(decode<std::string>(std::string("\x80\x00", 2)), CodecError);
    // A length past 64 bits.
    EXPECT_THROW(decode<std::string>(std::string(10, '\xff') + '\x01'), CodecError);
    // A count far beyond the input never allocates it.
    EXPECT_THROW(decode<std::vector<std::int64_t>>(std::string("\xff\xff\xff\xff\x0f", 5)),
                 CodecError);
    // A variant index out of range; a key twice; bytes left over.
    EXPECT_THROW((decode<std::variant<int, char>>(std::string("\x02\x00", 2))), CodecError);
    EXPECT_THROW((decode<std::set<char>>(std::string("\x02xx", 3))), CodecError);
    // Keys out of order would decode to the same set but not round-trip.
    EXPECT_THROW((decode<std::set<char>>(std::string("\x02yx", 3))), CodecError);
    EXPECT_EQ((decode<std::set<char>>(std::string("\x02xy", 3))), (std::set<char>{'x', 'y'}));
    EXPECT_THROW(decode<std::int8_t>(std::string("\x01\x02", 2)), CodecError);
}

TEST(Codec, NestingBeyondMaxDepthThrows) {
    Tree t;
    Tree* leaf = &t;
    for (int i = 0; i < 20; ++i) {
        leaf->children.emplace_back();
        leaf = &leaf->children.back();
    }
    std::string bytes = encode(t);
    EXPECT_EQ(decode<Tree>(bytes), t);
    std::string m = message_of([&] { decode<Tree>(bytes, DecodeLimits{.max_depth = 10}); });
    EXPECT_NE(m.find("nesting deeper than max_depth 10"), std::string::npos) << m;
}

TEST(Codec, LargePayloadsRoundTrip) {
    std::vector<std::uint8_t> big(8 << 20);
    for (std::size_t i = 0; i < big.size(); ++i) {
        big[i] = static_cast<std::uint8_t>(i * 31);
    }
    EXPECT_EQ(decode<std::vector<std::uint8_t>>(encode(big)), big);
}

}  // namespace
