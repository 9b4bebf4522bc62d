// src/amqp/connection.cpp - Connection and Channel: the frame protocol on
// the transport, the handshake, heartbeats, channels, RPC matching,
// publishing with confirms, consumers.
#include <algorithm>
#include <cstring>

#include "connection_state.hpp"
#include "corio/errors.hpp"
#include "corio/net/transports.hpp"
#include "corio/timeouts.hpp"

namespace corio::amqp {

namespace detail {

namespace {
constexpr std::size_t kMinRoom = 64 * 1024;
constexpr std::uint16_t kFrameError = 501;
constexpr const char* kSeqHeader = "x-corio-seq";
}  // namespace

// -- FrameProtocol ------------------------------------------------------------

std::span<char> FrameProtocol::get_buffer(std::size_t sizehint) {
    if (start_ == end_) {
        start_ = end_ = 0;
    }
    std::size_t want = std::max(sizehint, kMinRoom);
    if (cap_ - end_ < want && start_ > 0) {
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

void FrameProtocol::buffer_updated(std::size_t nbytes) {
    end_ += nbytes;
    if (owner_) {
        owner_->on_bytes();
    }
    while (start_ < end_ && owner_) {
        DecodeResult r = decoder_.feed(std::string_view(buf_.get() + start_, end_ - start_));
        if (r.status == DecodeStatus::incomplete) {
            break;
        }
        if (r.status == DecodeStatus::error) {
            start_ = end_;
            owner_->on_protocol_error(r.message);
            return;
        }
        start_ += r.consumed;
        owner_->on_frame(r.frame);
    }
}

void FrameProtocol::connection_lost(std::exception_ptr exc) {
    transport_ = nullptr;
    if (owner_) {
        owner_->on_lost(exc);
    }
}

// -- ChannelState -------------------------------------------------------------

std::string ChannelState::reply_tag(const Method& m) {
    if (m.is(methods::basic_consume)) {
        return m.string(2);
    }
    if (m.is(methods::basic_cancel)) {
        return m.string(0);
    }
    return {};
}

void ChannelState::check_open() const {
    if (!open) {
        std::rethrow_exception(closed_error);
    }
    if (auto e = conn->closed_error()) {
        std::rethrow_exception(e);
    }
}

void ChannelState::send(const Method& m) {
    conn->send_method(id, m);
}

Task<RpcReply> ChannelState::call(Method m, MethodId a, MethodId b) {
    auto self = shared_from_this();
    while (conn->recovering && conn->recovered) {
        Future<void> r = *conn->recovered;
        co_await r;
    }
    co_return co_await call_now(std::move(m), a, b);
}

Task<RpcReply> ChannelState::call_now(Method m, MethodId a, MethodId b) {
    auto self = shared_from_this();
    check_open();
    Future<RpcReply> f(*conn->loop);
    send(m);
    rpcs.push_back(Rpc{a, b, f, reply_tag(m)});
    co_return co_await f;
}

void ChannelState::call_detached(const Method& m, MethodId a) {
    Future<RpcReply> f(*conn->loop);
    // Nobody awaits it: when the channel closes first, its failure is
    // expected, not an exception that was never retrieved.
    f.state()->mark_retrieved();
    send(m);
    rpcs.push_back(Rpc{a, {}, f, reply_tag(m)});
}

std::string ChannelState::make_tag() {
    return "corio." + std::to_string(id) + "." + std::to_string(++tags);
}

void ChannelState::fail(std::exception_ptr e, bool consumers_fail) {
    if (!open) {
        return;
    }
    open = false;
    closed_error = e;
    auto keep = shared_from_this();
    conn->forget_channel(id);
    auto rpcs_now = std::move(rpcs);
    for (auto& r : rpcs_now) {
        if (!r.future.done()) {
            r.future.set_exception(e);
        }
    }
    auto unconfirmed_now = std::move(unconfirmed);
    for (auto& [seq, f] : unconfirmed_now) {
        if (!f.done()) {
            f.set_exception(e);
        }
    }
    for (auto& [tag, c] : consumers) {
        c->ended = true;
        if (consumers_fail) {
            c->error = e;
        }
        c->wake();
    }
    consumers.clear();
}

void ChannelState::interrupt(std::exception_ptr e) {
    auto keep = shared_from_this();
    auto rpcs_now = std::move(rpcs);
    rpcs.clear();
    for (auto& r : rpcs_now) {
        if (!r.future.done()) {
            r.future.set_exception(e);
        }
    }
    auto unconfirmed_now = std::move(unconfirmed);
    unconfirmed.clear();
    if (!unconfirmed_now.empty()) {
        auto unconfirmed_error = std::make_exception_ptr(
            ConnectionError("amqp: the connection was lost before the server confirmed the "
                            "message; it may or may not have been routed (" +
                                describe_exception(e) + ")",
                            320));
        for (auto& [seq, f] : unconfirmed_now) {
            if (!f.done()) {
                f.set_exception(unconfirmed_error);
            }
        }
    }
    returned.clear();
    next_seq = 1;
    content = Content::none;
    assembling = Message{};
    tag_base = max_tag;
    for (auto it = consumers.begin(); it != consumers.end();) {
        ConsumerState& c = *it->second;
        c.buffer.clear();  // redelivered by the server
        if (!c.started || c.abandoned || c.ended) {
            if (!c.started && !c.ended) {
                c.ended = true;
                c.error = e;
                c.wake();
            }
            it = consumers.erase(it);
        } else {
            ++it;
        }
    }
}

void ChannelState::consumer_gone(const std::string& tag, ConsumerState& c) {
    auto it = consumers.find(tag);
    if (c.ended || !open || it == consumers.end()) {
        if (it != consumers.end() && it->second.get() == &c) {
            consumers.erase(it);
        }
        return;
    }
    // Abandoned mid-iteration (closed, dropped, or its task cancelled): the
    // consumer is cancelled and what it received but never yielded is
    // requeued; deliveries until cancel-ok are requeued too.
    c.abandoned = true;
    c.ended = true;
    if (conn->closed_error()) {
        return;
    }
    if (conn->recovering) {
        consumers.erase(it);  // not restarted; its deliveries died with the connection
        return;
    }
    call_detached(Method{methods::basic_cancel, {tag, 0}}, methods::basic_cancel_ok);
    if (!c.no_ack) {
        for (const Message& m : c.buffer) {
            send(Method{methods::basic_nack, {server_tag(m.delivery_tag), 0, 1}});
        }
    }
    c.buffer.clear();
}

void ChannelState::settle(std::uint64_t tag, bool multiple, bool ack) {
    auto end = multiple ? unconfirmed.upper_bound(tag) : unconfirmed.find(tag);
    auto begin = multiple ? unconfirmed.begin() : end;
    if (!multiple) {
        if (end == unconfirmed.end()) {
            return;
        }
        ++end;
    }
    std::vector<std::pair<std::uint64_t, Future<void>>> done;
    for (auto it = begin; it != end; ++it) {
        done.emplace_back(it->first, std::move(it->second));
    }
    unconfirmed.erase(begin, end);
    for (auto& [seq, f] : done) {
        auto ret = returned.find(seq);
        if (f.done()) {
            if (ret != returned.end())
                returned.erase(ret);
            continue;
        }
        if (ret != returned.end()) {
            f.set_exception(std::make_exception_ptr(PublishFailed(
                "amqp: message returned by the server: " + std::to_string(ret->second.first) + " " +
                    ret->second.second,
                ret->second.first)));
            returned.erase(ret);
        } else if (ack) {
            f.set_result();
        } else {
            f.set_exception(std::make_exception_ptr(
                PublishFailed("amqp: the server nacked the message (basic.nack)")));
        }
    }
}

void ChannelState::deliver_content() {
    content = Content::none;
    Message m = std::move(assembling);
    assembling = Message{};
    const Method& cm = content_method;
    if (cm.is(methods::basic_deliver)) {
        m.consumer_tag = cm.string(0);
        m.delivery_tag = cm.number(1) + tag_base;
        max_tag = std::max(max_tag, m.delivery_tag);
        m.redelivered = cm.flag(2);
        m.exchange = cm.string(3);
        m.routing_key = cm.string(4);
        auto it = consumers.find(m.consumer_tag);
        if (it == consumers.end() || it->second->abandoned) {
            if (it == consumers.end() || !it->second->no_ack) {
                send(Method{methods::basic_nack, {cm.number(1), 0, 1}});
            }
            return;
        }
        it->second->buffer.push_back(std::move(m));
        it->second->wake();
    } else if (cm.is(methods::basic_get_ok)) {
        m.delivery_tag = cm.number(0) + tag_base;
        max_tag = std::max(max_tag, m.delivery_tag);
        m.redelivered = cm.flag(1);
        m.exchange = cm.string(2);
        m.routing_key = cm.string(3);
        m.message_count = static_cast<std::uint32_t>(cm.number(4));
        auto match = std::find_if(rpcs.begin(), rpcs.end(),
                                  [](const Rpc& r) { return r.a == methods::basic_get_ok; });
        if (match == rpcs.end()) {
            conn->on_protocol_error("basic.get-ok with no basic.get waiting");
            return;
        }
        Rpc r = std::move(*match);
        rpcs.erase(match);
        if (!r.future.done()) {
            r.future.set_result(RpcReply{cm, std::move(m)});
        } else {
            // The getter was cancelled: the message goes back.
            send(Method{methods::basic_reject, {cm.number(0), 1}});
        }
    } else {  // basic.return
        m.reply_code = static_cast<std::uint16_t>(cm.number(0));
        m.reply_text = cm.string(1);
        m.exchange = cm.string(2);
        m.routing_key = cm.string(3);
        if (confirm && m.properties.headers) {
            if (const FieldValue* v = m.properties.headers->find(kSeqHeader)) {
                auto seq = static_cast<std::uint64_t>(v->as_integer());
                if (unconfirmed.count(seq)) {
                    returned[seq] = {m.reply_code, m.reply_text};
                    return;
                }
            }
        }
        if (on_return) {
            on_return(std::move(m));
        }
    }
}

void ChannelState::on_frame(Frame& f) {
    auto keep = shared_from_this();
    if (f.type == FrameType::method) {
        if (content != Content::none) {
            conn->on_protocol_error("a method frame (" + method_name(f.method.id) +
                                    ") came on channel " + std::to_string(id) +
                                    " in the middle of a message's content");
            return;
        }
        on_method(f.method);
        return;
    }
    if (f.type == FrameType::header) {
        if (content != Content::header) {
            conn->on_protocol_error("a content header came on channel " + std::to_string(id) +
                                    " with no content method before it");
            return;
        }
        assembling.properties = std::move(f.header.properties);
        body_left = f.header.body_size;
        assembling.body.reserve(
            static_cast<std::size_t>(std::min<std::uint64_t>(body_left, 1 << 26)));
        content = Content::body;
        if (body_left == 0) {
            deliver_content();
        }
        return;
    }
    if (f.type == FrameType::body) {
        if (content != Content::body || f.body.size() > body_left) {
            conn->on_protocol_error("an unexpected body frame came on channel " +
                                    std::to_string(id));
            return;
        }
        assembling.body.append(f.body);
        body_left -= f.body.size();
        if (body_left == 0) {
            deliver_content();
        }
    }
}

void ChannelState::on_method(const Method& m) {
    using namespace methods;
    if (method_has_content(m.id)) {
        if (m.is(basic_publish)) {
            conn->on_protocol_error("the server sent basic.publish");
            return;
        }
        content_method = m;
        content = Content::header;
        return;
    }
    if (m.is(channel_close)) {
        send(Method{channel_close_ok, {}});
        auto code = static_cast<std::uint16_t>(m.number(0));
        fail(std::make_exception_ptr(ChannelClosed(
                 "amqp: channel " + std::to_string(id) +
                     " closed by the server: " + std::to_string(code) + " " + m.string(1),
                 code, m.string(1))),
             true);
        return;
    }
    if (m.is(channel_flow)) {
        send(Method{channel_flow_ok, {m.number(0)}});
        return;
    }
    if (m.is(basic_ack) || m.is(basic_nack)) {
        settle(m.number(0), m.flag(1), m.is(basic_ack));
        return;
    }
    if (m.is(basic_cancel)) {  // the server cancels a consumer (queue deleted)
        auto it = consumers.find(m.string(0));
        if (it != consumers.end()) {
            it->second->ended = true;
            it->second->wake();
            consumers.erase(it);
        }
        if (!m.flag(1)) {
            send(Method{basic_cancel_ok, {m.string(0)}});
        }
        return;
    }
    // Anything else answers the oldest synchronous method waiting for it.
    // Not simply the oldest: RabbitMQ has the queue send consume-ok and
    // cancel-ok, which may come after the reply to a later method (those two
    // are matched by consumer tag).
    const bool by_tag = m.is(basic_consume_ok) || m.is(basic_cancel_ok);
    auto match = std::find_if(rpcs.begin(), rpcs.end(), [&](const Rpc& r) {
        return (m.id == r.a || (r.b.class_id != 0 && m.id == r.b)) &&
               (!by_tag || r.tag == m.string(0));
    });
    if (match == rpcs.end()) {
        conn->on_protocol_error(method_name(m.id) + " came on channel " + std::to_string(id) +
                                " with no request waiting for it");
        return;
    }
    Rpc r = std::move(*match);
    rpcs.erase(match);
    if (m.is(basic_cancel_ok)) {
        auto it = consumers.find(m.string(0));
        if (it != consumers.end()) {
            it->second->ended = true;
            it->second->wake();
            consumers.erase(it);
        }
    }
    if (m.is(channel_close_ok)) {
        if (!r.future.done()) {
            r.future.set_result(RpcReply{m, std::nullopt});
        }
        fail(std::make_exception_ptr(
                 ChannelClosed("amqp: channel " + std::to_string(id) + " is closed", 0, "")),
             false);
        return;
    }
    if (!r.future.done()) {
        r.future.set_result(RpcReply{m, std::nullopt});
    }
}

// -- ConnectionState ----------------------------------------------------------

ConnectionState::ConnectionState(ConnectionOptions o, EventLoop& l)
    : options(std::move(o)), loop(&l), opened(l), closed(l) {}

ConnectionState::~ConnectionState() {
    heartbeat_timer_.cancel();
    if (proto) {
        proto->detach();
    }
    if (transport) {
        transport->abort();
    }
    if (!closed.done()) {
        closed.set_result();
    }
}

std::string ConnectionState::peer() const {
    return options.host + ":" + std::to_string(options.port);
}

std::exception_ptr ConnectionState::closed_error() const {
    if (phase == Phase::closed || phase == Phase::closing) {
        return error ? error
                     : std::make_exception_ptr(ConnectionError("amqp: the connection is closed"));
    }
    return nullptr;
}

std::uint16_t ConnectionState::free_channel_id() const {
    std::uint16_t max = channel_max == 0 ? 65535 : channel_max;
    std::uint16_t id = 1;
    for (const auto& [n, w] : channels) {
        if (n != id) {
            break;
        }
        ++id;
    }
    if (id > max || id == 0) {
        throw ConnectionError("amqp: every channel number (channel-max " + std::to_string(max) +
                              ") is in use");
    }
    return id;
}

void ConnectionState::write(std::string_view bytes) {
    if (transport && !transport->is_closing()) {
        transport->write(bytes);
        wrote_ = true;
    }
}

void ConnectionState::write_publish(std::string_view bytes, std::optional<Future<void>> written) {
    if (blocked) {
        held.append(bytes);
        if (written) {
            held_futures.push_back(std::move(*written));
        }
        return;
    }
    write(bytes);
    if (written && !written->done()) {
        written->set_result();
    }
}

void ConnectionState::send_method(std::uint16_t channel, const Method& m) {
    scratch.clear();
    encode_method(scratch, channel, m);
    write(scratch);
}

void ConnectionState::make_tls_context() {
    if (ssl_) {
        return;
    }
    if (options.ssl_context) {
        ssl_ = options.ssl_context;
        return;
    }
    ssl_ = net::SslContext::client();
    if (!options.ssl_ca_certs.empty()) {
        ssl_->load_verify_locations(options.ssl_ca_certs);
    }
    ssl_->set_verify_mode(options.ssl_cert_reqs);
    if (options.ssl_cert_reqs == net::VerifyMode::none) {
        ssl_->set_check_hostname(false);
    }
}

Task<void> ConnectionState::open() {
    auto self = shared_from_this();
    FrameProtocol* made = nullptr;
    std::uint32_t max = options.frame_max;
    ConnectionState* owner = self.get();
    net::ProtocolFactory factory = [owner, &made, max]() -> std::unique_ptr<net::Protocol> {
        auto p =
            std::make_unique<FrameProtocol>(owner, max == 0 ? 0 : std::max(max, kFrameMinSize));
        made = p.get();
        return p;
    };
    try {
        if (options.tls) {
            make_tls_context();
            net::ConnectOptions tls;
            tls.ssl = ssl_.get();
            tls.server_hostname =
                options.ssl_server_hostname.empty() ? options.host : options.ssl_server_hostname;
            tls.ssl_handshake_timeout.reset();
            transport = co_await net::create_connection(factory, options.host, options.port, tls);
        } else {
            transport = co_await net::create_connection(factory, options.host, options.port);
        }
    } catch (const net::SslError& e) {
        throw ConnectionError("amqp: TLS handshake with " + peer() + " failed: " + e.what());
    } catch (const std::exception& e) {
        throw ConnectionError("amqp: cannot connect to " + peer() + ": " + e.what());
    }
    proto = made;
    last_recv_ = loop->time();
    write(kProtocolHeader);
    co_await opened;
}

void ConnectionState::on_bytes() noexcept {
    last_recv_ = loop->time();
}

void ConnectionState::arm_tick() {
    if (heartbeat == 0 || phase == Phase::closed) {
        return;
    }
    std::weak_ptr<ConnectionState> weak = weak_from_this();
    heartbeat_timer_ = loop->call_later(std::chrono::milliseconds(heartbeat * 500), [weak] {
        if (auto s = weak.lock()) {
            s->tick();
        }
    });
}

void ConnectionState::tick() {
    if (phase == Phase::closed) {
        return;
    }
    // A peer silent for 1.5 intervals has missed two of its heartbeats (it
    // sends one every half interval); checked every half interval, so a
    // dead peer is found within two intervals.
    auto silent = loop->time() - last_recv_;
    if (silent > std::chrono::milliseconds(heartbeat * 1500)) {
        auto e = std::make_exception_ptr(ConnectionError(
            "amqp: no heartbeat from " + peer() + " for " +
            std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(silent).count()) +
            " ms (heartbeat " + std::to_string(heartbeat) + " s): the server is unreachable"));
        if (transport) {
            transport->abort();
        }
        lost(e, false);
        return;
    }
    if (!wrote_) {
        std::string hb;
        encode_heartbeat(hb);
        write(hb);
    }
    wrote_ = false;
    arm_tick();
}

void ConnectionState::handshake(const Method& m) {
    using namespace methods;
    if (m.is(connection_start)) {
        server_properties = m.table(2);
        const std::string& mechanisms = m.string(3);
        if (mechanisms.find("PLAIN") == std::string::npos) {
            lost(std::make_exception_ptr(ConnectionError(
                     "amqp: the server at " + peer() +
                     " does not offer PLAIN authentication (it offers: " + mechanisms + ")")),
                 false);
            return;
        }
        FieldTable caps{{"publisher_confirms", FieldValue(true)},
                        {"exchange_exchange_bindings", FieldValue(true)},
                        {"basic.nack", FieldValue(true)},
                        {"consumer_cancel_notify", FieldValue(true)},
                        {"connection.blocked", FieldValue(true)},
                        {"authentication_failure_close", FieldValue(true)},
                        {"per_consumer_qos", FieldValue(true)}};
        FieldTable props{{"product", FieldValue("corio")},
                         {"platform", FieldValue("C++20")},
                         {"information", FieldValue("corio::amqp")},
                         {"capabilities", FieldValue(caps)}};
        if (!options.client_name.empty()) {
            props.set("connection_name", FieldValue(options.client_name));
        }
        std::string response;
        response.push_back('\0');
        response += options.user;
        response.push_back('\0');
        response += options.password;
        send_method(0, Method{connection_start_ok, {props, "PLAIN", response, "en_US"}});
    } else if (m.is(connection_tune)) {
        auto pick = [](std::uint64_t ours, std::uint64_t theirs) {
            if (ours == 0)
                return theirs;
            if (theirs == 0)
                return ours;
            return std::min(ours, theirs);
        };
        channel_max = static_cast<std::uint16_t>(pick(options.channel_max, m.number(0)));
        frame_max = static_cast<std::uint32_t>(pick(options.frame_max, m.number(1)));
        heartbeat = options.heartbeat == 0
                        ? 0
                        : static_cast<std::uint16_t>(pick(options.heartbeat, m.number(2)));
        if (proto) {
            proto->set_max_frame(frame_max);
        }
        send_method(0, Method{connection_tune_ok, {channel_max, frame_max, heartbeat}});
        send_method(0, Method{connection_open, {options.vhost, "", 0}});
        arm_tick();
    } else if (m.is(connection_open_ok)) {
        phase = Phase::open;
        if (!opened.done()) {
            opened.set_result();
        }
    } else if (m.is(connection_secure)) {
        lost(std::make_exception_ptr(ConnectionError(
                 "amqp: the server at " + peer() + " asked for a SASL challenge (PLAIN has none)")),
             false);
    } else {
        on_protocol_error(method_name(m.id) + " during the handshake");
    }
}

void ConnectionState::on_frame(Frame& f) {
    using namespace methods;
    if (f.type == FrameType::heartbeat) {
        return;
    }
    if (f.channel == 0) {
        if (f.type != FrameType::method) {
            on_protocol_error("a content frame came on channel 0");
            return;
        }
        const Method& m = f.method;
        if (m.is(connection_close)) {
            send_method(0, Method{connection_close_ok, {}});
            auto code = static_cast<std::uint16_t>(m.number(0));
            std::string why =
                phase == Phase::connecting ? "refused the connection" : "closed the connection";
            auto e = std::make_exception_ptr(ConnectionError("amqp: the server at " + peer() + " " +
                                                                 why + ": " + std::to_string(code) +
                                                                 " " + m.string(1),
                                                             code));
            if (transport) {
                transport->close();
            }
            lost(e, false);
        } else if (m.is(connection_close_ok)) {
            if (transport) {
                transport->close();
            }
            fail_all(nullptr, true);
        } else if (m.is(connection_blocked)) {
            blocked = true;
        } else if (m.is(connection_unblocked)) {
            blocked = false;
            std::string bytes = std::move(held);
            held.clear();
            write(bytes);
            auto futures = std::move(held_futures);
            held_futures.clear();
            for (auto& fut : futures) {
                if (!fut.done()) {
                    fut.set_result();
                }
            }
        } else if (phase == Phase::connecting) {
            handshake(m);
        } else {
            on_protocol_error("unexpected " + method_name(m.id) + " on channel 0");
        }
        return;
    }
    auto it = channels.find(f.channel);
    if (it == channels.end()) {
        return;  // a channel we closed or forgot: its late frames are dropped
    }
    if (auto ch = it->second.lock()) {
        ch->on_frame(f);
    } else {
        channels.erase(it);
    }
}

void ConnectionState::on_protocol_error(const std::string& message) {
    if (phase == Phase::closed) {
        return;
    }
    auto e = std::make_exception_ptr(
        ProtocolError("amqp: protocol error from " + peer() + ": " + message));
    // Tell the server why (501 FRAME_ERROR), then close.
    send_method(0, Method{methods::connection_close, {kFrameError, message.substr(0, 200), 0, 0}});
    if (transport) {
        transport->close();
    }
    lost(e, false);
}

void ConnectionState::on_lost(std::exception_ptr exc) {
    proto = nullptr;
    if (phase == Phase::closed) {
        return;
    }
    std::string why = exc ? ": " + describe_exception(exc) : std::string(" (closed by the peer)");
    lost(std::make_exception_ptr(
             ConnectionError("amqp: connection to " + peer() + " lost" + why, 320)),
         phase == Phase::closing && !exc);
}

void ConnectionState::fail_all(std::exception_ptr e, bool clean) {
    if (phase == Phase::closed) {
        return;
    }
    auto keep = shared_from_this();
    phase = Phase::closed;
    heartbeat_timer_.cancel();
    recovering = false;
    if (recovery_task && !recovery_task->done()) {
        recovery_task->cancel();
    }
    if (recovered && !recovered->done()) {
        recovered->set_result();
    }
    if (!e) {
        e = std::make_exception_ptr(ConnectionError("amqp: the connection is closed"));
    }
    error = e;
    if (!opened.done()) {
        opened.set_exception(e);
    }
    auto chans = std::move(channels);
    channels.clear();
    for (auto& [n, w] : chans) {
        if (auto ch = w.lock()) {
            ch->fail(e, !clean);
        }
    }
    auto futures = std::move(held_futures);
    held_futures.clear();
    for (auto& f : futures) {
        if (!f.done()) {
            f.set_exception(e);
        }
    }
    if (!clean) {
        close_reason = e;
    }
    if (!closed.done()) {
        closed.set_result();
    }
}

// -- recovery -------------------------------------------------------------------

void ConnectionState::lost(std::exception_ptr e, bool clean) {
    if (!options.reconnect || clean || phase == Phase::closed || phase == Phase::closing ||
        (phase == Phase::connecting && !recovering)) {
        fail_all(e, clean);
        return;
    }
    auto keep = shared_from_this();
    if (recovering) {
        // An attempt (or the restore on it) failed: recover() tries again.
        teardown();
        phase = Phase::connecting;
        if (!opened.done()) {
            opened.set_exception(e);
        }
        std::vector<std::shared_ptr<ChannelState>> chans;
        for (auto& [n, w] : channels) {
            if (auto ch = w.lock()) {
                chans.push_back(std::move(ch));
            }
        }
        for (auto& ch : chans) {
            ch->interrupt(e);
        }
        return;
    }
    begin_recovery(e);
}

void ConnectionState::teardown() noexcept {
    heartbeat_timer_.cancel();
    if (proto) {
        proto->detach();
        proto = nullptr;
    }
    if (transport) {
        transport->abort();
        // Released after this callback: we may be inside the transport's own
        // connection_lost.
        loop->call_soon([t = std::move(transport)] {});
        transport.reset();
    }
    blocked = false;
    held.clear();
    wrote_ = false;
}

void ConnectionState::begin_recovery(std::exception_ptr e) {
    auto keep = shared_from_this();
    teardown();
    phase = Phase::connecting;
    recovering = true;
    recovered.emplace(*loop);
    auto futures = std::move(held_futures);
    held_futures.clear();
    for (auto& f : futures) {
        if (!f.done()) {
            f.set_exception(e);
        }
    }
    std::vector<std::shared_ptr<ChannelState>> chans;
    for (auto it = channels.begin(); it != channels.end();) {
        if (auto ch = it->second.lock()) {
            chans.push_back(std::move(ch));
            ++it;
        } else {
            it = channels.erase(it);
        }
    }
    for (auto& ch : chans) {
        ch->interrupt(e);
    }
    if (options.reconnect->on_disconnect) {
        options.reconnect->on_disconnect(e);
    }
    recovery_task = loop->create_task(recover(), "amqp reconnect");
}

Task<void> ConnectionState::recover() {
    auto self = shared_from_this();
    const ReconnectOptions& ro = *options.reconnect;
    Duration delay = ro.initial_delay;
    for (;;) {
        double cut = 0;
        if (ro.jitter > 0) {
            cut = std::uniform_real_distribution<double>(0.0, std::min(ro.jitter, 1.0))(rng);
        }
        co_await sleep(std::chrono::duration_cast<Duration>(delay * (1.0 - cut)));
        delay =
            std::min(ro.max_delay,
                     std::chrono::duration_cast<Duration>(delay * std::max(ro.multiplier, 1.0)));
        bool ok = false;
        try {
            opened = Future<void>(*loop);
            // An attempt abandoned (timed out, or close()) leaves nobody to
            // read its failure.
            opened.add_done_callback([](Future<void> done) { (void)done.exception(); });
            phase = Phase::connecting;
            if (options.connect_timeout) {
                co_await wait_for(open(), *options.connect_timeout);
            } else {
                co_await open();
            }
            co_await restore();
            ok = phase == Phase::open && transport != nullptr;
        } catch (const CancelledError&) {
            throw;
        } catch (...) {
            // refused, timed out, or lost again: wait and try again
        }
        if (ok) {
            break;
        }
        teardown();
        phase = Phase::connecting;
    }
    recovering = false;
    ++recoveries;
    if (recovered && !recovered->done()) {
        recovered->set_result();
    }
    if (ro.on_reconnect) {
        ro.on_reconnect(recoveries);
    }
}

Task<void> ConnectionState::restore() {
    auto self = shared_from_this();
    std::vector<std::shared_ptr<ChannelState>> chans;
    for (auto it = channels.begin(); it != channels.end();) {
        auto ch = it->second.lock();
        if (!ch || !ch->open) {
            it = channels.erase(it);
            continue;
        }
        chans.push_back(std::move(ch));
        ++it;
    }
    for (auto& ch : chans) {
        Method request{methods::channel_open, {std::string()}};
        co_await ch->call_now(std::move(request), methods::channel_open_ok);
    }
    // Declarations and bindings, in order; those of a channel since closed
    // on a spare channel.
    std::shared_ptr<ChannelState> spare;
    using Kind = TopologyEntry::Kind;
    for (std::size_t i = 0; i < topology.size(); ++i) {
        auto ch = topology[i].channel.lock();
        Kind kind = topology[i].kind;
        if (!ch || !ch->open) {
            if (kind == Kind::qos || kind == Kind::confirm) {
                continue;
            }
            if (!spare || !spare->open) {
                std::uint16_t id = free_channel_id();
                spare = std::make_shared<ChannelState>(self, id);
                channels[id] = spare;
                Method request{methods::channel_open, {std::string()}};
                co_await spare->call_now(std::move(request), methods::channel_open_ok);
            }
            ch = spare;
        }
        Method m = topology[i].method;
        if (kind == Kind::queue_binding) {
            m.args[1] = resolve(topology[i].name);
        }
        MethodId reply = topology[i].reply;
        try {
            RpcReply r = co_await ch->call_now(std::move(m), reply);
            if (kind == Kind::queue && topology[i].server_named) {
                queue_names[topology[i].name] = r.method.string(0);
            }
        } catch (const ChannelClosed&) {
            // Refused (e.g. 406 PRECONDITION_FAILED: declared differently
            // since): that channel is closed, the rest goes on.
        }
    }
    for (auto& ch : chans) {
        std::vector<std::shared_ptr<ConsumerState>> consumers;
        for (auto& [tag, c] : ch->consumers) {
            // Not those started while reconnecting: their own consume is
            // waiting to be sent once recovered.
            if (!c->ended && !c->abandoned && c->started) {
                consumers.push_back(c);
            }
        }
        for (auto& c : consumers) {
            if (!ch->open || c->ended || c->abandoned) {
                continue;
            }
            Method m = c->request;
            m.args[1] = resolve(c->queue);
            try {
                co_await ch->call_now(std::move(m), methods::basic_consume_ok);
            } catch (const ChannelClosed&) {
                // the queue is gone: the channel closed, its consumers ended
            }
        }
    }
    if (spare && spare->open) {
        Method request{methods::channel_close, {200, "Normal shutdown", 0, 0}};
        co_await spare->call_now(std::move(request), methods::channel_close_ok);
    }
}

const std::string& ConnectionState::resolve(const std::string& name) const {
    auto it = queue_names.find(name);
    return it == queue_names.end() ? name : it->second;
}

void ConnectionState::record(TopologyEntry e) {
    if (!options.reconnect) {
        return;
    }
    using Kind = TopologyEntry::Kind;
    if (e.kind == Kind::qos || e.kind == Kind::confirm) {
        auto ch = e.channel.lock();
        std::erase_if(topology, [&](const TopologyEntry& t) {
            return t.kind == e.kind && t.channel.lock() == ch;
        });
    } else {
        forget(e.kind, e.name, e.source, e.routing_key);
    }
    topology.push_back(std::move(e));
}

void ConnectionState::forget(TopologyEntry::Kind kind, const std::string& name,
                             const std::string& source, const std::string& routing_key) {
    using Kind = TopologyEntry::Kind;
    std::erase_if(topology, [&](const TopologyEntry& t) {
        switch (kind) {
            case Kind::exchange:  // and every binding to or from it
                return (t.kind == Kind::exchange && t.name == name) ||
                       (t.kind == Kind::exchange_binding && (t.name == name || t.source == name)) ||
                       (t.kind == Kind::queue_binding && t.source == name);
            case Kind::queue:
                return (t.kind == Kind::queue || t.kind == Kind::queue_binding) && t.name == name;
            case Kind::exchange_binding:
            case Kind::queue_binding:
                return t.kind == kind && t.name == name && t.source == source &&
                       t.routing_key == routing_key;
            default:
                return false;
        }
    });
    if (kind == Kind::queue) {
        queue_names.erase(name);
    }
}

}  // namespace detail

// -- URL ----------------------------------------------------------------------

namespace {

std::string percent_decode(std::string_view s, const char* what) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '%') {
            auto hex = [&](char c) -> int {
                if (c >= '0' && c <= '9')
                    return c - '0';
                if (c >= 'a' && c <= 'f')
                    return c - 'a' + 10;
                if (c >= 'A' && c <= 'F')
                    return c - 'A' + 10;
                return -1;
            };
            if (i + 2 >= s.size() || hex(s[i + 1]) < 0 || hex(s[i + 2]) < 0) {
                throw std::invalid_argument(std::string("amqp URL: bad percent-escape in the ") +
                                            what);
            }
            out.push_back(static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2])));
            i += 2;
        } else {
            out.push_back(s[i]);
        }
    }
    return out;
}

