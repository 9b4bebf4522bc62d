// http/web.cpp - Request, Response and HTTPException (web.hpp).
#include "corio/http/web.hpp"

#include <memory>
#include <stdexcept>
#include <string>
#include <utility>

#include "corio/errors.hpp"
#include "corio/http/status.hpp"

namespace corio::http::web {

std::string_view Request::content_type() const noexcept {
    std::string_view v = headers_.get("Content-Type", "");
    std::size_t semi = v.find(';');
    if (semi != std::string_view::npos) {
        v = v.substr(0, semi);
    }
    while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) {
        v.remove_suffix(1);
    }
    return v;
}

Cookies Request::cookies() const {
    Cookies out;
    for (std::string_view v : headers_.get_all("Cookie")) {
        out.merge(parse_cookie_header(v));  // the first of a name wins
    }
    return out;
}

void Response::set_cookie(std::string_view name, std::string_view value,
                          const CookieOptions& options) {
    std::string field = format_set_cookie(name, value, options);
    // Replaces a Set-Cookie of the same name made before on this response.
    std::vector<std::string> keep;
    bool replaced = false;
    for (std::string_view v : headers_.get_all("Set-Cookie")) {
        std::string_view n = v.substr(0, v.find('='));
        if (n == name) {
            replaced = true;
        } else {
            keep.emplace_back(v);
        }
    }
    if (replaced) {
        headers_.remove("Set-Cookie");
        for (const std::string& v : keep) {
            headers_.add("Set-Cookie", v);
        }
    }
    headers_.add("Set-Cookie", field);
}

void Response::del_cookie(std::string_view name, std::string_view path, std::string_view domain) {
    CookieOptions o;
    o.expires = std::chrono::system_clock::time_point{};
    o.max_age = 0;
    o.path = std::string(path);
    o.domain = std::string(domain);
    set_cookie(name, "", o);
}

BodyReader& Request::content() const {
    if (!content_) {
        // A request made by hand: its body, ended.
        // The bytes move into the reader: read() takes them back from it,
        // as from a server's reader, so they are never returned twice.
        content_ = std::make_shared<BodyReader>();
        if (!body_read_) {
            content_->feed_data(body_);
            body_.clear();
        }
        content_->feed_eof();
    }
    return *content_;
}

Task<void> Request::load() const {
    if (content_ && !body_read_) {
        std::string rest = co_await content_->read();
        if (body_.empty()) {
            body_ = std::move(rest);
        } else {
            body_ += rest;
        }
    }
    body_read_ = true;
}

Task<std::string> Request::read() const {
    co_await load();
    co_return body_;
}

Task<std::string> Request::text() const {
    co_return co_await read();
}

Task<nlohmann::json> Request::json() const {
    co_await load();
    nlohmann::json value;
    try {
        value = nlohmann::json::parse(body_);
    } catch (const nlohmann::json::parse_error& e) {
        throw JSONDecodeError(e.what());
    }
    co_return value;
}

JSONDecodeError::JSONDecodeError(std::string parse_error)
    : HTTPException(400, "400: Bad Request: invalid JSON body: " + parse_error),
      parse_error_(std::move(parse_error)) {}

Response json_response(const nlohmann::json& data, int status, Headers headers) {
    Response r = Response::json(data.dump(), status);
    for (const auto& [name, value] : headers) {
        r.headers().add(name, value);
    }
    return r;
}

Request& RequestBuilder::method(Request& r, Method m, std::string_view name) {
    r.method_ = m;
    r.method_name_.assign(name);
    return r;
}

Request& RequestBuilder::target(Request& r, std::string_view raw_path, std::string path,
                                std::string_view query_string, MultiDict query) {
    r.raw_path_.assign(raw_path);
    r.path_ = std::move(path);
    r.query_string_.assign(query_string);
    r.query_ = std::move(query);
    return r;
}

Request& RequestBuilder::headers(Request& r, Headers h) noexcept {
    r.headers_ = std::move(h);
    return r;
}

Request& RequestBuilder::version(Request& r, HttpVersion v, bool keep_alive) noexcept {
    r.version_ = v;
    r.keep_alive_ = keep_alive;
    return r;
}

Request& RequestBuilder::remote(Request& r, std::string remote) noexcept {
    r.remote_ = std::move(remote);
    return r;
}

