// HttpRemote: a call to an actor hosted by another process, as Dapr's
// PUT /actors/{type}/{id}/method/{method} over a keep-alive pool.
#include <algorithm>
#include <deque>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "../http/parser.hpp"
#include "../http/url_encode.hpp"
#include "../http/ws_session.hpp"
#include "corio/actors/http.hpp"
#include "corio/net/transports.hpp"
#include "corio/timeouts.hpp"

namespace corio::actors {

namespace detail {

std::string dump_json(const Json& j) {
    return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

// The HTTP layer's path-segment quoting (RFC 3986: '/', '?', '%', spaces
// and non-ASCII bytes become %XX).
std::string percent_encode(std::string_view s) {
    return http::detail::quote_segment(s);
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

// The answer to one call.
struct Reply {
    int status = 0;
    std::string body;
};

// Whether a connection is gone, and who waits for that (close()). No
// future is made before someone waits: a connection may outlive its loop.
struct Watch {
    bool gone = false;
    std::optional<Future<void>> waiter;
};

// One keep-alive connection to a host: requests are written as they come,
// answers parsed as they arrive and handed to the calls in order.
class Conn final : public net::Protocol {
public:
    explicit Conn(std::shared_ptr<Watch> watch) : watch_(std::move(watch)) {}

    void connection_made(net::Transport& t) override { transport_ = &t; }
    void data_received(std::string_view data) override;
    bool eof_received() override {
        finish();
        fail_all("the host closed the connection");
        return false;
    }
    void connection_lost(std::exception_ptr) override {
        finish();  // (a reset may come instead of the end)
        fail_all("the connection was lost");
        watch_->gone = true;
        if (watch_->waiter) {
            watch_->waiter->set_result();
            watch_->waiter.reset();
        }
    }

    // Sends `request` and returns the future of its answer.
    Future<Reply> send(std::string_view request) {
        Future<Reply> f;
        waiting_.push_back(f);
        transport_->write(request);
        return f;
    }
    bool usable() const noexcept { return !dead_ && transport_ && !transport_->is_closing(); }
    std::size_t in_flight() const noexcept { return waiting_.size(); }
    void close() {
        dead_ = true;
        if (transport_ && !transport_->is_closing())
            transport_->close();
    }

private:
    // An answer delimited by the end of the connection ends here.
    void finish() {
        if (!finished_ && parser_.finish().event == http::detail::ParseStep::message_complete)
            deliver();
        finished_ = true;
    }
    // Hands the answer just read to the oldest call; false if there is none.
    bool deliver() {
        if (waiting_.empty())
            return false;
        if (!waiting_.front().done())  // else its caller gave up
            waiting_.front().set_result(std::move(current_));
        waiting_.pop_front();
        current_ = Reply{};
        return true;
    }
    void fail_all(const std::string& why) {
        dead_ = true;
        for (Future<Reply>& f : waiting_) {
            if (!f.done())
                f.set_exception(ActorUnavailable(why));
        }
        waiting_.clear();
    }

    std::shared_ptr<Watch> watch_;
    net::Transport* transport_ = nullptr;
    std::deque<Future<Reply>> waiting_;
    http::detail::ResponseParser parser_;
    Reply current_;
    bool dead_ = false;
    bool finished_ = false;
};

void Conn::data_received(std::string_view data) {
    for (;;) {
        http::detail::ParseStep step = parser_.feed(data);
        data.remove_prefix(step.consumed);
        switch (step.event) {
            case http::detail::ParseStep::need_data:
                return;
            case http::detail::ParseStep::head:
                current_.status = parser_.head().status;
                current_.body.clear();
                break;
            case http::detail::ParseStep::body:
                current_.body.append(step.bytes);
                break;
            case http::detail::ParseStep::message_complete:
                if (current_.status < 200)
                    break;  // 1xx: the real answer follows
                if (!deliver()) {
                    fail_all("an answer to no request");
                    close();
                    return;
                }
                break;
            default:  // closed, upgrade, error
                fail_all("the host's answer ended the connection");
                close();
                return;
        }
    }
}

struct Slot {
    std::shared_ptr<net::Transport> transport;
    Conn* conn;
    std::shared_ptr<Watch> watch;
};

struct Host {
    std::string name;
    std::uint16_t port = 0;
    std::vector<Slot> slots;
    std::size_t opening = 0;
    Event opened;  // set when an opening connection is made or fails
};

// "host:port" or "[v6]:port", split by the HTTP client's URL splitter.
std::pair<std::string, std::uint16_t> split_address(const std::string& address) {
    bool tls = false;
    std::string host, host_header, target;
    std::uint16_t port = 0;
    try {
        http::detail::split_url("http://" + address, tls, host, port, host_header, target);
    } catch (const std::invalid_argument& e) {
        throw ActorUnavailable("not a host:port address: '" + address + "' (" + e.what() + ")");
    }
    if (target != "/" || address.find(':') == std::string::npos)
        throw ActorUnavailable("not a host:port address: '" + address + "'");
    return {std::move(host), port};
}

// The message of an error answer: Dapr's {"message": ...}, else the body.
std::string remote_message(const Reply& r) {
    Json j = Json::parse(r.body, nullptr, /*allow_exceptions=*/false);
    if (j.is_object()) {
        if (auto it = j.find("message"); it != j.end() && it->is_string())
            return it->get<std::string>();
    }
    return r.body.empty() ? "status " + std::to_string(r.status) : r.body;
}

[[noreturn]] void throw_for_status(const Reply& r, const std::string& where) {
    switch (r.status) {
        case kNotOwnerStatus:
            throw NotOwner(where + remote_message(r));
        case 404:
            throw ActorNotFound(where + remote_message(r));
        case 400:
            throw ActorArgumentError(where + remote_message(r));
        case 500:
            throw ActorMethodError(remote_message(r));
        default:
            throw ActorUnavailable(where + "answered " + std::to_string(r.status) + ": " +
                                   remote_message(r));
    }
}

}  // namespace

struct HttpRemote::Pool {
    HttpRemoteOptions options;
    std::unordered_map<std::string, std::unique_ptr<Host>> hosts;
    std::uint64_t opened = 0;
    bool closed = false;

    Task<Conn*> connection(const std::string& address);
    Task<Conn*> open(Host& host);
};

// The connection with the fewest calls in flight; a new one while all are
// busy and the host has fewer than connections_per_host.
Task<Conn*> HttpRemote::Pool::connection(const std::string& address) {
    auto& entry = hosts[address];
    if (!entry) {
        auto [name, port] = split_address(address);
        entry = std::make_unique<Host>();
        entry->name = std::move(name);
        entry->port = port;
    }
    Host& host = *entry;
    std::erase_if(host.slots, [](const Slot& s) { return s.watch->gone; });
    Conn* best = nullptr;
    std::size_t usable = 0;
    for (Slot& s : host.slots) {
        if (!s.conn->usable())
            continue;
        ++usable;
        if (!best || s.conn->in_flight() < best->in_flight())
            best = s.conn;
    }
    if (best && (best->in_flight() == 0 || usable + host.opening >= options.connections_per_host))
        co_return best;
    if (!best && host.opening >= std::max<std::size_t>(options.connections_per_host, 1)) {
        // Every place is being opened: wait for one of them.
        while (host.slots.empty() && host.opening > 0) {
            host.opened.clear();
            co_await host.opened.wait();
        }
        if (!host.slots.empty() && host.slots.front().conn->usable())
            co_return host.slots.front().conn;
    }
    co_return co_await open(host);
}

Task<Conn*> HttpRemote::Pool::open(Host& host) {
    ++host.opening;
    auto watch = std::make_shared<Watch>();
    Conn* conn = nullptr;
    std::shared_ptr<net::Transport> transport;
    std::string failure;
    try {
        transport = co_await wait_for(net::create_connection(
                                          [&conn, watch]() -> std::unique_ptr<net::Protocol> {
                                              auto c = std::make_unique<Conn>(watch);
                                              conn = c.get();
                                              return c;
                                          },
                                          host.name, host.port),
                                      options.connect_timeout);
    } catch (const std::exception& e) {
        failure = e.what();
    }
    --host.opening;
    if (!transport) {
        host.opened.set();
        throw ActorUnavailable("connect " + host.name + ":" + std::to_string(host.port) + ": " +
                               failure);
    }
    ++opened;
    host.slots.push_back(Slot{std::move(transport), conn, std::move(watch)});
    host.opened.set();
    co_return conn;
}

HttpRemote::HttpRemote(HttpRemoteOptions options) : pool_(std::make_unique<Pool>()) {
    pool_->options = options;
}

HttpRemote::~HttpRemote() {
    if (pool_) {
        for (auto& [address, host] : pool_->hosts) {
            for (Slot& s : host->slots)
                s.transport->abort();
        }
    }
}

std::uint64_t HttpRemote::connections_opened() const noexcept {
    return pool_->opened;
}

Task<Json> HttpRemote::invoke(const std::string& address, const ActorId& actor, std::string method,
                              Json body, std::string call_chain) {
    std::string path = detail::actor_method_path(actor, method);
    co_return co_await put(address, std::move(path), actor.str() + "." + method, std::move(body),
                           std::move(call_chain));
}

Task<void> HttpRemote::remind(const std::string& address, const ActorId& actor, std::string name,
                              Json body) {
    // Dapr's reminder callback: .../method/remind/{name}.
    std::string path = detail::actor_method_path(actor, "remind");
    path += '/';
    path += detail::percent_encode(name);
    co_await put(address, std::move(path), actor.str() + " reminder " + name, std::move(body), {});
}

Task<Json> HttpRemote::put(const std::string& address, std::string path, std::string what,
                           Json body, std::string call_chain) {
    Pool& pool = *pool_;
    if (pool.closed)
        throw ActorUnavailable(what + " at " + address + ": the remote is closed");
    std::string payload = body.is_null() ? std::string() : detail::dump_json(body);
    std::string request;
    request.reserve(160 + address.size() + payload.size() + call_chain.size());
    request += "PUT ";
    request += path;
    request += " HTTP/1.1\r\nHost: ";
    request += address;
    request += "\r\nContent-Type: application/json\r\nContent-Length: ";
    request += std::to_string(payload.size());
    if (!call_chain.empty()) {
        request += "\r\n";
        request += kReentrancyHeader;
        request += ": ";
        request += call_chain;
    }
    request += "\r\n\r\n";
    request += payload;

    std::optional<Reply> reply;
    std::string failure;
    try {
        Conn* conn = co_await pool.connection(address);
        reply.emplace(co_await wait_for(conn->send(request), pool.options.call_timeout));
    } catch (const ActorUnavailable& e) {
        failure = e.what();
    } catch (const TimeoutError&) {
        failure = "no answer within the call timeout";
    }
    std::string where = what + " at " + address + ": ";
    if (!reply)
        throw ActorUnavailable(where + failure);
    if (reply->status != 200)
        throw_for_status(*reply, where);
    if (reply->body.empty())
        co_return Json();
    Json result = Json::parse(reply->body, nullptr, /*allow_exceptions=*/false);
    if (result.is_discarded())
        throw ActorArgumentError(where + "the result is not JSON");
    co_return result;
}

Task<void> HttpRemote::close() {
    Pool& pool = *pool_;
    pool.closed = true;
    // The transports stay alive until their connections are gone.
    std::vector<Slot> closing;
    for (auto& [address, host] : pool.hosts) {
        for (Slot& s : host->slots) {
            s.conn->close();
            closing.push_back(std::move(s));
        }
        host->slots.clear();
    }
    for (Slot& s : closing) {
        if (!s.watch->gone) {
            s.watch->waiter.emplace();
            Future<void> gone = *s.watch->waiter;
            co_await gone;
        }
    }
}

}  // namespace corio::actors
