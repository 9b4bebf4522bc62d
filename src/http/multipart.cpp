// src/http/multipart.cpp - MultipartParser, parse_form and FormData.
#include "corio/http/multipart.hpp"

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <random>
#include <stdexcept>

#include "chars.hpp"
#include "corio/http/url.hpp"
#include "url_encode.hpp"

namespace corio::http {
namespace {

using detail::form_urlencode;
using detail::is_ows;
using detail::is_tchar;
using detail::trim_ows;

bool iequal(std::string_view a, std::string_view b) noexcept {
    return http::iequals(a, b);
}

// One "; key=value" parameter list after a header value's first element
// ("form-data; name=\"a\"; filename=b"). Calls fn(key, value) for each;
// a quoted value is unescaped. Returns the first element (the type).
// Throws MultipartError for an unclosed quote.
template <class Fn>
std::string_view split_params(std::string_view v, Fn&& fn) {
    std::size_t semi = v.find(';');
    std::string_view first = trim_ows(v.substr(0, semi));
    std::size_t at = semi == std::string_view::npos ? v.size() : semi + 1;
    while (at < v.size()) {
        while (at < v.size() && (is_ows(v[at]) || v[at] == ';')) {
            ++at;
        }
        std::size_t key_start = at;
        while (at < v.size() && v[at] != '=' && v[at] != ';') {
            ++at;
        }
        std::string_view key = trim_ows(v.substr(key_start, at - key_start));
        std::string value;
        if (at < v.size() && v[at] == '=') {
            ++at;
            while (at < v.size() && is_ows(v[at])) {
                ++at;
            }
            if (at < v.size() && v[at] == '"') {
                ++at;
                bool closed = false;
                while (at < v.size()) {
                    char c = v[at++];
                    if (c == '"') {
                        closed = true;
                        break;
                    }
                    if (c == '\\' && at < v.size()) {
                        c = v[at++];
                    }
                    value += c;
                }
                if (!closed) {
                    throw MultipartError("unclosed quoted string in '" + std::string(v) + "'");
                }
                while (at < v.size() && v[at] != ';') {
                    ++at;
                }
            } else {
                std::size_t end = v.find(';', at);
                end = end == std::string_view::npos ? v.size() : end;
                value = std::string(trim_ows(v.substr(at, end - at)));
                at = end;
            }
        }
        if (!key.empty()) {
            fn(key, std::move(value));
        }
    }
    return first;
}

// RFC 5987 ext-value: charset'lang'pct-encoded; UTF-8 only.
std::optional<std::string> decode_ext_value(std::string_view v) {
    std::size_t q1 = v.find('\'');
    std::size_t q2 = q1 == std::string_view::npos ? q1 : v.find('\'', q1 + 1);
    if (q2 == std::string_view::npos || !iequal(v.substr(0, q1), "utf-8")) {
        return std::nullopt;
    }
    return percent_decode(v.substr(q2 + 1));
}

// A quoted-string for a Content-Disposition parameter. '"', '\\' and the control
// characters (CR and LF could inject a header line) are percent-escaped,
// as browsers send them ("%22", "%0D", "%0A").
std::string quote_param(std::string_view s) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string out = "\"";
    for (char ch : s) {
        auto c = static_cast<unsigned char>(ch);
        if (c == '"' || c == '\\' || c < 0x20 || c == 0x7f) {
            out += '%';
            out += kHex[c >> 4];
            out += kHex[c & 15];
        } else {
            out += ch;
        }
    }
    return out + "\"";
}

}  // namespace

MultipartError::MultipartError(std::string reason)
    : web::HTTPException(400, "400: Bad Request: invalid form body: " + reason),
      reason_(std::move(reason)) {}

std::optional<std::string> multipart_boundary(std::string_view content_type) {
    std::optional<std::string> boundary;
    std::string_view type;
    try {
        type = split_params(content_type, [&](std::string_view k, std::string v) {
            if (iequal(k, "boundary")) {
                boundary = std::move(v);
            }
        });
    } catch (const MultipartError&) {
        return std::nullopt;
    }
    if (type.size() < 10 || !iequal(type.substr(0, 10), "multipart/") || !boundary ||
        boundary->empty() || boundary->size() > 70) {
        return std::nullopt;
    }
    return boundary;
}

MultipartParser::MultipartParser(std::string boundary, MultipartLimits limits) : limits_(limits) {
    if (boundary.empty() || boundary.size() > 70) {
        throw std::invalid_argument("MultipartParser: a boundary has 1 to 70 characters");
    }
    delimiter_ = "\r\n--" + boundary;
    // The first delimiter may open the body without a CRLF before it: read
    // the body as if one came first.
    buf_ = "\r\n";
}

