// corio/redis/pubsub.hpp - publish/subscribe: PubSub, Message.
//
// Mirrors redis-py's redis.asyncio.client.PubSub (aioredis' subscribe /
// Channel). A PubSub owns a connection of its own in subscriber mode:
// messages arrive as pushes and wait in a queue until read with
// get_message() or the listen() async generator. When the connection
// breaks it is remade at once (retried until close()), and every channel and
// pattern subscribed is subscribed again before anything else is sent;
// messages published while it was down are lost, as Redis pub/sub is
// at-most-once. Publish with any Client: `client.execute("PUBLISH", ch, m)`.
#pragma once

#include <concepts>
#include <cstddef>
#include <deque>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "corio/async_generator.hpp"
#include "corio/future.hpp"
#include "corio/queues.hpp"
#include "corio/redis/client.hpp"
#include "corio/task.hpp"

namespace corio::redis {

/// One message received. redis-py's dict {type, pattern, channel, data}.
struct Message {
    std::string kind;     // "message" or "pmessage" (also "smessage")
    std::string pattern;  // the matching pattern, for "pmessage"
    std::string channel;
    std::string data;
};

class PubSub {
public:
    /// Connects (as Client::connect) in subscriber mode. Suspends until
    /// the handshake is done; throws as Client::connect.
    static Task<PubSub> connect(ClientOptions options);
    PubSub(PubSub&&) noexcept;
    PubSub& operator=(PubSub&&) noexcept;
    ~PubSub();

    /// SUBSCRIBE / PSUBSCRIBE to channels or patterns, and waits until the
    /// server confirmed every one: a message published after it returns is
    /// received. Throws ConnectionError if the connection is down and
    /// cannot be remade; cancelling it stops the wait only (the
    /// subscription stands). redis-py: `subscribe`, `psubscribe`.
    Task<void> subscribe(std::vector<std::string> channels);
    Task<void> psubscribe(std::vector<std::string> patterns);
    /// UNSUBSCRIBE / PUNSUBSCRIBE (empty: from all), waiting for the
    /// confirmations. Messages already queued stay queued.
    Task<void> unsubscribe(std::vector<std::string> channels = {});
    Task<void> punsubscribe(std::vector<std::string> patterns = {});
    /// The same with the names as arguments: `co_await sub.subscribe("a",
    /// "b")`. (Prefer these to a braced list inside co_await: GCC 12
    /// miscompiles an initializer_list there.)
    template <std::convertible_to<std::string_view>... Names>
    requires(sizeof...(Names) > 0) Task<void> subscribe(const Names&... channels) {
        return subscribe(std::vector<std::string>{std::string(std::string_view(channels))...});
    }
    template <std::convertible_to<std::string_view>... Names>
    requires(sizeof...(Names) > 0) Task<void> psubscribe(const Names&... patterns) {
        return psubscribe(std::vector<std::string>{std::string(std::string_view(patterns))...});
    }
    template <std::convertible_to<std::string_view>... Names>
    requires(sizeof...(Names) > 0) Task<void> unsubscribe(const Names&... channels) {
        return unsubscribe(std::vector<std::string>{std::string(std::string_view(channels))...});
    }
    template <std::convertible_to<std::string_view>... Names>
    requires(sizeof...(Names) > 0) Task<void> punsubscribe(const Names&... patterns) {
        return punsubscribe(std::vector<std::string>{std::string(std::string_view(patterns))...});
    }

    /// The next message, suspending until one arrives. Throws
    /// QueueShutDown after close(). Cancelling it takes nothing off the
    /// queue. redis-py: `get_message(timeout=None)` (wrap in wait_for for a
    /// timeout).
    Task<Message> get_message();
    /// The messages as they come, endlessly (until close(): then the
    /// generator ends). redis-py: `listen()`; aioredis: `Channel.iter()`.
    /// The PubSub must outlive the generator.
    AsyncGenerator<Message> listen();

    /// Channels and patterns subscribed (as asked, confirmed or not).
    std::size_t subscriptions() const noexcept;
    /// Messages received and not read yet.
    std::size_t pending_messages() const noexcept;
    /// Connections made (1 + reconnections).
    std::uint64_t connections_made() const noexcept;
    /// Closes the connection and stops reconnecting; get_message() and
    /// listen() end. Never suspends.
    void close();

    struct State;

private:
    explicit PubSub(std::unique_ptr<State> state) noexcept;
    Task<void> change(const char* command, std::vector<std::string> names, bool pattern, bool add);
    std::unique_ptr<State> state_;
};

}  // namespace corio::redis