std::uint64_t to_number(std::string_view s, const char* what, std::uint64_t max) {
    std::uint64_t v = 0;
    if (s.empty()) {
        throw std::invalid_argument(std::string("amqp URL: empty ") + what);
    }
    for (char c : s) {
        if (c < '0' || c > '9' || v > max / 10) {
            throw std::invalid_argument(std::string("amqp URL: bad ") + what + " '" +
                                        std::string(s) + "'");
        }
        v = v * 10 + static_cast<std::uint64_t>(c - '0');
    }
    if (v > max) {
        throw std::invalid_argument(std::string("amqp URL: ") + what + " out of range");
    }
    return v;
}

}  // namespace

ConnectionOptions parse_url(std::string_view url) {
    ConnectionOptions o;
    std::string_view rest;
    if (url.starts_with("amqp://")) {
        rest = url.substr(7);
    } else if (url.starts_with("amqps://")) {
        rest = url.substr(8);
        o.tls = true;
        o.port = 5671;
    } else {
        throw std::invalid_argument("amqp URL: the scheme must be amqp:// or amqps:// in '" +
                                    std::string(url) + "'");
    }
    std::string_view query;
    if (auto q = rest.find('?'); q != std::string_view::npos) {
        query = rest.substr(q + 1);
        rest = rest.substr(0, q);
    }
    std::string_view path;
    bool has_path = false;
    if (auto p = rest.find('/'); p != std::string_view::npos) {
        path = rest.substr(p + 1);
        rest = rest.substr(0, p);
        has_path = true;
    }
    if (auto at = rest.rfind('@'); at != std::string_view::npos) {
        std::string_view userinfo = rest.substr(0, at);
        rest = rest.substr(at + 1);
        auto colon = userinfo.find(':');
        o.user = percent_decode(userinfo.substr(0, colon), "user");
        o.password = colon == std::string_view::npos
                         ? std::string()
                         : percent_decode(userinfo.substr(colon + 1), "password");
    }
    std::string_view host = rest;
    if (host.starts_with('[')) {
        auto close = host.find(']');
        if (close == std::string_view::npos) {
            throw std::invalid_argument("amqp URL: unclosed '[' in the host");
        }
        o.host = std::string(host.substr(1, close - 1));
        host = host.substr(close + 1);
        if (host.starts_with(':')) {
            o.port = static_cast<std::uint16_t>(to_number(host.substr(1), "port", 65535));
        }
    } else {
        auto colon = host.find(':');
        if (colon != std::string_view::npos) {
            o.port = static_cast<std::uint16_t>(to_number(host.substr(colon + 1), "port", 65535));
            host = host.substr(0, colon);
        }
        if (!host.empty()) {
            o.host = std::string(host);
        }
    }
    if (has_path && !path.empty()) {
        o.vhost = percent_decode(path, "vhost");
    }
    while (!query.empty()) {
        auto amp = query.find('&');
        std::string_view kv = query.substr(0, amp);
        query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
        auto eq = kv.find('=');
        std::string_view k = kv.substr(0, eq);
        std::string v =
            eq == std::string_view::npos ? "" : percent_decode(kv.substr(eq + 1), "query");
        if (k == "heartbeat") {
            o.heartbeat = static_cast<std::uint16_t>(to_number(v, "heartbeat", 65535));
        } else if (k == "channel_max") {
            o.channel_max = static_cast<std::uint16_t>(to_number(v, "channel_max", 65535));
        } else if (k == "frame_max") {
            o.frame_max = static_cast<std::uint32_t>(to_number(v, "frame_max", 0xFFFFFFFFu));
        } else if (k == "connection_timeout") {
            o.connect_timeout =
                std::chrono::milliseconds(to_number(v, "connection_timeout", 1u << 30));
        } else if (k == "cacertfile") {
            o.ssl_ca_certs = v;
        } else if (k == "verify") {
            if (v == "verify_none") {
                o.ssl_cert_reqs = net::VerifyMode::none;
            } else if (v != "verify_peer") {
                throw std::invalid_argument("amqp URL: verify must be verify_peer or verify_none");
            }
        } else if (k == "server_name_indication") {
            o.ssl_server_hostname = v;
        } else if (k == "connection_name") {
            o.client_name = v;
        } else {
            throw std::invalid_argument("amqp URL: unknown parameter '" + std::string(k) + "'");
        }
    }
    return o;
}

