// tests/redis/resp_test.cpp - the RESP3 codec: every type, RESP2 forms,
// limits, malformed input, and the encoder round-tripping through the decoder.
// Every decoding test feeds its input whole, split in two at every point, and
// byte by byte, each piece against a guard page, and expects the same outcome
// every way.
#include "corio/redis/resp.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <map>
#include <new>
#include <span>
#include <string>
#include <vector>

#include "support/guard_page.hpp"
#include "support/resp_feed.hpp"

// -- Allocation counting (for the no-allocation promises) ---------------------

namespace {
thread_local bool counting = false;
thread_local std::size_t allocations = 0;
thread_local std::size_t allocated_bytes = 0;
}  // namespace

void* operator new(std::size_t n) {
    if (counting) {
        ++allocations;
        allocated_bytes += n;
    }
    if (void* p = std::malloc(n == 0 ? 1 : n)) {
        return p;
    }
    throw std::bad_alloc();
}
void* operator new[](std::size_t n) {
    return ::operator new(n);
}
void operator delete(void* p) noexcept {
    std::free(p);
}
void operator delete[](void* p) noexcept {
    std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
    std::free(p);
}
void operator delete[](void* p, std::size_t) noexcept {
    std::free(p);
}

namespace {

using corio::redis::Decoder;
using corio::redis::DecodeResult;
using corio::redis::DecoderLimits;
using corio::redis::DecodeStatus;
using corio::redis::Reply;
using corio_test::RespOutcome;
using namespace std::string_literals;

/// Counts the allocations made while it lives.
struct AllocationCount {
    AllocationCount() {
        allocations = 0;
        allocated_bytes = 0;
        counting = true;
    }
    ~AllocationCount() { counting = false; }
    std::size_t count() const { return allocations; }
    std::size_t bytes() const { return allocated_bytes; }
};

std::string printable(std::string_view s) {
    return Reply::bulk_string(std::string(s)).repr();
}

/// Decodes `input` whole, split in two at every point, and one byte at a
/// time, each feed placed against a guard page; expects the same outcomes
/// every way and returns them.
std::vector<RespOutcome> decode_every_way(std::string_view input, DecoderLimits limits = {}) {
    corio_test::GuardPage guard(input.size() + 1);
    auto place = [&](std::string_view bytes) { return guard.place(bytes); };
    const std::vector<RespOutcome> whole =
        corio_test::decode_in_steps(input, {input.size()}, limits, place);
    for (std::size_t k = 0; k <= input.size(); ++k) {
        auto split = corio_test::decode_in_steps(input, {k, input.size()}, limits, place);
        EXPECT_EQ(split, whole) << "split at byte " << k << " of " << printable(input);
    }
    std::vector<std::size_t> bytewise;
    for (std::size_t k = 0; k <= input.size(); ++k) {
        bytewise.push_back(k);
    }
    EXPECT_EQ(corio_test::decode_in_steps(input, bytewise, limits, place), whole)
        << "byte by byte: " << printable(input);
    return whole;
}

/// The one reply `input` holds, all of it.
Reply decode_one(std::string_view input, DecoderLimits limits = {}) {
    std::vector<RespOutcome> outcomes = decode_every_way(input, limits);
    EXPECT_EQ(outcomes.size(), 1u) << printable(input);
    if (outcomes.empty()) {
        return {};
    }
    EXPECT_EQ(outcomes[0].status, DecodeStatus::complete) << outcomes[0].message;
    EXPECT_EQ(outcomes[0].consumed, input.size());
    return outcomes[0].reply;
}

/// The protocol error that `input` ends in.
std::string decode_error(std::string_view input, DecoderLimits limits = {}) {
    std::vector<RespOutcome> outcomes = decode_every_way(input, limits);
    if (outcomes.empty() || outcomes.back().status != DecodeStatus::error) {
        ADD_FAILURE() << "no protocol error for " << printable(input);
        return {};
    }
    return outcomes.back().message;
}

Reply bulk(std::string s) {
    return Reply::bulk_string(std::move(s));
}

// -- Every type ---------------------------------------------------------------

TEST(Decoder, SimpleString) {
    EXPECT_EQ(decode_one("+OK\r\n"), Reply::simple_string("OK"));
    EXPECT_EQ(decode_one("+\r\n"), Reply::simple_string(""));
    // A lone CR or LF is text: only CRLF ends a line.
    EXPECT_EQ(decode_one("+a\rb\nc\r\n"), Reply::simple_string("a\rb\nc"));
    EXPECT_EQ(decode_one("+a\r\r\n"), Reply::simple_string("a\r"));
}

TEST(Decoder, SimpleErrorIsAReplyNotAProtocolError) {
    Reply r = decode_one("-WRONGTYPE Operation against a key holding the wrong kind of value\r\n");
    EXPECT_TRUE(r.is_error());
    EXPECT_EQ(r.type(), Reply::Type::simple_error);
    EXPECT_EQ(r.as_error(), "WRONGTYPE Operation against a key holding the wrong kind of value");
    try {
        r.throw_if_error();
        ADD_FAILURE() << "no ReplyError";
    } catch (const corio::redis::ReplyError& e) {
        EXPECT_EQ(e.prefix(), "WRONGTYPE");
    }
}

TEST(Decoder, Integer) {
    EXPECT_EQ(decode_one(":1\r\n"), Reply::integer(1));
    EXPECT_EQ(decode_one(":0\r\n"), Reply::integer(0));
    EXPECT_EQ(decode_one(":-42\r\n"), Reply::integer(-42));
    EXPECT_EQ(decode_one(":+7\r\n"), Reply::integer(7));
    EXPECT_EQ(decode_one(":9223372036854775807\r\n"),
              Reply::integer(std::numeric_limits<std::int64_t>::max()));
    EXPECT_EQ(decode_one(":-9223372036854775808\r\n"),
              Reply::integer(std::numeric_limits<std::int64_t>::min()));
}

TEST(Decoder, BulkString) {
    EXPECT_EQ(decode_one("$3\r\nxxx\r\n"), bulk("xxx"));
    EXPECT_EQ(decode_one("$0\r\n\r\n"), bulk(""));
    // Binary-safe: CRLF and NUL inside the payload are data.
    EXPECT_EQ(decode_one("$6\r\na\r\n\0bc\r\n"s), bulk("a\r\n\0bc"s));
    std::string big(3000, 'z');
    EXPECT_EQ(decode_one("$3000\r\n" + big + "\r\n"), bulk(big));
}

TEST(Decoder, Resp2NullBulkStringAndNullArrayAreNull) {
    EXPECT_TRUE(decode_one("$-1\r\n").is_null());
    EXPECT_TRUE(decode_one("*-1\r\n").is_null());
    EXPECT_EQ(decode_one("*2\r\n$-1\r\n$1\r\na\r\n"), Reply::array({Reply::null(), bulk("a")}));
}

TEST(Decoder, Array) {
    EXPECT_EQ(decode_one("*0\r\n"), Reply::array({}));
    EXPECT_EQ(decode_one("*3\r\n:1\r\n+two\r\n$5\r\nthree\r\n"),
              Reply::array({Reply::integer(1), Reply::simple_string("two"), bulk("three")}));
}

TEST(Decoder, NestedAggregates) {
    Reply r = decode_one("*3\r\n*2\r\n:1\r\n*1\r\n*0\r\n%1\r\n+k\r\n~2\r\n:1\r\n:2\r\n*1\r\n_\r\n");
    Reply expected = Reply::array({
        Reply::array({Reply::integer(1), Reply::array({Reply::array({})})}),
        Reply::map(
            {{Reply::simple_string("k"), Reply::set({Reply::integer(1), Reply::integer(2)})}}),
        Reply::array({Reply::null()}),
    });
    EXPECT_EQ(r, expected);
}

TEST(Decoder, Null) {
    EXPECT_EQ(decode_one("_\r\n"), Reply::null());
}

TEST(Decoder, Boolean) {
    EXPECT_EQ(decode_one("#t\r\n"), Reply::boolean(true));
    EXPECT_EQ(decode_one("#f\r\n"), Reply::boolean(false));
}

TEST(Decoder, Double) {
    EXPECT_EQ(decode_one(",1.5\r\n"), Reply::double_(1.5));
    EXPECT_EQ(decode_one(",-0.25\r\n"), Reply::double_(-0.25));
    EXPECT_EQ(decode_one(",10\r\n"), Reply::double_(10));
    EXPECT_EQ(decode_one(",1.23e-5\r\n"), Reply::double_(1.23e-5));
    EXPECT_EQ(decode_one(",+2E10\r\n"), Reply::double_(2e10));
    EXPECT_EQ(decode_one(",inf\r\n").as_double(), std::numeric_limits<double>::infinity());
    EXPECT_EQ(decode_one(",-inf\r\n").as_double(), -std::numeric_limits<double>::infinity());
    EXPECT_TRUE(std::isnan(decode_one(",nan\r\n").as_double()));
}

TEST(Decoder, BigNumber) {
    Reply r = decode_one("(3492890328409238509324850943850943825024385\r\n");
    EXPECT_EQ(r.type(), Reply::Type::big_number);
    EXPECT_EQ(r.as_big_number(), "3492890328409238509324850943850943825024385");
    EXPECT_EQ(decode_one("(-1\r\n"), Reply::big_number("-1"));
}

TEST(Decoder, BulkError) {
    Reply r = decode_one("!21\r\nSYNTAX invalid syntax\r\n");
    EXPECT_EQ(r.type(), Reply::Type::bulk_error);
    EXPECT_EQ(r.as_error(), "SYNTAX invalid syntax");
    EXPECT_THROW(r.as_string(), corio::redis::ReplyError);
}

TEST(Decoder, VerbatimStringKeepsItsFormat) {
    Reply r = decode_one("=15\r\ntxt:Some string\r\n");
    EXPECT_EQ(r.type(), Reply::Type::verbatim_string);
    EXPECT_EQ(r.verbatim_format(), "txt");
    EXPECT_EQ(r.as_string(), "Some string");
    EXPECT_EQ(decode_one("=4\r\nmkd:\r\n"), Reply::verbatim_string("mkd", ""));
}

TEST(Decoder, Map) {
    Reply r = decode_one("%2\r\n+first\r\n:1\r\n+second\r\n:2\r\n");
    ASSERT_TRUE(r.is_map());
    ASSERT_EQ(r.as_map().size(), 2u);
    EXPECT_EQ(r.as_map()[0].first, Reply::simple_string("first"));
    EXPECT_EQ(r.as_map()[1].second, Reply::integer(2));
    EXPECT_EQ(decode_one("%0\r\n"), Reply::map({}));
}

TEST(Decoder, Set) {
    EXPECT_EQ(decode_one("~3\r\n+a\r\n:1\r\n#t\r\n"),
              Reply::set({Reply::simple_string("a"), Reply::integer(1), Reply::boolean(true)}));
}

TEST(Decoder, AttributeAttachesToTheNextReply) {
    Reply r = decode_one(
        "|1\r\n+key-popularity\r\n%2\r\n$1\r\na\r\n,0.1923\r\n$1\r\nb\r\n,0.0012\r\n"
        "*2\r\n:2039123\r\n:9543892\r\n");
    EXPECT_EQ(r, Reply::array({Reply::integer(2039123), Reply::integer(9543892)})
                     .with_attributes({{Reply::simple_string("key-popularity"),
                                        Reply::map({{bulk("a"), Reply::double_(0.1923)},
                                                    {bulk("b"), Reply::double_(0.0012)}})}}));
    ASSERT_TRUE(r.has_attributes());
    const Reply* pop = r.attributes().find("key-popularity");
    ASSERT_NE(pop, nullptr);
    EXPECT_EQ(pop->as_map().find("a")->as_double(), 0.1923);
}

TEST(Decoder, AttributeInsideAnAggregateBelongsToOneElement) {
    Reply r = decode_one("*2\r\n:1\r\n|1\r\n+ttl\r\n:3600\r\n+v\r\n");
    ASSERT_EQ(r.as_array().size(), 2u);
    EXPECT_FALSE(r.has_attributes());
    EXPECT_FALSE(r.as_array()[0].has_attributes());
    EXPECT_EQ(r.as_array()[1], Reply::simple_string("v").with_attributes(
                                   {{Reply::simple_string("ttl"), Reply::integer(3600)}}));
}

TEST(Decoder, AttributesInARowMerge) {
    EXPECT_EQ(decode_one("|1\r\n+a\r\n:1\r\n|0\r\n|1\r\n+b\r\n:2\r\n_\r\n"),
              Reply::null().with_attributes({{Reply::simple_string("a"), Reply::integer(1)},
                                             {Reply::simple_string("b"), Reply::integer(2)}}));
}

TEST(Decoder, AttributeOnAnAttributeKey) {
    // The inner attribute belongs to the outer attribute's key.
    Reply r = decode_one("|1\r\n|1\r\n+x\r\n+y\r\n+k\r\n+v\r\n:5\r\n");
    EXPECT_EQ(r, Reply::integer(5).with_attributes(
                     {{Reply::simple_string("k").with_attributes(
                           {{Reply::simple_string("x"), Reply::simple_string("y")}}),
                       Reply::simple_string("v")}}));
}

TEST(Decoder, PushPubSubMessage) {
    Reply r = decode_one(">3\r\n$7\r\nmessage\r\n$4\r\nnews\r\n$5\r\nhello\r\n");
    EXPECT_TRUE(r.is_push());
    EXPECT_EQ(r.to_string_vector(), (std::vector<std::string>{"message", "news", "hello"}));
}

TEST(Decoder, PushTrackingInvalidation) {
    Reply r = decode_one(">2\r\n$10\r\ninvalidate\r\n*2\r\n$3\r\nfoo\r\n$3\r\nbar\r\n");
    ASSERT_TRUE(r.is_push());
    EXPECT_EQ(r.as_array()[0].as_string(), "invalidate");
    EXPECT_EQ(r.as_array()[1].to_string_vector(), (std::vector<std::string>{"foo", "bar"}));
    // RESP3 sends a null key list when the whole cache must go (FLUSHALL).
    EXPECT_TRUE(decode_one(">2\r\n$10\r\ninvalidate\r\n_\r\n").as_array()[1].is_null());
}

TEST(Decoder, HgetallInResp2AndResp3GivesTheSameMap) {
    std::map<std::string, std::string> expected{{"f1", "v1"}, {"f2", "v2"}};
    EXPECT_EQ(decode_one("*4\r\n$2\r\nf1\r\n$2\r\nv1\r\n$2\r\nf2\r\n$2\r\nv2\r\n").to_string_map(),
              expected);
    EXPECT_EQ(decode_one("%2\r\n$2\r\nf1\r\n$2\r\nv1\r\n$2\r\nf2\r\n$2\r\nv2\r\n").to_string_map(),
              expected);
}

TEST(Decoder, PipelinedRepliesComeOneAtATime) {
    std::string in = "+OK\r\n:1\r\n$3\r\nxxx\r\n*1\r\n_\r\n-ERR no\r\n";
    std::vector<RespOutcome> out = decode_every_way(in);
    ASSERT_EQ(out.size(), 5u);
    EXPECT_EQ(out[0].reply, Reply::simple_string("OK"));
    EXPECT_EQ(out[0].consumed, 5u);
    EXPECT_EQ(out[1].reply, Reply::integer(1));
    EXPECT_EQ(out[2].reply, bulk("xxx"));
    EXPECT_EQ(out[2].consumed, 9u);
    EXPECT_EQ(out[3].reply, Reply::array({Reply::null()}));
    EXPECT_EQ(out[4].reply, Reply::simple_error("ERR no"));
}

TEST(Decoder, LeftoverAfterCompleteRepliesIsIncomplete) {
    std::vector<RespOutcome> out = decode_every_way("+OK\r\n*2\r\n:1\r\n");
    ASSERT_EQ(out.size(), 2u);
    EXPECT_EQ(out[1].status, DecodeStatus::incomplete);
    EXPECT_EQ(out[1].consumed, 8u);  // bytes of the unfinished reply
}

// -- Truncation ---------------------------------------------------------------

/// One valid reply of every kind (the fuzzer's seeds are the same kinds).
const std::vector<std::string>& valid_replies() {
    static const std::vector<std::string> all = {
        "+OK\r\n",
        "-ERR unknown command 'foo'\r\n",
        ":-123\r\n",
        "$5\r\nhello\r\n",
        "$0\r\n\r\n",
        "$-1\r\n",
        "*-1\r\n",
        "_\r\n",
        "#t\r\n",
        ",3.14\r\n",
        ",-inf\r\n",
        "(12345678901234567890\r\n",
        "!9\r\nERR boom!\r\n",
        "=8\r\ntxt:abcd\r\n",
        "*2\r\n$3\r\nfoo\r\n:7\r\n",
        "%1\r\n+k\r\n*1\r\n#f\r\n",
        "~2\r\n+a\r\n+b\r\n",
        ">3\r\n+message\r\n+ch\r\n$2\r\nhi\r\n",
        "|1\r\n+ttl\r\n:10\r\n$1\r\nv\r\n",
        "*2\r\n|1\r\n+a\r\n+b\r\n%0\r\n*0\r\n",
    };
    return all;
}

TEST(Decoder, TruncatedAtEveryByteIsIncompleteNeverAnError) {
    corio_test::GuardPage guard;
    for (const std::string& reply : valid_replies()) {
        for (std::size_t k = 0; k < reply.size(); ++k) {
            Decoder decoder;
            DecodeResult r = decoder.feed(guard.place(std::string_view(reply).substr(0, k)));
            EXPECT_TRUE(r.incomplete()) << printable(reply) << " cut at " << k << ": " << r.message;
            EXPECT_EQ(decoder.in_progress(), k > 0) << printable(reply) << " cut at " << k;
            EXPECT_EQ(r.consumed, 0u);
            EXPECT_TRUE(r.reply.is_null());
        }
        Decoder decoder;
        EXPECT_TRUE(decoder.feed(guard.place(reply)).complete()) << printable(reply);
        EXPECT_FALSE(decoder.in_progress());
    }
}

TEST(Decoder, EveryValidReplyDecodesTheSameEveryWay) {
    for (const std::string& reply : valid_replies()) {
        std::vector<RespOutcome> out = decode_every_way(reply);
        ASSERT_EQ(out.size(), 1u) << printable(reply);
        EXPECT_EQ(out[0].status, DecodeStatus::complete) << printable(reply) << out[0].message;
    }
}

// -- Limits -------------------------------------------------------------------

std::string nested_arrays(std::size_t depth) {
    std::string s;
    for (std::size_t i = 0; i < depth; ++i) {
        s += "*1\r\n";
    }
    return s + ":1\r\n";
}

TEST(DecoderLimits, MaxDepth) {
    DecoderLimits limits{.max_depth = 4};
    EXPECT_EQ(decode_one(nested_arrays(4), limits).as_array()[0].as_array()[0].as_array().size(),
              1u);
    EXPECT_EQ(decode_error(nested_arrays(5), limits),
              "RESP protocol error at byte 16 of the reply: aggregates nested deeper than "
              "max_depth (4)");
    // Every aggregate kind counts, attributes too; empty ones as well.
    EXPECT_NE(decode_error("%1\r\n+k\r\n~1\r\n|1\r\n+a\r\n*0\r\n", {.max_depth = 3}), "");
    EXPECT_NE(decode_error("*1\r\n*0\r\n", {.max_depth = 1}), "");
    EXPECT_EQ(decode_one("*0\r\n", {.max_depth = 1}), Reply::array({}));
    // The default limit.
    EXPECT_TRUE(decode_one(nested_arrays(32)).is_array());
    EXPECT_NE(decode_error(nested_arrays(33)), "");
}

TEST(DecoderLimits, MaxAggregateLength) {
    DecoderLimits limits{.max_aggregate_length = 2};
    EXPECT_EQ(decode_one("*2\r\n:1\r\n:2\r\n", limits).as_array().size(), 2u);
    EXPECT_EQ(decode_error("*3\r\n:1\r\n:2\r\n:3\r\n", limits),
              "RESP protocol error at byte 0 of the reply: aggregate length 3 exceeds "
              "max_aggregate_length (2)");
    // Maps and attributes count entries, not keys plus values.
    EXPECT_EQ(decode_one("%2\r\n:1\r\n:2\r\n:3\r\n:4\r\n", limits).as_map().size(), 2u);
    EXPECT_NE(decode_error("%3\r\n", limits), "");
    EXPECT_NE(decode_error("~3\r\n", limits), "");
    EXPECT_NE(decode_error(">3\r\n", limits), "");
    EXPECT_NE(decode_error("|3\r\n", limits), "");
    EXPECT_NE(decode_error("*1\r\n*3\r\n", limits), "");
    // The default is hiredis's: 2^32 - 1.
    EXPECT_NE(decode_error("*4294967296\r\n"), "");
}

TEST(DecoderLimits, MaxBulkLength) {
    DecoderLimits limits{.max_bulk_length = 4};
    EXPECT_EQ(decode_one("$4\r\nabcd\r\n", limits), bulk("abcd"));
    EXPECT_EQ(decode_error("$5\r\nabcde\r\n", limits),
              "RESP protocol error at byte 0 of the reply: bulk length 5 exceeds max_bulk_length "
              "(4)");
    EXPECT_NE(decode_error("!5\r\n", limits), "");
    EXPECT_NE(decode_error("=9\r\n", limits), "");
    // Lines whose text is the value obey it too, with or without their CRLF.
    EXPECT_EQ(decode_one("+abcd\r\n", limits), Reply::simple_string("abcd"));
    EXPECT_EQ(decode_error("+abcde\r\n", limits),
              "RESP protocol error at byte 0 of the reply: a line longer than 4 bytes "
              "(max_bulk_length)");
    EXPECT_NE(decode_error("-abcdefgh", limits), "");
    EXPECT_NE(decode_error("(123456789", limits), "");
    EXPECT_NE(decode_error(",1.000000", limits), "");
    // The default is Redis's proto-max-bulk-len, 512 MiB.
    EXPECT_NE(decode_error("$536870913\r\n"), "");
    EXPECT_TRUE(Decoder().feed("$536870912\r\n").incomplete());
}

TEST(DecoderLimits, NumberLinesAreShort) {
    EXPECT_EQ(decode_error(":" + std::string(40, '1') + "\r\n"),
              "RESP protocol error at byte 0 of the reply: a line longer than 32 bytes");
    // Also before the line ends: a server cannot make the decoder buffer it.
    EXPECT_EQ(decode_error("*" + std::string(40, '1')),
              "RESP protocol error at byte 0 of the reply: a line longer than 32 bytes");
}

TEST(DecoderLimits, HugeDeclaredLengthsAllocateNothing) {
    DecoderLimits unlimited{.max_aggregate_length = std::uint64_t{1} << 62,
                            .max_bulk_length = std::uint64_t{1} << 62};
    for (std::string in : {"*4611686018427387904\r\n", "%4611686018427387904\r\n",
                           "$4611686018427387904\r\n", "*3\r\n~4611686018427387904\r\n:1\r\n"}) {
        Decoder decoder(unlimited);
        AllocationCount count;
        DecodeResult r = decoder.feed(in);
        std::size_t bytes = count.bytes();
        EXPECT_TRUE(r.incomplete()) << in;
        EXPECT_LT(bytes, 4096u) << in;
    }
    // Limits at their defaults: a protocol error.
    EXPECT_TRUE(Decoder().feed("*4611686018427387904\r\n").error());
    EXPECT_TRUE(Decoder().feed("$4611686018427387904\r\n").error());
}

// -- Malformed input ----------------------------------------------------------

TEST(DecoderErrors, BadTypeByte) {
    EXPECT_EQ(decode_error("x"),
              "RESP protocol error at byte 0 of the reply: invalid type byte "
              "\"x\"");
    EXPECT_EQ(decode_error("\0"s),
              "RESP protocol error at byte 0 of the reply: invalid type byte "
              "\"\\x00\"");
    EXPECT_EQ(decode_error("*2\r\n:1\r\n OK\r\n"),
              "RESP protocol error at byte 8 of the reply: invalid type byte \" \"");
    // RESP3's streamed strings and aggregates are not used by Redis.
    EXPECT_NE(decode_error("$?\r\n;4\r\nHell\r\n;0\r\n"), "");
    EXPECT_NE(decode_error("*?\r\n:1\r\n.\r\n"), "");
}

TEST(DecoderErrors, MissingCrlf) {
    EXPECT_EQ(decode_error("$3\r\nxxxAB"),
              "RESP protocol error at byte 7 of the reply: bulk payload not followed by CRLF");
    EXPECT_NE(decode_error("$3\r\nxxx\rA"), "");
    EXPECT_NE(decode_error("$3\r\nxxx\n\r"), "");
    // A length line ended by LF alone runs into what follows.
    EXPECT_EQ(decode_error("$3\nxxx\r\n"),
              "RESP protocol error at byte 0 of the reply: invalid length \"3\\x0axxx\"");
    // A simple line without CRLF is unfinished, not wrong.
    EXPECT_EQ(decode_every_way("+OK\n").back().status, DecodeStatus::incomplete);
}

TEST(DecoderErrors, NonNumericLengths) {
    for (std::string in : {"$abc\r\n", "*1x\r\n", "$\r\n", "*-\r\n", "$+3\r\n", "% 1\r\n",
                           "~0x10\r\n", ">1.0\r\n", "|\r\n", "!-\r\n", "=1e3\r\n"}) {
        EXPECT_NE(decode_error(in).find("invalid length"), std::string::npos) << in;
    }
}

TEST(DecoderErrors, NegativeLengthsOtherThanMinusOne) {
    EXPECT_EQ(decode_error("$-2\r\n"),
              "RESP protocol error at byte 0 of the reply: negative length \"-2\"");
    for (std::string in : {"*-5\r\n", "$-9223372036854775808\r\n", "%-1\r\n", "~-1\r\n", ">-1\r\n",
                           "|-1\r\n", "!-1\r\n", "=-1\r\n"}) {
        EXPECT_NE(decode_error(in).find("negative length"), std::string::npos) << in;
    }
}

TEST(DecoderErrors, OverflowingNumbers) {
    EXPECT_EQ(decode_error(":9223372036854775808\r\n"),
              "RESP protocol error at byte 0 of the reply: invalid integer "
              "\"9223372036854775808\"");
    EXPECT_NE(decode_error(":-9223372036854775809\r\n"), "");
    EXPECT_NE(decode_error(":99999999999999999999\r\n"), "");
    EXPECT_NE(decode_error("*9223372036854775808\r\n").find("invalid length"), std::string::npos);
    EXPECT_NE(decode_error(",1e400\r\n").find("invalid double"), std::string::npos);
}

TEST(DecoderErrors, InvalidScalars) {
    EXPECT_NE(decode_error(":\r\n"), "");
    EXPECT_NE(decode_error(":-\r\n"), "");
    EXPECT_NE(decode_error(":1 \r\n"), "");
    EXPECT_NE(decode_error(": 1\r\n"), "");
    EXPECT_NE(decode_error(":+-1\r\n"), "");
    EXPECT_NE(decode_error(",\r\n"), "");
    EXPECT_NE(decode_error(",1.5.5\r\n"), "");
    EXPECT_NE(decode_error(",abc\r\n"), "");
    EXPECT_NE(decode_error(",+-1\r\n"), "");
    EXPECT_NE(decode_error("#x\r\n").find("invalid boolean"), std::string::npos);
    EXPECT_NE(decode_error("#tt\r\n"), "");
    EXPECT_NE(decode_error("#\r\n"), "");
    EXPECT_NE(decode_error("_x\r\n").find("null with text"), std::string::npos);
    EXPECT_NE(decode_error("(12a\r\n").find("invalid big number"), std::string::npos);
    EXPECT_NE(decode_error("(\r\n"), "");
    EXPECT_NE(decode_error("(-\r\n"), "");
}

TEST(DecoderErrors, MalformedVerbatimString) {
    EXPECT_NE(decode_error("=3\r\ntxt\r\n").find("too short"), std::string::npos);
    EXPECT_EQ(decode_error("=5\r\ntxtx:\r\n"),
              "RESP protocol error at byte 4 of the reply: verbatim string without ':' after "
              "its format \"txtx\"");
}

TEST(DecoderErrors, ErrorInsideAnAggregateEndsEverything) {
    std::vector<RespOutcome> out = decode_every_way("+OK\r\n*3\r\n:1\r\n:x\r\n:3\r\n+after\r\n");
    ASSERT_EQ(out.size(), 2u);
    EXPECT_EQ(out[0].reply, Reply::simple_string("OK"));
    EXPECT_EQ(out[1].message, "RESP protocol error at byte 8 of the reply: invalid integer \"x\"");
}

TEST(DecoderErrors, ErrorsAreStickyUntilReset) {
    Decoder decoder;
    DecodeResult first = decoder.feed("?");
    ASSERT_TRUE(first.error());
    EXPECT_TRUE(decoder.failed());
    DecodeResult again = decoder.feed("+OK\r\n");
    EXPECT_TRUE(again.error());
    EXPECT_EQ(again.message, first.message);
    decoder.reset();
    EXPECT_FALSE(decoder.failed());
    EXPECT_EQ(decoder.feed("+OK\r\n").reply, Reply::simple_string("OK"));
}

TEST(DecoderErrors, InputShorterThanBeforeIsAnError) {
    Decoder decoder;
    ASSERT_TRUE(decoder.feed("*2\r\n:1\r\n").incomplete());
    DecodeResult r = decoder.feed("*2\r\n");
    EXPECT_TRUE(r.error());
    EXPECT_NE(r.message.find("shorter than before"), std::string::npos) << r.message;
}

TEST(Decoder, ResetDropsAReplyInProgress) {
    Decoder decoder;
    ASSERT_TRUE(decoder.feed("*2\r\n:1\r\n$5\r\nab").incomplete());
    EXPECT_TRUE(decoder.in_progress());
    decoder.reset();
    EXPECT_FALSE(decoder.in_progress());
    EXPECT_EQ(decoder.feed(":9\r\n").reply, Reply::integer(9));
}

// -- Allocation ---------------------------------------------------------------

TEST(DecoderAllocation, SmallScalarRepliesAllocateNothing) {
    Decoder decoder;
    for (std::string_view in : {"+OK\r\n", ":1\r\n", "$3\r\nxxx\r\n", "_\r\n", "#t\r\n"}) {
        AllocationCount count;
        DecodeResult r = decoder.feed(in);
        std::size_t made = count.count();
        EXPECT_TRUE(r.complete());
        EXPECT_EQ(made, 0u) << in;
    }
}

TEST(DecoderAllocation, ALongBulkStringAllocatesItsPayloadOnly) {
    Decoder decoder;
    std::string in = "$100\r\n" + std::string(100, 'p') + "\r\n";
    AllocationCount count;
    DecodeResult r = decoder.feed(in);
    std::size_t made = count.count();
    std::size_t bytes = count.bytes();
    EXPECT_TRUE(r.complete());
    EXPECT_EQ(made, 1u);
    EXPECT_LE(bytes, 101u + 16u);
}

TEST(DecoderAllocation, AnArrayOfSmallBulkStringsAllocatesItsVectorOnce) {
    std::string in = "*100\r\n";
    for (int i = 0; i < 100; ++i) {
        in += "$3\r\nxxx\r\n";
    }
    Decoder decoder;
    ASSERT_TRUE(decoder.feed(in).complete());  // the decoder's own stack, once
    AllocationCount count;
    DecodeResult r = decoder.feed(in);
    std::size_t made = count.count();
    ASSERT_TRUE(r.complete());
    EXPECT_EQ(r.reply.as_array().size(), 100u);
    EXPECT_EQ(made, 1u);
}

// -- Encoder ------------------------------------------------------------------

using corio::redis::encode_command;
using corio::redis::encode_commands;
using corio::redis::encode_reply;

TEST(EncodeCommand, ArrayOfBulkStrings) {
    std::string out;
    std::size_t appended = encode_command(out, "SET", "k", 42);
    EXPECT_EQ(appended, out.size());
    EXPECT_EQ(out, "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2\r\n42\r\n");
}

TEST(EncodeCommand, AppendsToWhatIsThere) {
    std::string out = "already";
    encode_command(out, "PING");
    EXPECT_EQ(out, "already*1\r\n$4\r\nPING\r\n");
}

TEST(EncodeCommand, MixedArgumentTypes) {
    std::string out;
    std::string key = "key";
    std::string_view view = "view";
    const char* cstr = "cstr";
    std::vector<std::uint8_t> blob{0, '\r', '\n', 255};
    std::array<std::byte, 2> bytes{std::byte{1}, std::byte{2}};
    encode_command(out, key, view, cstr, std::int64_t{-9223372036854775807 - 1},
                   std::numeric_limits<std::uint64_t>::max(), short{-3}, blob,
                   std::span<const std::byte>(bytes));
    EXPECT_EQ(out,
              "*8\r\n$3\r\nkey\r\n$4\r\nview\r\n$4\r\ncstr\r\n$20\r\n-9223372036854775808\r\n"
              "$20\r\n18446744073709551615\r\n$2\r\n-3\r\n$4\r\n\0\r\n\xff\r\n$2\r\n\1\2\r\n"s);
}

TEST(EncodeCommand, DoublesAsRedisReadsThem) {
    std::string out;
    encode_command(out, 1.5, 0.1, 0.1f, 1e300, -2.0, std::numeric_limits<double>::infinity(),
                   -std::numeric_limits<double>::infinity());
    EXPECT_EQ(out,
              "*7\r\n$3\r\n1.5\r\n$3\r\n0.1\r\n$3\r\n0.1\r\n$6\r\n1e+300\r\n$2\r\n-2\r\n"
              "$3\r\ninf\r\n$4\r\n-inf\r\n");
}

TEST(EncodeCommand, RangesAndPairsAreSpliced) {
    std::string out;
    std::vector<std::string> keys{"a", "b"};
    std::map<std::string, int> fields{{"f1", 1}, {"f2", 2}};
    encode_command(out, "DEL", keys);
    encode_command(out, "HSET", "h", fields, std::pair<std::string_view, double>("f3", 0.5));
    EXPECT_EQ(out,
              "*3\r\n$3\r\nDEL\r\n$1\r\na\r\n$1\r\nb\r\n"
              "*8\r\n$4\r\nHSET\r\n$1\r\nh\r\n$2\r\nf1\r\n$1\r\n1\r\n$2\r\nf2\r\n$1\r\n2\r\n"
              "$2\r\nf3\r\n$3\r\n0.5\r\n");
}

TEST(EncodeCommand, ArgumentsEncodedAheadAreSplicedAsThemselves) {
    std::vector<std::string> keys{"k1", "k2"};
    std::map<std::string, int> args{{"a", 1}};
    auto ahead = corio::redis::detail::EncodedArgs::of(keys, args, 0.5);
    EXPECT_EQ(ahead.count, 5u);
    std::string spliced, direct;
    encode_command(spliced, "EVALSHA", "sha", 2, ahead);
    encode_command(direct, "EVALSHA", "sha", 2, keys, args, 0.5);
    EXPECT_EQ(spliced, direct);
    EXPECT_THROW(corio::redis::detail::EncodedArgs::of(std::nan("")), std::invalid_argument);
}

TEST(EncodeCommand, NanAndEmptyCommandsAreRefusedAndAppendNothing) {
    std::string out = "x";
    EXPECT_THROW(encode_command(out, "ZADD", "z", std::nan(""), "m"), std::invalid_argument);
    EXPECT_THROW(encode_command(out, std::vector<std::string>{}), std::invalid_argument);
    EXPECT_EQ(out, "x");
}

/// A buffer like the connection's: room at the end, then a commit.
struct ReserveCommitBuffer {
    std::string storage;
    std::size_t used = 0;
    char* reserve(std::size_t n) {
        storage.resize(used + n, '#');
        return storage.data() + used;
    }
    void commit(std::size_t n) { used += n; }
    std::string_view view() const { return std::string_view(storage).substr(0, used); }
};

TEST(EncodeCommand, WritesIntoAReserveCommitBuffer) {
    ReserveCommitBuffer buf;
    encode_command(buf, "GET", "k");
    encode_command(buf, "INCRBY", "n", 5);
    EXPECT_EQ(buf.view(),
              "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n*3\r\n$6\r\nINCRBY\r\n$1\r\nn\r\n$1\r\n5\r\n");
}

TEST(EncodeCommand, VectorOfChar) {
    std::vector<char> out;
    encode_command(out, "ECHO", std::vector<char>{'h', 'i'});
    EXPECT_EQ(std::string(out.begin(), out.end()), "*2\r\n$4\r\nECHO\r\n$2\r\nhi\r\n");
}

TEST(EncodeCommands, APipelineIsTheCommandsBackToBack) {
    std::vector<std::vector<std::string>> pipeline{{"SET", "a", "1"}, {"GET", "a"}, {"PING"}};
    std::string out;
    EXPECT_EQ(encode_commands(out, pipeline), 3u);
    std::string one_by_one;
    for (const auto& command : pipeline) {
        encode_command(one_by_one, command);
    }
    EXPECT_EQ(out, one_by_one);
    std::vector<std::vector<std::string>> with_empty{{"PING"}, {}};
    EXPECT_THROW(encode_commands(out, with_empty), std::invalid_argument);
    EXPECT_EQ(out, one_by_one);
}

TEST(EncodeCommand, RoundTripsThroughTheDecoder) {
    std::string out;
    std::string binary = "\0\r\n\xff$*"s;
    encode_command(out, "HSET", binary, -17, 2.5, std::string(1000, 'q'));
    std::vector<RespOutcome> decoded = decode_every_way(out);
    ASSERT_EQ(decoded.size(), 1u);
    EXPECT_EQ(decoded[0].reply.to_string_vector(),
              (std::vector<std::string>{"HSET", binary, "-17", "2.5", std::string(1000, 'q')}));
}

// -- encode_reply -------------------------------------------------------------

Reply every_type() {
    return Reply::array(
               {
                   Reply::simple_string("OK"),
                   Reply::simple_error("ERR x"),
                   Reply::integer(std::numeric_limits<std::int64_t>::min()),
                   Reply::double_(0.1),
                   Reply::double_(-std::numeric_limits<double>::infinity()),
                   Reply::double_(std::nan("")),
                   Reply::boolean(false),
                   Reply::big_number("-123456789012345678901234567890"),
                   bulk("a\r\nb\0"s),
                   Reply::bulk_error("SYNTAX bad"),
                   Reply::verbatim_string("mkd", "# title"),
                   Reply::null(),
                   Reply::map({{bulk("k"), Reply::set({Reply::integer(1)})}}),
                   Reply::push({bulk("message"), bulk("ch"), bulk("payload")}),
                   Reply::integer(1).with_attributes({{Reply::simple_string("a"), Reply::null()}}),
               })
        .with_attributes({{Reply::simple_string("top"), Reply::boolean(true)}});
}

TEST(EncodeReply, DecodesBackToAnEqualReply) {
    std::string out;
    encode_reply(out, every_type());
    EXPECT_EQ(decode_one(out), every_type());
}

TEST(EncodeReply, CanonicalBytesReencodeIdentically) {
    for (std::string in :
         {"+OK\r\n"s, "-ERR x\r\n"s, ":-5\r\n"s, ",1.5\r\n"s, ",inf\r\n"s, "#t\r\n"s, "(99\r\n"s,
          "$3\r\na\0b\r\n"s, "!3\r\nERR\r\n"s, "=6\r\ntxt:ab\r\n"s, "_\r\n"s, "*1\r\n:1\r\n"s,
          "%1\r\n+a\r\n+b\r\n"s, "~1\r\n#f\r\n"s, ">1\r\n+p\r\n"s, "|1\r\n+a\r\n:1\r\n+v\r\n"s}) {
        std::string out;
        encode_reply(out, decode_one(in));
        EXPECT_EQ(out, in);
    }
}

TEST(EncodeReply, SimpleStringWithCrlfIsRefused) {
    std::string out = "keep";
    EXPECT_THROW(
        encode_reply(out, Reply::array({Reply::integer(1), Reply::simple_string("a\r\nb")})),
        std::invalid_argument);
    EXPECT_EQ(out, "keep");
    encode_reply(out, Reply::simple_string("a\rb\n"));  // no CRLF: fine
    EXPECT_EQ(out, "keep+a\rb\n\r\n");
}

}  // namespace
