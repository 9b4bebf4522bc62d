// tests/support/resp_feed.hpp - drives a corio::redis::Decoder over an input
// that arrives in steps, the way a connection's read loop does: on complete
// it drops the consumed bytes and feeds the rest, on incomplete it waits for
// the next step. Shared by the codec's tests and its fuzzer, which compare
// the outcomes of different splits of the same bytes.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "corio/redis/resp.hpp"

namespace corio_test {

/// One thing the read loop saw: a reply (with the bytes it took), the
/// protocol error that ended decoding, or, last, the bytes left over in an
/// unfinished reply (status incomplete, `consumed` = bytes left).
struct RespOutcome {
    corio::redis::DecodeStatus status = corio::redis::DecodeStatus::incomplete;
    corio::redis::Reply reply;
    std::string message;
    std::size_t consumed = 0;
    bool operator==(const RespOutcome&) const = default;
};

/// Decodes `input`, of which the first cuts[0], then cuts[1] ... bytes have
/// arrived (increasing counts; the last should be input.size()). Every feed
/// goes through `place`, which returns where the bytes to feed now are (a
/// copy against a guard page, say), so the decoder never sees the same
/// address twice. Stops at the first error.
template <class Place>
std::vector<RespOutcome> decode_in_steps(std::string_view input,
                                         const std::vector<std::size_t>& cuts,
                                         const corio::redis::DecoderLimits& limits, Place&& place) {
    corio::redis::Decoder decoder(limits);
    std::vector<RespOutcome> out;
    std::size_t start = 0;
    for (std::size_t arrived : cuts) {
        for (;;) {
            corio::redis::DecodeResult r =
                decoder.feed(place(input.substr(start, arrived - start)));
            if (r.complete()) {
                start += r.consumed;
                out.push_back({r.status, std::move(r.reply), {}, r.consumed});
                continue;
            }
            if (r.error()) {
                out.push_back({r.status, {}, std::move(r.message), 0});
                return out;
            }
            break;
        }
    }
    if (start < input.size() || decoder.in_progress()) {
        out.push_back({corio::redis::DecodeStatus::incomplete, {}, {}, input.size() - start});
    }
    return out;
}

}  // namespace corio_test
