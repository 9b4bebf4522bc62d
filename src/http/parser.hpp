// http/parser.hpp (private) - sans-I/O HTTP/1.1 parsers: RequestParser for
// servers, ResponseParser for clients. llhttp (strict mode, no lenient
// flags) tokenizes the start line and the header fields; corio frames the
// bodies itself (Content-Length, its own strict chunked decoder, or until
// EOF for responses) and adds the checks llhttp 8 leaves out (bare LF,
// obs-fold, Host, Transfer-Encoding codings, limits). aiohttp's
// counterpart is `aiohttp.http_parser.HttpRequestParser` /
// `HttpResponseParser`, which also wrap llhttp.
//
// Pull interface: each call handles at most one event and says how many
// input bytes it used; the caller drops those and calls again:
//
//     for (;;) {
//         ParseStep s = parser.parse(buf);
//         buf.remove_prefix(s.consumed);
//         switch (s.event) { case ParseStep::head: ...; case ParseStep::body: ... }
//     }
//
// Events per message: head, any number of body, message_complete. After it:
// the next message's head, or `upgrade` (the remaining bytes belong to the
// new protocol and are left unconsumed), or `closed` (the message was not
// keep-alive: nothing more is parsed). Pipelined messages in one buffer
// come out one after the other. Any error is final: error() says which,
// error_status() the answer, and the connection must close.
//
// Zero copy. Header names and values, the target and the reason phrase are
// views, and there are two ways to feed the head:
//  - parse(data): `data` starts with the current head, which is not
//    consumed (consumed == 0) until it is complete: the caller keeps those
//    bytes and calls again with more appended (its buffer may move or grow
//    in between: only offsets are kept, and bytes already examined are not
//    examined again). When the head event comes, every view points into
//    that call's `data`, the head included in `consumed`; the caller keeps
//    the bytes for as long as it uses the head.
//  - feed(data): everything examined is consumed. A head that arrives
//    whole in one call is viewed in place, as above; a head split across
//    calls is copied into the parser as it arrives, and the views point
//    there.
// Either way views stay valid until the parser starts on the next head.
// Do not switch between parse() and feed() while a head is incomplete.
// Body bytes are views into the input of the call that returned them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "chunked.hpp"
#include "corio/http/message.hpp"
#include "parse_error.hpp"

namespace corio::http::detail {

/// Bounds of one message; beyond each the parser stops with the error named.
struct ParserLimits {
    /// Request-target bytes (uri_too_long, 414). aiohttp: max_line_size.
    std::size_t max_uri_size = 8190;
    /// Bytes of the head: start line, fields, CRLFs (header_too_large, 431).
    std::size_t max_head_size = 16384;
    /// Header fields in the head (too_many_headers, 431).
    std::size_t max_headers = 100;
    /// Body bytes, by Content-Length or decoded chunks (body_too_large,
    /// 413). aiohttp: client_max_size (1 MiB).
    std::uint64_t max_body_size = 1024 * 1024;
    /// A chunk-size line with its extensions (invalid_chunk).
    std::size_t max_chunk_line_size = 4096;
    /// The trailer section of a chunked body (trailer_too_large, 431).
    std::size_t max_trailer_size = 8192;
};

/// Where one header field lies in the head, as offsets from its first byte.
struct FieldSpan {
    std::uint32_t name_off;
    std::uint32_t name_len;
    std::uint32_t value_off;
    std::uint32_t value_len;
};

/// One header field as seen in the message (the value without surrounding
/// whitespace).
struct HeaderField {
    std::string_view name;
    std::string_view value;
};

/// The header fields of a parsed head: views, in order, names as sent.
/// Lookups ignore ASCII case, as Headers' do.
class HeaderFields {
public:
    class iterator {
    public:
        using value_type = HeaderField;
        using difference_type = std::ptrdiff_t;
        iterator() = default;
        iterator(const char* base, const FieldSpan* p) : base_(base), p_(p) {}
        HeaderField operator*() const noexcept { return field(base_, *p_); }
        iterator& operator++() noexcept {
            ++p_;
            return *this;
        }
        iterator operator++(int) noexcept {
            iterator old = *this;
            ++p_;
            return old;
        }
        bool operator==(const iterator& o) const noexcept { return p_ == o.p_; }

    private:
        const char* base_ = nullptr;
        const FieldSpan* p_ = nullptr;
    };

    HeaderFields() = default;
    HeaderFields(const char* base, const FieldSpan* spans, std::size_t n) noexcept
        : base_(base), spans_(spans), size_(n) {}