// -- Connection ---------------------------------------------------------------

detail::ConnectionState& Connection::st() const {
    if (!s_) {
        throw RuntimeError("amqp::Connection: empty handle (not made by Connection::connect)");
    }
    return *s_;
}

Task<Connection> Connection::connect(ConnectionOptions options) {
    auto timeout = options.connect_timeout;
    auto state = std::make_shared<detail::ConnectionState>(std::move(options), get_running_loop());
    try {
        co_await wait_for(state->open(), timeout);
    } catch (const TimeoutError&) {
        throw ConnectionError("amqp: connecting to " + state->peer() + " timed out");
    }
    co_return Connection(std::move(state));
}

Task<Connection> Connection::connect(std::string_view url) {
    return connect(parse_url(url));
}

Task<Channel> Connection::channel() {
    auto conn = s_;
    detail::ConnectionState& c = st();
    while (c.recovering && c.recovered) {
        Future<void> r = *c.recovered;
        co_await r;
    }
    if (auto e = c.closed_error()) {
        std::rethrow_exception(e);
    }
    std::uint16_t id = c.free_channel_id();
    auto ch = std::make_shared<detail::ChannelState>(conn, id);
    c.channels[id] = ch;
    Method request{methods::channel_open, {std::string()}};
    co_await ch->call(std::move(request), methods::channel_open_ok);
    co_return Channel(std::move(ch));
}

