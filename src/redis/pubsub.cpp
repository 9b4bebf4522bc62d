// src/redis/pubsub.cpp - PubSub on a subscriber-mode Client.
//
// Confirmations: every (P)(UN)SUBSCRIBE command is answered by one push per
// name (per subscription held, for an unsubscribe from all). `confirms`
// holds, in command order, how many are still due and the future that the
// caller waits on. A reconnection clears it (waiters are released: their
// names are in `channels` / `patterns` and are subscribed again first), and
// confirmations that nobody expects are ignored.
#include "corio/redis/pubsub.hpp"

namespace corio::redis {

struct PubSub::State {
    Client client;
    Queue<Message> queue;
    std::set<std::string> channels;
    std::set<std::string> patterns;
    struct Confirm {
        std::size_t remaining;
        std::optional<Future<void>> done;
    };
    std::deque<Confirm> confirms;

    void on_push(Reply push);
    void on_connect(Client& c);
    void release_confirms();
};

namespace {

bool is_confirmation(std::string_view kind) {
    return kind == "subscribe" || kind == "psubscribe" || kind == "unsubscribe" ||
           kind == "punsubscribe" || kind == "ssubscribe" || kind == "sunsubscribe";
}

std::string encoded(const char* command, const std::set<std::string>& names) {
    std::string out;
    encode_command(out, command, names);
    return out;
}

}  // namespace

void PubSub::State::on_push(Reply push) {
    if (!push.is_array() && !push.is_push()) {
        return;
    }
    std::vector<Reply> parts = std::move(push).as_array();
    if (parts.empty()) {
        return;
    }
    std::string kind = parts[0].to_string();
    if (is_confirmation(kind)) {
        if (!confirms.empty() && --confirms.front().remaining == 0) {
            if (confirms.front().done && !confirms.front().done->done()) {
                confirms.front().done->set_result();
            }
            confirms.pop_front();
        }
        return;
    }
    if ((kind == "message" || kind == "smessage") && parts.size() == 3) {
        queue.put_nowait(Message{
            std::move(kind), {}, std::move(parts[1]).to_string(), std::move(parts[2]).to_string()});
    } else if (kind == "pmessage" && parts.size() == 4) {
        queue.put_nowait(Message{std::move(kind), std::move(parts[1]).to_string(),
                                 std::move(parts[2]).to_string(), std::move(parts[3]).to_string()});
    }
    // Anything else (client-tracking invalidations, pong) is not a message.
}

void PubSub::State::release_confirms() {
    for (auto& c : confirms) {
        if (c.done && !c.done->done()) {
            c.done->set_result();
        }
    }
    confirms.clear();
}

void PubSub::State::on_connect(Client& c) {
    release_confirms();
    if (!channels.empty()) {
        c.send_without_reply(encoded("SUBSCRIBE", channels));
        confirms.push_back(Confirm{channels.size(), std::nullopt});
    }
    if (!patterns.empty()) {
        c.send_without_reply(encoded("PSUBSCRIBE", patterns));
        confirms.push_back(Confirm{patterns.size(), std::nullopt});
    }
}

Task<PubSub> PubSub::connect(ClientOptions options) {
    auto state = std::make_unique<State>();
    state->client = Client::create(std::move(options));
    State* s = state.get();
    state->client.set_subscriber(true);
    state->client.set_push_handler([s](Reply r) { s->on_push(std::move(r)); });
    state->client.set_on_connect([s](Client& c) { s->on_connect(c); });
    co_await state->client.execute("PING");  // connects; no subscription yet
    co_return PubSub(std::move(state));
}

PubSub::PubSub(std::unique_ptr<State> state) noexcept : state_(std::move(state)) {}
PubSub::PubSub(PubSub&&) noexcept = default;
PubSub& PubSub::operator=(PubSub&& o) noexcept {
    if (this != &o) {
        close();
        state_ = std::move(o.state_);
    }
    return *this;
}
PubSub::~PubSub() {
    close();
}

void PubSub::close() {
    if (!state_) {
        return;
    }
    state_->client.set_push_handler(nullptr);
    state_->client.set_on_connect(nullptr);
    state_->client.close();
    state_->release_confirms();
    state_->queue.shutdown();
}

Task<void> PubSub::change(const char* command, std::vector<std::string> names, bool pattern,
                          bool add) {
    if (!state_) {
        throw RuntimeError("redis::PubSub: closed (moved from)");
    }
    State& s = *state_;
    std::set<std::string>& held = pattern ? s.patterns : s.channels;
    std::size_t expected = names.size();
    if (names.empty()) {
        if (add) {
            throw std::invalid_argument(std::string(command) + ": no channel given");
        }
        expected = std::max<std::size_t>(1, held.size());
        held.clear();
    }
    for (const auto& n : names) {
        if (add) {
            held.insert(n);
        } else {
            held.erase(n);
        }
    }
    std::string out;
    encode_command(out, command, names);  // no names: the command alone
    Future<void> done;
    s.confirms.push_back(State::Confirm{expected, done});
    s.client.send_without_reply(out);
    co_await done;
}

Task<void> PubSub::subscribe(std::vector<std::string> channels) {
    return change("SUBSCRIBE", std::move(channels), false, true);
}
Task<void> PubSub::psubscribe(std::vector<std::string> patterns) {
    return change("PSUBSCRIBE", std::move(patterns), true, true);
}
Task<void> PubSub::unsubscribe(std::vector<std::string> channels) {
    return change("UNSUBSCRIBE", std::move(channels), false, false);
}
Task<void> PubSub::punsubscribe(std::vector<std::string> patterns) {
    return change("PUNSUBSCRIBE", std::move(patterns), true, false);
}

Task<Message> PubSub::get_message() {
    if (!state_) {
        throw RuntimeError("redis::PubSub: closed (moved from)");
    }
    co_return co_await state_->queue.get();
}

AsyncGenerator<Message> PubSub::listen() {
    for (;;) {
        std::optional<Message> m;
        try {
            m = co_await get_message();
        } catch (const QueueShutDown&) {
            co_return;
        }
        co_yield std::move(*m);
    }
}

std::size_t PubSub::subscriptions() const noexcept {
    return state_ ? state_->channels.size() + state_->patterns.size() : 0;
}
std::size_t PubSub::pending_messages() const noexcept {
    return state_ ? state_->queue.qsize() : 0;
}
std::uint64_t PubSub::connections_made() const noexcept {
    return state_ ? state_->client.connections_made() : 0;
}

}  // namespace corio::redis
