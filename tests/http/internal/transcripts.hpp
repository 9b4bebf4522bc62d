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
#include "http/parser.hpp"
#include "http/websocket_codec.hpp"

namespace corio::http::testing {

using Transcript = std::vector<std::string>;

/// Which of the parser's two ways of taking the head a driver uses.
enum class FeedMode { parse, feed };

inline std::string framing_text(detail::BodyFraming f, std::uint64_t length) {
    switch (f) {
        case detail::BodyFraming::none:
            return "none";
        case detail::BodyFraming::content_length:
            return "length(" + std::to_string(length) + ")";
        case detail::BodyFraming::chunked:
            return "chunked";
        case detail::BodyFraming::until_eof:
            return "eof";
    }
    return "?";
}

inline std::string fields_text(const detail::HeaderFields& fields) {
    std::string s = "[";
    for (detail::HeaderField f : fields) {
        if (s.size() > 1) {
            s += "|";
        }
        s.append(f.name).append(": ").append(f.value);
    }
    return s + "]";
}

inline std::string describe(const detail::RequestHead& h) {
    std::string s = "head ";
    s.append(h.method_name).append(" target=").append(h.target);
    s.append(" path=").append(h.path).append(" query=").append(h.query);
    s += " v=" + std::to_string(h.version.major) + "." + std::to_string(h.version.minor);
    s += " ka=" + std::to_string(h.keep_alive) + " upgrade=" + std::to_string(h.upgrade);
    s += " expect=" + std::to_string(h.expect_continue);
    s += " body=" + framing_text(h.framing, h.content_length);
    return s + " " + fields_text(h.headers);
}

inline std::string describe(const detail::ResponseHead& h) {
    std::string s = "head " + std::to_string(h.status) + " reason=";
    s.append(h.reason);
    s += " v=" + std::to_string(h.version.major) + "." + std::to_string(h.version.minor);
    s += " ka=" + std::to_string(h.keep_alive) + " upgrade=" + std::to_string(h.upgrade);
    s += " body=" + framing_text(h.framing, h.content_length);
    return s + " " + fields_text(h.headers);
}

/// Feeds `pieces` to `parser` in `mode`, then signals EOF. `place(s)`
/// returns the bytes of `s` where the parser is to read them (a guard
/// page). After upgrade or closed, the bytes left over are recorded.
template <class Parser, class Place>
Transcript drive_parser(Parser& parser, const std::vector<std::string_view>& pieces, Place&& place,
                        FeedMode mode) {
    Transcript t;
    std::string pending;  // bytes not consumed yet
    std::string body;
    bool stopped = false;
    bool keep_rest = false;  // after upgrade or closed: the bytes left are deterministic
    auto flush_body = [&](const char* what) {
        if (!body.empty()) {
            t.push_back(std::string(what) + body);
            body.clear();
        }
    };
    // Records one step; false when nothing more is to be parsed.
    auto record = [&](const detail::ParseStep& s) {
        switch (s.event) {
            case detail::ParseStep::need_data:
                return false;
            case detail::ParseStep::head:
                t.push_back(describe(parser.head()));
                return true;
            case detail::ParseStep::body:
                body.append(s.bytes);
                return true;
            case detail::ParseStep::message_complete:
                flush_body("body ");
                t.push_back("complete ka=" + std::to_string(parser.keep_alive()));
                return true;
            case detail::ParseStep::upgrade:
                t.push_back("upgrade");
                keep_rest = true;
                break;
            case detail::ParseStep::closed:
                t.push_back("closed");
                keep_rest = true;
                break;
            case detail::ParseStep::error:
                flush_body("partial body ");
                t.push_back("error " + std::string(detail::error_name(parser.error())));
                break;
        }
        stopped = true;
        return false;
    };
    for (std::string_view piece : pieces) {
        pending.append(piece);
        if (stopped) {
            continue;
        }
        std::string_view view = place(pending);
        for (;;) {
            detail::ParseStep s = mode == FeedMode::parse ? parser.parse(view) : parser.feed(view);
            view.remove_prefix(s.consumed);
            if (!record(s)) {
                break;
            }
        }
        pending.assign(view);
    }
    while (!stopped) {
        if (!record(parser.finish())) {
            break;
        }
    }
    flush_body("partial body ");
    if (keep_rest && !pending.empty()) {
        t.push_back("rest " + pending);
    }
    return t;
}

template <class Place>
Transcript drive_requests(const std::vector<std::string_view>& pieces, Place&& place, FeedMode mode,
                          const detail::ParserLimits& limits = {}) {
    detail::RequestParser parser(limits);
    return drive_parser(parser, pieces, place, mode);
}

template <class Place>
Transcript drive_responses(const std::vector<std::string_view>& pieces, Place&& place,
                           FeedMode mode, Method request_method = Method::GET) {
    detail::ResponseParser parser;
    parser.set_request_method(request_method);
    return drive_parser(parser, pieces, place, mode);
}

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

/// Feeds `pieces` to a WebSocket decoder of `role`; records each event.
/// `deflate`: 0 plain, 1 permessage-deflate with context takeover, 2
/// without.
template <class Place>
Transcript drive_websocket(const std::vector<std::string_view>& pieces, Place&& place,
                           detail::WsRole role, const detail::WsLimits& limits = {},
                           int deflate = 0) {
    detail::WebSocketDecoder d(role, limits);
    if (deflate != 0) {
        d.enable_deflate(deflate == 2);
    }
    Transcript t;
    bool stopped = false;
    for (std::string_view piece : pieces) {
        std::string_view view = place(piece);
        while (!stopped) {
            detail::WsEvent e = d.decode(view);
            view.remove_prefix(e.consumed);
            std::string payload(e.payload);
            switch (e.kind) {
                case detail::WsEvent::need_data:
                    break;
                case detail::WsEvent::message:
                    t.push_back((e.type == WSMsgType::TEXT ? "text " : "binary ") + payload);
                    continue;
                case detail::WsEvent::ping:
                    t.push_back("ping " + payload);
                    continue;
                case detail::WsEvent::pong:
                    t.push_back("pong " + payload);
                    continue;
                case detail::WsEvent::close:
                    t.push_back("close " + std::to_string(e.close_code) + " " + payload);
                    continue;
                case detail::WsEvent::error:
                    t.push_back("error " + std::to_string(e.close_code) + " " + e.error_message);
                    stopped = true;
                    break;
            }
            break;
        }
    }
    return t;
}

}  // namespace corio::http::testing
