// PubSub against a real redis-server: channels, patterns, the listen()
// generator, unsubscribing, and resubscription after the server restarts.
#include "corio/redis/pubsub.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "corio/corio.hpp"
#include "net/net_fixture.hpp"
#include "support/server_fixture.hpp"

namespace redis = corio::redis;
using corio::Task;
using corio_test::net_run;

namespace {

redis::ClientOptions opts(const corio_test::RedisServer& s, int protocol = 3) {
    redis::ClientOptions o;
    o.port = s.port();
    o.protocol = protocol;
    return o;
}

Task<void> pubsub_round(corio_test::RedisServer& server, int protocol) {
    auto sub = co_await redis::PubSub::connect(opts(server, protocol));
    auto pub = co_await redis::Client::connect(opts(server));
    co_await sub.subscribe("news", "sport");
    co_await sub.psubscribe("log.*");
    EXPECT_EQ(sub.subscriptions(), 3u);
    EXPECT_EQ((co_await pub.execute("PUBLISH", "news", "hello")).as_integer(), 1);
    co_await pub.execute("PUBLISH", "log.disk", "full");
    co_await pub.execute("PUBLISH", "weather", "nobody listens");
    co_await pub.execute("PUBLISH", "sport", "goal");

    redis::Message m1 = co_await sub.get_message();
    EXPECT_EQ(m1.kind, "message");
    EXPECT_EQ(m1.channel, "news");
    EXPECT_EQ(m1.data, "hello");
    redis::Message m2 = co_await sub.get_message();
    EXPECT_EQ(m2.kind, "pmessage");
    EXPECT_EQ(m2.pattern, "log.*");
    EXPECT_EQ(m2.channel, "log.disk");
    EXPECT_EQ(m2.data, "full");
    auto gen = sub.listen();
    auto m3 = co_await gen.next();
    EXPECT_TRUE(m3 && m3->channel == "sport" && m3->data == "goal");

    co_await sub.unsubscribe("news");
    EXPECT_EQ((co_await pub.execute("PUBLISH", "news", "unheard")).as_integer(), 0);
    co_await sub.unsubscribe();
    co_await sub.punsubscribe();
    EXPECT_EQ(sub.subscriptions(), 0u);
    EXPECT_EQ((co_await pub.execute("PUBLISH", "sport", "unheard")).as_integer(), 0);
    EXPECT_EQ(sub.pending_messages(), 0u);
    sub.close();
    EXPECT_FALSE(co_await gen.next());  // listen() ends with close()
}

}  // namespace

TEST(RedisPubSub, ChannelsPatternsAndListenResp3) {
    corio_test::RedisServer server;
    net_run(pubsub_round(server, 3));
}

TEST(RedisPubSub, ChannelsPatternsAndListenResp2) {
    corio_test::RedisServer server;
    net_run(pubsub_round(server, 2));
}

TEST(RedisPubSub, ResubscribesAfterTheServerRestarts) {
    corio_test::RedisServer server;
    net_run([&]() -> Task<void> {
        auto sub = co_await redis::PubSub::connect(opts(server));
        co_await sub.subscribe("events");
        co_await sub.psubscribe("audit.*");
        server.restart();  // SIGKILL, then a new server on the same port
        auto pub = co_await redis::Client::connect(opts(server));
        // Wait until the subscriber is back (an event, not a sleep).
        for (;;) {
            redis::Reply n = co_await pub.execute("PUBSUB", "NUMPAT");
            if (n.as_integer() == 1) {
                break;
            }
        }
        redis::Reply numsub = co_await pub.execute("PUBSUB", "NUMSUB", "events");
        EXPECT_EQ(numsub.as_array().at(1).as_integer(), 1);
        co_await pub.execute("PUBLISH", "events", "after-restart");
        co_await pub.execute("PUBLISH", "audit.login", "bob");
        redis::Message m = co_await sub.get_message();
        EXPECT_EQ(m.channel, "events");
        EXPECT_EQ(m.data, "after-restart");
        m = co_await sub.get_message();
        EXPECT_EQ(m.channel, "audit.login");
        EXPECT_EQ(sub.connections_made(), 2u);
    }());
}
