// http/websocket_response.cpp - WebSocketConnection, the server's
// WebSocketResponse and the client's ws_connect().
#include "corio/http/websocket_response.hpp"

#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <stdexcept>
#include <utility>

#include "corio/errors.hpp"
#include "corio/http/status.hpp"
#include "corio/locks.hpp"
#include "corio/net/tls.hpp"
#include "corio/net/transports.hpp"
#include "corio/timeouts.hpp"
#include "parser.hpp"
#include "serializer.hpp"
#include "websocket_deflate.hpp"
#include "websocket_handshake.hpp"
#include "ws_session.hpp"

namespace corio::http {

namespace {

detail::WsSession& session(const std::shared_ptr<detail::WsSession>& ws) {
    if (!ws) {
        throw RuntimeError("WebSocket is not connected (call prepare() first)");
    }
    return *ws;
}

void check_compress(const WebSocketOptions& o) {
    if (o.compress != 0 && (o.compress < 9 || o.compress > 15)) {
        throw std::invalid_argument("compress: 0 (off) or window bits 9 to 15");
    }
}

}  // namespace

namespace {
const char* type_name(WSMsgType t) noexcept {
    switch (t) {
        case WSMsgType::TEXT:
            return "TEXT";
        case WSMsgType::BINARY:
            return "BINARY";
        case WSMsgType::CLOSE:
            return "CLOSE";
        case WSMsgType::ERROR:
            return "ERROR";
        case WSMsgType::CLOSED:
            return "CLOSED";
        default:
            return "other";
    }
}
}  // namespace

WSMessageTypeError::WSMessageTypeError(WSMessage message)
    : std::runtime_error(std::string("Received message of type ") + type_name(message.type) +
                         " is not WSMsgType.TEXT"),
      message_(std::move(message)) {}

Task<WSMessage> WebSocketConnection::receive(std::optional<Duration> timeout) {
    std::shared_ptr<detail::WsSession> ws = ws_;
    co_return co_await session(ws).receive(timeout);
}
Task<void> WebSocketConnection::send_str(std::string_view data) {
    session(ws_).send(detail::WsOpcode::text, data);
    co_return;
}
Task<void> WebSocketConnection::send_bytes(std::string_view data) {
    session(ws_).send(detail::WsOpcode::binary, data);
    co_return;
}
Task<void> WebSocketConnection::send_json(const nlohmann::json& data) {
    std::string text = data.dump();
    session(ws_).send(detail::WsOpcode::text, text);
    co_return;
}
Task<nlohmann::json> WebSocketConnection::receive_json(std::optional<Duration> timeout) {
    WSMessage msg = co_await receive(timeout);
    if (msg.type != WSMsgType::TEXT) {
        throw WSMessageTypeError(std::move(msg));
    }
    nlohmann::json value;
    try {
        value = nlohmann::json::parse(msg.data);
    } catch (const nlohmann::json::parse_error& e) {
        throw std::invalid_argument(std::string("WebSocket message is not JSON: ") + e.what());
    }
    co_return value;
}
Task<void> WebSocketConnection::ping(std::string_view payload) {
    session(ws_).send(detail::WsOpcode::ping, payload);
    co_return;
}
Task<void> WebSocketConnection::pong(std::string_view payload) {
    session(ws_).send(detail::WsOpcode::pong, payload);
    co_return;
}
Task<bool> WebSocketConnection::close(int code, std::string_view message) {
    std::shared_ptr<detail::WsSession> ws = ws_;
    co_return co_await session(ws).close(code, message);
}
bool WebSocketConnection::closed() const noexcept {
    return !ws_ || ws_->closed();
}
std::optional<int> WebSocketConnection::close_code() const noexcept {
    return ws_ ? ws_->close_code() : std::nullopt;
}

ClientWebSocketResponse::~ClientWebSocketResponse() {
    if (ws_ && !ws_->closed()) {
        ws_->abort();
    }
}

// -- Server -------------------------------------------------------------------

namespace web {

WebSocketResponse::WebSocketResponse(WebSocketOptions options) : options_(options) {
    set_status(101);
}

bool WebSocketResponse::can_prepare(const Request& request) {
    return http::detail::check_websocket_request(request.method(), request.version(),
                                                 request.headers())
        .ok;
}

Task<void> WebSocketResponse::prepare(Request& request) {
    if (prepared_) {
        throw RuntimeError("WebSocketResponse::prepare: already prepared");
    }
    if (request.sink_ == nullptr) {
        throw RuntimeError("WebSocketResponse::prepare: the request has no server connection");
    }
    http::detail::WsRequestCheck check = http::detail::check_websocket_request(
        request.method(), request.version(), request.headers());
    if (!check.ok) {
        Headers h;
        if (check.status == 426) {
            h.add("Sec-WebSocket-Version", "13");
        }
        throw HTTPException(check.status, check.reason, std::move(h));
    }
    check_compress(options_);
    std::optional<http::detail::WsDeflateParams> deflate;
    std::string extensions;
    if (options_.compress != 0) {
        auto offers = http::detail::parse_websocket_extensions(
            request.headers().get_all("sec-websocket-extensions"));
        if (!offers) {
            throw HTTPException(400, "malformed Sec-WebSocket-Extensions");
        }
        http::detail::WsDeflateParams p;
        if (http::detail::negotiate_deflate_server(
                *offers, options_.compress, options_.compress_no_context_takeover, p, extensions)) {
            deflate = p;
        }
    }
    Headers fields;
    fields.add("Upgrade", "websocket");
    fields.add("Connection", "upgrade");
    fields.add("Sec-WebSocket-Accept", http::detail::websocket_accept(check.key));
    if (deflate) {
        fields.add("Sec-WebSocket-Extensions", extensions);
    }
    for (const MultiDictEntry& e : headers()) {
        fields.add(e.key, e.value);
    }
    http::detail::ResponseHeadOptions o;
    o.status = 101;
    std::string head;
    http::detail::serialize_response(head, o, fields);  // may throw: nothing sent
    detail::ResponseSink& sink = *request.sink_;
    ws_ = std::make_shared<http::detail::WsSession>(
        http::detail::WsRole::server, sink.transport().shared_from_this(), options_, deflate);
    sink.upgrade(head, ws_);
    prepared_ = true;
    eof_ = true;
    co_return;
}

}  // namespace web

// -- Client -------------------------------------------------------------------

namespace {

// Reads the handshake's answer, then hands the connection's bytes to the
// session.
class ClientWsProtocol final : public net::Protocol {
public:
    void data_received(std::string_view d) override {
        if (ws_) {
            ws_->feed(d);
            return;
        }
        buf_.append(d);
        parse();
    }
    bool eof_received() override {
        end(std::make_exception_ptr(
            ServerDisconnectedError("Server disconnected during the WebSocket handshake")));
        return false;
    }
    void connection_lost(std::exception_ptr e) override {
        end(e ? e
              : std::make_exception_ptr(
                    ServerDisconnectedError("Server disconnected during the WebSocket handshake")));
    }