Task<void> Connection::close(std::uint16_t reply_code, std::string reply_text) {
    auto conn = s_;
    detail::ConnectionState& c = st();
    if (c.recovering) {
        c.teardown();
        c.fail_all(nullptr, true);  // stops the recovery
        co_return;
    }
    if (c.phase != detail::ConnectionState::Phase::open) {
        co_return;
    }
    c.phase = detail::ConnectionState::Phase::closing;
    c.send_method(0, Method{methods::connection_close, {reply_code, reply_text, 0, 0}});
    Future<void> done = c.closed;
    try {
        co_await done;
    } catch (const ConnectionError&) {
        // the peer closed the socket instead of answering: closed all the same
    }
}

bool Connection::is_open() const noexcept {
    return s_ && s_->phase == detail::ConnectionState::Phase::open && !s_->recovering;
}
bool Connection::is_reconnecting() const noexcept {
    return s_ && s_->recovering;
}
std::uint64_t Connection::reconnects() const noexcept {
    return s_ ? s_->recoveries : 0;
}
Task<void> Connection::wait_open() {
    auto conn = s_;
    detail::ConnectionState& c = st();
    while (c.recovering && c.recovered) {
        Future<void> r = *c.recovered;
        co_await r;
    }
    if (auto e = c.closed_error()) {
        std::rethrow_exception(e);
    }
}
bool Connection::is_blocked() const noexcept {
    return s_ && s_->blocked;
}
std::uint16_t Connection::channel_max() const noexcept {
    return s_ ? s_->channel_max : 0;
}
std::uint32_t Connection::frame_max() const noexcept {
    return s_ ? s_->frame_max : 0;
}
std::uint16_t Connection::heartbeat() const noexcept {
    return s_ ? s_->heartbeat : 0;
}
const FieldTable& Connection::server_properties() const noexcept {
    static const FieldTable empty;
    return s_ ? s_->server_properties : empty;
}
Future<void> Connection::closed() const {
    return st().closed;
}
std::exception_ptr Connection::close_reason() const noexcept {
    return s_ ? s_->close_reason : nullptr;
}

