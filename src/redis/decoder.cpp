// src/redis/decoder.cpp - Decoder: RESP3 bytes to Replies, resumable.
//
// A reply is parsed value by value. A leaf (a line, or a bulk header and its
// payload) becomes a Reply at once; an aggregate header pushes a Frame that
// collects its elements; attach() hands each finished value to the innermost
// frame and pops the frames it completes. Everything before pos_ is never
// looked at again, so feeding a reply in k pieces costs O(bytes + k).
//
// Error messages depend only on the reply's bytes, never on how they were
// split: a check that needs a byte not yet fed waits for it (incomplete),
// and a line's length is checked the same way whether its CRLF arrived or not.
#include <algorithm>
#include <cstring>

#include "corio/redis/resp.hpp"
#include "numbers.hpp"

namespace corio::redis {

namespace {

/// The longest line after a type byte whose value is a count, an integer, a
/// boolean or null: an int64 needs 20 characters.
constexpr std::uint64_t short_line_limit = 32;

bool is_type_byte(char c) noexcept {
    switch (c) {
        case '+':
        case '-':
        case ':':
        case ',':
        case '#':
        case '_':
        case '(':
        case '$':
        case '!':
        case '=':
        case '*':
        case '%':
        case '~':
        case '>':
        case '|':
            return true;
        default:
            return false;
    }
}

/// Lines whose text is the value (strings, errors, doubles, big numbers) may
/// be as long as a bulk string; the others hold one short number.
std::uint64_t line_limit(char type, const DecoderLimits& limits) noexcept {
    switch (type) {
        case '+':
        case '-':
        case ',':
        case '(':
            return limits.max_bulk_length;
        default:
            return short_line_limit;
    }
}

/// `s` quoted for a message: printable ASCII as is, other bytes escaped, at
/// most 32 bytes shown.
std::string shown(std::string_view s) {
    static const char hex[] = "0123456789abcdef";
    std::string out = "\"";
    for (char c : s.substr(0, 32)) {
        auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u >= 0x7f || c == '"' || c == '\\') {
            out += "\\x";
            out += hex[u >> 4];
            out += hex[u & 15];
        } else {
            out += c;
        }
    }
    out += s.size() > 32 ? "\"..." : "\"";
    return out;
}

Reply::Type aggregate_type(char type) noexcept {
    switch (type) {
        case '*':
            return Reply::Type::array;
        case '~':
            return Reply::Type::set;
        case '>':
            return Reply::Type::push;
        default:  // '%', and '|' (an attribute is stored as a map)
            return Reply::Type::map;
    }
}

}  // namespace

Decoder::Decoder(DecoderLimits limits) : limits_(limits) {}

void Decoder::reset() noexcept {
    frames_.clear();
    attributes_.reset();
    pos_ = 0;
    scan_ = 0;
    bulk_length_ = 0;
    in_bulk_ = false;
    error_.clear();
}

Decoder::Step Decoder::fail(std::size_t at, std::string what) {
    error_ = "RESP protocol error at byte " + std::to_string(at) + " of the reply: " + what;
    return Step::error;
}

DecodeResult Decoder::feed(std::string_view in) {
    DecodeResult result;
    if (error_.empty() && in.size() < std::max(pos_, scan_)) {
        fail(in.size(),
             "the input is shorter than before (feed() must be given the unconsumed bytes again)");
    }
    for (;;) {
        Reply value;
        switch (error_.empty() ? parse_value(in, value) : Step::error) {
            case Step::incomplete:
                return result;
            case Step::error:
                result.status = DecodeStatus::error;
                result.message = error_;
                return result;
            case Step::opened:
                continue;
            case Step::value:
                break;
        }
        if (attach(value)) {
            result.status = DecodeStatus::complete;
            result.consumed = pos_;
            result.reply = std::move(value);
            pos_ = 0;
            scan_ = 0;
            return result;
        }
    }
}

void Decoder::adopt_attributes(Reply& value) noexcept {
    if (attributes_) {
        value.attributes_ = std::move(attributes_);
    }
}

