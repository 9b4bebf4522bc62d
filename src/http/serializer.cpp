// The response serializer.
#include "serializer.hpp"

#include <charconv>
#include <stdexcept>

#include "corio/http/status.hpp"

namespace corio::http::detail {

namespace {

void append_uint(std::string& out, std::uint64_t v) {
    char buf[20];
    auto r = std::to_chars(buf, buf + sizeof buf, v);
    out.append(buf, r.ptr);
}

void append_field(std::string& out, std::string_view name, std::string_view value) {
    out.append(name).append(": ").append(value).append("\r\n");
}

}  // namespace

void serialize_response(std::string& out, const ResponseHeadOptions& o, const Headers& headers,
                        std::string_view body) {
    if (o.status < 100 || o.status > 999) {
        throw std::invalid_argument("status: " + std::to_string(o.status) +
                                    " is not a three-digit HTTP status");
    }
    std::string_view reason = o.reason.empty() ? reason_phrase(o.status) : o.reason;
    if (reason.empty()) {
        reason = "Unknown";
    }
    if (!is_field_value(reason)) {
        throw std::invalid_argument("reason: contains CR, LF or another control character");
    }
    bool has_connection = false;
    bool has_date = false;
    for (const MultiDictEntry& h : headers) {
        if (iequals(h.key, "content-length") || iequals(h.key, "transfer-encoding")) {
            throw std::invalid_argument("headers: " + h.key +
                                        " is set by the serializer from the framing");
        }
        has_connection = has_connection || iequals(h.key, "connection");
        has_date = has_date || iequals(h.key, "date");
    }
    ResponseFraming framing = o.framing;
    const bool no_body_status = o.status < 200 || o.status == 204 || o.status == 304;
    if (no_body_status) {
        framing = ResponseFraming::none;
    } else if (framing == ResponseFraming::chunked && o.version < HttpVersion11) {
        framing = ResponseFraming::close;
    }
    const bool keep_alive = o.keep_alive && framing != ResponseFraming::close;
    const bool body_sent = !o.head_request && framing == ResponseFraming::content_length;
    if (!body.empty() && !body_sent) {
        throw std::invalid_argument("body: this status, method or framing sends no body here");
    }

    out.append(o.version == HttpVersion10 ? "HTTP/1.0 " : "HTTP/1.1 ");
    append_uint(out, static_cast<std::uint64_t>(o.status));
    out.push_back(' ');
    out.append(reason).append("\r\n");
    for (const MultiDictEntry& h : headers) {
        append_field(out, h.key, h.value);
    }
    switch (framing) {
        case ResponseFraming::content_length:
            out.append("Content-Length: ");
            append_uint(out, o.head_request ? o.content_length : body.size());
            out.append("\r\n");
            break;
        case ResponseFraming::chunked:
            out.append("Transfer-Encoding: chunked\r\n");
            break;
        case ResponseFraming::close:
        case ResponseFraming::none:
            break;
    }
    if (!has_date && !o.date.empty()) {
        append_field(out, "Date", o.date);
    }
    if (!has_connection && o.status != 101) {
        if (!keep_alive) {
            out.append("Connection: close\r\n");
        } else if (o.version == HttpVersion10) {
            out.append("Connection: keep-alive\r\n");
        }
    }
    out.append("\r\n");
    if (body_sent) {
        out.append(body);
    }
}

}  // namespace corio::http::detail
