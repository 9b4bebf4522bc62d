// tests/redis/reply_test.cpp - Reply and MapView: building, exact accessors,
// conversions across RESP2 and RESP3 forms, errors, equality, rendering.
#include "corio/redis/reply.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <unordered_map>
#include <vector>

#include "corio/redis/errors.hpp"

namespace {

using corio::redis::MapView;
using corio::redis::Reply;
using corio::redis::ReplyError;
using corio::redis::ReplyTypeError;

Reply bulk(std::string s) {
    return Reply::bulk_string(std::move(s));
}

/// The message of the ReplyTypeError that `f` throws.
template <class F>
std::string type_error(F f) {
    try {
        f();
    } catch (const ReplyTypeError& e) {
        return e.what();
    }
    ADD_FAILURE() << "no ReplyTypeError";
    return {};
}

TEST(Reply, DefaultIsNull) {
    Reply r;
    EXPECT_TRUE(r.is_null());
    EXPECT_EQ(r.type(), Reply::Type::null);
    EXPECT_EQ(r, Reply::null());
}

TEST(Reply, TypePredicates) {
    EXPECT_TRUE(Reply::simple_string("x").is_string());
    EXPECT_TRUE(bulk("x").is_string());
    EXPECT_TRUE(Reply::verbatim_string("txt", "x").is_string());
    EXPECT_FALSE(Reply::big_number("1").is_string());
    EXPECT_TRUE(Reply::simple_error("ERR").is_error());
    EXPECT_TRUE(Reply::bulk_error("ERR").is_error());
    EXPECT_TRUE(Reply::array({}).is_array());
    EXPECT_TRUE(Reply::set({}).is_array());
    EXPECT_TRUE(Reply::set({}).is_set());
    EXPECT_TRUE(Reply::push({}).is_array());
    EXPECT_TRUE(Reply::push({}).is_push());
    EXPECT_FALSE(Reply::map({}).is_array());
    EXPECT_TRUE(Reply::map({}).is_map());
    EXPECT_TRUE(Reply::integer(1).is_integer());
    EXPECT_TRUE(Reply::double_(1).is_double());
    EXPECT_TRUE(Reply::boolean(true).is_boolean());
    EXPECT_TRUE(Reply::big_number("1").is_big_number());
}

TEST(Reply, ExactAccessors) {
    EXPECT_EQ(Reply::simple_string("OK").as_string(), "OK");
    EXPECT_EQ(Reply::integer(-5).as_integer(), -5);
    EXPECT_EQ(Reply::double_(2.5).as_double(), 2.5);
    EXPECT_TRUE(Reply::boolean(true).as_bool());
    EXPECT_EQ(Reply::big_number("+12").as_big_number(), "+12");
    EXPECT_EQ(Reply::array({Reply::integer(1)}).as_array().size(), 1u);
    EXPECT_EQ(Reply::verbatim_string("mkd", "# x").verbatim_format(), "mkd");
    EXPECT_EQ(Reply::bulk_error("ERR x").as_error(), "ERR x");
}

TEST(Reply, WrongTypeThrowsReplyTypeErrorNamingBoth) {
    EXPECT_EQ(type_error([] { Reply::integer(1).as_string(); }),
              "corio::redis::Reply::as_string: the reply is an integer ((integer) 1)");
    EXPECT_EQ(type_error([] { bulk("5").as_integer(); }),
              "corio::redis::Reply::as_integer: the reply is a bulk_string (\"5\")");
    EXPECT_EQ(type_error([] { Reply().as_array(); }),
              "corio::redis::Reply::as_array: the reply is null ((nil))");
    EXPECT_NE(type_error([] { Reply::integer(1).as_double(); }), "");
    EXPECT_NE(type_error([] { Reply::integer(1).as_bool(); }), "");
    EXPECT_NE(type_error([] { Reply::integer(1).as_big_number(); }), "");
    EXPECT_NE(type_error([] { Reply::integer(1).as_map(); }), "");
    EXPECT_NE(type_error([] { bulk("x").verbatim_format(); }), "");
    EXPECT_EQ(type_error([] { Reply::integer(1).as_error(); }),
              "corio::redis::Reply::as_error: the reply is an integer, not an error");
    // A ReplyTypeError is a RedisError, so one catch covers the client's errors.
    EXPECT_THROW(Reply().as_string(), corio::redis::RedisError);
}

TEST(Reply, AccessorsOnAnErrorReplyThrowTheServersError) {
    Reply err = Reply::simple_error("NOSCRIPT No matching script. Please use EVAL.");
    try {
        err.as_string();
        ADD_FAILURE() << "no throw";
    } catch (const ReplyError& e) {
        EXPECT_EQ(e.prefix(), "NOSCRIPT");
        EXPECT_EQ(e.message(), "NOSCRIPT No matching script. Please use EVAL.");
        EXPECT_STREQ(e.what(), "NOSCRIPT No matching script. Please use EVAL.");
    }
    EXPECT_THROW(err.as_integer(), ReplyError);
    EXPECT_THROW(err.to_string(), ReplyError);
    EXPECT_THROW(err.to_optional_string(), ReplyError);
    EXPECT_THROW(err.to<std::int64_t>(), ReplyError);
    EXPECT_THROW(Reply::bulk_error("ERR b").as_array(), ReplyError);
    EXPECT_NO_THROW(Reply::integer(1).throw_if_error());
}

TEST(ReplyError, Prefix) {
    EXPECT_EQ(ReplyError("WRONGTYPE Operation against a key").prefix(), "WRONGTYPE");
    EXPECT_EQ(ReplyError("MOVED 3999 127.0.0.1:6381").prefix(), "MOVED");
    EXPECT_EQ(ReplyError("ASK 3999 127.0.0.1:6381").prefix(), "ASK");
    EXPECT_EQ(ReplyError("ERR").prefix(), "ERR");
    EXPECT_EQ(ReplyError("BUSYGROUP Consumer Group name already exists").prefix(), "BUSYGROUP");
    EXPECT_EQ(ReplyError("NOPERM this user has no permissions").prefix(), "NOPERM");
    EXPECT_EQ(ReplyError("Error: lowercase").prefix(), "");
    EXPECT_EQ(ReplyError("ERR:x").prefix(), "");
    EXPECT_EQ(ReplyError("42 is not a code").prefix(), "");
    EXPECT_EQ(ReplyError("").prefix(), "");
    EXPECT_STREQ(ReplyError("").what(), "(empty error reply)");
}

TEST(Reply, ToStringAcrossForms) {
    EXPECT_EQ(bulk("v").to_string(), "v");
    EXPECT_EQ(Reply::simple_string("OK").to_string(), "OK");
    EXPECT_EQ(Reply::verbatim_string("txt", "text").to_string(), "text");
    EXPECT_EQ(Reply::big_number("123").to_string(), "123");
    EXPECT_EQ(Reply::integer(-42).to_string(), "-42");
    EXPECT_EQ(Reply::double_(0.1).to_string(), "0.1");
    EXPECT_EQ(Reply::double_(-std::numeric_limits<double>::infinity()).to_string(), "-inf");
    EXPECT_NE(type_error([] { Reply().to_string(); }), "");
    EXPECT_NE(type_error([] { Reply::array({}).to_string(); }), "");
    EXPECT_EQ(Reply().to_optional_string(), std::nullopt);
    EXPECT_EQ(bulk("v").to_optional_string(), "v");
}

TEST(Reply, ToIntegerAcceptsResp2Strings) {
    EXPECT_EQ(Reply::integer(7).to_integer(), 7);
    EXPECT_EQ(bulk("-12").to_integer(), -12);
    EXPECT_EQ(Reply::big_number("9223372036854775807").to_integer(),
              std::numeric_limits<std::int64_t>::max());
    EXPECT_EQ(Reply::boolean(true).to_integer(), 1);
    EXPECT_EQ(type_error([] { bulk("12abc").to_integer(); }),
              "corio::redis::Reply::to_integer: \"12abc\" is not a 64-bit integer");
    EXPECT_NE(type_error([] { Reply::big_number("9223372036854775808").to_integer(); }), "");
    EXPECT_NE(type_error([] { Reply::double_(1).to_integer(); }), "");
}

TEST(Reply, ToDoubleAcceptsResp2Strings) {
    EXPECT_EQ(Reply::double_(1.25).to_double(), 1.25);
    EXPECT_EQ(Reply::integer(3).to_double(), 3.0);
    EXPECT_EQ(bulk("3.5").to_double(), 3.5);  // ZSCORE in RESP2
    EXPECT_EQ(bulk("inf").to_double(), std::numeric_limits<double>::infinity());
    EXPECT_EQ(bulk("-inf").to_double(), -std::numeric_limits<double>::infinity());
    EXPECT_NE(type_error([] { bulk("x").to_double(); }), "");
    EXPECT_NE(type_error([] { Reply::boolean(true).to_double(); }), "");
}

TEST(Reply, ToBoolAcceptsResp2Integers) {
    EXPECT_TRUE(Reply::boolean(true).to_bool());
    EXPECT_TRUE(Reply::integer(1).to_bool());
    EXPECT_FALSE(Reply::integer(0).to_bool());
    EXPECT_NE(type_error([] { Reply::simple_string("OK").to_bool(); }), "");
}

TEST(Reply, ToStringVector) {
    Reply keys = Reply::array({bulk("a"), bulk("b")});
    EXPECT_EQ(keys.to_string_vector(), (std::vector<std::string>{"a", "b"}));
    EXPECT_EQ(Reply::set({bulk("x")}).to_string_vector(), (std::vector<std::string>{"x"}));
    EXPECT_NE(type_error([] { Reply::array({bulk("a"), Reply()}).to_string_vector(); }), "");
    EXPECT_NE(type_error([] { Reply().to_string_vector(); }), "");
}

TEST(Reply, ToOptionalStringVectorForMget) {
    Reply mget = Reply::array({bulk("1"), Reply(), bulk("3")});
    EXPECT_EQ(mget.to_optional_string_vector(),
              (std::vector<std::optional<std::string>>{"1", std::nullopt, "3"}));
}

TEST(Reply, ToStringMapFromResp3MapAndResp2FlatArray) {
    std::map<std::string, std::string> expected{{"name", "corio"}, {"n", "3"}};
    Reply resp3 = Reply::map({{bulk("name"), bulk("corio")}, {bulk("n"), Reply::integer(3)}});
    Reply resp2 = Reply::array({bulk("name"), bulk("corio"), bulk("n"), bulk("3")});
    EXPECT_EQ(resp3.to_string_map(), expected);
    EXPECT_EQ(resp2.to_string_map(), expected);
    std::unordered_map<std::string, std::string> unordered(expected.begin(), expected.end());
    EXPECT_EQ(resp3.to_unordered_string_map(), unordered);
    EXPECT_EQ(resp2.to_unordered_string_map(), unordered);
    EXPECT_EQ(type_error([] { Reply::array({bulk("k")}).to_string_map(); }),
              "corio::redis::Reply::to<map>: an array of odd length (1) is not key/value pairs");
    EXPECT_NE(type_error([] { Reply::set({}).to_string_map(); }), "");
}

TEST(Reply, ToStringMapLaterDuplicateWins) {
    Reply r = Reply::array({bulk("k"), bulk("1"), bulk("k"), bulk("2")});
    EXPECT_EQ(r.to_string_map(), (std::map<std::string, std::string>{{"k", "2"}}));
}

TEST(Reply, ToComposes) {
    Reply r = Reply::array({Reply::integer(1), Reply(), bulk("3")});
    EXPECT_EQ(r.to<std::vector<std::optional<std::int64_t>>>(),
              (std::vector<std::optional<std::int64_t>>{1, std::nullopt, 3}));
    Reply scores = Reply::map({{bulk("a"), Reply::double_(1.5)}, {bulk("b"), bulk("2")}});
    EXPECT_EQ((scores.to<std::map<std::string, double>>()),
              (std::map<std::string, double>{{"a", 1.5}, {"b", 2.0}}));
    EXPECT_EQ(Reply::integer(5).to<int>(), 5);
    EXPECT_EQ(Reply::integer(5).to<float>(), 5.0f);
    EXPECT_EQ(Reply().to<std::optional<std::string>>(), std::nullopt);
    EXPECT_EQ(Reply::integer(2).to<Reply>(), Reply::integer(2));
    EXPECT_EQ(
        (Reply::array({Reply::array({bulk("a")})}).to<std::vector<std::vector<std::string>>>()),
        (std::vector<std::vector<std::string>>{{"a"}}));
}

TEST(Reply, ToIntegerTypeChecksItsRange) {
    EXPECT_EQ(Reply::integer(127).to<std::int8_t>(), 127);
    EXPECT_EQ(type_error([] { Reply::integer(128).to<std::int8_t>(); }),
              "corio::redis::Reply::to<T>: 128 does not fit in T (a signed integer type)");
    EXPECT_NE(type_error([] { Reply::integer(-1).to<unsigned>(); }), "");
    EXPECT_EQ(Reply::integer(std::numeric_limits<std::int64_t>::max()).to<std::uint64_t>(),
              std::uint64_t{9223372036854775807});
}

TEST(Reply, MovingConvertsWithoutCopyingPayloads) {
    std::string long_text(100, 'x');
    Reply r = Reply::array({bulk(long_text), bulk(long_text)});
    const char* first = r.as_array()[0].as_string().data();
    std::vector<std::string> out = std::move(r).to_string_vector();
    EXPECT_EQ(out[0].data(), first);  // the same heap block: moved, not copied

    Reply single = bulk(long_text);
    const char* data = single.as_string().data();
    EXPECT_EQ(std::move(single).as_string().data(), data);

    Reply map = Reply::map({{bulk(long_text + "k"), bulk(long_text)}});
    const char* value = map.as_map()[0].second.as_string().data();
    auto converted = std::move(map).to_string_map();
    EXPECT_EQ(converted.begin()->second.data(), value);
}

TEST(Reply, CopiesAreDeep) {
    Reply original = Reply::array({bulk("a"), Reply::map({{bulk("k"), bulk("v")}})})
                         .with_attributes({{bulk("attr"), Reply::integer(1)}});
    Reply copy = original;
    EXPECT_EQ(copy, original);
    EXPECT_TRUE(copy.has_attributes());
    EXPECT_NE(copy.as_array()[0].as_string().data(), original.as_array()[0].as_string().data());
    Reply assigned;
    assigned = copy;
    EXPECT_EQ(assigned, original);
    assigned = Reply::integer(1);
    EXPECT_EQ(assigned, Reply::integer(1));
    EXPECT_FALSE(assigned.has_attributes());
    EXPECT_EQ(copy, original);
}

TEST(MapView, IteratesPairsInOrder) {
    Reply r = Reply::map({{bulk("a"), Reply::integer(1)}, {bulk("b"), Reply::integer(2)}});
    MapView m = r.as_map();
    ASSERT_EQ(m.size(), 2u);
    std::vector<std::string> keys;
    std::int64_t sum = 0;
    for (const auto& [key, value] : m) {
        keys.push_back(key.as_string());
        sum += value.as_integer();
    }
    EXPECT_EQ(keys, (std::vector<std::string>{"a", "b"}));
    EXPECT_EQ(sum, 3);
    EXPECT_EQ(m.end() - m.begin(), 2);
    EXPECT_EQ((*(m.begin() + 1)).first.as_string(), "b");
    EXPECT_EQ(m[1].second.as_integer(), 2);
}

TEST(MapView, FindByStringKey) {
    Reply hello = Reply::map({{Reply::simple_string("server"), bulk("redis")},
                              {Reply::simple_string("proto"), Reply::integer(3)},
                              {Reply::integer(7), bulk("seven")}});
    ASSERT_NE(hello.as_map().find("proto"), nullptr);
    EXPECT_EQ(hello.as_map().find("proto")->as_integer(), 3);
    EXPECT_EQ(hello.as_map().find("missing"), nullptr);
    EXPECT_EQ(hello.as_map().find("7"), nullptr);  // keys are compared as strings only
    EXPECT_TRUE(MapView().empty());
}

TEST(MapView, Resp2FlatArrayReadsAsAMap) {
    Reply r = Reply::array({bulk("k1"), bulk("v1"), bulk("k2"), bulk("v2")});
    EXPECT_EQ(r.as_map().size(), 2u);
    EXPECT_EQ(r.as_map().find("k2")->as_string(), "v2");
}

TEST(Reply, Attributes) {
    Reply plain = Reply::integer(1);
    EXPECT_FALSE(plain.has_attributes());
    EXPECT_TRUE(plain.attributes().empty());
    Reply with = Reply::integer(1).with_attributes({{bulk("ttl"), Reply::integer(5)}});
    EXPECT_TRUE(with.has_attributes());
    EXPECT_EQ(with.attributes().find("ttl")->as_integer(), 5);
    // Attributes are part of equality.
    EXPECT_NE(with, plain);
    EXPECT_EQ(std::move(with).with_attributes({}), plain);
}

TEST(Reply, Equality) {
    EXPECT_EQ(Reply::double_(std::nan("")), Reply::double_(std::nan("")));
    EXPECT_NE(Reply::double_(1), Reply::integer(1));
    EXPECT_NE(Reply::simple_string("a"), bulk("a"));
    EXPECT_NE(Reply::verbatim_string("txt", "a"), Reply::verbatim_string("mkd", "a"));
    EXPECT_NE(Reply::array({}), Reply::set({}));
    EXPECT_NE(Reply::array({bulk("a")}), Reply::array({bulk("b")}));
    EXPECT_EQ(Reply::map({{bulk("a"), bulk("b")}}), Reply::map({{bulk("a"), bulk("b")}}));
    EXPECT_NE(Reply::map({{bulk("a"), bulk("b")}}), Reply::array({bulk("a"), bulk("b")}));
}

TEST(Reply, BuildersValidate) {
    EXPECT_THROW(Reply::big_number("12x"), std::invalid_argument);
    EXPECT_THROW(Reply::big_number(""), std::invalid_argument);
    EXPECT_THROW(Reply::verbatim_string("text", "x"), std::invalid_argument);
    EXPECT_THROW(Reply::verbatim_string("tx", "x"), std::invalid_argument);
}

TEST(Reply, Repr) {
    Reply r = Reply::array({
        Reply::simple_string("OK"),
        Reply::integer(1),
        Reply(),
        bulk("a\"b\r\n\x01"),
        Reply::map({{bulk("k"), Reply::double_(1.5)}}),
        Reply::set({Reply::boolean(true)}),
        Reply::simple_error("ERR x"),
        Reply::verbatim_string("txt", "v"),
        Reply::big_number("12"),
        Reply::push({bulk("p")}).with_attributes({{bulk("a"), Reply::boolean(false)}}),
    });
    EXPECT_EQ(r.repr(),
              "[\"OK\", (integer) 1, (nil), \"a\\\"b\\r\\n\\x01\", {\"k\": (double) 1.5}, "
              "~{(true)}, (error) ERR x, (verbatim txt) \"v\", (big number) 12, "
              "|{\"a\": (false)}| >[\"p\"]]");
    std::ostringstream os;
    os << Reply::integer(3);
    EXPECT_EQ(os.str(), "(integer) 3");
    EXPECT_EQ(corio::redis::type_name(Reply::Type::verbatim_string), "verbatim_string");
}

}  // namespace
