// tests/amqp/frame_test.cpp - the AMQP 0-9-1 codec: every field type, content
// properties, methods by signature, body splitting at frame-max, malformed
// input. Every decoding test feeds its input whole, split in two at every
// point, and byte by byte, each piece against a guard page.
#include "corio/amqp/frame.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "support/split_feed.hpp"

namespace {

namespace amqp = corio::amqp;
using amqp::DecodeStatus;
using amqp::FieldTable;
using amqp::FieldValue;
using amqp::FrameDecoder;
using amqp::Method;
using corio::testing::Transcript;

std::string describe(const amqp::Frame& f) {
    std::string s = "ch" + std::to_string(f.channel) + " ";
    switch (f.type) {
        case amqp::FrameType::method:
            return s + f.method.repr();
        case amqp::FrameType::header: {
            s += "header class " + std::to_string(f.header.class_id) + " size " +
                 std::to_string(f.header.body_size);
            const amqp::Properties& p = f.header.properties;
            if (p.content_type)
                s += " ct=" + *p.content_type;
            if (p.headers)
                s += " headers=" + p.headers->repr();
            if (p.delivery_mode)
                s += " dm=" + std::to_string(*p.delivery_mode);
            if (p.correlation_id)
                s += " cid=" + *p.correlation_id;
            if (p.reply_to)
                s += " rt=" + *p.reply_to;
            if (p.expiration)
                s += " exp=" + *p.expiration;
            if (p.message_id)
                s += " mid=" + *p.message_id;
            if (p.timestamp)
                s += " ts=" + std::to_string(*p.timestamp);
            return s;
        }
        case amqp::FrameType::body:
            return s + "body '" + f.body + "'";
        case amqp::FrameType::heartbeat:
            return s + "heartbeat";
    }
    return s;
}

/// The read loop, over pieces appended to a buffer: every frame, then the
/// error or "incomplete N" for bytes left over.
Transcript drive(const std::vector<std::string_view>& pieces,
                 const std::function<std::string_view(std::string_view)>& place,
                 amqp::DecoderLimits limits = {}) {
    FrameDecoder dec(limits);
    Transcript out;
    std::string buf;
    for (std::string_view piece : pieces) {
        buf.append(piece);
        for (;;) {
            std::string_view view = place(buf);
            amqp::DecodeResult r = dec.feed(view);
            if (r.status == DecodeStatus::incomplete)
                break;
            if (r.status == DecodeStatus::error) {
                out.push_back("error: " + r.message);
                return out;
            }
            out.push_back(describe(r.frame));
            buf.erase(0, r.consumed);
        }
    }
    if (!buf.empty())
        out.push_back("incomplete " + std::to_string(buf.size()));
    return out;
}

Transcript feed(std::string_view input, amqp::DecoderLimits limits = {}) {
    return corio::testing::feed_all_ways(
        input, [limits](const auto& pieces, auto place) { return drive(pieces, place, limits); });
}

FieldTable every_type() {
    FieldTable nested{{"inner", FieldValue(std::int32_t{-7})}};
    return FieldTable{
        {"t", FieldValue(true)},
        {"b", FieldValue(std::int8_t{-5})},
        {"B", FieldValue(std::uint8_t{250})},
        {"s", FieldValue(std::int16_t{-30000})},
        {"u", FieldValue(std::uint16_t{60000})},
        {"I", FieldValue(std::int32_t{-2000000000})},
        {"i", FieldValue(std::uint32_t{4000000000u})},
        {"l", FieldValue(std::int64_t{-9000000000000000000})},
        {"L", FieldValue(std::uint64_t{18000000000000000000u})},
        {"f", FieldValue(1.5f)},
        {"d", FieldValue(-2.25)},
        {"D", FieldValue(amqp::Decimal{2, 31415})},
        {"S", FieldValue("text \xC3\xA9")},
        {"x", FieldValue(amqp::ByteArray{std::string("\0\1\2", 3)})},
        {"A", FieldValue(amqp::FieldArray{FieldValue(1), FieldValue("two"), FieldValue(nested)})},
        {"T", FieldValue(amqp::Timestamp{1700000000})},
        {"F", FieldValue(nested)},
        {"V", FieldValue(amqp::Void{})},
    };
}

TEST(AmqpFieldTable, EveryTypeRoundTripsWithItsWireLetter) {
    FieldTable t = every_type();
    for (const auto& [name, value] : t) {
        EXPECT_EQ(std::string(1, value.type()), name);
    }
    std::string wire;
    amqp::encode_table(wire, t);
    EXPECT_EQ(amqp::decode_table(wire), t);
    // The bytes of a few, as RabbitMQ writes them.
    std::string small;
    amqp::encode_table(small, FieldTable{{"a", FieldValue(std::int16_t{-2})}});
    EXPECT_EQ(small, std::string("\0\0\0\5\1as\xFF\xFE", 9));
}

TEST(AmqpFieldTable, AccessorsAndRepr) {
    FieldTable t = every_type();
    EXPECT_EQ(t.find("I")->as_integer(), -2000000000);
    EXPECT_EQ(t.find("L")->type(), 'L');
    EXPECT_THROW((void)t.find("L")->as_integer(), std::out_of_range);
    EXPECT_EQ(t.find("x")->as_string(), std::string("\0\1\2", 3));
    EXPECT_EQ(t.find("nope"), nullptr);
    t.set("I", FieldValue(1));
    EXPECT_EQ(t.find("I")->as<std::int32_t>(), 1);
    EXPECT_EQ(t.size(), 18u);
    EXPECT_EQ(FieldTable({{"k", FieldValue("v")}, {"n", FieldValue(2)}}).repr(), "{k: 'v', n: 2}");
}

TEST(AmqpFieldTable, MalformedTablesAreRejectedWithTheReason) {
    EXPECT_THROW(amqp::decode_table(std::string("\0\0\0\3\1aZ", 7)), std::invalid_argument);
    try {
        amqp::decode_table(std::string("\0\0\0\4\1aI\0", 8));
        FAIL();
    } catch (const std::invalid_argument& e) {
        EXPECT_NE(std::string(e.what()).find("int32"), std::string::npos) << e.what();
    }
    // Length longer than the bytes.
    EXPECT_THROW(amqp::decode_table(std::string("\0\0\0\x09\1a", 6)), std::invalid_argument);
    // A name longer than 255 bytes cannot be encoded.
    std::string out;
    EXPECT_THROW(amqp::encode_table(out, FieldTable{{std::string(256, 'n'), FieldValue(1)}}),
                 std::invalid_argument);
}

TEST(AmqpFrame, MethodWithBitsAndTableDecodesEveryWay) {
    FieldTable args{{"x-message-ttl", FieldValue(60000)}, {"x-queue-type", FieldValue("quorum")}};
    std::string wire;
    amqp::encode_method(wire, 3,
                        Method{amqp::methods::queue_declare, {0, "jobs", 0, 1, 0, 1, 0, args}});
    amqp::encode_heartbeat(wire);
    amqp::encode_method(wire, 0, Method{amqp::methods::connection_tune_ok, {2047, 131072, 60}});
    Transcript t = feed(wire);
    ASSERT_EQ(t.size(), 3u);
    EXPECT_EQ(t[0],
              "ch3 queue.declare(0, 'jobs', 0, 1, 0, 1, 0, {x-message-ttl: 60000, x-queue-type: "
              "'quorum'})");
    EXPECT_EQ(t[1], "ch0 heartbeat");
    EXPECT_EQ(t[2], "ch0 connection.tune-ok(2047, 131072, 60)");
}

TEST(AmqpFrame, BitsPackIntoOneOctetLeastSignificantFirst) {
    std::string wire;
    // queue.declare: reserved, queue, then five bits passive..no-wait.
    amqp::encode_method(
        wire, 1, Method{amqp::methods::queue_declare, {0, "q", 1, 0, 1, 0, 1, FieldTable{}}});
    // header 7 + class/method 4 + short 2 + shortstr 2 = offset 15 of the bits
    EXPECT_EQ(static_cast<unsigned char>(wire[15]), 0b10101u);
    EXPECT_EQ(wire.size(), 7u + 4 + 2 + 2 + 1 + 4 + 1);
}

TEST(AmqpFrame, ContentHeaderWithEveryPropertyAndBodySplitAtFrameMax) {
    amqp::Properties p;
    p.content_type = "application/json";
    p.content_encoding = "utf-8";
    p.headers = FieldTable{{"attempt", FieldValue(3)}};
    p.delivery_mode = 2;
    p.priority = 5;
    p.correlation_id = "c-1";
    p.reply_to = "amq.rabbitmq.reply-to";
    p.expiration = "60000";
    p.message_id = "m-1";
    p.timestamp = 1700000000;
    p.type = "t";
    p.user_id = "guest";
    p.app_id = "app";
    p.cluster_id = "cl";
    std::string body(20, 'x');
    body[0] = 'a';
    body[19] = 'z';
    std::string wire;
    amqp::encode_method(wire, 2, Method{amqp::methods::basic_publish, {0, "ex", "rk", 1, 0}});
    amqp::encode_content(wire, 2, p, body, 8 + 8);  // 8 body bytes per frame
    Transcript t = feed(wire);
    ASSERT_EQ(t.size(), 5u);
    EXPECT_EQ(t[0], "ch2 basic.publish(0, 'ex', 'rk', 1, 0)");
    EXPECT_EQ(t[1],
              "ch2 header class 60 size 20 ct=application/json headers={attempt: 3} dm=2 cid=c-1 "
              "rt=amq.rabbitmq.reply-to exp=60000 mid=m-1 ts=1700000000");
    EXPECT_EQ(t[2], "ch2 body 'axxxxxxx'");
    EXPECT_EQ(t[3], "ch2 body 'xxxxxxxx'");
    EXPECT_EQ(t[4], "ch2 body 'xxxz'");
    // Every property round-trips.
    std::string header_only;
    amqp::encode_content(header_only, 1, p, "", 0);
    amqp::DecodeResult r = FrameDecoder{}.feed(header_only);
    ASSERT_EQ(r.status, DecodeStatus::complete);
    EXPECT_EQ(r.consumed, header_only.size());  // an empty body has no body frame
    EXPECT_EQ(r.frame.header.properties, p);
}

TEST(AmqpFrame, EveryKnownMethodRoundTrips) {
    using namespace amqp::methods;
    for (amqp::MethodId id :
         {connection_start, connection_start_ok, connection_tune, connection_open, connection_close,
          connection_blocked, channel_open, channel_close, exchange_declare, exchange_bind,
          queue_declare_ok, queue_unbind, basic_qos, basic_consume, basic_deliver, basic_get_ok,
          basic_nack, confirm_select, basic_return}) {
        const char* sig = amqp::method_signature(id);
        ASSERT_NE(sig, nullptr) << amqp::method_name(id);
        Method m{id, {}};
        int n = 0;
        for (const char* c = sig; *c; ++c, ++n) {
            switch (*c) {
                case 'b':
                    m.args.emplace_back(n % 2);
                    break;
                case 's':
                    m.args.emplace_back("s" + std::to_string(n));
                    break;
                case 'S':
                    m.args.emplace_back(std::string(300, 'S'));
                    break;
                case 'F':
                    m.args.emplace_back(every_type());
                    break;
                case 'o':
                    m.args.emplace_back(200 + n);
                    break;
                case 'L':
                    m.args.emplace_back(std::uint64_t{1} << 40);
                    break;
                default:
                    m.args.emplace_back(1000 + n);
                    break;
            }
        }
        std::string wire;
        amqp::encode_method(wire, 9, m);
        amqp::DecodeResult r = FrameDecoder{}.feed(wire);
        ASSERT_EQ(r.status, DecodeStatus::complete) << amqp::method_name(id) << r.message;
        EXPECT_EQ(r.frame.method, m) << amqp::method_name(id);
    }
    EXPECT_EQ(amqp::method_name({50, 99}), "method 50.99");
    EXPECT_TRUE(amqp::method_has_content(basic_deliver));
    EXPECT_FALSE(amqp::method_has_content(basic_ack));
}

TEST(AmqpFrame, EncoderRefusesWrongArguments) {
    std::string out;
    EXPECT_THROW(amqp::encode_method(out, 1, Method{amqp::methods::basic_ack, {1}}),
                 std::invalid_argument);
    EXPECT_THROW(amqp::encode_method(out, 1, Method{amqp::methods::basic_ack, {"x", 0}}),
                 std::invalid_argument);
    EXPECT_THROW(amqp::encode_method(out, 1, Method{{60, 99}, {}}), std::invalid_argument);
    EXPECT_THROW(amqp::encode_method(out, 1,
                                     Method{amqp::methods::queue_declare,
                                            {0, std::string(256, 'q'), 0, 0, 0, 0, 0, {}}}),
                 std::invalid_argument);
}

std::string frame(std::uint8_t type, std::uint16_t channel, std::string_view payload,
                  char end = '\xCE') {
    std::string s;
    s.push_back(static_cast<char>(type));
    s.push_back(static_cast<char>(channel >> 8));
    s.push_back(static_cast<char>(channel & 0xFF));
    std::uint32_t n = static_cast<std::uint32_t>(payload.size());
    for (int i = 3; i >= 0; --i)
        s.push_back(static_cast<char>((n >> (8 * i)) & 0xFF));
    s.append(payload);
    s.push_back(end);
    return s;
}

std::string last(const Transcript& t) {
    return t.empty() ? "" : t.back();
}

TEST(AmqpFrame, MalformedInputIsAClearError) {
    std::string ok;
    amqp::encode_heartbeat(ok);
    // Bad frame end, after a good frame.
    std::string bad_end = ok + frame(1, 1, std::string("\0\x3c\0\x50\0\0\0\0\0\0\0\1\0", 13), 'X');
    EXPECT_EQ(last(feed(bad_end)), "error: frame end is 0x58, not 0xce (byte 20 of the frame)");
    // Unknown frame type.
    EXPECT_EQ(last(feed(ok + frame(7, 0, ""))),
              "error: frame of unknown type 0x07 (byte 0 of the frame)");
    // Unknown method.
    EXPECT_EQ(last(feed(frame(1, 1, std::string("\0\x3c\0\x63", 4)))),
              "error: malformed method frame on channel 1: unknown method 60.99 (byte 7 of the "
              "frame)");
    // A truncated argument: basic.ack needs 9 bytes of arguments.
    EXPECT_EQ(last(feed(frame(1, 1, std::string("\0\x3c\0\x50\0\0\0", 7)))),
              "error: malformed method frame on channel 1: basic.ack: needs 8 bytes, 3 left (byte "
              "11 of the frame)");
    // Bytes after the last argument.
    EXPECT_EQ(last(feed(frame(1, 0, std::string("\0\x0a\0\x33\0", 5)))),
              "error: malformed method frame on channel 0: connection.close-ok has 1 bytes after "
              "its last argument (byte 11 of the frame)");
    // Larger than frame-max: refused from the header, before the body arrives.
    std::string big = frame(3, 1, std::string(5000, 'b'));
    EXPECT_EQ(last(feed(big.substr(0, 7), {.max_frame_size = 4096})),
              "error: frame of 5008 bytes exceeds frame-max 4096");
    // A heartbeat with a payload.
    EXPECT_EQ(last(feed(frame(8, 0, "x"))),
              "error: malformed heartbeat frame on channel 0: heartbeat frame with a payload or "
              "on channel 0 (byte 7 of the frame)");
    // A server refusing our version answers with its own protocol header.
    EXPECT_EQ(last(feed(std::string("AMQP\0\0\x09\x00", 8))),
              "error: the server rejected AMQP 0-9-1: it answered with protocol header 0-9-0");
    // Truncated frames are incomplete, not errors.
    EXPECT_EQ(last(feed(ok.substr(0, 5))), "incomplete 5");
    // A table nested deeper than the limit.
    std::string deep = "\0\0\0\0";
    for (int i = 0; i < 40; ++i) {
        std::string inner = "\1aF" + deep;
        std::string len;
        std::uint32_t n = static_cast<std::uint32_t>(inner.size());
        for (int k = 3; k >= 0; --k)
            len.push_back(static_cast<char>((n >> (8 * k)) & 0xFF));
        deep = len + inner;
    }
    EXPECT_THROW(amqp::decode_table(deep), std::invalid_argument);
}

TEST(AmqpFrame, ContentHeaderErrors) {
    // Property flags with the continuation bit.
    std::string payload("\0\x3c\0\0\0\0\0\0\0\0\0\0\0\1", 14);
    EXPECT_EQ(last(feed(frame(2, 1, payload))),
              "error: malformed content header frame on channel 1: property flags continue into "
              "a second word (no such basic property) (byte 19 of the frame)");
}

}  // namespace