    Event head_done;
    std::exception_ptr error;
    int status = 0;
    std::string reason;
    Headers headers;
    std::string rest;  // bytes after the head: the first frames
    void attach(std::shared_ptr<detail::WsSession> ws) {
        ws_ = std::move(ws);
        if (!rest.empty()) {
            std::string r = std::move(rest);
            ws_->feed(r);
        }
    }

private:
    void parse() {
        std::string_view in = buf_;
        for (;;) {
            detail::ParseStep s = parser_.parse(in);
            in.remove_prefix(s.consumed);
            if (s.event == detail::ParseStep::head) {
                const detail::ResponseHead& h = parser_.head();
                if (h.status == 101 || h.status >= 200) {
                    status = h.status;
                    reason.assign(h.reason);
                    headers = h.headers.to_headers();
                }
                continue;
            }
            if (s.event == detail::ParseStep::upgrade ||
                (s.event != detail::ParseStep::need_data && status != 0)) {
                rest.assign(in);
                buf_.clear();
                head_done.set();
                return;
            }
            if (s.event == detail::ParseStep::error) {
                error = std::make_exception_ptr(
                    ClientPayloadError("invalid handshake response: " +
                                       std::string(detail::error_name(parser_.error()))));
                head_done.set();
                return;
            }
            if (s.event == detail::ParseStep::need_data) {
                buf_.erase(0, buf_.size() - in.size());
                return;
            }
        }
    }
    void end(std::exception_ptr e) {
        if (ws_) {
            ws_->connection_lost();
            ws_.reset();  // breaks the transport -> protocol -> session -> transport cycle
        } else if (!head_done.is_set()) {
            error = e;
            head_done.set();
        }
    }

