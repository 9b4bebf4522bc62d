// http/client.cpp - ClientSession: URL splitting and joining, redirects,
// one request/response exchange over corio streams with the sans-I/O
// ResponseParser (the body itself: client_body.cpp), request bodies from
// async generators.
//
// Pool invariant (client_conn.hpp): a connection in the pool has no unread
// byte and no request in flight; it is taken out (never shared) for exactly
// one exchange and put back only after a complete keep-alive response with
// nothing after it. Every other path (error, timeout, cancellation, a body
// left unread) destroys it, which aborts its transport.
#include "corio/http/client.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <utility>

#include "chunked.hpp"
#include "client_conn.hpp"
#include "corio/errors.hpp"
#include "corio/event_loop.hpp"
#include "corio/http/status.hpp"
#include "corio/net/streams.hpp"
#include "corio/net/tls.hpp"
#include "corio/timeouts.hpp"
#include "parser.hpp"

namespace corio::http {

struct ClientSession::Target {
    bool tls = false;
    std::string host;  // without brackets
    std::uint16_t port = 80;
    std::string host_header;
    std::string target;  // path and query
    std::string key;     // pool key: scheme://host:port
    std::string url;
};

namespace {

[[noreturn]] void bad_url(std::string_view url, std::string_view why) {
    throw std::invalid_argument("url \"" + std::string(url) + "\": " + std::string(why));
}

bool safe_to_retry(std::string_view m) {
    return m == "GET" || m == "HEAD" || m == "OPTIONS" || m == "PUT" || m == "DELETE";
}

}  // namespace

namespace detail {

// Splits an absolute http(s) URL (yarl's job in aiohttp).
void split_url(std::string url, bool& tls, std::string& host, std::uint16_t& port,
               std::string& host_header, std::string& target) {
    std::string_view u = url;
    if (u.substr(0, 7) == "http://") {
        tls = false;
        u.remove_prefix(7);
    } else if (u.substr(0, 8) == "https://") {
        tls = true;
        u.remove_prefix(8);
    } else {
        bad_url(url, "scheme must be http or https");
    }
    std::size_t end = u.find_first_of("/?#");
    std::string_view authority = u.substr(0, end);
    std::string_view rest = end == std::string_view::npos ? std::string_view() : u.substr(end);
    rest = rest.substr(0, rest.find('#'));
    if (authority.find('@') != std::string_view::npos) {
        bad_url(url, "user info is not supported");
    }
    std::string_view port_text;
    if (!authority.empty() && authority[0] == '[') {
        std::size_t close = authority.find(']');
        if (close == std::string_view::npos) {
            bad_url(url, "unclosed '['");
        }
        host.assign(authority.substr(1, close - 1));
        std::string_view after = authority.substr(close + 1);
        if (!after.empty()) {
            if (after[0] != ':') {
                bad_url(url, "junk after ']'");
            }
            port_text = after.substr(1);
        }
    } else {
        std::size_t colon = authority.find(':');
        host.assign(authority.substr(0, colon));
        if (colon != std::string_view::npos) {
            port_text = authority.substr(colon + 1);
        }
    }
    if (host.empty()) {
        bad_url(url, "no host");
    }
    port = tls ? 443 : 80;
    if (!port_text.empty()) {
        unsigned long p = 0;
        for (char c : port_text) {
            if (c < '0' || c > '9' || (p = p * 10 + static_cast<unsigned>(c - '0')) > 65535) {
                bad_url(url, "bad port");
            }
        }
        port = static_cast<std::uint16_t>(p);
    }
    host_header.assign(authority);
    if (!is_field_value(host_header) || host_header.find(' ') != std::string::npos) {
        bad_url(url, "bad host");
    }
    target = rest.empty() || rest[0] == '?' ? "/" + std::string(rest) : std::string(rest);
    for (char c : target) {
        if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) {
            bad_url(url, "spaces or control characters in the path (percent-encode them)");
        }
    }
}

}  // namespace detail