    std::size_t size() const noexcept { return size_; }
    bool empty() const noexcept { return size_ == 0; }
    HeaderField operator[](std::size_t i) const noexcept { return field(base_, spans_[i]); }
    iterator begin() const noexcept { return iterator(base_, spans_); }
    iterator end() const noexcept { return iterator(base_, spans_ + size_); }

    /// The first value of `name`, or nothing.
    std::optional<std::string_view> get(std::string_view name) const noexcept;
    /// Every value of `name`, in order.
    std::vector<std::string_view> get_all(std::string_view name) const;
    /// Whether `name` occurs.
    bool contains(std::string_view name) const noexcept { return get(name).has_value(); }
    /// How many fields are called `name`.
    std::size_t count(std::string_view name) const noexcept;
    /// An owning copy.
    Headers to_headers() const;

    static HeaderField field(const char* base, const FieldSpan& s) noexcept {
        return HeaderField{std::string_view(base + s.name_off, s.name_len),
                           std::string_view(base + s.value_off, s.value_len)};
    }

private:
    const char* base_ = nullptr;
    const FieldSpan* spans_ = nullptr;
    std::size_t size_ = 0;
};

/// How a message's body is delimited.
enum class BodyFraming : std::uint8_t {
    none,            // no body (no length given; 1xx/204/304; HEAD)
    content_length,  // Content-Length bytes
    chunked,         // chunked transfer coding
    until_eof,       // responses only: everything until the connection closes
};

/// A parsed request head. The views follow the parser's lifetime rules.
struct RequestHead {
    Method method = Method::GET;
    std::string_view method_name;  // as sent ("GET", "PROPFIND")
    std::string_view target;       // request-target as sent
    std::string_view path;         // its path, still percent-encoded; "*" or the authority for
                                   // the asterisk and authority forms
    std::string_view query;        // after '?' (without it, before any '#'); "" when absent
    HttpVersion version;
    HeaderFields headers;
    BodyFraming framing = BodyFraming::none;
    std::uint64_t content_length = 0;  // when framing == content_length
    bool keep_alive = false;           // the connection may carry another request
    bool upgrade = false;              // "Upgrade" with "Connection: upgrade", or a CONNECT
    bool expect_continue = false;      // HTTP/1.1 "Expect: 100-continue"
};

/// A parsed response head.
struct ResponseHead {
    HttpVersion version;
    int status = 0;
    std::string_view reason;
    HeaderFields headers;
    BodyFraming framing = BodyFraming::none;
    std::uint64_t content_length = 0;
    bool keep_alive = false;
    bool upgrade = false;  // 101 Switching Protocols, or 2xx to a CONNECT
};

/// What one parse()/feed()/finish() call found.
struct ParseStep {
    enum Event : std::uint8_t {
        need_data,         // call again with more bytes
        head,              // head() is ready
        body,              // `bytes` holds body bytes (a view into the input)
        message_complete,  // the message ended; keep_alive() says what follows
        upgrade,           // the connection left HTTP: bytes from here are not HTTP's
        closed,            // no message follows (not keep-alive, or EOF between messages)
        error,             // error(): answer error_status(error()) and close
    };
    Event event = need_data;
    std::size_t consumed = 0;
    std::string_view bytes;
};

/// The engine shared by RequestParser and ResponseParser.
class ParserCore {
public:
    ParserCore(const ParserCore&) = delete;
    ParserCore& operator=(const ParserCore&) = delete;

    /// See the file comment: `data` starts with the current head (kept
    /// until complete), or with the next unconsumed byte after it.
    /// Throws std::invalid_argument when `data` is shorter than the part of
    /// the head already examined.
    ParseStep parse(std::string_view data) { return step(data, true); }
    /// See the file comment: consumes what it examines, copying a head that
    /// spans calls.
    ParseStep feed(std::string_view data) { return step(data, false); }
    /// The peer closed its side: ends a body delimited by EOF
    /// (message_complete, then closed), reports unexpected_eof inside a
    /// message, closed between messages.
    ParseStep finish() noexcept;

    /// Why the parser stopped (ParseError::none when it did not).
    ParseError error() const noexcept { return error_; }
    /// Whether the connection may carry another message after the current
    /// one (false after an error).
    bool keep_alive() const noexcept { return keep_alive_ && error_ == ParseError::none; }
    /// The limits in force.
    const ParserLimits& limits() const noexcept { return limits_; }
    /// After `upgrade` from a request whose upgrade the server declines
    /// (it answers without 101): parse the following bytes as HTTP again.
    void decline_upgrade() noexcept;
    /// llhttp's lenient flags (white-box tests check that all are off).
    unsigned lenient_flags() const noexcept;

protected:
    enum class Kind : std::uint8_t { request, response };
    /// Throws std::invalid_argument for a max_head_size above 4 GiB.
    ParserCore(Kind kind, const ParserLimits& limits);
    ~ParserCore();

