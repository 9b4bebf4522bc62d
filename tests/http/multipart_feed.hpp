// tests/http/multipart_feed.hpp - drives a MultipartParser over pieces of a
// body and writes what it produced as a transcript (the unit tests' and the
// fuzz target's common driver).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "corio/http/multipart.hpp"

namespace corio_test {

/// One line per part ("part name=<n> file=<f|-> type=<t> data=<d>"), then
/// "done" or "error: <reason>" (finish() included).
template <class Place>
std::vector<std::string> multipart_transcript(std::string_view boundary,
                                              const std::vector<std::string_view>& pieces,
                                              Place&& place,
                                              corio::http::MultipartLimits limits = {}) {
    std::vector<std::string> t;
    corio::http::MultipartParser parser{std::string(boundary), limits};
    std::vector<corio::http::BodyPart> parts;
    auto flush = [&] {
        for (auto& p : parts) {
            t.push_back("part name=" + p.name + " file=" + (p.filename ? *p.filename : "-") +
                        " type=" + p.content_type + " data=" + p.data);
        }
        parts.clear();
    };
    try {
        for (std::string_view piece : pieces) {
            parser.feed(place(piece), parts);
            flush();
        }
        parser.finish();
        t.push_back("done");
    } catch (const corio::http::MultipartError& e) {
        flush();
        t.push_back("error: " + e.reason());
    }
    return t;
}

}  // namespace corio_test