void MultipartParser::start_part() {
    if (++parts_ > limits_.max_parts) {
        throw MultipartError("more than " + std::to_string(limits_.max_parts) + " parts");
    }
    part_ = BodyPart{};
    state_ = State::headers;
}

void MultipartParser::parse_headers(std::string_view block) {
    // `block` is the header lines, each ending in CRLF (the blank line
    // excluded).
    std::size_t count = 0;
    while (!block.empty()) {
        std::size_t eol = block.find("\r\n");
        std::string_view line = block.substr(0, eol);
        block.remove_prefix(eol + 2);
        if (line.empty() || is_ows(line.front())) {
            throw MultipartError("folded or empty part header line");
        }
        std::size_t colon = line.find(':');
        if (colon == std::string_view::npos || colon == 0) {
            throw MultipartError("part header line without a field name: '" + std::string(line) +
                                 "'");
        }
        std::string_view name = line.substr(0, colon);
        std::string_view value = trim_ows(line.substr(colon + 1));
        if (!std::all_of(name.begin(), name.end(), is_tchar)) {
            throw MultipartError("bad part header field name '" + std::string(name) + "'");
        }
        if (++count > limits_.max_headers) {
            throw MultipartError("more than " + std::to_string(limits_.max_headers) +
                                 " header fields in a part");
        }
        try {
            part_.headers.add(name, value);
        } catch (const std::invalid_argument&) {
            throw MultipartError("bad part header field value for '" + std::string(name) + "'");
        }
    }
    part_.content_type = "text/plain";
    if (auto ct = part_.headers.get("Content-Type")) {
        part_.content_type = std::string(*ct);
    }
    if (auto cd = part_.headers.get("Content-Disposition")) {
        std::optional<std::string> ext_filename;
        split_params(*cd, [&](std::string_view k, std::string v) {
            if (iequal(k, "name")) {
                part_.name = std::move(v);
            } else if (iequal(k, "filename")) {
                part_.filename = std::move(v);
            } else if (iequal(k, "filename*")) {
                ext_filename = decode_ext_value(v);
            }
        });
        if (ext_filename) {
            part_.filename = std::move(ext_filename);
        }
    }
}

void MultipartParser::feed(std::string_view data, std::vector<BodyPart>& out) {
    if (state_ == State::epilogue) {
        return;  // the epilogue is ignored
    }
    buf_.append(data);
    std::size_t pos = 0;
    // After each step `pos` is the first byte not consumed.
    for (;;) {
        std::string_view rest(buf_.data() + pos, buf_.size() - pos);
        if (state_ == State::preamble || state_ == State::body) {
            std::size_t at = rest.find(delimiter_);
            if (at == std::string_view::npos) {
                // Keep what could be the start of a delimiter.
                std::size_t keep = std::min(rest.size(), delimiter_.size() - 1);
                if (state_ == State::body) {
                    part_.data.append(rest.substr(0, rest.size() - keep));
                }
                pos += rest.size() - keep;
                break;
            }
            if (state_ == State::body) {
                part_.data.append(rest.substr(0, at));
                out.push_back(std::move(part_));
                part_ = BodyPart{};
            }
            pos += at + delimiter_.size();
            state_ = State::after_delimiter;
        } else if (state_ == State::after_delimiter) {
            // "--" closes; else padding, then CRLF opens a part.
            std::size_t i = 0;
            if (rest.size() < 2) {
                break;
            }
            if (rest[0] == '-' && rest[1] == '-') {
                state_ = State::epilogue;
                pos = buf_.size();
                break;
            }
            while (i < rest.size() && is_ows(rest[i])) {
                ++i;
            }
            if (i > 64) {
                throw MultipartError("too much padding after a delimiter");
            }
            if (rest.size() < i + 2) {
                break;
            }
            if (rest[i] != '\r' || rest[i + 1] != '\n') {
                throw MultipartError("a delimiter is not followed by CRLF or \"--\"");
            }
            pos += i + 2;
            start_part();
        } else if (state_ == State::headers) {
            std::size_t end;
            std::size_t skip;
            if (rest.substr(0, 2) == "\r\n") {
                end = 0;  // no header fields
                skip = 2;
            } else {
                end = rest.find("\r\n\r\n");
                skip = 4;
                if (end != std::string_view::npos) {
                    end += 2;  // keep the last line's CRLF in the block
                    skip = 2;
                }
            }
            // A block within the limit ends (blank line included) in the
            // first max_header_size + 2 bytes: past them without an end,
            // it cannot fit, however the bytes were cut.
            if (end == std::string_view::npos || end > limits_.max_header_size) {
                if (end != std::string_view::npos || rest.size() >= limits_.max_header_size + 2) {
                    throw MultipartError("part header block beyond " +
                                         std::to_string(limits_.max_header_size) + " bytes");
                }
                break;
            }
            parse_headers(rest.substr(0, end));
            pos += end + skip;
            // The body starts here; its first delimiter has the CRLF that
            // ends the body, so the search starts on the body's bytes.
            state_ = State::body;
        } else {
            break;
        }
    }
    buf_.erase(0, pos);
}