    RequestHead request_;
    ResponseHead response_;
    Method request_method_ = Method::GET;  // responses: the request they answer

private:
    enum class State : std::uint8_t {
        head,
        body_length,
        body_chunked,
        body_eof,
        complete,
        upgraded,
        closed,
        error
    };
    enum class Span : std::uint8_t { none, url, status, field, value };

    /// Tracks CR/LF and line starts over the head, byte by byte, across
    /// calls: finds the head's end (the CRLF of the first empty line after
    /// the start line) and the first bare LF, bare CR or folded line.
    struct HeadScan {
        bool after_cr = false;
        bool line_start = true;
        bool line_empty = true;
        bool start_line_seen = false;
        bool done = false;  // the head's end was found
        /// Scans `p[0..n)`. Returns the end of the head (one past its last
        /// LF) or the position of the first violation (in `error`), or n.
        std::size_t run(const char* p, std::size_t n, ParseError& error) noexcept;
    };

    ParseStep step(std::string_view data, bool retain);
    ParseStep parse_head(std::string_view data, bool retain);
    ParseStep complete_head(std::string_view data, bool retain, std::size_t end);
    ParseError finish_request_head(const char* base);
    ParseError finish_response_head(const char* base);
    ParseError request_framing(RequestHead& h, std::uint16_t flags,
                               std::uint64_t content_length) const noexcept;
    void start_body(BodyFraming framing, std::uint64_t content_length) noexcept;
    ParseStep end_message() noexcept;
    ParseStep fail(ParseError e) noexcept;
    void start_head() noexcept;
    ParseError from_llhttp_error(int err) const noexcept;

    // llhttp callbacks (static functions in parser.cpp reach these).
    friend struct LlhttpCallbacks;
    int on_span(Span kind, const char* at, std::size_t len) noexcept;
    int on_span_complete() noexcept;

    Kind kind_;
    ParserLimits limits_;
    State state_ = State::head;
    ParseError error_ = ParseError::none;
    bool keep_alive_ = false;
    bool head_reset_pending_ = false;  // the previous message's head is still in use

    // The head being parsed. Offsets are from the head's first byte.
    std::size_t head_seen_ = 0;  // head bytes examined (scanned and given to llhttp)
    std::string head_copy_;      // feed(): head bytes of earlier calls
    HeadScan scan_;
    const char* exec_base_ = nullptr;  // llhttp's input pointer in the current call
    std::size_t exec_origin_ = 0;      // head offset of exec_base_
    Span span_ = Span::none;           // the span llhttp is inside
    std::uint32_t target_off_ = 0, target_len_ = 0;
    std::uint32_t reason_off_ = 0, reason_len_ = 0;
    std::vector<FieldSpan> fields_;
    ParseError callback_error_ = ParseError::none;

    // The body.
    std::uint64_t remaining_ = 0;
    ChunkedDecoder chunked_;

    // llhttp_t, kept opaque so that llhttp.h stays inside parser.cpp.
    alignas(8) unsigned char ll_storage_[128];
};

/// Parses requests on a server connection. aiohttp: `HttpRequestParser`.
class RequestParser : public ParserCore {
public:
    explicit RequestParser(const ParserLimits& limits = {}) : ParserCore(Kind::request, limits) {}
    /// The current request's head (after a head event).
    const RequestHead& head() const noexcept { return request_; }
};

/// Parses responses on a client connection. aiohttp: `HttpResponseParser`.
class ResponseParser : public ParserCore {
public:
    /// Responses have no body limit unless one is given.
    ResponseParser() : ResponseParser(response_limits()) {}
    explicit ResponseParser(const ParserLimits& limits) : ParserCore(Kind::response, limits) {}
    /// The current response's head (after a head event).
    const ResponseHead& head() const noexcept { return response_; }
    /// The method of the request the next responses answer: after HEAD a
    /// response has no body whatever it says; after CONNECT a 2xx is a
    /// tunnel (upgrade). GET (no effect) until set.
    void set_request_method(Method m) noexcept { request_method_ = m; }

private:
    static ParserLimits response_limits() noexcept {
        ParserLimits l;
        l.max_body_size = UINT64_MAX;
        return l;
    }
};

}  // namespace corio::http::detail
