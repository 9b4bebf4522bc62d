// http/client.cpp - ClientSession: URL splitting, the per-host pool, one
// request/response exchange over corio streams with the sans-I/O
// ResponseParser.
//
// Pool invariant: a Conn in idle_ has no unread byte and no request in
// flight; it is taken out (never shared) for exactly one exchange and put
// back only after a complete keep-alive response with nothing after it.
// Every other path (error, timeout, cancellation) destroys the Conn, which
// aborts its transport.
#include "corio/http/client.hpp"

#include <algorithm>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <utility>

#include "corio/errors.hpp"
#include "corio/event_loop.hpp"
#include "corio/http/status.hpp"
#include "corio/net/streams.hpp"
#include "corio/net/tls.hpp"
#include "corio/timeouts.hpp"
#include "parser.hpp"

namespace corio::http {

Task<std::string> ClientResponse::read() const {
    co_return body_;
}
Task<std::string> ClientResponse::text() const {
    co_return body_;
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
    nlohmann::json value;
    try {
        value = nlohmann::json::parse(body_);
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

struct ClientSession::Conn {
    net::StreamReader reader;
    net::StreamWriter writer;
    TimePoint idle_since{};
    Conn(net::StreamReader r, net::StreamWriter w) : reader(std::move(r)), writer(std::move(w)) {}
    Conn(const Conn&) = delete;
    Conn& operator=(const Conn&) = delete;
    ~Conn() {
        if (!writer.is_closing()) {
            writer.abort();
        }
    }
};

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

ClientSession::ClientSession(ClientSessionOptions options) : options_(std::move(options)) {}

ClientSession::~ClientSession() {
    if (closed_ || idle_connections() == 0) {
        return;
    }
    idle_.clear();  // aborts them
    if (EventLoop* loop = corio::detail::tls_running_loop) {
        loop->call_exception_handler({"Unclosed client session", nullptr, {}, {}});
    }
}

std::size_t ClientSession::idle_connections() const noexcept {
    std::size_t n = 0;
    for (const auto& [key, conns] : idle_) {
        n += conns.size();
    }
    return n;
}

Task<void> ClientSession::close() {
    closed_ = true;
    std::vector<std::unique_ptr<Conn>> all;
    for (auto& [key, conns] : idle_) {
        for (auto& c : conns) {
            all.push_back(std::move(c));
        }
    }
    idle_.clear();
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

Task<ClientResponse> ClientSession::request(std::string method, std::string url, std::string data,
                                            Headers headers) {
    if (!is_token(method)) {
        throw std::invalid_argument("method \"" + method + "\" is not a token");
    }
    Target t;
    detail::split_url(url, t.tls, t.host, t.port, t.host_header, t.target);
    t.key = (t.tls ? "https://" : "http://") + t.host + ":" + std::to_string(t.port);
    t.url = std::move(url);
    if (closed_) {
        throw RuntimeError("Session is closed");
    }
    if (options_.timeout.total) {
        co_return co_await wait_for(send(t, std::move(method), std::move(data), headers),
                                    *options_.timeout.total);
    }
    co_return co_await send(t, std::move(method), std::move(data), headers);
}

Task<ClientResponse> ClientSession::get(std::string url, Headers headers) {
    return request("GET", std::move(url), {}, std::move(headers));
}
Task<ClientResponse> ClientSession::post(std::string url, std::string data, Headers headers) {
    return request("POST", std::move(url), std::move(data), std::move(headers));
}
Task<ClientResponse> ClientSession::put(std::string url, std::string data, Headers headers) {
    return request("PUT", std::move(url), std::move(data), std::move(headers));
}
Task<ClientResponse> ClientSession::patch(std::string url, std::string data, Headers headers) {
    return request("PATCH", std::move(url), std::move(data), std::move(headers));
}
Task<ClientResponse> ClientSession::delete_(std::string url, Headers headers) {
    return request("DELETE", std::move(url), {}, std::move(headers));
}

std::unique_ptr<ClientSession::Conn> ClientSession::take_idle(const std::string& key) {
    auto it = idle_.find(key);
    if (it == idle_.end()) {
        return nullptr;
    }
    TimePoint now = get_running_loop().time();
    while (!it->second.empty()) {
        std::unique_ptr<Conn> c = std::move(it->second.back());
        it->second.pop_back();
        // at_eof() notices a close the server made while the connection idled.
        if (now - c->idle_since < options_.keepalive_timeout && !c->reader.at_eof() &&
            !c->writer.is_closing()) {
            return c;
        }
    }
    return nullptr;
}

void ClientSession::give_back(const std::string& key, std::unique_ptr<Conn> conn) {
    std::vector<std::unique_ptr<Conn>>& list = idle_[key];
    if (closed_ || list.size() >= options_.max_idle_per_host) {
        conn->writer.close();
        return;
    }
    conn->idle_since = get_running_loop().time();
    list.push_back(std::move(conn));
}

Task<std::unique_ptr<ClientSession::Conn>> ClientSession::connect(const Target& t) {
    net::ConnectOptions o;
    std::shared_ptr<net::SslContext> ctx;
    if (t.tls) {
        ctx = options_.ssl ? options_.ssl : net::SslContext::client();
        o.ssl = ctx.get();
        o.server_hostname = t.host;
    }
    // (No co_await inside ?: - GCC 12 mishandles the temporaries there.)
    std::optional<std::pair<net::StreamReader, net::StreamWriter>> rw;
    if (options_.timeout.connect) {
        rw.emplace(
            co_await wait_for(net::open_connection(t.host, t.port, o), *options_.timeout.connect));
    } else {
        rw.emplace(co_await net::open_connection(t.host, t.port, o));
    }
    ++opened_;
    co_return std::make_unique<Conn>(std::move(rw->first), std::move(rw->second));
}

Task<ClientResponse> ClientSession::send(const Target& t, std::string method, std::string data,
                                         const Headers& headers) {
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
    for (const MultiDictEntry& e : headers) {
        if (iequals(e.key, "Content-Length") || iequals(e.key, "Transfer-Encoding") ||
            iequals(e.key, "Host")) {
            throw std::invalid_argument("headers: " + e.key + " is set by the session");
        }
        head += e.key + ": " + e.value + "\r\n";
    }
    if (!data.empty() || method == "POST" || method == "PUT" || method == "PATCH") {
        head += "Content-Length: " + std::to_string(data.size()) + "\r\n";
    }
    head += "\r\n";
    for (int round = 0;; ++round) {
        std::unique_ptr<Conn> conn = take_idle(t.key);
        const bool reused = conn != nullptr;
        if (!conn) {
            conn = co_await connect(t);
        }
        bool nothing_received = true;
        std::exception_ptr failure;
        try {
            ClientResponse resp = co_await attempt(t, conn, head, data, method, nothing_received);
            cookie_jar_.update_cookies(resp.headers(), t.url);
            co_return resp;
        } catch (const ServerDisconnectedError&) {
            failure = std::current_exception();
        } catch (const std::system_error&) {
            failure = std::current_exception();
        }
        // A pooled connection the server had closed: once more on a new one.
        if (!(reused && nothing_received && round == 0 && safe_to_retry(method))) {
            std::rethrow_exception(failure);
        }
    }
}

Task<ClientResponse> ClientSession::attempt(const Target& t, std::unique_ptr<Conn>& conn,
                                            std::string_view head, std::string_view data,
                                            std::string method, bool& nothing_received) {
    conn->writer.write(head);
    if (!data.empty()) {
        conn->writer.write(data);
    }
    co_await conn->writer.drain();
    detail::ParserLimits limits;
    limits.max_body_size = options_.max_body_size;
    detail::ResponseParser parser(limits);
    parser.set_request_method(parse_method(method).value_or(Method::other));
    ClientResponse resp;
    resp.url_ = t.url;
    resp.method_ = std::move(method);
    std::string input;
    std::string_view rest;
    bool eof = false;
    for (;;) {
        detail::ParseStep s = eof ? parser.finish() : parser.feed(rest);
        rest.remove_prefix(s.consumed);
        switch (s.event) {
            case detail::ParseStep::need_data:
                if (!rest.empty()) {
                    throw ClientPayloadError("response parser stalled");
                }
                if (options_.timeout.sock_read) {
                    input =
                        co_await wait_for(conn->reader.read(65536), *options_.timeout.sock_read);
                } else {
                    input = co_await conn->reader.read(65536);
                }
                eof = input.empty();
                nothing_received = nothing_received && eof;
                rest = input;
                if (eof && nothing_received) {
                    throw ServerDisconnectedError("Server disconnected");
                }
                break;
            case detail::ParseStep::head: {
                const detail::ResponseHead& h = parser.head();
                if (h.status < 200) {  // 1xx: skipped (the parser goes on)
                    break;
                }
                resp.status_ = h.status;
                resp.reason_.assign(h.reason);
                resp.headers_ = h.headers.to_headers();
                resp.version_ = h.version;
                break;
            }
            case detail::ParseStep::body:
                resp.body_.append(s.bytes);
                break;
            case detail::ParseStep::message_complete:
                if (resp.status_ == 0) {
                    break;  // the end of a 1xx
                }
                if (parser.keep_alive() && rest.empty() && !eof) {
                    give_back(t.key, std::move(conn));
                } else {
                    conn->writer.close();
                }
                co_return resp;
            case detail::ParseStep::error:
                if (parser.error() == http::detail::ParseError::unexpected_eof) {
                    throw ServerDisconnectedError("Server disconnected before the response ended");
                }
                throw ClientPayloadError("invalid response: " +
                                         std::string(detail::error_name(parser.error())));
            case detail::ParseStep::upgrade:
            case detail::ParseStep::closed:
                throw ClientPayloadError("unexpected end of the response");
        }
    }
}

}  // namespace corio::http