bool Decoder::attach(Reply& value) {
    while (!frames_.empty()) {
        Frame& top = frames_.back();
        top.value.elements_.push_back(std::move(value));
        if (--top.remaining > 0) {
            return false;
        }
        if (top.attribute) {
            // Merged with any attribute still waiting: see open_aggregate.
            attributes_ = std::make_unique<std::vector<Reply>>(std::move(top.value.elements_));
            frames_.pop_back();
            return false;
        }
        value = std::move(top.value);
        frames_.pop_back();
    }
    return true;
}

Decoder::Step Decoder::parse_line(std::string_view in, std::size_t& eol) {
    const std::size_t start = pos_ + 1;
    const std::uint64_t limit = line_limit(in[pos_], limits_);
    std::size_t from = std::max(scan_, start);
    while (from < in.size()) {
        const void* cr = std::memchr(in.data() + from, '\r', in.size() - from);
        if (cr == nullptr) {
            from = in.size();
            break;
        }
        std::size_t i = static_cast<std::size_t>(static_cast<const char*>(cr) - in.data());
        if (i + 1 == in.size()) {
            from = i;  // a CR at the end: the LF may come next
            break;
        }
        if (in[i + 1] == '\n') {
            if (i - start > limit) {
                return line_too_long(limit);
            }
            eol = i;
            return Step::value;
        }
        from = i + 1;
    }
    // [start, from) is the line's text so far: check it as a whole line would
    // be checked, so that the error does not depend on where the input ends.
    if (from - start > limit) {
        return line_too_long(limit);
    }
    scan_ = from;
    return Step::incomplete;
}

Decoder::Step Decoder::line_too_long(std::uint64_t limit) {
    return fail(pos_, "a line longer than " + std::to_string(limit) +
                          (limit == short_line_limit ? " bytes" : " bytes (max_bulk_length)"));
}

Decoder::Step Decoder::parse_value(std::string_view in, Reply& out) {
    if (in_bulk_) {
        return parse_payload(in, out);
    }
    if (pos_ >= in.size()) {
        return Step::incomplete;
    }
    const char type = in[pos_];
    if (!is_type_byte(type)) {
        return fail(pos_, "invalid type byte " + shown({&type, 1}));
    }
    std::size_t eol = 0;
    if (Step s = parse_line(in, eol); s != Step::value) {
        return s;
    }
    const std::size_t at = pos_;
    const std::string_view line(in.data() + pos_ + 1, eol - pos_ - 1);
    pos_ = eol + 2;
    scan_ = 0;
    switch (type) {
        case '+':
            out = Reply(Reply::Type::simple_string, std::string(line));
            break;
        case '-':
            out = Reply(Reply::Type::simple_error, std::string(line));
            break;
        case ':': {
            std::int64_t v = 0;
            if (!detail::parse_int64(line, v)) {
                return fail(at, "invalid integer " + shown(line));
            }
            out = Reply::integer(v);
            break;
        }
        case ',': {
            double v = 0;
            if (!detail::parse_double(line, v)) {
                return fail(at, "invalid double " + shown(line));
            }
            out = Reply::double_(v);
            break;
        }
        case '#':
            if (line != "t" && line != "f") {
                return fail(at, "invalid boolean " + shown(line) + " (not t or f)");
            }
            out = Reply::boolean(line == "t");
            break;
        case '_':
            if (!line.empty()) {
                return fail(at, "null with text " + shown(line));
            }
            out = Reply();
            break;
        case '(':
            if (!detail::is_big_number_text(line)) {
                return fail(at, "invalid big number " + shown(line));
            }
            out = Reply(Reply::Type::big_number, std::string(line));
            break;
        default:
            return parse_length(in, type, line, at, out);
    }
    adopt_attributes(out);
    return Step::value;
}