// -- Channel ------------------------------------------------------------------

detail::ChannelState& Channel::st() const {
    if (!s_) {
        throw RuntimeError("amqp::Channel: empty handle (not made by Connection::channel)");
    }
    return *s_;
}

std::uint16_t Channel::id() const noexcept {
    return s_ ? s_->id : 0;
}
bool Channel::is_open() const noexcept {
    return s_ && s_->open && !s_->conn->closed_error() && !s_->conn->recovering;
}

Task<void> Channel::close(std::uint16_t reply_code, std::string reply_text) {
    auto s = s_;
    if (s && s->open && s->conn->recovering) {
        try {
            co_await Connection(s->conn).wait_open();
        } catch (const AmqpError&) {
            co_return;  // the connection ended: the channel with it
        }
    }
    if (!is_open()) {
        co_return;
    }
    try {
        Method request{methods::channel_close, {reply_code, reply_text, 0, 0}};
        co_await s->call(std::move(request), methods::channel_close_ok);
    } catch (const ChannelClosed&) {
        // the server closed it first
    }
}

Task<void> Channel::exchange_declare(std::string exchange, std::string type, ExchangeOptions o) {
    auto s = s_;
    Method request{methods::exchange_declare,
                   {0, exchange, type, o.passive, o.durable, o.auto_delete, o.internal, 0,
                    std::move(o.arguments)}};
    Method copy = request;
    co_await st().call(std::move(request), methods::exchange_declare_ok);
    if (!o.passive) {
        s->conn->record({detail::TopologyEntry::Kind::exchange,
                         s,
                         exchange,
                         {},
                         {},
                         false,
                         std::move(copy),
                         methods::exchange_declare_ok});
    }
}

