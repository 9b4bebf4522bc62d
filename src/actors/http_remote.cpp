// HttpRemote: a call to an actor hosted by another process, as Dapr's
// PUT /actors/{type}/{id}/method/{method} over a keep-alive pool.
#include <exception>
#include <string>
#include <utility>

#include "corio/actors/http.hpp"
#include "corio/http/client.hpp"

namespace corio::actors {

namespace detail {

std::string percent_encode(std::string_view s) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(s.size());
    for (char ch : s) {
        auto c = static_cast<unsigned char>(ch);
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '.' || c == '_' || c == '~') {
            out += ch;
        } else {
            out += '%';
            out += kHex[c >> 4];
            out += kHex[c & 15];
        }
    }
    return out;
}

std::string actor_method_path(const ActorId& actor, std::string_view method) {
    std::string path = "/actors/";
    path += percent_encode(actor.type);
    path += '/';
    path += percent_encode(actor.id);
    path += "/method/";
    path += percent_encode(method);
    return path;
}

}  // namespace detail

namespace {

http::ClientSessionOptions session_options(const HttpRemoteOptions& o) {
    http::ClientSessionOptions s;
    s.timeout.total = o.call_timeout;
    s.timeout.connect = o.connect_timeout;
    s.limit = 0;
    s.limit_per_host = o.connections_per_host;
    s.max_idle_per_host = o.connections_per_host;
    s.allow_redirects = false;
    return s;
}

// The message of an error answer: Dapr's {"message": ...}, else the body.
std::string remote_message(const http::ClientResponse& r) {
    const std::string& body = r.body();
    Json j = Json::parse(body, nullptr, /*allow_exceptions=*/false);
    if (j.is_object()) {
        if (auto it = j.find("message"); it != j.end() && it->is_string())
            return it->get<std::string>();
    }
    return body.empty() ? std::to_string(r.status()) + " " + r.reason() : body;
}

[[noreturn]] void throw_for_status(const http::ClientResponse& r, const std::string& address,
                                   const ActorId& actor, const std::string& method) {
    std::string where = actor.str() + "." + method + " at " + address + ": ";
    switch (r.status()) {
        case kNotOwnerStatus:
            throw NotOwner(where + remote_message(r));
        case 404:
            throw ActorNotFound(where + remote_message(r));
        case 400:
            throw ActorArgumentError(where + remote_message(r));
        case 500:
            throw ActorMethodError(remote_message(r));
        default:
            throw ActorUnavailable(where + "answered " + std::to_string(r.status()) + ": " +
                                   remote_message(r));
    }
}

}  // namespace

HttpRemote::HttpRemote(HttpRemoteOptions options)
    : options_(options),
      session_(std::make_unique<http::ClientSession>(session_options(options))) {}

HttpRemote::~HttpRemote() = default;

std::uint64_t HttpRemote::connections_opened() const noexcept {
    return session_->connections_opened();
}

Task<Json> HttpRemote::invoke(const std::string& address, const ActorId& actor, std::string method,
                              Json body, std::string call_chain) {
    std::string url = "http://";
    url += address;
    url += detail::actor_method_path(actor, method);
    http::Headers headers{{"Content-Type", "application/json"}};
    if (!call_chain.empty())
        headers.add(kReentrancyHeader, call_chain);
    std::string data =
        body.is_null() ? std::string() : body.dump(-1, ' ', false, Json::error_handler_t::replace);
    http::ClientResponse resp;
    std::string failure;
    try {
        resp =
            co_await session_->request("PUT", std::move(url), std::move(data), std::move(headers));
    } catch (const std::exception& e) {
        // Refused, reset, closed, timed out, unresolvable: the host is not
        // there to answer (cancellation is no std::exception: it passes).
        failure = e.what();
    }
    if (!failure.empty() || resp.status() == 0)
        throw ActorUnavailable(actor.str() + "." + method + " at " + address + ": " + failure);
    if (resp.status() != 200)
        throw_for_status(resp, address, actor, method);
    const std::string& text = resp.body();
    if (text.empty())
        co_return Json();
    Json result = Json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (result.is_discarded())
        throw ActorArgumentError(actor.str() + "." + method + ": the result is not JSON");
    co_return result;
}

Task<void> HttpRemote::close() {
    co_await session_->close();
}

}  // namespace corio::actors
