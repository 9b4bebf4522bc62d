// corio/http/multipart.hpp - HTML forms: multipart/form-data (RFC 7578 on
// RFC 2046's multipart syntax) read incrementally, urlencoded and multipart
// forms parsed into a Form, and FormData to build a body for the client.
//
// aiohttp's counterparts: `await request.post()` (a MultiDict of strings and
// FileField objects), `request.multipart()` (a MultipartReader reading part
// by part) and `aiohttp.FormData`. MultipartParser is sans-I/O: it is fed
// bytes as they come and hands out whole parts, so it is tested at every
// split point and fuzzed without a socket.
//
// Choices, named:
// - A part's body is held whole in memory (forms are bounded by the server's
//   max_body_size); the parser itself holds at most one delimiter's length
//   of unsent body.
// - The part headers are limited (8 KiB per part, 32 fields), the number of
//   parts too (max_parts, default 1000); beyond them, MultipartError.
// - Content-Disposition's `name` and `filename` are read as quoted strings
//   (backslash escapes) or tokens; `filename*` (RFC 5987 ext-value) is
//   decoded when it is UTF-8 and then wins, as browsers and aiohttp do. No
//   charset conversion of field values: bytes as sent (UTF-8 from every
//   browser that sends `_charset_`-less forms today).
// - The preamble before the first delimiter and the epilogue after the last
//   are ignored (RFC 2046). Transport padding (spaces, tabs) after a
//   delimiter is allowed. A body that ends before the closing delimiter is
//   an error at finish(), not a silent truncation.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "corio/http/message.hpp"
#include "corio/http/multidict.hpp"
#include "corio/http/web.hpp"

namespace corio::http {

/// A malformed multipart or urlencoded body: an HTTPException(400), so a
/// handler that does not catch it answers "400: Bad Request: invalid form
/// body: <why>". what() / reason() say what was wrong.
class MultipartError : public web::HTTPException {
public:
    explicit MultipartError(std::string reason);
    const std::string& reason() const noexcept { return reason_; }

private:
    std::string reason_;
};

/// One part of a multipart body.
struct BodyPart {
    /// The part's header fields.
    Headers headers;
    /// Content-Disposition's `name` ("" when absent).
    std::string name;
    /// Content-Disposition's `filename` (or decoded `filename*`), if any:
    /// present means the part is a file upload.
    std::optional<std::string> filename;
    /// The part's Content-Type ("text/plain" when absent, RFC 7578).
    std::string content_type;
    /// The part's body.
    std::string data;
};

/// Limits of MultipartParser.
struct MultipartLimits {
    std::size_t max_header_size = 8 * 1024;
    std::size_t max_headers = 32;
    std::size_t max_parts = 1000;
};

/// The boundary parameter of a multipart Content-Type header value
/// ("multipart/form-data; boundary=xyz"), unquoted; nothing if the value is
/// not multipart/* or has no valid boundary (1 to 70 characters, RFC 2046).
std::optional<std::string> multipart_boundary(std::string_view content_type);

/// Reads a multipart body incrementally: feed() the bytes as they arrive,
/// in pieces of any size; every part completed so far is appended to `out`.
/// After the last byte, finish() checks that the closing delimiter came.
/// Throws MultipartError on malformed input (the parser is then unusable).
class MultipartParser {
public:
    /// `boundary` as multipart_boundary() returns it. Throws
    /// std::invalid_argument if it is empty or longer than 70 bytes.
    explicit MultipartParser(std::string boundary, MultipartLimits limits = {});

    /// Parses the next bytes of the body (any split: a delimiter or a part
    /// header may span calls) and appends each part completed by them to
    /// `out`. Throws MultipartError on a malformed body or a limit passed;
    /// the parser is unusable afterwards.
    void feed(std::string_view data, std::vector<BodyPart>& out);
    /// Throws MultipartError if the closing delimiter was not seen.
    void finish() const;
    /// True once the closing delimiter was seen (later bytes are epilogue).
    bool done() const noexcept { return state_ == State::epilogue; }

private:
    enum class State { preamble, after_delimiter, headers, body, epilogue };
    void start_part();
    void parse_headers(std::string_view block);

    std::string delimiter_;  // "\r\n--" + boundary
    MultipartLimits limits_;
    State state_ = State::preamble;
    std::string buf_;  // bytes not consumed yet
    std::size_t parts_ = 0;
    BodyPart part_;
};

/// A file sent in a form. aiohttp: `web.FileField`.
struct FileField {
    std::string name;
    std::string filename;
    std::string content_type;
    Headers headers;
    std::string data;
};

/// A parsed form. aiohttp: the MultiDict `await request.post()` returns,
/// with its FileField values kept apart.
struct Form {
    /// The non-file fields, in order (several may share a name).
    MultiDict fields;
    /// The uploaded files, in order.
    std::vector<FileField> files;

    /// The first file field named `name`, or null.
    const FileField* file(std::string_view name) const noexcept;
};

/// Parses `body` as the form its `content_type` names:
/// application/x-www-form-urlencoded (as a query string) or
/// multipart/form-data (files apart). Any other type gives an empty Form,
/// as aiohttp's post() does. Throws MultipartError on a malformed body.
Form parse_form(std::string_view content_type, std::string_view body);

/// Builds a form body for the client: urlencoded when it holds only fields,
/// multipart/form-data once a file is added (or when asked for).
/// aiohttp: `aiohttp.FormData`.
class FormData {
public:
    FormData() = default;
    /// A text field. aiohttp: `add_field(name, value)`.
    FormData& add_field(std::string name, std::string value);
    /// A file field; makes the body multipart. aiohttp:
    /// `add_field(name, data, filename=..., content_type=...)`.
    FormData& add_file(std::string name, std::string filename, std::string data,
                       std::string content_type = "application/octet-stream");
    /// Multipart even without files.
    FormData& force_multipart() noexcept {
        multipart_ = true;
        return *this;
    }
    /// The Content-Type header value to send with body().
    std::string content_type() const;
    /// The encoded body.
    std::string body() const;

private:
    struct Field {
        std::string name;
        std::string value;
        std::optional<std::string> filename;
        std::string content_type;
    };
    std::vector<Field> fields_;
    bool multipart_ = false;
    mutable std::string boundary_;  // made by the first content_type()
};

}  // namespace corio::http