    detail::ResponseParser parser_;
    std::string buf_;
    std::shared_ptr<detail::WsSession> ws_;
};

std::string new_key() {
    std::array<std::uint8_t, 16> nonce{};
    if (RAND_bytes(nonce.data(), static_cast<int>(nonce.size())) != 1) {
        throw std::runtime_error("RAND_bytes failed");
    }
    return detail::make_websocket_key(nonce);
}

}  // namespace

Task<ClientWebSocketResponse> ws_connect(std::string url, WebSocketOptions options, Headers headers,
                                         std::shared_ptr<net::SslContext> ssl,
                                         Duration handshake_timeout) {
    check_compress(options);
    if (url.rfind("ws://", 0) == 0) {
        url = "http://" + url.substr(5);
    } else if (url.rfind("wss://", 0) == 0) {
        url = "https://" + url.substr(6);
    }
    bool tls = false;
    std::string host, host_header, target;
    std::uint16_t port = 0;
    detail::split_url(url, tls, host, port, host_header, target);
    net::ConnectOptions o;
    if (tls) {
        if (!ssl) {
            ssl = net::SslContext::client();
        }
        o.ssl = ssl.get();
        o.server_hostname = host;
    }
    // A named factory: GCC 12 may destroy a temporary made inside co_await twice.
    net::ProtocolFactory factory = [] { return std::make_unique<ClientWsProtocol>(); };
    std::shared_ptr<net::Transport> tr = co_await wait_for(
        net::create_connection(std::move(factory), host, port, o), handshake_timeout);
    auto& proto = static_cast<ClientWsProtocol&>(tr->get_protocol());
    const std::string key = new_key();
    std::string req = "GET " + target + " HTTP/1.1\r\nHost: " + host_header +
                      "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                      "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: " +
                      key + "\r\n";
    if (options.compress != 0) {
        req += "Sec-WebSocket-Extensions: " +
               detail::deflate_offer(options.compress, options.compress_no_context_takeover) +
               "\r\n";
    }
    for (const MultiDictEntry& e : headers) {
        req += e.key + ": " + e.value + "\r\n";
    }
    req += "\r\n";
    tr->write(req);
    try {
        co_await wait_for(proto.head_done.wait(), handshake_timeout);
    } catch (...) {
        tr->abort();
        throw;
    }
    if (proto.error) {
        tr->abort();
        std::rethrow_exception(proto.error);
    }
    std::string_view bad = detail::check_websocket_response(proto.status, proto.headers, key);
    if (!bad.empty()) {
        tr->abort();
        throw ClientResponseError(proto.status, "WebSocket handshake failed: " + std::string(bad) +
                                                    " (status " + std::to_string(proto.status) +
                                                    ")");
    }
    std::optional<detail::WsDeflateParams> deflate;
    const std::vector<std::string_view> ext = proto.headers.get_all("sec-websocket-extensions");
    if (options.compress != 0) {
        bad = detail::accept_deflate_response(ext, options.compress,
                                              options.compress_no_context_takeover, deflate);
    } else if (std::any_of(ext.begin(), ext.end(), [](std::string_view v) {
                   return v.find_first_not_of(" \t,") != std::string_view::npos;
               })) {
        bad = "Sec-WebSocket-Extensions names an extension that was not offered";
    }
    if (!bad.empty()) {
        tr->abort();
        throw ClientResponseError(proto.status, "WebSocket handshake failed: " + std::string(bad));
    }
    auto ws = std::make_shared<detail::WsSession>(detail::WsRole::client, tr, options, deflate);
    proto.attach(ws);
    co_return ClientWebSocketResponse(std::move(ws));
}

}  // namespace corio::http