void MultipartParser::finish() const {
    if (state_ != State::epilogue) {
        throw MultipartError(state_ == State::preamble ? "no multipart delimiter in the body"
                                                       : "the body ends before the closing "
                                                         "delimiter");
    }
}

const FileField* Form::file(std::string_view name) const noexcept {
    for (const FileField& f : files) {
        if (f.name == name) {
            return &f;
        }
    }
    return nullptr;
}

Form parse_form(std::string_view content_type, std::string_view body) {
    Form form;
    std::string_view type = trim_ows(content_type.substr(0, content_type.find(';')));
    if (iequal(type, "application/x-www-form-urlencoded")) {
        std::optional<MultiDict> fields = parse_query(body);
        if (!fields) {
            throw MultipartError("a malformed percent-escape in the urlencoded body");
        }
        form.fields = std::move(*fields);
        return form;
    }
    if (!iequal(type, "multipart/form-data")) {
        return form;
    }
    std::optional<std::string> boundary = multipart_boundary(content_type);
    if (!boundary) {
        throw MultipartError("multipart/form-data without a valid boundary parameter");
    }
    MultipartParser parser(std::move(*boundary));
    std::vector<BodyPart> parts;
    parser.feed(body, parts);
    parser.finish();
    for (BodyPart& p : parts) {
        if (p.filename) {
            form.files.push_back(FileField{std::move(p.name), std::move(*p.filename),
                                           std::move(p.content_type), std::move(p.headers),
                                           std::move(p.data)});
        } else {
            form.fields.add(p.name, p.data);
        }
    }
    return form;
}

FormData& FormData::add_field(std::string name, std::string value) {
    fields_.push_back(Field{std::move(name), std::move(value), std::nullopt, {}});
    return *this;
}

FormData& FormData::add_file(std::string name, std::string filename, std::string data,
                             std::string content_type) {
    if (content_type.find_first_of("\r\n") != std::string::npos) {
        throw std::invalid_argument("FormData::add_file: CR or LF in the content type");
    }
    fields_.push_back(
        Field{std::move(name), std::move(data), std::move(filename), std::move(content_type)});
    multipart_ = true;
    return *this;
}

std::string FormData::content_type() const {
    if (!multipart_) {
        return "application/x-www-form-urlencoded";
    }
    if (boundary_.empty()) {
        // One boundary per FormData, fixed from its first use; 32 random
        // hex digits cannot plausibly occur in the parts.
        static thread_local std::mt19937_64 rng{std::random_device{}()};
        static constexpr char kHex[] = "0123456789abcdef";
        std::string b = "corio-";
        for (int i = 0; i < 32; ++i) {
            b += kHex[rng() & 15];
        }
        boundary_ = std::move(b);
    }
    return "multipart/form-data; boundary=" + boundary_;
}

std::string FormData::body() const {
    std::string out;
    if (!multipart_) {
        for (const Field& f : fields_) {
            if (!out.empty()) {
                out += '&';
            }
            out += form_urlencode(f.name) + "=" + form_urlencode(f.value);
        }
        return out;
    }
    content_type();  // fixes the boundary
    for (const Field& f : fields_) {
        out += "--" + boundary_ + "\r\nContent-Disposition: form-data; name=" + quote_param(f.name);
        if (f.filename) {
            out += "; filename=" + quote_param(*f.filename) + "\r\nContent-Type: " + f.content_type;
        }
        out += "\r\n\r\n" + f.value + "\r\n";
    }
    return out + "--" + boundary_ + "--\r\n";
}

Task<Form> web::Request::post() const {
    co_await load();
    co_return parse_form(headers().get("Content-Type", ""), body_);
}

}  // namespace corio::http