Task<void> Channel::exchange_delete(std::string exchange, bool if_unused) {
    auto s = s_;
    Method request{methods::exchange_delete, {0, exchange, if_unused, 0}};
    co_await st().call(std::move(request), methods::exchange_delete_ok);
    s->conn->forget(detail::TopologyEntry::Kind::exchange, exchange);
}

Task<void> Channel::exchange_bind(std::string destination, std::string source,
                                  std::string routing_key, FieldTable arguments) {
    auto s = s_;
    Method request{methods::exchange_bind, {0, destination, source, routing_key, 0, arguments}};
    Method copy = request;
    co_await st().call(std::move(request), methods::exchange_bind_ok);
    s->conn->record({detail::TopologyEntry::Kind::exchange_binding, s, destination, source,
                     routing_key, false, std::move(copy), methods::exchange_bind_ok});
}

Task<void> Channel::exchange_unbind(std::string destination, std::string source,
                                    std::string routing_key, FieldTable arguments) {
    auto s = s_;
    Method request{methods::exchange_unbind, {0, destination, source, routing_key, 0, arguments}};
    co_await st().call(std::move(request), methods::exchange_unbind_ok);
    s->conn->forget(detail::TopologyEntry::Kind::exchange_binding, destination, source,
                    routing_key);
}

