// src/redis/client.cpp - Client: the connection, its handshake, automatic
// pipelining and reconnection (see client_state.hpp for the invariants).
#include "corio/redis/client.hpp"

#include <cstring>

#include "client_state.hpp"
#include "corio/timeouts.hpp"

namespace corio::redis {
namespace detail {

// -- ReplyProtocol ------------------------------------------------------------

namespace {
constexpr std::size_t kMinRoom = 16 * 1024;
}

ReplyProtocol::~ReplyProtocol() = default;

std::span<char> ReplyProtocol::get_buffer(std::size_t sizehint) {
    if (start_ == end_) {
        start_ = end_ = 0;
    }
    std::size_t want = std::max(sizehint, kMinRoom);
    if (cap_ - end_ < want && start_ > 0) {
        // Offsets, not pointers, are kept by the decoder: moving the
        // unconsumed bytes to the front is safe.
        std::memmove(buf_.get(), buf_.get() + start_, end_ - start_);
        end_ -= start_;
        start_ = 0;
    }
    if (cap_ - end_ < want) {
        std::size_t cap = std::max(cap_ * 2, end_ + want);
        auto bigger = std::make_unique<char[]>(cap);
        if (end_ > 0) {
            std::memcpy(bigger.get(), buf_.get(), end_);
        }
        buf_ = std::move(bigger);
        cap_ = cap;
    }
    return {buf_.get() + end_, cap_ - end_};
}

void ReplyProtocol::buffer_updated(std::size_t nbytes) {
    end_ += nbytes;
    while (start_ < end_ && !lost_) {
        DecodeResult r = decoder_.feed(std::string_view(buf_.get() + start_, end_ - start_));
        if (r.complete()) {
            start_ += r.consumed;
            deliver(std::move(r.reply));
        } else if (r.incomplete()) {
            break;
        } else {
            fail("protocol error from redis at " + peer_ + ": " + r.message, true);
        }
    }
}

void ReplyProtocol::deliver(Reply reply) {
    if (reply.is_push() || (subscriber_ && pending_.empty())) {
        if (owner_ && owner_->on_push) {
            owner_->on_push(std::move(reply));
        }
        return;
    }
    if (pending_.empty()) {
        fail("protocol error from redis at " + peer_ + ": a reply (" + reply.repr() +
                 ") came with no command waiting for it",
             true);
        return;
    }
    Future<Reply> f = std::move(pending_.front());
    pending_.pop_front();
    if (f.done()) {
        return;  // its awaiter was cancelled: the reply is dropped
    }
    if (reply.is_error()) {
        f.set_exception(ReplyError(reply.as_error()));
    } else {
        f.set_result(std::move(reply));
    }
}

void ReplyProtocol::fail_all(const std::exception_ptr& e) {
    auto pending = std::move(pending_);
    pending_.clear();
    for (auto& f : pending) {
        if (!f.done()) {
            f.set_exception(e);
        }
    }
}

void ReplyProtocol::fail(std::string message, bool protocol_error) {
    if (lost_) {
        return;
    }
    lost_ = true;
    fail_all(protocol_error ? std::make_exception_ptr(ProtocolError(message))
                            : std::make_exception_ptr(ConnectionError(message)));
    if (owner_) {
        owner_->on_lost(this);
    }
    if (transport_) {
        transport_->abort();
    }
}

void ReplyProtocol::connection_lost(std::exception_ptr exc) {
    std::string why = exc ? ": " + describe_exception(exc) : std::string(" (closed)");
    if (!lost_ && decoder_.in_progress()) {
        why += ", in the middle of a reply";
    }
    fail("connection to redis at " + peer_ + " lost" + why, false);
    transport_ = nullptr;
}

void ReplyProtocol::write(std::string_view bytes) {
    if (!bytes.empty()) {
        transport_->write(bytes);
    }
}

void ReplyProtocol::send(std::string_view bytes, Future<Reply> future) {
    write(bytes);
    expect(std::move(future));
}

// -- ClientState --------------------------------------------------------------

ClientState::~ClientState() {
    deadline_timer_.cancel();
    drop_connection();
}

void ClientState::watch(const Future<Reply>& f) {
    // Answered commands leave from the front as new ones come: the queue
    // holds about what is in flight, not everything of the last timeout.
    while (!deadlines_.empty() && deadlines_.front().second.done()) {
        deadlines_.pop_front();
    }
    TimePoint when = loop->time() + *options.command_timeout;
    deadlines_.emplace_back(when, f);
    if (!deadline_timer_) {
        arm_deadline(when);
    }
}

void ClientState::arm_deadline(TimePoint when) {
    deadline_timer_ = loop->call_at(when, [w = weak_from_this()] {
        if (auto self = w.lock()) {
            self->on_deadline();
        }
    });
}

void ClientState::on_deadline() {
    deadline_timer_ = TimerHandle();
    const TimePoint now = loop->time();
    while (!deadlines_.empty()) {
        auto& [when, f] = deadlines_.front();
        if (!f.done()) {
            if (when > now) {
                arm_deadline(when);
                return;
            }
            // Left in the connection's FIFO (or the backlog): its reply,
            // when it comes, finds the future done and is dropped.
            auto ms =
                std::chrono::duration_cast<std::chrono::milliseconds>(*options.command_timeout);
            f.set_exception(TimeoutError("redis command to " + peer() + " timed out after " +
                                         std::to_string(ms.count()) +
                                         " ms (its reply will be read and dropped)"));
        }
        deadlines_.pop_front();
    }
}

std::string ClientState::peer() const {
    if (!options.unix_socket.empty()) {
        return options.unix_socket;
    }
    return options.host + ":" + std::to_string(options.port);
}

void ClientState::drop_connection() noexcept {
    if (proto) {
        proto->detach();
    }
    if (transport) {
        transport->abort();
    }
    proto = nullptr;
    transport.reset();
    if (phase == Phase::ready) {
        phase = Phase::idle;
    }
}

void ClientState::close() {
    closed = true;
    drop_connection();
    if (reconnecting_ && !reconnecting_->done()) {
        reconnecting_->cancel();
    }
    reconnecting_.reset();
    phase = Phase::idle;
    fail_backlog(std::make_exception_ptr(ConnectionError("redis client closed")));
    deadline_timer_.cancel();
    deadline_timer_ = TimerHandle();
    deadlines_.clear();
}

void ClientState::on_lost(ReplyProtocol* p) noexcept {
    // The transport is released later (next connection, destruction): this
    // runs inside one of its callbacks.
    if (p == proto && phase == Phase::ready) {
        phase = Phase::idle;
        if (subscriber && !closed) {
            try {
                ensure_connecting();
            } catch (...) {
                // The loop is closing: nothing to reconnect for.
            }
        }
    }
}

void ClientState::send_without_reply(std::string_view encoded) {
    if (can_send()) {
        proto->write(encoded);
    } else {
        backlog_.append(encoded);
        ensure_connecting();
    }
}

Future<Reply> ClientState::submit(std::string_view encoded) {
    Future<Reply> f(*loop);
    if (options.command_timeout) {
        watch(f);
    }
    if (can_send()) {
        proto->send(encoded, f);
    } else {
        backlog_.append(encoded);
        backlog_futures_.push_back(f);
        ensure_connecting();
    }
    return f;
}

std::vector<Future<Reply>> ClientState::submit_many(std::string_view encoded, std::size_t replies) {
    std::vector<Future<Reply>> out;
    out.reserve(replies);
    for (std::size_t i = 0; i < replies; ++i) {
        out.emplace_back(*loop);
        if (options.command_timeout) {
            watch(out.back());
        }
    }
    if (can_send()) {
        proto->write(encoded);
        for (const auto& f : out) {
            proto->expect(f);
        }
    } else {
        backlog_.append(encoded);
        backlog_futures_.insert(backlog_futures_.end(), out.begin(), out.end());
        ensure_connecting();
    }
    return out;
}

void ClientState::fail_backlog(const std::exception_ptr& e) {
    backlog_.clear();
    auto fs = std::move(backlog_futures_);
    backlog_futures_.clear();
    for (auto& f : fs) {
        if (!f.done()) {
            f.set_exception(e);
        }
    }
}

void ClientState::ensure_connecting() {
    if (phase == Phase::idle) {
        phase = Phase::connecting;
        closed = false;
        reconnecting_ = loop->create_task(reconnect(shared_from_this()), "redis-reconnect");
    }
}

Task<void> ClientState::reconnect(std::shared_ptr<ClientState> self) {
    // A subscriber retries until closed (a pause of up to 1 s between
    // rounds); other clients give up after one round of attempts, failing
    // the commands that waited. The state holds this task's handle (to
    // cancel it in close()); dropping it on the way out breaks the cycle
    // state -> handle -> frame -> state.
    struct Forget {
        ClientState* s;
        ~Forget() { s->reconnecting_.reset(); }
    } forget{self.get()};
    for (;;) {
        bool cancelled = false;
        try {
            co_await self->establish();
            co_return;
        } catch (const CancelledError&) {
            cancelled = true;
        } catch (...) {
            self->fail_backlog(std::current_exception());
        }
        if (cancelled || !self->subscriber || self->closed) {
            co_return;
        }
        self->phase = Phase::connecting;
        co_await sleep(
            std::min<Duration>(self->options.reconnect_backoff * 4, std::chrono::seconds(1)));
    }
}

Task<Reply> ClientState::call(std::vector<std::string> args) {
    std::string enc;
    encode_command(enc, args);
    Future<Reply> f(*loop);
    proto->send(enc, f);
    co_return co_await std::move(f);
}

Task<void> ClientState::connect_once() {
    drop_connection();
    ReplyProtocol* made = nullptr;
    net::ProtocolFactory factory = [this, &made]() -> std::unique_ptr<net::Protocol> {
        auto p = std::make_unique<ReplyProtocol>(this, options.limits, peer());
        made = p.get();
        return p;
    };
    std::shared_ptr<net::Transport> t;
    if (!options.unix_socket.empty()) {
        t = co_await net::create_unix_connection(factory, options.unix_socket);
    } else if (options.tls) {
        net::ConnectOptions tls;
        tls.ssl = ssl_.get();
        tls.server_hostname =
            options.ssl_server_hostname.empty() ? options.host : options.ssl_server_hostname;
        tls.ssl_handshake_timeout.reset();  // connect_timeout covers the whole attempt
        t = co_await net::create_connection(factory, options.host, options.port, tls);
    } else {
        t = co_await net::create_connection(factory, options.host, options.port);
    }
    transport = std::move(t);
    proto = made;
    proto->set_subscriber(subscriber);

    bool resp2 = options.protocol == 2;
    if (!resp2) {
        std::vector<std::string> hello{"HELLO", "3"};
        if (!options.password.empty()) {
            hello.push_back("AUTH");
            hello.push_back(options.username.empty() ? "default" : options.username);
            hello.push_back(options.password);
        }
        if (!options.client_name.empty()) {
            hello.push_back("SETNAME");
            hello.push_back(options.client_name);
        }
        std::exception_ptr refused;
        try {
            co_await call(std::move(hello));
        } catch (const ReplyError& e) {
            std::string_view code = e.prefix();
            if (code == "WRONGPASS" || code == "NOAUTH") {
                throw;
            }
            refused = std::current_exception();  // NOPROTO, unknown command, NOPERM
        }
        resp2 = refused != nullptr;
    }
    if (resp2) {
        if (!options.password.empty()) {
            std::vector<std::string> auth{"AUTH"};
            if (!options.username.empty()) {
                auth.push_back(options.username);
            }
            auth.push_back(options.password);
            co_await call(std::move(auth));
        }
        if (!options.client_name.empty()) {
            std::vector<std::string> setname{"CLIENT", "SETNAME", options.client_name};
            co_await call(std::move(setname));
        }
    }
    if (options.db != 0) {
        std::vector<std::string> select{"SELECT", std::to_string(options.db)};
        co_await call(std::move(select));
    }
    protocol = resp2 ? 2 : 3;
    ++connections;
    phase = Phase::ready;
    if (on_connect) {
        Client c(shared_from_this());
        on_connect(c);
    }
    proto->write(backlog_);
    backlog_.clear();
    for (auto& f : backlog_futures_) {
        proto->expect(std::move(f));
    }
    backlog_futures_.clear();
}

void ClientState::make_tls_context() {
    if (!options.tls || ssl_) {
        return;
    }
    if (!options.unix_socket.empty()) {
        throw ConnectionError("redis at " + peer() + ": TLS is for TCP connections only");
    }
    if (options.ssl_context) {
        ssl_ = options.ssl_context;
        return;
    }
    try {
        auto ctx = net::SslContext::client();
        if (!options.ssl_ca_certs.empty()) {
            ctx->load_verify_locations(options.ssl_ca_certs);
        }
        ctx->set_verify_mode(options.ssl_cert_reqs);
        ctx->set_check_hostname(options.ssl_check_hostname &&
                                options.ssl_cert_reqs != net::VerifyMode::none);
        ssl_ = std::move(ctx);
    } catch (const std::exception& e) {
        throw ConnectionError("TLS set-up for redis at " + peer() + " failed: " + e.what());
    }
}

Task<void> ClientState::establish() {
    phase = Phase::connecting;
    struct Revert {
        ClientState* s;
        ~Revert() {
            if (s->phase == Phase::connecting) {
                s->phase = Phase::idle;
            }
        }
    } revert{this};
    make_tls_context();
    Duration backoff = options.reconnect_backoff;
    const int attempts = std::max(1, options.connect_attempts);
    for (int attempt = 1;; ++attempt) {
        std::exception_ptr error;
        bool give_up = false;  // not worth retrying
        try {
            co_await wait_for(connect_once(), options.connect_timeout);
            co_return;
        } catch (const ReplyError&) {
            error = std::current_exception();
            give_up = true;
        } catch (const net::SslError& e) {
            // A certificate the context refuses stays refused: no retry.
            error = std::make_exception_ptr(
                ConnectionError("TLS handshake with redis at " + peer() + " failed: " + e.what()));
            give_up = true;
        } catch (const std::exception&) {
            error = std::current_exception();
        }
        phase = Phase::connecting;
        drop_connection();
        if (give_up) {
            std::rethrow_exception(error);
        }
        if (attempt >= attempts) {
            throw ConnectionError("cannot connect to redis at " + peer() + " (" +
                                  std::to_string(attempts) +
                                  " attempts): " + describe_exception(error));
        }
        co_await sleep(backoff);
        backoff *= 2;
    }
}

// -- scan / scripts -----------------------------------------------------------

std::pair<std::string, std::vector<Reply>> scan_page(Reply reply) {
    std::vector<Reply> parts = std::move(reply).as_array();
    if (parts.size() != 2) {
        throw ReplyTypeError("a SCAN reply must be [cursor, items], got " +
                             std::to_string(parts.size()) + " elements");
    }
    return {parts[0].to_string(), std::move(parts[1]).as_array()};
}

}  // namespace detail

// -- Client -------------------------------------------------------------------

namespace {
detail::ClientState& state_of(const std::shared_ptr<detail::ClientState>& s) {
    if (!s) {
        throw RuntimeError("redis::Client: empty handle (not connected with Client::connect)");
    }
    return *s;
}
}  // namespace

Task<Client> Client::connect(ClientOptions options) {
    auto state = std::make_shared<detail::ClientState>(std::move(options), get_running_loop());
    co_await state->establish();
    co_return Client(std::move(state));
}

Client Client::create(ClientOptions options) {
    return Client(std::make_shared<detail::ClientState>(std::move(options), get_running_loop()));
}

Task<Client> Client::connect(std::string_view url) {
    return connect(parse_url(url));
}

std::string& Client::scratch() {
    return state_of(state_).scratch;
}

Future<Reply> Client::submit(std::string_view encoded) {
    return state_of(state_).submit(encoded);
}

std::vector<Future<Reply>> Client::execute_encoded(std::string_view encoded, std::size_t replies) {
    return state_of(state_).submit_many(encoded, replies);
}

void Client::close() {
    state_of(state_).close();
}

bool Client::is_connected() const noexcept {
    return state_ && state_->can_send();
}

int Client::protocol() const noexcept {
    return state_ ? state_->protocol : 0;
}

std::size_t Client::pending() const noexcept {
    return state_ && state_->proto ? state_->proto->pending() : 0;
}

std::size_t Client::load() const noexcept {
    return state_ ? pending() + state_->backlog_size() : 0;
}

std::uint64_t Client::connections_made() const noexcept {
    return state_ ? state_->connections : 0;
}

const ClientOptions& Client::options() const {
    return state_of(state_).options;
}

void Client::send_without_reply(std::string_view encoded) {
    state_of(state_).send_without_reply(encoded);
}

void Client::set_subscriber(bool on) {
    state_of(state_).subscriber = on;
}

void Client::set_push_handler(std::function<void(Reply)> on_push) {
    state_of(state_).on_push = std::move(on_push);
}

void Client::set_on_connect(std::function<void(Client&)> on_connect) {
    state_of(state_).on_connect = std::move(on_connect);
}

}  // namespace corio::redis
