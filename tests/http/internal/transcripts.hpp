// tests/http/internal/transcripts.hpp - drivers that feed the HTTP codecs
// a list of input pieces and write down what comes out, in a form that is
// the same however the input was cut: one line per head, message end,
// control frame or error, body bytes of one message joined. The unit tests
// run them through feed_all_ways (support/split_feed.hpp); the fuzzers use
// them to compare a whole feed with random splits. No GoogleTest here.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "http/chunked.hpp"

namespace corio::http::testing {

using Transcript = std::vector<std::string>;

/// Which of the parser's two ways of taking the head a driver uses.
enum class FeedMode { parse, feed };

/// Feeds `pieces` to a chunked decoder; records the body and how it ended.
template <class Place>
Transcript drive_chunked(const std::vector<std::string_view>& pieces, Place&& place,
                         const detail::ChunkedLimits& limits = {}) {
    detail::ChunkedDecoder d(limits);
    Transcript t;
    std::string body;
    std::string rest;
    bool stopped = false;
    for (std::string_view piece : pieces) {
        if (stopped) {
            rest.append(piece);
            continue;
        }
        std::string_view view = place(piece);
        while (!stopped) {
            detail::ChunkedStep s = d.decode(view);
            view.remove_prefix(s.consumed);
            if (s.status == detail::ChunkedStep::need_data) {
                break;
            }
            if (s.status == detail::ChunkedStep::data) {
                body.append(s.bytes);
            } else if (s.status == detail::ChunkedStep::done) {
                t.push_back("body " + body);
                t.push_back("done");
                stopped = true;
            } else {
                t.push_back("partial body " + body);
                t.push_back("error " + std::string(detail::error_name(d.error())));
                stopped = true;
            }
        }
        rest.append(view);
    }
    if (!stopped) {
        t.push_back("partial body " + body);
        t.push_back("incomplete");
    }
    if (!rest.empty()) {
        t.push_back("rest " + rest);
    }
    return t;
}

}  // namespace corio::http::testing