Decoder::Step Decoder::parse_length(std::string_view in, char type, std::string_view line,
                                    std::size_t at, Reply& out) {
    std::int64_t n = 0;
    if (!detail::parse_int64(line, n) || line[0] == '+') {
        return fail(at, "invalid length " + shown(line));
    }
    if (n < 0) {
        if (n == -1 && (type == '$' || type == '*')) {  // RESP2's null bulk string, null array
            out = Reply();
            adopt_attributes(out);
            return Step::value;
        }
        return fail(at, "negative length " + shown(line));
    }
    const auto count = static_cast<std::uint64_t>(n);
    if (type != '$' && type != '!' && type != '=') {
        return open_aggregate(in, type, count, at, out);
    }
    if (count > limits_.max_bulk_length) {
        return fail(at, "bulk length " + std::to_string(count) + " exceeds max_bulk_length (" +
                            std::to_string(limits_.max_bulk_length) + ")");
    }
    if (type == '=' && count < 4) {
        return fail(at, "verbatim string of " + std::to_string(count) +
                            " bytes, too short for its \"xxx:\" format");
    }
    in_bulk_ = true;
    bulk_length_ = count;
    bulk_type_ = type == '$'   ? Reply::Type::bulk_string
                 : type == '!' ? Reply::Type::bulk_error
                               : Reply::Type::verbatim_string;
    return parse_payload(in, out);
}

Decoder::Step Decoder::parse_payload(std::string_view in, Reply& out) {
    const std::uint64_t len = bulk_length_;
    const std::size_t avail = in.size() - pos_;
    if (avail < 2 || avail - 2 < len) {
        if (avail > len && in[pos_ + len] != '\r') {
            return fail(pos_ + len, "bulk payload not followed by CRLF");
        }
        return Step::incomplete;
    }
    if (in[pos_ + len] != '\r' || in[pos_ + len + 1] != '\n') {
        return fail(pos_ + len, "bulk payload not followed by CRLF");
    }
    std::string_view payload(in.data() + pos_, len);
    if (bulk_type_ == Reply::Type::verbatim_string) {
        if (payload[3] != ':') {
            return fail(pos_, "verbatim string without ':' after its format " +
                                  shown(payload.substr(0, 4)));
        }
        out = Reply(Reply::Type::verbatim_string, std::string(payload.substr(4)));
        std::memcpy(out.format_, payload.data(), 3);
    } else {
        out = Reply(bulk_type_, std::string(payload));
    }
    in_bulk_ = false;
    pos_ += len + 2;
    adopt_attributes(out);
    return Step::value;
}

Decoder::Step Decoder::open_aggregate(std::string_view in, char type, std::uint64_t count,
                                      std::size_t at, Reply& out) {
    if (count > limits_.max_aggregate_length) {
        return fail(at, "aggregate length " + std::to_string(count) +
                            " exceeds max_aggregate_length (" +
                            std::to_string(limits_.max_aggregate_length) + ")");
    }
    if (frames_.size() >= limits_.max_depth) {
        return fail(at, "aggregates nested deeper than max_depth (" +
                            std::to_string(limits_.max_depth) + ")");
    }
    const bool attribute = type == '|';
    const std::uint64_t elements = (type == '%' || attribute) ? 2 * count : count;
    if (elements == 0) {
        if (attribute) {
            return Step::opened;  // nothing to attach; a waiting attribute keeps waiting
        }
        out = Reply(aggregate_type(type), std::vector<Reply>{});
        adopt_attributes(out);
        return Step::value;
    }
    frames_.push_back(
        Frame{Reply(aggregate_type(type), std::vector<Reply>{}), elements, attribute});
    Frame& frame = frames_.back();
    std::vector<Reply>& storage = frame.value.elements_;
    if (!attribute) {
        adopt_attributes(frame.value);
    } else if (attributes_) {
        // Two attributes in a row: the second extends the first, growing by
        // doubling (an exact reserve per attribute would be quadratic).
        storage = std::move(*attributes_);
        attributes_.reset();
        return Step::opened;
    }
    // Room for what the bytes at hand can hold (every value takes at least 3
    // bytes), never what the header declares: "*4294967295\r\n" allocates
    // nothing until its elements arrive.
    storage.reserve(std::min<std::uint64_t>(elements, (in.size() - pos_) / 3));
    return Step::opened;
}

}  // namespace corio::redis