Task<QueueDeclareOk> Channel::queue_declare(std::string queue, QueueOptions o) {
    auto s = s_;
    const std::string& name = st().conn->resolve(queue);
    Method request{
        methods::queue_declare,
        {0, name, o.passive, o.durable, o.exclusive, o.auto_delete, 0, std::move(o.arguments)}};
    Method copy = request;
    detail::RpcReply r = co_await st().call(std::move(request), methods::queue_declare_ok);
    if (!o.passive && (queue.empty() || s->conn->resolve(queue) == queue)) {
        const bool server_named = queue.empty();
        s->conn->record({detail::TopologyEntry::Kind::queue,
                         s,
                         server_named ? r.method.string(0) : queue,
                         {},
                         {},
                         server_named,
                         std::move(copy),
                         methods::queue_declare_ok});
    }
    co_return QueueDeclareOk{r.method.string(0), static_cast<std::uint32_t>(r.method.number(1)),
                             static_cast<std::uint32_t>(r.method.number(2))};
}

Task<void> Channel::queue_bind(std::string queue, std::string exchange, std::string routing_key,
                               FieldTable arguments) {
    auto s = s_;
    Method request{methods::queue_bind,
                   {0, st().conn->resolve(queue), exchange, routing_key, 0, arguments}};
    Method copy = request;
    co_await st().call(std::move(request), methods::queue_bind_ok);
    s->conn->record({detail::TopologyEntry::Kind::queue_binding, s, queue, exchange, routing_key,
                     false, std::move(copy), methods::queue_bind_ok});
}

Task<void> Channel::queue_unbind(std::string queue, std::string exchange, std::string routing_key,
                                 FieldTable arguments) {
    auto s = s_;
    Method request{methods::queue_unbind,
                   {0, st().conn->resolve(queue), exchange, routing_key, arguments}};
    co_await st().call(std::move(request), methods::queue_unbind_ok);
    s->conn->forget(detail::TopologyEntry::Kind::queue_binding, queue, exchange, routing_key);
}

