// The HTTP/1.1 parsers: llhttp for the start line and fields, corio for
// the line-ending rules, the limits, the framing decisions and the bodies.
//
// Invariants while a head is parsed:
//  - head_seen_ bytes of it have been scanned (scan_) and given to llhttp,
//    in order, exactly once; parse() callers present them again at the
//    start of `data`, feed() callers do not (they are in head_copy_).
//  - Offsets in fields_, target_* and reason_* count from the head's first
//    byte, so they hold wherever the bytes end up; views are made from them
//    only once the head is complete and its bytes are contiguous.
//  - llhttp never sees a byte past the head's end, past max_head_size, or
//    at or after the first bare LF / bare CR / folded line the scan found:
//    whichever fault comes first in the byte stream is reported, at every
//    split of the input.
#include "parser.hpp"

#include <cstdint>
#include <cstring>
#include <new>
#include <stdexcept>

#include "chars.hpp"

// The prefix header renames llhttp's identifiers (see CMakeLists.txt); it
// must come before llhttp.h, here as in llhttp's own sources.
#include "corio_llhttp_prefix.h"
#include "llhttp.h"

namespace corio::http::detail {

namespace {

llhttp_t* ll(unsigned char* storage) noexcept {
    return std::launder(reinterpret_cast<llhttp_t*>(storage));
}

// Whether one of the eight bytes of `w` is `c` (the classic zero-byte test
// on w XOR c repeated).
constexpr bool has_byte(std::uint64_t w, char c) noexcept {
    constexpr std::uint64_t kOnes = 0x0101010101010101ULL;
    const std::uint64_t x = w ^ (kOnes * static_cast<unsigned char>(c));
    return ((x - kOnes) & ~x & (kOnes << 7)) != 0;
}

Method method_of(std::uint8_t m) noexcept {
    switch (m) {
        case HTTP_DELETE:
            return Method::DELETE;
        case HTTP_GET:
            return Method::GET;
        case HTTP_HEAD:
            return Method::HEAD;
        case HTTP_POST:
            return Method::POST;
        case HTTP_PUT:
            return Method::PUT;
        case HTTP_CONNECT:
            return Method::CONNECT;
        case HTTP_OPTIONS:
            return Method::OPTIONS;
        case HTTP_TRACE:
            return Method::TRACE;
        case HTTP_PATCH:
            return Method::PATCH;
        default:
            return Method::other;
    }
}

/// Splits a request-target into path and query by its form (RFC 9112 3.2).
/// False for a form the method may not use.
bool split_target(Method m, std::string_view t, std::string_view& path,
                  std::string_view& query) noexcept {
    query = {};
    if (t.empty()) {
        return false;
    }
    if (m == Method::CONNECT) {  // authority-form
        path = t;
        return t[0] != '/' && t.find_first_of("/?#") == std::string_view::npos;
    }
    if (t == "*") {  // asterisk-form
        path = t;
        return m == Method::OPTIONS;
    }
    std::string_view rest = t;
    if (t[0] != '/') {  // absolute-form: scheme "://" authority [path-abempty] ["?" query]
        std::size_t sep = t.find("://");
        if (sep == 0 || sep == std::string_view::npos) {
            return false;
        }
        for (std::size_t i = 0; i < sep; ++i) {
            char c = t[i];
            bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                      (i > 0 && ((c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.'));
            if (!ok) {
                return false;
            }
        }
        std::size_t after = t.find_first_of("/?#", sep + 3);
        rest = after == std::string_view::npos ? std::string_view() : t.substr(after);
    }
    std::size_t end = rest.find_first_of("?#");
    path = rest.substr(0, end);
    if (path.empty()) {
        path = "/";
    }
    if (end != std::string_view::npos && rest[end] == '?') {
        std::string_view q = rest.substr(end + 1);
        query = q.substr(0, q.find('#'));
    }
    return true;
}

/// How a request's Transfer-Encoding fields read (RFC 9112 6.1): exactly
/// "chunked" is the only coding a server decodes.
ParseError check_request_codings(const HeaderFields& fields) noexcept {
    std::size_t codings = 0;
    bool last_chunked = false;
    for (HeaderField f : fields) {
        if (!iequals(f.name, "transfer-encoding")) {
            continue;
        }
        any_list_element(f.value, [&](std::string_view item) {
            ++codings;
            last_chunked = iequals(item, "chunked");
            return false;
        });
    }
    if (codings == 1 && last_chunked) {
        return ParseError::none;
    }
    return last_chunked ? ParseError::unsupported_transfer_coding
                        : ParseError::invalid_transfer_encoding;
}

/// Whether the protocol name of a start line is "HTTP" (llhttp 8 also takes
/// RTSP/1.0 and ICE/1.0 and reports them as version 1.0).
bool is_http(std::string_view at) noexcept {
    return at.substr(0, 5) == "HTTP/";
}

}  // namespace

// -- llhttp callbacks ---------------------------------------------------------

struct LlhttpCallbacks {
    using Span = ParserCore::Span;
    static ParserCore& self(llhttp_t* p) noexcept { return *static_cast<ParserCore*>(p->data); }
    static int on_url(llhttp_t* p, const char* at, std::size_t n) {
        return self(p).on_span(Span::url, at, n);
    }
    static int on_status(llhttp_t* p, const char* at, std::size_t n) {
        return self(p).on_span(Span::status, at, n);
    }
    static int on_field(llhttp_t* p, const char* at, std::size_t n) {
        return self(p).on_span(Span::field, at, n);
    }
    static int on_value(llhttp_t* p, const char* at, std::size_t n) {
        return self(p).on_span(Span::value, at, n);
    }
    static int on_complete(llhttp_t* p) { return self(p).on_span_complete(); }
    // The head is ours from here: stop llhttp before it looks at a body.
    static int on_headers_complete(llhttp_t*) { return HPE_PAUSED; }

    static llhttp_settings_t make() noexcept {
        llhttp_settings_t s;
        llhttp_settings_init(&s);
        s.on_url = on_url;
        s.on_status = on_status;
        s.on_header_field = on_field;
        s.on_header_value = on_value;
        s.on_url_complete = on_complete;
        s.on_status_complete = on_complete;
        s.on_header_field_complete = on_complete;
        s.on_header_value_complete = on_complete;
        s.on_headers_complete = on_headers_complete;
        return s;
    }
    static const llhttp_settings_t settings;
};

const llhttp_settings_t LlhttpCallbacks::settings = LlhttpCallbacks::make();

int ParserCore::on_span(Span kind, const char* at, std::size_t len) noexcept {
    auto off = static_cast<std::uint32_t>(exec_origin_ + static_cast<std::size_t>(at - exec_base_));
    auto n = static_cast<std::uint32_t>(len);
    bool cont = span_ == kind;
    span_ = kind;
    switch (kind) {
        case Span::url:
            if (!cont) {
                target_off_ = off;
                target_len_ = 0;
            }
            target_len_ += n;
            break;
        case Span::status:
            if (!cont) {
                reason_off_ = off;
                reason_len_ = 0;
            }
            reason_len_ += n;
            break;
        case Span::field:
            if (!cont) {
                fields_.push_back(FieldSpan{off, 0, off, 0});
            }
            fields_.back().name_len += n;
            break;
        case Span::value:
            if (fields_.empty()) {
                callback_error_ = ParseError::invalid_header;
                return -1;
            }
            if (!cont) {
                fields_.back().value_off = off;
                fields_.back().value_len = 0;
            }
            fields_.back().value_len += n;
            break;
        case Span::none:
            break;
    }
    return 0;
}

// Limits are checked where a span ends, never on the partial spans llhttp
// reports at the end of each call: those depend on how the input was cut,
// and a limit error must not overtake a syntax error at a later byte in one
// cut and not in another.
int ParserCore::on_span_complete() noexcept {
    const Span done = span_;
    span_ = Span::none;
    if (done == Span::url && target_len_ > limits_.max_uri_size) {
        callback_error_ = ParseError::uri_too_long;
        return -1;
    }
    if (done == Span::field && fields_.size() > limits_.max_headers) {
        callback_error_ = ParseError::too_many_headers;
        return -1;
    }
    return 0;
}

// -- HeaderFields --------------------------------------------------------------

std::optional<std::string_view> HeaderFields::get(std::string_view name) const noexcept {
    for (std::size_t i = 0; i < size_; ++i) {
        HeaderField f = field(base_, spans_[i]);
        if (iequals(f.name, name)) {
            return f.value;
        }
    }
    return std::nullopt;
}

std::vector<std::string_view> HeaderFields::get_all(std::string_view name) const {
    std::vector<std::string_view> out;
    for (HeaderField f : *this) {
        if (iequals(f.name, name)) {
            out.push_back(f.value);
        }
    }
    return out;
}

std::size_t HeaderFields::count(std::string_view name) const noexcept {
    std::size_t n = 0;
    for (HeaderField f : *this) {
        n += iequals(f.name, name) ? 1 : 0;
    }
    return n;
}

Headers HeaderFields::to_headers() const {
    Headers h;
    h.reserve(size_);
    for (HeaderField f : *this) {
        h.add(Validated(), f.name, f.value);  // llhttp and finish_*_head checked them
    }
    return h;
}

// -- The head scan -------------------------------------------------------------

std::size_t ParserCore::HeadScan::run(const char* p, std::size_t n, ParseError& error) noexcept {
    for (std::size_t i = 0; i < n; ++i) {
        const char c = p[i];
        if (after_cr) {
            if (c != '\n') {
                error = ParseError::bare_cr;
                return i;
            }
            after_cr = false;
            if (line_empty && start_line_seen) {
                done = true;
                return i + 1;  // the empty line that ends the head
            }
            // RFC 9112 2.2: empty lines before the start line are ignored.
            start_line_seen = start_line_seen || !line_empty;
            line_start = true;
            line_empty = true;
            continue;
        }
        if (c == '\r') {
            after_cr = true;
            line_start = false;
            continue;
        }
        if (c == '\n') {
            error = ParseError::bare_lf;
            return i;
        }
        if (line_start) {
            // RFC 9112 5.2: obs-fold, and 2.2: whitespace before the first field.
            if (start_line_seen && (c == ' ' || c == '\t')) {
                error = ParseError::obs_fold;
                return i;
            }
            line_start = false;
        }
        line_empty = false;
        // The rest of the line up to its CR (or a bare LF) needs no state:
        // skipped eight bytes at a time while none of them is CR or LF.
        std::size_t j = i + 1;
        while (j + 8 <= n) {
            std::uint64_t w;
            std::memcpy(&w, p + j, 8);
            if (has_byte(w, '\r') || has_byte(w, '\n')) {
                break;
            }
            j += 8;
        }
        while (j < n && p[j] != '\r' && p[j] != '\n') {
            ++j;
        }
        i = j - 1;
    }
    return n;
}

// -- ParserCore ----------------------------------------------------------------

ParserCore::ParserCore(Kind kind, const ParserLimits& limits) : kind_(kind), limits_(limits) {
    static_assert(sizeof(llhttp_t) <= sizeof(ll_storage_) && alignof(llhttp_t) <= 8);
    if (limits_.max_head_size > UINT32_MAX) {
        throw std::invalid_argument("limits.max_head_size: above 4 GiB (heads are 32-bit offsets)");
    }
    llhttp_t* p = new (ll_storage_) llhttp_t;
    llhttp_init(p, kind == Kind::request ? HTTP_REQUEST : HTTP_RESPONSE,
                &LlhttpCallbacks::settings);
    // No lenient flag: every one of them reopens a smuggling shape.
    p->lenient_flags = 0;
    p->data = this;
    head_reset_pending_ = true;
    fields_.reserve(16);
    chunked_.set_limits(ChunkedLimits{limits_.max_body_size, limits_.max_chunk_line_size,
                                      limits_.max_trailer_size});
}

ParserCore::~ParserCore() = default;

unsigned ParserCore::lenient_flags() const noexcept {
    return std::launder(reinterpret_cast<const llhttp_t*>(ll_storage_))->lenient_flags;
}

void ParserCore::start_head() noexcept {
    llhttp_t* p = ll(ll_storage_);
    llhttp_reset(p);
    p->data = this;
    head_reset_pending_ = false;
    head_seen_ = 0;
    head_copy_.clear();
    scan_ = HeadScan{};
    span_ = Span::none;
    target_off_ = target_len_ = reason_off_ = reason_len_ = 0;
    fields_.clear();
    callback_error_ = ParseError::none;
    keep_alive_ = false;
    remaining_ = 0;
    request_ = RequestHead{};
    response_ = ResponseHead{};
}

ParseStep ParserCore::fail(ParseError e) noexcept {
    state_ = State::error;
    error_ = e;
    keep_alive_ = false;
    return ParseStep{ParseStep::error, 0, {}};
}

ParseStep ParserCore::step(std::string_view data, bool retain) {
    switch (state_) {
        case State::head:
            return parse_head(data, retain);
        case State::body_length: {
            if (remaining_ == 0) {
                return end_message();
            }
            if (data.empty()) {
                return ParseStep{ParseStep::need_data, 0, {}};
            }
            auto take = static_cast<std::size_t>(
                std::min<std::uint64_t>(remaining_, static_cast<std::uint64_t>(data.size())));
            remaining_ -= take;
            return ParseStep{ParseStep::body, take, data.substr(0, take)};
        }
        case State::body_chunked: {
            ChunkedStep c = chunked_.decode(data);
            switch (c.status) {
                case ChunkedStep::need_data:
                    return ParseStep{ParseStep::need_data, c.consumed, {}};
                case ChunkedStep::data:
                    return ParseStep{ParseStep::body, c.consumed, c.bytes};
                case ChunkedStep::done: {
                    ParseStep s = end_message();
                    s.consumed = c.consumed;
                    return s;
                }
                case ChunkedStep::error:
                    break;
            }
            return fail(chunked_.error());
        }
        case State::body_eof:
            if (data.empty()) {
                return ParseStep{ParseStep::need_data, 0, {}};
            }
            return ParseStep{ParseStep::body, data.size(), data};
        case State::complete:
            return end_message();
        case State::upgraded:
            return ParseStep{ParseStep::upgrade, 0, {}};
        case State::closed:
            return ParseStep{ParseStep::closed, 0, {}};
        case State::error:
            break;
    }
    return ParseStep{ParseStep::error, 0, {}};
}

ParseStep ParserCore::end_message() noexcept {
    bool upgrade = kind_ == Kind::request ? request_.upgrade : response_.upgrade;
    if (upgrade) {
        state_ = State::upgraded;
    } else if (keep_alive_) {
        state_ = State::head;
        head_reset_pending_ = true;
    } else {
        state_ = State::closed;
    }
    return ParseStep{ParseStep::message_complete, 0, {}};
}

void ParserCore::decline_upgrade() noexcept {
    if (state_ != State::upgraded) {
        return;
    }
    request_.upgrade = false;
    response_.upgrade = false;
    state_ = keep_alive_ ? State::head : State::closed;
    head_reset_pending_ = true;
}

ParseStep ParserCore::finish() noexcept {
    switch (state_) {
        case State::head:
            if (head_reset_pending_ || head_seen_ == 0) {
                state_ = State::closed;
                return ParseStep{ParseStep::closed, 0, {}};
            }
            return fail(ParseError::unexpected_eof);
        case State::body_eof:
            keep_alive_ = false;
            state_ = State::complete;
            return end_message();
        case State::body_length:
            if (remaining_ == 0) {
                return end_message();
            }
            return fail(ParseError::unexpected_eof);
        case State::body_chunked:
            return fail(ParseError::unexpected_eof);
        case State::complete:
            return end_message();
        case State::upgraded:
            return ParseStep{ParseStep::upgrade, 0, {}};
        case State::closed:
            return ParseStep{ParseStep::closed, 0, {}};
        case State::error:
            break;
    }
    return ParseStep{ParseStep::error, 0, {}};
}

ParseStep ParserCore::parse_head(std::string_view data, bool retain) {
    if (head_reset_pending_) {
        if (data.empty()) {
            return ParseStep{ParseStep::need_data, 0, {}};
        }
        start_head();
    }
    if (head_seen_ > 0 && retain != head_copy_.empty()) {
        throw std::logic_error("http parser: parse() and feed() mixed within one head");
    }
    const std::size_t start = retain ? head_seen_ : 0;
    if (data.size() < start) {
        throw std::invalid_argument("data: shorter than the part of the head already parsed");
    }
    const char* fresh = data.data() + start;
    const std::size_t fresh_n = data.size() - start;
    if (fresh_n == 0) {
        return ParseStep{ParseStep::need_data, 0, {}};
    }
    const std::size_t avail = std::min(fresh_n, limits_.max_head_size - head_seen_);
    ParseError scan_error = ParseError::none;
    const std::size_t stop = scan_.run(fresh, avail, scan_error);
    const bool complete = scan_.done;
    llhttp_t* p = ll(ll_storage_);
    exec_base_ = fresh;
    exec_origin_ = head_seen_;
    llhttp_errno_t err = llhttp_execute(p, fresh, stop);
    if (err == HPE_PAUSED) {
        const std::size_t at = static_cast<std::size_t>(llhttp_get_error_pos(p) - fresh);
        if (!complete || at != stop) {
            // llhttp took a shorter head than the scan, e.g. HTTP/0.9's "GET /\r\n".
            return fail(p->http_major == 0 ? ParseError::invalid_version : ParseError::bad_request);
        }
        return complete_head(data, retain, stop);
    }
    if (err != HPE_OK) {
        return fail(callback_error_ != ParseError::none ? callback_error_ : from_llhttp_error(err));
    }
    if (scan_error != ParseError::none) {
        return fail(scan_error);
    }
    if (complete) {
        // The head ended, but not for llhttp: "PRI * HTTP/2.0" (HTTP/2's
        // preface) is one way.
        return fail(p->http_major != 1 ? ParseError::invalid_version : ParseError::bad_request);
    }
    head_seen_ += stop;
    if (!retain) {
        head_copy_.append(fresh, stop);
    }
    if (fresh_n > avail) {
        // The head outgrew its limit. Inside an overlong target, that is
        // the target's fault (all of it so far has been reported by now).
        return fail(span_ == Span::url && target_len_ > limits_.max_uri_size
                        ? ParseError::uri_too_long
                        : ParseError::header_too_large);
    }
    return ParseStep{ParseStep::need_data, retain ? 0 : data.size(), {}};
}

ParseStep ParserCore::complete_head(std::string_view data, bool retain, std::size_t stop) {
    const char* fresh = data.data() + (retain ? head_seen_ : 0);
    const std::size_t head_len = head_seen_ + stop;
    const char* base = data.data();
    if (!retain && !head_copy_.empty()) {
        head_copy_.append(fresh, stop);
        base = head_copy_.data();
    }
    head_seen_ = head_len;
    for (FieldSpan& f : fields_) {
        if (f.name_len == 0) {
            return fail(ParseError::invalid_header);
        }
        while (f.value_len > 0 && is_ows(base[f.value_off + f.value_len - 1])) {
            --f.value_len;
        }
    }
    ParseError e = kind_ == Kind::request ? finish_request_head(base) : finish_response_head(base);
    if (e != ParseError::none) {
        return fail(e);
    }
    return ParseStep{ParseStep::head, retain ? head_len : stop, {}};
}

ParseError ParserCore::finish_request_head(const char* base) {
    llhttp_t* p = ll(ll_storage_);
    RequestHead& h = request_;
    h.version = HttpVersion{p->http_major, p->http_minor};
    h.target = std::string_view(base + target_off_, target_len_);
    std::string_view after_target(base + target_off_ + target_len_,
                                  head_seen_ - target_off_ - target_len_);
    while (!after_target.empty() && after_target.front() == ' ') {
        after_target.remove_prefix(1);
    }
    if (!is_http(after_target) || (h.version != HttpVersion10 && h.version != HttpVersion11)) {
        return ParseError::invalid_version;
    }
    h.method = method_of(p->method);
    h.method_name = llhttp_method_name(static_cast<llhttp_method_t>(p->method));
    if (!split_target(h.method, h.target, h.path, h.query)) {
        return ParseError::invalid_target;
    }
    h.headers = HeaderFields(base, fields_.data(), fields_.size());
    std::size_t hosts = 0;
    bool expect_continue = false;
    for (HeaderField f : h.headers) {
        if (iequals(f.name, "host")) {
            ++hosts;
        } else if (iequals(f.name, "expect")) {
            expect_continue = expect_continue || iequals(f.value, "100-continue");
        }
    }
    // RFC 9112 3.2: exactly one Host in HTTP/1.1, at most one in HTTP/1.0.
    if (hosts > 1 || (hosts == 0 && h.version == HttpVersion11)) {
        return ParseError::invalid_host;
    }
    const std::uint16_t flags = p->flags;
    bool close = (flags & F_CONNECTION_CLOSE) != 0;
    h.keep_alive =
        h.version == HttpVersion11 ? !close : (flags & F_CONNECTION_KEEP_ALIVE) != 0 && !close;
    h.upgrade = p->upgrade != 0;
    // RFC 9110 10.1.1: a server ignores 100-continue from an HTTP/1.0 client.
    h.expect_continue = expect_continue && h.version == HttpVersion11;
    if (ParseError e = request_framing(h, flags, p->content_length); e != ParseError::none) {
        return e;
    }
    keep_alive_ = h.keep_alive;
    start_body(h.framing, h.content_length);
    return ParseError::none;
}

ParseError ParserCore::request_framing(RequestHead& h, std::uint16_t flags,
                                       std::uint64_t content_length) const noexcept {
    if (h.method == Method::CONNECT) {
        h.framing = BodyFraming::none;
    } else if (flags & F_TRANSFER_ENCODING) {
        // RFC 9112 6.1: Transfer-Encoding in HTTP/1.0 means faulty framing.
        if (h.version == HttpVersion10) {
            return ParseError::invalid_transfer_encoding;
        }
        if (ParseError e = check_request_codings(h.headers); e != ParseError::none) {
            return e;
        }
        h.framing = BodyFraming::chunked;
    } else if (flags & F_CONTENT_LENGTH) {
        if (content_length > limits_.max_body_size) {
            return ParseError::body_too_large;
        }
        h.framing = BodyFraming::content_length;
        h.content_length = content_length;
    }
    return ParseError::none;
}

ParseError ParserCore::finish_response_head(const char* base) {
    llhttp_t* p = ll(ll_storage_);
    ResponseHead& h = response_;
    h.version = HttpVersion{p->http_major, p->http_minor};
    std::string_view start(base, head_seen_);
    while (!start.empty() && (start.front() == '\r' || start.front() == '\n')) {
        start.remove_prefix(1);
    }
    if (!is_http(start) || (h.version != HttpVersion10 && h.version != HttpVersion11)) {
        return ParseError::invalid_version;
    }
    h.status = p->status_code;
    if (h.status < 100 || h.status > 999) {
        return ParseError::invalid_status;
    }
    h.reason = std::string_view(base + reason_off_, reason_len_);
    h.headers = HeaderFields(base, fields_.data(), fields_.size());
    const std::uint16_t flags = p->flags;
    bool close = (flags & F_CONNECTION_CLOSE) != 0;
    h.keep_alive =
        h.version == HttpVersion11 ? !close : (flags & F_CONNECTION_KEEP_ALIVE) != 0 && !close;
    h.upgrade = h.status == 101 || (request_method_ == Method::CONNECT && h.status / 100 == 2);
    if (h.upgrade) {
        h.framing = BodyFraming::none;
    } else if (h.status / 100 == 1) {
        h.keep_alive = true;  // an interim response: the final one follows
        h.framing = BodyFraming::none;
    } else if (h.status == 204 || h.status == 304 || request_method_ == Method::HEAD) {
        h.framing = BodyFraming::none;
    } else if (flags & F_TRANSFER_ENCODING) {
        // RFC 9112 6.3: chunked when it is the final coding, else until EOF.
        h.framing = (flags & F_CHUNKED) && h.version == HttpVersion11 ? BodyFraming::chunked
                                                                      : BodyFraming::until_eof;
    } else if (flags & F_CONTENT_LENGTH) {
        if (p->content_length > limits_.max_body_size) {
            return ParseError::body_too_large;
        }
        h.framing = BodyFraming::content_length;
        h.content_length = p->content_length;
    } else {
        h.framing = BodyFraming::until_eof;
    }
    if (h.framing == BodyFraming::until_eof) {
        h.keep_alive = false;
    }
    keep_alive_ = h.keep_alive;
    start_body(h.framing, h.content_length);
    return ParseError::none;
}

void ParserCore::start_body(BodyFraming framing, std::uint64_t content_length) noexcept {
    switch (framing) {
        case BodyFraming::chunked:
            chunked_.reset();
            state_ = State::body_chunked;
            break;
        case BodyFraming::until_eof:
            state_ = State::body_eof;
            break;
        case BodyFraming::content_length:
        case BodyFraming::none:
            remaining_ = content_length;
            state_ = State::body_length;
            break;
    }
}

ParseError ParserCore::from_llhttp_error(int err) const noexcept {
    const llhttp_t* p = std::launder(reinterpret_cast<const llhttp_t*>(ll_storage_));
    switch (err) {
        case HPE_INVALID_METHOD:
            return ParseError::invalid_method;
        case HPE_INVALID_URL:
            return ParseError::invalid_target;
        case HPE_INVALID_VERSION:
            return ParseError::invalid_version;
        case HPE_INVALID_STATUS:
            return ParseError::invalid_status;
        case HPE_INVALID_HEADER_TOKEN:
            return ParseError::invalid_header;
        case HPE_INVALID_CONTENT_LENGTH:
            return ParseError::invalid_content_length;
        case HPE_UNEXPECTED_CONTENT_LENGTH:
            return p->reason != nullptr && std::strstr(p->reason, "Duplicate") != nullptr
                       ? ParseError::duplicate_content_length
                       : ParseError::content_length_with_transfer_encoding;
        case HPE_INVALID_TRANSFER_ENCODING:
            return ParseError::invalid_transfer_encoding;
        case HPE_UNEXPECTED_SPACE:
            return ParseError::obs_fold;
        case HPE_LF_EXPECTED:
        case HPE_STRICT:
            return ParseError::bare_cr;
        case HPE_CR_EXPECTED:
            return ParseError::bare_lf;
        default:
            return ParseError::bad_request;
    }
}

}  // namespace corio::http::detail