Response::Response(std::string body, int status, std::string_view content_type)
    : body_(std::move(body)) {
    set_status(status);
    if (!content_type.empty()) {
        set_content_type(content_type);
    }
}

Response Response::text(std::string text, int status, std::string_view content_type) {
    return Response(std::move(text), status, content_type);
}

Response Response::json(std::string json_text, int status) {
    return Response(std::move(json_text), status, "application/json; charset=utf-8");
}

void Response::set_status(int status, std::string_view reason) {
    if (status < 100 || status > 999) {
        throw std::invalid_argument("Response::set_status: status " + std::to_string(status) +
                                    " is outside 100..999");
    }
    status_ = status;
    reason_.assign(reason);
}

Task<void> StreamResponse::prepare(Request& request) {
    if (prepared_) {
        throw RuntimeError("StreamResponse::prepare: already prepared");
    }
    if (!body().empty()) {
        throw RuntimeError("StreamResponse::prepare: the body must be sent with write()");
    }
    if (request.sink_ == nullptr) {
        throw RuntimeError("StreamResponse::prepare: the request has no server connection");
    }
    request.sink_->start(request, *this, content_length_);
    sink_ = request.sink_;
    prepared_ = true;
    co_return;
}

Task<void> StreamResponse::write(std::string_view data) {
    if (!prepared_ || eof_) {
        throw RuntimeError(prepared_ ? "StreamResponse::write: after write_eof()"
                                     : "StreamResponse::write: before prepare()");
    }
    if (content_length_ && data.size() > *content_length_ - written_) {
        throw RuntimeError("StreamResponse::write: more than the content_length announced (" +
                           std::to_string(*content_length_) + " bytes)");
    }
    written_ += data.size();
    if (!data.empty()) {
        sink_->write_body(data);
    }
    co_await sink_->drain();
}

Task<bool> StreamResponse::send_file(int fd, std::uint64_t offset, std::uint64_t count) {
    if (!prepared_ || eof_) {
        throw RuntimeError(prepared_ ? "StreamResponse::send_file: after write_eof()"
                                     : "StreamResponse::send_file: before prepare()");
    }
    if (content_length_ && count > *content_length_ - written_) {
        throw RuntimeError("StreamResponse::send_file: more than the content_length announced");
    }
    const bool sent = co_await sink_->send_file(fd, offset, count);
    if (!sent) {
        co_return false;
    }
    written_ += count;
    co_await sink_->drain();
    co_return true;
}

void StreamResponse::set_content_length(std::uint64_t length) {
    if (prepared_) {
        throw RuntimeError("StreamResponse::set_content_length: after prepare()");
    }
    content_length_ = length;
}

Task<void> StreamResponse::drain() {
    if (!prepared_) {
        throw RuntimeError("StreamResponse::drain: before prepare()");
    }
    co_await sink_->drain();
}

Task<void> StreamResponse::write_eof(std::string_view data) {
    if (eof_) {
        co_return;
    }
    if (!prepared_) {
        throw RuntimeError("StreamResponse::write_eof: before prepare()");
    }
    if (content_length_ && data.size() > *content_length_ - written_) {
        throw RuntimeError("StreamResponse::write_eof: more than the content_length announced (" +
                           std::to_string(*content_length_) + " bytes)");
    }
    written_ += data.size();
    if (!data.empty()) {
        sink_->write_body(data);
    }
    eof_ = true;
    sink_->finish();
    co_await sink_->drain();
}

namespace {

std::string default_error_text(int status) {
    std::string t = std::to_string(status) + ": ";
    std::string_view phrase = reason_phrase(status);
    t += phrase.empty() ? std::string_view("Unknown") : phrase;
    return t;
}

}  // namespace

HTTPException::HTTPException(int status, std::string text, Headers headers)
    : std::runtime_error(default_error_text(status)),
      status_(status),
      text_(text.empty() ? default_error_text(status) : std::move(text)),
      headers_(std::move(headers)) {}

Response HTTPException::as_response() const {
    Response r = Response::text(text_, status_);
    for (const MultiDictEntry& e : headers_) {
        r.headers().add(e.key, e.value);
    }
    return r;
}

}  // namespace corio::http::web