Task<std::uint32_t> Channel::queue_purge(std::string queue) {
    auto s = s_;
    Method request{methods::queue_purge, {0, st().conn->resolve(queue), 0}};
    detail::RpcReply r = co_await st().call(std::move(request), methods::queue_purge_ok);
    co_return static_cast<std::uint32_t>(r.method.number(0));
}

Task<std::uint32_t> Channel::queue_delete(std::string queue, bool if_unused, bool if_empty) {
    auto s = s_;
    Method request{methods::queue_delete, {0, st().conn->resolve(queue), if_unused, if_empty, 0}};
    detail::RpcReply r = co_await st().call(std::move(request), methods::queue_delete_ok);
    s->conn->forget(detail::TopologyEntry::Kind::queue, queue);
    co_return static_cast<std::uint32_t>(r.method.number(0));
}

Task<void> Channel::confirm_select() {
    auto s = s_;
    if (st().confirm) {
        co_return;
    }
    Method request{methods::confirm_select, {0}};
    Method copy = request;
    co_await st().call(std::move(request), methods::confirm_select_ok);
    s->confirm = true;
    s->conn->record({detail::TopologyEntry::Kind::confirm,
                     s,
                     {},
                     {},
                     {},
                     false,
                     std::move(copy),
                     methods::confirm_select_ok});
}

Future<void> Channel::basic_publish(std::string_view body, std::string_view exchange,
                                    std::string_view routing_key, const Properties& properties,
                                    bool mandatory) {
    detail::ChannelState& c = st();
    c.check_open();
    detail::ConnectionState& conn = *c.conn;
    if (conn.recovering) {
        throw ConnectionError("amqp: the connection to " + conn.peer() +
                              " was lost and is reconnecting: the message was not published");
    }
    if (exchange.empty() && !conn.queue_names.empty()) {
        auto it = conn.queue_names.find(std::string(routing_key));
        if (it != conn.queue_names.end()) {
            routing_key = it->second;
        }
    }
    Future<void> f(*conn.loop);
    std::string& out = c.scratch;
    out.clear();
    encode_method(out, c.id,
                  Method{methods::basic_publish, {0, exchange, routing_key, mandatory, 0}});
    if (c.confirm) {
        std::uint64_t seq = c.next_seq++;
        if (mandatory) {
            Properties p = properties;
            if (!p.headers)
                p.headers.emplace();
            p.headers->set(detail::kSeqHeader, FieldValue(static_cast<std::int64_t>(seq)));
            encode_content(out, c.id, p, body, conn.frame_max);
        } else {
            encode_content(out, c.id, properties, body, conn.frame_max);
        }
        c.unconfirmed.emplace(seq, f);
        conn.write_publish(out, std::nullopt);
    } else {
        encode_content(out, c.id, properties, body, conn.frame_max);
        conn.write_publish(out, f);
    }
    return f;
}

void Channel::set_return_handler(std::function<void(Message)> on_return) {
    st().on_return = std::move(on_return);
}

Task<void> Channel::basic_qos(std::uint16_t prefetch_count, std::uint32_t prefetch_size,
                              bool global) {
    auto s = s_;
    Method request{methods::basic_qos, {prefetch_size, prefetch_count, global}};
    Method copy = request;
    co_await st().call(std::move(request), methods::basic_qos_ok);
    s->conn->record({detail::TopologyEntry::Kind::qos,
                     s,
                     {},
                     {},
                     {},
                     false,
                     std::move(copy),
                     methods::basic_qos_ok});
}

namespace {
struct ConsumerGuard {
    std::shared_ptr<detail::ChannelState> ch;
    std::string tag;
    std::shared_ptr<detail::ConsumerState> c;
    ~ConsumerGuard() { ch->consumer_gone(tag, *c); }
};
}  // namespace

AsyncGenerator<Message> Channel::basic_consume(std::string queue, ConsumeOptions options) {
    std::shared_ptr<detail::ChannelState> ch = s_;
    st().check_open();
    std::string tag = options.consumer_tag.empty() ? ch->make_tag() : options.consumer_tag;
    auto c = std::make_shared<detail::ConsumerState>();
    c->no_ack = options.no_ack;
    ch->consumers[tag] = c;
    ConsumerGuard guard{ch, tag, c};
    Method request{methods::basic_consume,
                   {0, ch->conn->resolve(queue), tag, 0, options.no_ack, options.exclusive, 0,
                    std::move(options.arguments)}};
    c->queue = queue;
    c->request = request;
    co_await ch->call(std::move(request), methods::basic_consume_ok);
    c->started = true;
    for (;;) {
        if (!c->buffer.empty()) {
            Message m = std::move(c->buffer.front());
            c->buffer.pop_front();
            co_yield std::move(m);
            continue;
        }
        if (c->ended) {
            if (c->error) {
                std::rethrow_exception(c->error);
            }
            co_return;
        }
        c->waiter.emplace(*ch->conn->loop);
        Future<void> w = *c->waiter;
        co_await w;
    }
}

Task<void> Channel::basic_cancel(std::string consumer_tag) {
    auto s = s_;
    Method request{methods::basic_cancel, {consumer_tag, 0}};
    co_await st().call(std::move(request), methods::basic_cancel_ok);
}

Task<std::optional<Message>> Channel::basic_get(std::string queue, bool no_ack) {
    auto s = s_;
    Method request{methods::basic_get, {0, st().conn->resolve(queue), no_ack}};
    detail::RpcReply r =
        co_await st().call(std::move(request), methods::basic_get_ok, methods::basic_get_empty);
    co_return std::move(r.message);
}

// A delivery tag of a connection lost since (at most tag_base) is dropped:
// the server has requeued that delivery already.
namespace {
bool stale(const detail::ChannelState& c, std::uint64_t tag) {
    return c.conn->recovering || (tag != 0 && c.server_tag(tag) == 0);
}
}  // namespace

void Channel::basic_ack(std::uint64_t delivery_tag, bool multiple) {
    st().check_open();
    if (stale(*s_, delivery_tag)) {
        return;
    }
    s_->send(Method{methods::basic_ack, {s_->server_tag(delivery_tag), multiple}});
}

void Channel::basic_nack(std::uint64_t delivery_tag, bool multiple, bool requeue) {
    st().check_open();
    if (stale(*s_, delivery_tag)) {
        return;
    }
    s_->send(Method{methods::basic_nack, {s_->server_tag(delivery_tag), multiple, requeue}});
}

void Channel::basic_reject(std::uint64_t delivery_tag, bool requeue) {
    st().check_open();
    if (stale(*s_, delivery_tag)) {
        return;
    }
    s_->send(Method{methods::basic_reject, {s_->server_tag(delivery_tag), requeue}});
}

}  // namespace corio::amqp