namespace detail {

namespace {

// RFC 3986 5.2.4, on a path without query or fragment.
std::string remove_dot_segments(std::string_view path) {
    std::vector<std::string_view> out;
    bool trailing_slash = false;
    std::size_t i = path.empty() || path[0] != '/' ? 0 : 1;
    while (i <= path.size()) {
        std::size_t end = std::min(path.find('/', i), path.size());
        std::string_view seg = path.substr(i, end - i);
        trailing_slash = seg == "." || seg == "..";
        if (seg == "..") {
            if (!out.empty()) {
                out.pop_back();
            }
        } else if (seg != ".") {
            out.push_back(seg);
        }
        i = end + 1;
    }
    std::string r;
    for (std::size_t k = 0; k < out.size(); ++k) {
        r += "/";
        r += out[k];
    }
    if (trailing_slash || r.empty()) {
        r += "/";
    }
    return r;
}

}  // namespace

// Resolves a Location against the absolute URL of the request (yarl's
// `url.join` in aiohttp). Only http and https may be redirected to.
std::string join_url(std::string_view base, std::string_view ref) {
    std::size_t colon = ref.find(':');
    std::size_t delim = ref.find_first_of("/?#");
    if (colon != std::string_view::npos && (delim == std::string_view::npos || colon < delim)) {
        std::string scheme(ref.substr(0, colon));
        std::transform(scheme.begin(), scheme.end(), scheme.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        if (scheme != "http" && scheme != "https") {
            throw std::invalid_argument("redirect to \"" + std::string(ref) +
                                        "\": can redirect only to http or https");
        }
        return scheme + std::string(ref.substr(colon));
    }
    std::size_t authority = base.find("://") + 3;
    std::size_t path_at = std::min(base.find_first_of("/?#", authority), base.size());
    std::string origin(base.substr(0, path_at));
    std::string_view path_query = base.substr(path_at);
    path_query = path_query.substr(0, path_query.find('#'));
    std::string_view path = path_query.substr(0, path_query.find('?'));
    if (ref.substr(0, 2) == "//") {
        return std::string(base.substr(0, authority - 3)) + ":" + std::string(ref);
    }
    if (ref.empty() || ref[0] == '#') {
        return origin + std::string(path_query);
    }
    if (ref[0] == '?') {
        return origin + std::string(path) + std::string(ref);
    }
    std::size_t tail_at = std::min(ref.find_first_of("?#"), ref.size());
    std::string merged;
    if (ref[0] == '/') {
        merged.assign(ref.substr(0, tail_at));
    } else {
        std::size_t last = path.rfind('/');
        merged = last == std::string_view::npos ? "/" : std::string(path.substr(0, last + 1));
        merged += ref.substr(0, tail_at);
    }
    return origin + remove_dot_segments(merged) + std::string(ref.substr(tail_at));
}

}  // namespace detail

struct ClientSession::Payload {
    std::string data;
    AsyncGenerator<std::string>* stream = nullptr;  // a streamed body (sent once)
    std::optional<TimePoint> deadline;              // ClientTimeout::total's end
};

namespace {

bool is_redirect(int status) {
    return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

}  // namespace

ClientSession::ClientSession(ClientSessionOptions options)
    : options_(std::move(options)), pool_(std::make_shared<detail::ClientPool>()) {
    pool_->keepalive_timeout = options_.keepalive_timeout;
    pool_->max_idle_per_host = options_.max_idle_per_host;
    pool_->limit = options_.limit;
    pool_->limit_per_host = options_.limit_per_host;
    if (options_.read_bufsize == 0) {
        throw std::invalid_argument("ClientSessionOptions: read_bufsize must be > 0");
    }
}

ClientSession::~ClientSession() {
    if (closed_) {
        return;
    }
    pool_->shut();  // aborts the idle connections
    // asyncio's unclosed warnings: to the loop's handler, else to stderr.
    if (EventLoop* loop = corio::detail::tls_running_loop) {
        loop->call_exception_handler({"Unclosed client session", nullptr, {}, {}});
    } else {
        std::fprintf(stderr, "Unclosed client session\n");
    }
}

std::size_t ClientSession::idle_connections() const noexcept {
    return pool_->size();
}

std::size_t ClientSession::open_connections() const noexcept {
    return pool_->open;
}

Task<void> ClientSession::close() {
    closed_ = true;
    std::vector<std::unique_ptr<detail::ClientConn>> all = pool_->shut();
    for (auto& c : all) {
        c->writer.close();
    }
    for (auto& c : all) {
        try {
            co_await c->writer.wait_closed();
        } catch (const std::exception&) {
        }
    }
}

Task<void> with_session(std::function<Task<void>(ClientSession&)> body,
                        ClientSessionOptions options) {
    ClientSession session(std::move(options));
    std::exception_ptr failure;
    try {
        co_await body(session);
    } catch (...) {
        failure = std::current_exception();
    }
    co_await session.close();
    if (failure) {
        std::rethrow_exception(failure);
    }
}

ClientSession::Target ClientSession::make_target(std::string url) {
    Target t;
    detail::split_url(url, t.tls, t.host, t.port, t.host_header, t.target);
    t.key = (t.tls ? "https://" : "http://") + t.host + ":" + std::to_string(t.port);
    t.url = std::move(url);
    return t;
}

Task<ClientResponse> ClientSession::request(std::string method, std::string url, std::string data,
                                            Headers headers, RequestOptions options) {
    Payload payload;
    payload.data = std::move(data);
    if (options_.timeout.total) {
        payload.deadline =
            corio::detail::deadline_after(get_running_loop().time(), *options_.timeout.total);
        co_return co_await wait_for(
            follow(std::move(method), std::move(url), payload, std::move(headers), options),
            *options_.timeout.total);
    }
    co_return co_await follow(std::move(method), std::move(url), payload, std::move(headers),
                              options);
}

Task<ClientResponse> ClientSession::request(std::string method, std::string url,
                                            AsyncGenerator<std::string> body, Headers headers,
                                            RequestOptions options) {
    Payload payload;
    payload.stream = &body;
    if (options_.timeout.total) {
        payload.deadline =
            corio::detail::deadline_after(get_running_loop().time(), *options_.timeout.total);
        co_return co_await wait_for(
            follow(std::move(method), std::move(url), payload, std::move(headers), options),
            *options_.timeout.total);
    }
    co_return co_await follow(std::move(method), std::move(url), payload, std::move(headers),
                              options);
}

Task<ClientResponse> ClientSession::get(std::string url, Headers headers, RequestOptions options) {
    return request("GET", std::move(url), std::string(), std::move(headers), options);
}
Task<ClientResponse> ClientSession::post(std::string url, std::string data, Headers headers,
                                         RequestOptions options) {
    return request("POST", std::move(url), std::move(data), std::move(headers), options);
}
Task<ClientResponse> ClientSession::post(std::string url, AsyncGenerator<std::string> body,
                                         Headers headers, RequestOptions options) {
    return request("POST", std::move(url), std::move(body), std::move(headers), options);
}
Task<ClientResponse> ClientSession::put(std::string url, std::string data, Headers headers,
                                        RequestOptions options) {
    return request("PUT", std::move(url), std::move(data), std::move(headers), options);
}
Task<ClientResponse> ClientSession::patch(std::string url, std::string data, Headers headers,
                                          RequestOptions options) {
    return request("PATCH", std::move(url), std::move(data), std::move(headers), options);
}
Task<ClientResponse> ClientSession::delete_(std::string url, Headers headers,
                                            RequestOptions options) {
    return request("DELETE", std::move(url), std::string(), std::move(headers), options);
}

// The redirect loop (aiohttp's `_request`): one send() per hop.
Task<ClientResponse> ClientSession::follow(std::string method, std::string url, Payload& payload,
                                           Headers headers, RequestOptions options) {
    if (!is_token(method)) {
        throw std::invalid_argument("method \"" + method + "\" is not a token");
    }
    const bool allow = options.allow_redirects.value_or(options_.allow_redirects);
    const int max_redirects = options.max_redirects.value_or(options_.max_redirects);
    std::vector<ClientResponse> history;
    Target t = make_target(std::move(url));
    for (;;) {
        if (closed_) {
            throw RuntimeError("Session is closed");
        }
        ClientResponse resp = co_await send(t, method, payload, headers, options.stream);
        const int status = resp.status();
        std::string location(resp.headers().get("Location", resp.headers().get("URI", "")));
        const bool keeps_method = status == 307 || status == 308;
        if (!allow || !is_redirect(status) || location.empty() ||
            (keeps_method && payload.stream != nullptr)) {
            resp.history_ = std::move(history);
            co_return resp;
        }
        co_await resp.read();  // the body of a redirect: read, the connection released
        history.push_back(resp);
        if (max_redirects > 0 && history.size() >= static_cast<std::size_t>(max_redirects)) {
            throw TooManyRedirects(std::move(history), "too many redirects (max_redirects=" +
                                                           std::to_string(max_redirects) +
                                                           "), last from " + t.url);
        }
        if (!keeps_method && method != "HEAD") {
            method = "GET";
            payload.data.clear();
            payload.stream = nullptr;
            headers.remove("Content-Length");  // the caller's, for the body left behind
        }
        Target next = make_target(detail::join_url(t.url, location));
        if (next.key != t.key) {  // another origin: no credentials of the caller's
            headers.remove("Authorization");
            headers.remove("Proxy-Authorization");
            headers.remove("Cookie");
        }
        t = std::move(next);
    }
}

Task<std::unique_ptr<detail::ClientConn>> ClientSession::connection(const Target& t) {
    detail::ClientPool::Lease lease = co_await pool_->acquire(t.key);
    if (lease.conn) {
        co_return std::move(lease.conn);
    }
    net::ConnectOptions o;
    o.limit = options_.read_bufsize;
    std::shared_ptr<net::SslContext> ctx;
    if (t.tls) {
        ctx = options_.ssl ? options_.ssl : net::SslContext::client();
        o.ssl = ctx.get();
        o.server_hostname = t.host;
    }
    // (No co_await inside ?: - GCC 12 mishandles the temporaries there.)
    std::optional<std::pair<net::StreamReader, net::StreamWriter>> rw;
    rw.emplace(co_await net::open_connection(t.host, t.port, o));
    ++opened_;
    auto conn = std::make_unique<detail::ClientConn>(std::move(rw->first), std::move(rw->second));
    conn->place = std::move(lease.place);
    co_return conn;
}

namespace {

std::optional<std::uint64_t> declared_length(const Headers& headers) {
    std::optional<std::string_view> v = headers.get("Content-Length");
    if (!v) {
        return std::nullopt;
    }
    std::uint64_t n = 0;
    if (v->empty() || v->size() > 19 || v->find_first_not_of("0123456789") != std::string::npos) {
        throw std::invalid_argument("headers: bad Content-Length \"" + std::string(*v) + "\"");
    }
    for (char c : *v) {
        n = n * 10 + static_cast<unsigned>(c - '0');
    }
    return n;
}

}  // namespace

Task<void> ClientSession::write_body(detail::ClientConn& conn, Payload& payload,
                                     std::optional<std::uint64_t> length) {
    const bool chunked = !length;
    std::uint64_t sent = 0;
    AsyncGenerator<std::string>& gen = *payload.stream;
    while (std::optional<std::string> piece = co_await gen.next()) {
        if (piece->empty()) {
            continue;
        }
        sent += piece->size();
        if (length && sent > *length) {
            throw std::invalid_argument("body: the chunks exceed Content-Length " +
                                        std::to_string(*length));
        }
        if (chunked) {  // one gathered write: size line, data, CRLF
            std::array<char, http::detail::kChunkHeaderMax> hbuf;
            const std::string_view pieces[] = {http::detail::chunk_header(piece->size(), hbuf),
                                               *piece, http::detail::kChunkEnd};
            conn.writer.writelines(pieces);
        } else {
            conn.writer.write(*piece);
        }
        co_await conn.writer.drain();
    }
    if (length && sent != *length) {
        throw std::invalid_argument("body: the chunks add up to " + std::to_string(sent) +
                                    " bytes, not Content-Length " + std::to_string(*length));
    }
    if (chunked) {
        conn.writer.write(http::detail::kLastChunk);
    }
    co_await conn.writer.drain();
}

Task<ClientResponse> ClientSession::send(const Target& t, std::string method, Payload& payload,
                                         const Headers& headers, bool stream) {
    std::string head = method + " " + t.target + " HTTP/1.1\r\nHost: " + t.host_header + "\r\n";
    if (!headers.contains("User-Agent")) {
        head += "User-Agent: corio\r\n";
    }
    if (!headers.contains("Accept")) {
        head += "Accept: */*\r\n";
    }
    if (!headers.contains("Cookie")) {
        if (std::string cookies = cookie_jar_.cookie_header(t.url); !cookies.empty()) {
            head += "Cookie: " + cookies + "\r\n";
        }
    }
    const bool streamed = payload.stream != nullptr;
    for (const MultiDictEntry& e : headers) {
        if ((iequals(e.key, "Content-Length") && !streamed) ||
            iequals(e.key, "Transfer-Encoding") || iequals(e.key, "Host")) {
            throw std::invalid_argument("headers: " + e.key + " is set by the session");
        }
        head += e.key + ": " + e.value + "\r\n";
    }
    const std::optional<std::uint64_t> length = streamed ? declared_length(headers) : std::nullopt;
    if (streamed && !length) {
        head += "Transfer-Encoding: chunked\r\n";
    } else if (!streamed && (!payload.data.empty() || method == "POST" || method == "PUT" ||
                             method == "PATCH")) {
        head += "Content-Length: " + std::to_string(payload.data.size()) + "\r\n";
    }
    head += "\r\n";
    detail::ParserLimits limits;
    limits.max_body_size = options_.max_body_size;
    for (int round = 0;; ++round) {
        // `connect` bounds the wait for a place under the limits too.
        std::unique_ptr<detail::ClientConn> conn =
            co_await wait_for(connection(t), options_.timeout.connect);
        const bool reused = conn->reused;
        auto body = std::make_shared<detail::ResponseBody>(limits);
        body->pool = pool_;
        body->key = t.key;
        body->sock_read = options_.timeout.sock_read;
        body->deadline = payload.deadline;
        body->read_size = options_.read_bufsize;
        body->parser.set_request_method(parse_method(method).value_or(Method::other));
        std::exception_ptr failure;
        try {
            conn->writer.write(head);
            if (streamed) {
                co_await write_body(*conn, payload, length);
            } else {
                if (!payload.data.empty()) {
                    conn->writer.write(payload.data);
                }
                co_await conn->writer.drain();
            }
            body->conn = std::move(conn);
            ClientResponse resp(body);
            resp.url_ = t.url;
            resp.method_ = method;
            for (bool head_seen = false; !head_seen;) {
                detail::ParseStep s = co_await body->next_event();
                switch (s.event) {
                    case detail::ParseStep::head: {
                        const detail::ResponseHead& h = body->parser.head();
                        if (h.status < 200) {  // 1xx: skipped (the parser goes on)
                            break;
                        }
                        resp.status_ = h.status;
                        resp.reason_.assign(h.reason);
                        resp.headers_ = h.headers.to_headers();
                        resp.version_ = h.version;
                        head_seen = true;
                        break;
                    }
                    case detail::ParseStep::message_complete:
                        break;  // the end of a 1xx
                    case detail::ParseStep::error:
                        detail::throw_parse_error(body->parser);
                    default:
                        throw ClientPayloadError("unexpected end of the response");
                }
            }
            cookie_jar_.update_cookies(resp.headers(), t.url);
            if (!stream) {
                co_await resp.read();
            }
            co_return resp;
        } catch (const ServerDisconnectedError&) {
            failure = std::current_exception();
        } catch (const std::system_error&) {
            failure = std::current_exception();
        }
        // A pooled connection the server had closed: once more on a new one.
        if (!(reused && body->nothing_received && round == 0 && safe_to_retry(method) &&
              !streamed)) {
            std::rethrow_exception(failure);
        }
    }
}

}  // namespace corio::http
