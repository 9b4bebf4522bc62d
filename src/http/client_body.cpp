// http/client_body.cpp - a client response's body: the pull loop from the
// socket through the ResponseParser (ResponseBody), the connection pool,
// ContentReader and ClientResponse's body accessors.
//
// Pull, not push: bytes leave the socket reader only when a read needs
// them, read_size at a time, so the only unbounded buffer would be the
// socket reader's, which pauses the transport past twice its limit.
#include <algorithm>
#include <utility>

#include "../net/stream_conn.hpp"  // StreamConn::buffered(), for buffered()
#include "client_conn.hpp"
#include "corio/errors.hpp"
#include "corio/http/client.hpp"
#include "corio/timeouts.hpp"

namespace corio::http {

namespace detail {

Task<ParseStep> ResponseBody::next_event() {
    if (!conn) {
        throw ClientPayloadError("Connection closed");
    }
    for (;;) {
        std::string_view rest = std::string_view(input).substr(input_off);
        ParseStep s = eof ? parser.finish() : parser.feed(rest);
        input_off += s.consumed;
        if (s.event != ParseStep::need_data) {
            co_return s;
        }
        if (input_off != input.size()) {
            throw ClientPayloadError("response parser stalled");
        }
        peak = std::max(peak, buffered());
        // Each wait for bytes: at most sock_read, and never past the deadline.
        std::optional<Duration> limit = sock_read;
        if (deadline && *deadline != TimePoint::max()) {
            Duration left = *deadline - get_running_loop().time();
            if (left <= Duration::zero()) {
                throw TimeoutError("ClientTimeout::total passed while reading the response");
            }
            limit = limit ? std::min(*limit, left) : left;
        }
        if (limit) {
            input = co_await wait_for(conn->reader.read(static_cast<long>(read_size)), *limit);
        } else {
            input = co_await conn->reader.read(static_cast<long>(read_size));
        }
        input_off = 0;
        eof = input.empty();
        nothing_received = nothing_received && eof;
        if (eof && nothing_received) {
            throw ServerDisconnectedError("Server disconnected");
        }
    }
}

[[noreturn]] void throw_parse_error(const ResponseParser& parser) {
    if (parser.error() == ParseError::unexpected_eof) {
        throw ServerDisconnectedError("Server disconnected before the response ended");
    }
    throw ClientPayloadError("invalid response: " + std::string(error_name(parser.error())));
}

Task<bool> ResponseBody::fill() {
    if (error) {
        std::rethrow_exception(error);
    }
    if (complete) {
        co_return false;
    }
    try {
        for (;;) {
            ParseStep s = co_await next_event();
            switch (s.event) {
                case ParseStep::body:
                    if (s.bytes.empty()) {
                        break;
                    }
                    if (buf_off == buf.size()) {
                        buf.clear();
                        buf_off = 0;
                    }
                    buf.append(s.bytes);
                    co_return true;
                case ParseStep::message_complete:
                    finish_message();
                    co_return false;
                case ParseStep::error:
                    throw_parse_error(parser);
                default:
                    throw ClientPayloadError("unexpected end of the response");
            }
        }
    } catch (const std::exception&) {
        error = std::current_exception();
        conn.reset();
        throw;
    } catch (...) {  // cancelled: the connection is in an unknown state
        conn.reset();
        error = std::make_exception_ptr(
            ClientPayloadError("Connection closed: a read of the body was cancelled"));
        throw;
    }
}

std::size_t ResponseBody::buffered() const noexcept {
    std::size_t n = unread() + (input.size() - input_off);
    if (conn) {
        n += conn->reader.conn()->buffered();
    }
    return n;
}

std::string ResponseBody::take(std::size_t n) {
    n = std::min(n, unread());
    std::string out = buf.substr(buf_off, n);
    buf_off += n;
    if (buf_off == buf.size()) {
        buf.clear();
        buf_off = 0;
    }
    return out;
}

void ResponseBody::finish_message() {
    complete = true;
    std::unique_ptr<ClientConn> c = std::move(conn);
    std::shared_ptr<ClientPool> p = pool.lock();
    if (p && parser.keep_alive() && input_off == input.size() && !eof) {
        p->give_back(key, std::move(c));
    } else {
        c->writer.close();
    }
    input.clear();
    input_off = 0;
}

void ResponseBody::check_deadline() {
    if (error || complete || !deadline || get_running_loop().time() < *deadline) {
        return;
    }
    conn.reset();
    buf.clear();
    buf_off = 0;
    error = std::make_exception_ptr(
        TimeoutError("ClientTimeout::total passed while reading the response"));
    std::rethrow_exception(error);
}

void ResponseBody::release() noexcept {
    if (!complete && conn) {
        conn.reset();
        buf.clear();
        buf_off = 0;
        error = std::make_exception_ptr(
            ClientPayloadError("Connection closed: the response was released"));
    }
}

}  // namespace detail

namespace {

Task<std::string> read_all(std::shared_ptr<detail::ResponseBody> b) {
    b->check_deadline();
    // (No co_await in a loop condition: GCC 12 miscompiles it.)
    for (;;) {
        bool more = co_await b->fill();
        if (!more) {
            break;
        }
    }
    co_return b->take(b->unread());
}

Task<std::string> read_some(std::shared_ptr<detail::ResponseBody> b, std::size_t n) {
    b->check_deadline();
    if (b->unread() == 0) {
        bool more = co_await b->fill();
        if (!more) {
            co_return std::string();
        }
    }
    co_return b->take(n);
}

Task<std::string> read_line(std::shared_ptr<detail::ResponseBody> b) {
    b->check_deadline();
    const std::size_t max_line = 2 * b->read_size;
    for (std::size_t searched = 0;;) {
        std::string_view pending = std::string_view(b->buf).substr(b->buf_off);
        std::size_t nl = pending.find('\n', searched);
        if (nl != std::string_view::npos) {
            co_return b->take(nl + 1);
        }
        searched = pending.size();
        if (searched > max_line) {
            b->take(searched);
            throw std::invalid_argument("Line is too long");
        }
        bool more = co_await b->fill();
        if (!more) {
            co_return b->take(b->unread());
        }
    }
}

AsyncGenerator<std::string> chunks(std::shared_ptr<detail::ResponseBody> b, std::size_t n) {
    for (;;) {
        std::string piece = co_await read_some(b, n);
        if (piece.empty()) {
            co_return;
        }
        co_yield std::move(piece);
    }
}

}  // namespace

Task<std::string> ContentReader::read(long n) const {
    if (n < 0) {
        return read_all(body_);
    }
    if (n == 0) {
        return []() -> Task<std::string> { co_return std::string(); }();
    }
    return read_some(body_, static_cast<std::size_t>(n));
}

Task<std::string> ContentReader::readany() const {
    return read_some(body_, SIZE_MAX);
}

Task<std::string> ContentReader::readline() const {
    return read_line(body_);
}

AsyncGenerator<std::string> ContentReader::iter_chunked(std::size_t n) const {
    if (n == 0) {
        throw std::invalid_argument("iter_chunked: n must be > 0");
    }
    return chunks(body_, n);
}

AsyncGenerator<std::string> ContentReader::iter_any() const {
    return chunks(body_, SIZE_MAX);
}

bool ContentReader::at_eof() const noexcept {
    return body_->complete && body_->unread() == 0;
}

std::size_t ContentReader::buffered() const noexcept {
    return body_->buffered();
}

std::size_t ContentReader::peak_buffered() const noexcept {
    return std::max(body_->peak, body_->buffered());
}

ClientResponse::ClientResponse()
    : body_(std::make_shared<detail::ResponseBody>(detail::ParserLimits{})) {
    body_->complete = true;
    body_->loaded = true;
}

ContentReader ClientResponse::content() const {
    if (body_->loaded && body_->complete) {
        // Read whole already: a reader over the stored body, shared by
        // every content() of this response.
        if (!body_->replay) {
            body_->replay = std::make_shared<detail::ResponseBody>(detail::ParserLimits{});
            body_->replay->complete = true;
            body_->replay->buf = body_->body;
        }
        return ContentReader(body_->replay);
    }
    return ContentReader(body_);
}

namespace {

Task<std::string> load(std::shared_ptr<detail::ResponseBody> b) {
    if (!b->loaded) {
        std::string rest = co_await read_all(b);
        b->body = std::move(rest);
        b->loaded = true;
    }
    co_return b->body;
}

}  // namespace

Task<std::string> ClientResponse::read() const {
    return load(body_);
}

Task<std::string> ClientResponse::text() const {
    return load(body_);
}

const std::string& ClientResponse::body() const noexcept {
    return body_->body;
}

void ClientResponse::release() noexcept {
    body_->release();
}

Task<nlohmann::json> ClientResponse::json(std::string_view content_type) const {
    if (!content_type.empty()) {
        std::string_view type = headers_.get("Content-Type", "");
        type = type.substr(0, std::min(type.find(';'), type.size()));
        while (!type.empty() && (type.back() == ' ' || type.back() == '\t')) {
            type.remove_suffix(1);
        }
        if (!iequals(type, content_type)) {
            throw ContentTypeError(status_, "Attempt to decode JSON with unexpected mimetype: '" +
                                                std::string(type) + "', url='" + url_ + "'");
        }
    }
    std::string text = co_await load(body_);
    nlohmann::json value;
    try {
        value = nlohmann::json::parse(text);
    } catch (const nlohmann::json::parse_error& e) {
        throw ClientPayloadError(std::string("invalid JSON body: ") + e.what());
    }
    co_return value;
}

void ClientResponse::raise_for_status() const {
    if (status_ >= 400) {
        throw ClientResponseError(
            status_, std::to_string(status_) + ", message='" + reason_ + "', url='" + url_ + "'");
    }
}

TooManyRedirects::TooManyRedirects(std::vector<ClientResponse> history, const std::string& message)
    : ClientResponseError(history.empty() ? 0 : history.back().status(), message),
      history_(std::move(history)) {}

}  // namespace corio::http
