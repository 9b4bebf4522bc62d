// fuzz/amqp_frame_fuzz.cpp - libFuzzer target for the AMQP 0-9-1 frame codec.
//
// Input: byte 0 picks the frame-max limit (RabbitMQ's default, or a small
// one so that the limit is hit), byte 1 seeds the split points; the rest is
// the byte stream a server sends. The stream is decoded as a read loop does
// (frame after frame, until an error or the end):
//   1. fed whole, then in random pieces: the outcomes must be identical
//      (frames, consumed counts and error messages alike). Every view is
//      copied to a heap block of exactly its size, so ASan catches a read
//      one byte too far.
//   2. every method and content header frame re-encodes (encode_method,
//      encode_content) to bytes that decode and re-encode to the same bytes
//      (reserved bits are not kept, so they may differ from the input's).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "corio/amqp/frame.hpp"

namespace {

namespace amqp = corio::amqp;

[[noreturn]] void fail(const char* what, const std::string& detail) {
    std::fprintf(stderr, "amqp_frame_fuzz: %s\n%s\n", what, detail.c_str());
    std::abort();
}

struct Outcome {
    amqp::DecodeStatus status;
    std::size_t consumed;
    std::string text;
    bool operator==(const Outcome&) const = default;
};

std::string describe(const amqp::Frame& f) {
    std::string s = std::to_string(static_cast<int>(f.type)) + "/" + std::to_string(f.channel);
    switch (f.type) {
        case amqp::FrameType::method:
            return s + " " + f.method.repr();
        case amqp::FrameType::header:
            return s + " header " + std::to_string(f.header.class_id) + " " +
                   std::to_string(f.header.body_size) +
                   (f.header.properties.headers ? f.header.properties.headers->repr() : "");
        case amqp::FrameType::body:
            return s + " body " + std::to_string(f.body.size());
        case amqp::FrameType::heartbeat:
            return s + " heartbeat";
    }
    return s;
}

/// Decodes `input` arriving in pieces ending at `cuts`, each view of the
/// unconsumed bytes copied to an exact heap block.
std::vector<Outcome> decode(std::string_view input, const std::vector<std::size_t>& cuts,
                            const amqp::FrameDecoder& dec, std::vector<amqp::Frame>* frames) {
    std::vector<Outcome> out;
    std::size_t start = 0;
    for (std::size_t end : cuts) {
        for (;;) {
            std::string_view view = input.substr(start, end - start);
            auto block = std::make_unique<char[]>(view.size() + 1);
            if (!view.empty())
                std::memcpy(block.get(), view.data(), view.size());
            amqp::DecodeResult r = dec.feed(std::string_view(block.get(), view.size()));
            if (r.status == amqp::DecodeStatus::incomplete)
                break;
            if (r.status == amqp::DecodeStatus::error) {
                out.push_back({r.status, 0, r.message});
                return out;
            }
            out.push_back({r.status, r.consumed, describe(r.frame)});
            if (frames)
                frames->push_back(std::move(r.frame));
            start += r.consumed;
        }
    }
    return out;
}

void check_reencoding(const amqp::Frame& f) {
    std::string bytes;
    try {
        if (f.type == amqp::FrameType::method) {
            amqp::encode_method(bytes, f.channel, f.method);
        } else if (f.type == amqp::FrameType::header) {
            amqp::encode_content(bytes, f.channel, f.header.properties, "", 0, f.header.class_id);
        } else {
            return;
        }
    } catch (const std::exception& e) {
        fail("a decoded frame does not re-encode", describe(f) + ": " + e.what());
    }
    amqp::DecodeResult r = amqp::FrameDecoder(amqp::DecoderLimits{.max_frame_size = 0}).feed(bytes);
    if (r.status != amqp::DecodeStatus::complete || r.consumed != bytes.size()) {
        fail("a re-encoded frame does not decode", describe(f) + ": " + r.message);
    }
    // Compared as bytes (a NaN in a table is not equal to itself).
    std::string again;
    if (f.type == amqp::FrameType::method) {
        amqp::encode_method(again, r.frame.channel, r.frame.method);
    } else {
        amqp::encode_content(again, r.frame.channel, r.frame.header.properties, "", 0,
                             r.frame.header.class_id);
    }
    if (again != bytes) {
        fail("a re-encoded frame decodes differently", describe(f) + "\nvs " + describe(r.frame));
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 2) {
        return 0;
    }
    amqp::DecoderLimits limits;
    if (data[0] & 1) {
        limits.max_frame_size = 16 + data[0];
        limits.max_depth = 1 + (data[0] >> 5);
    }
    const amqp::FrameDecoder dec(limits);
    std::uint32_t x = data[1] * 2654435761u + 1;
    const std::string_view input(reinterpret_cast<const char*>(data + 2), size - 2);

    std::vector<amqp::Frame> frames;
    const std::vector<Outcome> whole = decode(input, {input.size()}, dec, &frames);
    std::vector<std::size_t> cuts;
    for (std::size_t at = 0; at < input.size();) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        at += 1 + x % 16;
        cuts.push_back(at < input.size() ? at : input.size());
    }
    if (cuts.empty())
        cuts.push_back(0);
    if (decode(input, cuts, dec, nullptr) != whole) {
        fail("pieces decode differently from the whole", std::to_string(input.size()) + " bytes");
    }
    for (const amqp::Frame& f : frames) {
        check_reencoding(f);
    }
    return 0;
}
