// tests/amqp/client_test.cpp - Connection and Channel against a real
// RabbitMQ (one server per test binary): handshake and negotiation, bad
// credentials, exchanges and queues with arguments, publishing with
// properties and confirms, mandatory returns, consuming as a generator with
// prefetch, acks / nacks / rejects, basic_get, cancel by the user and by the
// server, server-side channel close, cancellation safety.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "amqp/rabbit.hpp"
#include "corio/amqp.hpp"
#include "corio/corio.hpp"
#include "net/net_fixture.hpp"
#include "support/server_fixture.hpp"

namespace amqp = corio::amqp;
using corio::Task;
using corio_test::net_run;
using namespace std::chrono_literals;

namespace {

corio_test::RabbitMqServer* server = nullptr;
int counter = 0;

class Amqp : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        server = &corio_amqp_test::rabbit();  // the binary's one server
    }
    static void TearDownTestSuite() {}
    static std::string url() { return server->url(); }
    static std::string fresh(const char* what = "q") {
        return std::string("corio-test-") + what + std::to_string(++counter);
    }
};

struct Cleanup : ::testing::Environment {
    void TearDown() override {
        delete corio_amqp_test::server_slot();
        corio_amqp_test::server_slot() = nullptr;
        server = nullptr;
    }
};
[[maybe_unused]] auto* const cleanup = ::testing::AddGlobalTestEnvironment(new Cleanup);

TEST(AmqpUrl, ParsesRabbitMqUris) {
    auto o =
        amqp::parse_url("amqp://u%40x:p%3Aw@example.com:5673/v%2Fh?heartbeat=5&frame_max=8192");
    EXPECT_EQ(o.user, "u@x");
    EXPECT_EQ(o.password, "p:w");
    EXPECT_EQ(o.host, "example.com");
    EXPECT_EQ(o.port, 5673);
    EXPECT_EQ(o.vhost, "v/h");
    EXPECT_EQ(o.heartbeat, 5);
    EXPECT_EQ(o.frame_max, 8192u);
    EXPECT_FALSE(o.tls);
    auto d = amqp::parse_url("amqp://");
    EXPECT_EQ(d.host, "127.0.0.1");
    EXPECT_EQ(d.vhost, "/");
    EXPECT_EQ(amqp::parse_url("amqp://h/").vhost, "/");
    EXPECT_EQ(amqp::parse_url("amqp://h/%2F").vhost, "/");
    EXPECT_EQ(amqp::parse_url("amqp://h/prod").vhost, "prod");
    auto t = amqp::parse_url("amqps://h?cacertfile=/ca.pem&verify=verify_none");
    EXPECT_TRUE(t.tls);
    EXPECT_EQ(t.port, 5671);
    EXPECT_EQ(t.ssl_ca_certs, "/ca.pem");
    EXPECT_EQ(t.ssl_cert_reqs, corio::net::VerifyMode::none);
    EXPECT_THROW(amqp::parse_url("http://h"), std::invalid_argument);
    EXPECT_THROW(amqp::parse_url("amqp://h:99999"), std::invalid_argument);
    EXPECT_THROW(amqp::parse_url("amqp://h?bogus=1"), std::invalid_argument);
    EXPECT_THROW(amqp::parse_url("amqp://h/%zz"), std::invalid_argument);
}

TEST_F(Amqp, ConnectsNegotiatesAndClosesCleanly) {
    net_run([]() -> Task<void> {
        auto o = amqp::parse_url(url() + "?heartbeat=10&channel_max=100&frame_max=65536");
        auto conn = co_await amqp::Connection::connect(o);
        EXPECT_TRUE(conn.is_open());
        EXPECT_EQ(conn.heartbeat(), 10);
        EXPECT_EQ(conn.channel_max(), 100);
        EXPECT_EQ(conn.frame_max(), 65536u);
        const amqp::FieldValue* product = conn.server_properties().find("product");
        CO_ASSERT_TRUE(product != nullptr);
        EXPECT_EQ(product->as_string(), "RabbitMQ");
        auto a = co_await conn.channel();
        auto b = co_await conn.channel();
        EXPECT_EQ(a.id(), 1);
        EXPECT_EQ(b.id(), 2);
        co_await a.close();
        EXPECT_FALSE(a.is_open());
        auto c = co_await conn.channel();
        EXPECT_EQ(c.id(), 1);  // the lowest free number again
        auto closed = conn.closed();
        co_await conn.close();
        EXPECT_FALSE(conn.is_open());
        EXPECT_TRUE(closed.done());
        EXPECT_EQ(conn.close_reason(), nullptr);
        EXPECT_THROW(b.basic_ack(1), amqp::ConnectionError);
    }());
}

TEST_F(Amqp, BadCredentialsAndVhostAreRefusedWithTheirCodes) {
    net_run([]() -> Task<void> {
        auto o = amqp::parse_url(url());
        o.password = "wrong";
        try {
            co_await amqp::Connection::connect(o);
            ADD_FAILURE() << "connected with a wrong password";
        } catch (const amqp::ConnectionError& e) {
            EXPECT_EQ(e.reply_code(), 403) << e.what();
            EXPECT_NE(std::string(e.what()).find("ACCESS_REFUSED"), std::string::npos) << e.what();
        }
        auto v = amqp::parse_url(url());
        v.vhost = "no-such-vhost";
        try {
            co_await amqp::Connection::connect(v);
            ADD_FAILURE() << "opened a vhost that does not exist";
        } catch (const amqp::ConnectionError& e) {
            EXPECT_EQ(e.reply_code(), 530) << e.what();
        }
    }());
}

TEST_F(Amqp, QueuesAndExchangesWithArguments) {
    net_run([]() -> Task<void> {
        auto conn = co_await amqp::Connection::connect(url());
        auto ch = co_await conn.channel();
        std::string ex = fresh("ex"), q = fresh(), dlx = fresh("dlx");
        co_await ch.exchange_declare(ex, "topic");
        amqp::ExchangeOptions durable;
        durable.durable = true;
        co_await ch.exchange_declare(dlx, "fanout", durable);
        amqp::QueueOptions qo;
        qo.durable = true;
        qo.arguments.set("x-message-ttl", amqp::FieldValue(60000));
        qo.arguments.set("x-dead-letter-exchange", amqp::FieldValue(dlx));
        qo.arguments.set("x-max-length", amqp::FieldValue(10));
        auto ok = co_await ch.queue_declare(q, qo);
        EXPECT_EQ(ok.queue, q);
        EXPECT_EQ(ok.message_count, 0u);
        co_await ch.queue_bind(q, ex, "logs.*");
        auto anonymous = co_await ch.queue_declare();
        EXPECT_TRUE(anonymous.queue.starts_with("amq.gen-")) << anonymous.queue;
        amqp::QueueOptions quorum;
        quorum.durable = true;
        quorum.arguments.set("x-queue-type", amqp::FieldValue("quorum"));
        std::string qq = fresh("quorum");
        co_await ch.queue_declare(qq, quorum);
        co_await ch.confirm_select();
        for (int i = 0; i < 12; ++i) {
            co_await ch.basic_publish("m" + std::to_string(i), ex, "logs.info");
        }
        co_await ch.basic_publish("unrouted", ex, "other.key");
        amqp::QueueOptions passive;
        passive.passive = true;
        EXPECT_EQ((co_await ch.queue_declare(q, passive)).message_count, 10u);  // x-max-length
        EXPECT_EQ(co_await ch.queue_purge(q), 10u);
        co_await ch.queue_unbind(q, ex, "logs.*");
        co_await ch.basic_publish("after unbind", ex, "logs.info");
        EXPECT_EQ((co_await ch.queue_declare(q, passive)).message_count, 0u);
        // Redeclaring with other arguments: 406, the channel closes, the
        // error carries code and text; the connection lives on.
        amqp::QueueOptions other;
        other.durable = true;
        try {
            co_await ch.queue_declare(q, other);
            ADD_FAILURE() << "redeclared with other arguments";
        } catch (const amqp::ChannelClosed& e) {
            EXPECT_EQ(e.reply_code(), 406);
            EXPECT_NE(e.reply_text().find("PRECONDITION_FAILED"), std::string::npos);
        }
        EXPECT_FALSE(ch.is_open());
        EXPECT_THROW(co_await ch.queue_purge(q), amqp::ChannelClosed);
        auto ch2 = co_await conn.channel();
        EXPECT_EQ(co_await ch2.queue_delete(q), 0u);
        co_await ch2.queue_delete(qq);
        co_await ch2.exchange_delete(ex);
        co_await ch2.exchange_delete(dlx);
        co_await conn.close();
    }());
}

TEST_F(Amqp, PendingCallsFailWhenTheServerClosesTheChannel) {
    net_run([]() -> Task<void> {
        auto conn = co_await amqp::Connection::connect(url());
        auto ch = co_await conn.channel();
        amqp::QueueOptions passive;
        passive.passive = true;
        // Three pipelined calls: the first fails (404), the others with it.
        auto t1 = corio::create_task(ch.queue_declare(fresh("missing"), passive));
        auto t2 = corio::create_task(ch.queue_declare(fresh(), {}));
        auto t3 = corio::create_task(ch.basic_qos(5));
        for (auto* t : {&t1, &t2}) {
            try {
                co_await *t;
                ADD_FAILURE();
            } catch (const amqp::ChannelClosed& e) {
                EXPECT_EQ(e.reply_code(), 404) << e.what();
            }
        }
        EXPECT_THROW(co_await t3, amqp::ChannelClosed);
        co_await conn.close();
    }());
}

TEST_F(Amqp, PublishesWithPropertiesAndConsumesThem) {
    net_run([]() -> Task<void> {
        auto conn = co_await amqp::Connection::connect(url() + "?frame_max=4096");
        auto ch = co_await conn.channel();
        std::string q = fresh();
        co_await ch.queue_declare(q);
        co_await ch.confirm_select();
        amqp::Properties p;
        p.content_type = "application/json";
        p.delivery_mode = 2;
        p.headers = amqp::FieldTable{{"attempt", amqp::FieldValue(3)},
                                     {"tags", amqp::FieldValue(amqp::FieldArray{
                                                  amqp::FieldValue("a"), amqp::FieldValue(true)})}};
        p.correlation_id = "c-1";
        p.reply_to = "replies";
        p.expiration = "60000";
        p.message_id = "m-1";
        std::string big(10000, 'x');  // three body frames at frame-max 4096
        std::vector<corio::Future<void>> confirms;
        confirms.push_back(ch.basic_publish(big, "", q, p));
        for (int i = 0; i < 50; ++i) {
            confirms.push_back(ch.basic_publish(std::to_string(i), "", q));
        }
        for (auto& f : confirms) {
            co_await f;
        }
        co_await ch.basic_qos(10);
        auto messages = ch.basic_consume(q);
        auto first = co_await messages.next();
        CO_ASSERT_TRUE(first.has_value());
        EXPECT_EQ(first->body, big);
        EXPECT_EQ(first->properties.content_type, "application/json");
        EXPECT_EQ(first->properties.delivery_mode, 2);
        EXPECT_EQ(first->properties.correlation_id, "c-1");
        EXPECT_EQ(first->properties.reply_to, "replies");
        EXPECT_EQ(first->properties.expiration, "60000");
        EXPECT_EQ(first->properties.message_id, "m-1");
        EXPECT_EQ(first->properties.headers, p.headers);
        EXPECT_EQ(first->routing_key, q);
        EXPECT_FALSE(first->redelivered);
        ch.basic_ack(first->delivery_tag);
        std::uint64_t last = 0;
        for (int i = 0; i < 50; ++i) {
            auto m = co_await messages.next();
            CO_ASSERT_TRUE(m.has_value());
            EXPECT_EQ(m->body, std::to_string(i));
            last = m->delivery_tag;
            if (i % 10 == 9) {
                ch.basic_ack(last, /*multiple=*/true);  // prefetch 10: must ack to go on
            }
        }
        EXPECT_EQ(last, 51u);
        co_await conn.close();
    }());
}

TEST_F(Amqp, MandatoryUnroutablePublishFailsWithNoRouteAndReturnsReachTheHandler) {
    net_run([]() -> Task<void> {
        auto conn = co_await amqp::Connection::connect(url());
        auto ch = co_await conn.channel();
        std::vector<amqp::Message> returned;
        ch.set_return_handler([&](amqp::Message m) { returned.push_back(std::move(m)); });
        // Without confirms: the return goes to the handler.
        co_await ch.basic_publish("lost", "", fresh("nobody"), {}, /*mandatory=*/true);
        co_await ch.basic_qos(1);  // a round trip: the return came before its reply
        CO_ASSERT_EQ(returned.size(), 1u);
        EXPECT_EQ(returned[0].reply_code, 312);
        EXPECT_EQ(returned[0].body, "lost");
        // With confirms: the publish itself fails; routable ones succeed.
        co_await ch.confirm_select();
        std::string q = fresh();
        co_await ch.queue_declare(q);
        auto ok = ch.basic_publish("kept", "", q, {}, true);
        auto lost = ch.basic_publish("lost", "", fresh("nobody"), {}, true);
        auto ok2 = ch.basic_publish("kept", "", q, {}, true);
        co_await ok;
        try {
            co_await lost;
            ADD_FAILURE() << "an unroutable mandatory publish was confirmed";
        } catch (const amqp::PublishFailed& e) {
            EXPECT_EQ(e.reply_code(), 312) << e.what();
        }
        co_await ok2;
        EXPECT_EQ(returned.size(), 1u);
        co_await conn.close();
    }());
}

TEST_F(Amqp, AckNackRejectAndBasicGet) {
    net_run([]() -> Task<void> {
        auto conn = co_await amqp::Connection::connect(url());
        auto ch = co_await conn.channel();
        std::string q = fresh();
        co_await ch.queue_declare(q);
        co_await ch.confirm_select();
        for (const char* b : {"a", "b", "c", "d"}) {
            co_await ch.basic_publish(b, "", q);
        }
        auto a = co_await ch.basic_get(q);
        CO_ASSERT_TRUE(a);
        EXPECT_EQ(a->body, "a");
        EXPECT_EQ(a->message_count, 3u);
        ch.basic_reject(a->delivery_tag, /*requeue=*/false);  // dropped
        auto b = co_await ch.basic_get(q);
        ch.basic_nack(b->delivery_tag, false, /*requeue=*/true);  // back in the queue
        auto again = co_await ch.basic_get(q);
        CO_ASSERT_TRUE(again);
        EXPECT_TRUE(again->redelivered);
        auto c = co_await ch.basic_get(q);
        auto d = co_await ch.basic_get(q);
        CO_ASSERT_TRUE(c && d);
        EXPECT_EQ(again->body + c->body + d->body, "bcd");
        ch.basic_ack(d->delivery_tag, /*multiple=*/true);
        EXPECT_FALSE(co_await ch.basic_get(q));
        co_await conn.close();
    }());
}

TEST_F(Amqp, ConsumerEndsOnUserCancelAndOnServerCancel) {
    net_run([]() -> Task<void> {
        auto conn = co_await amqp::Connection::connect(url());
        auto ch = co_await conn.channel();
        std::string q = fresh();
        co_await ch.queue_declare(q);
        co_await ch.confirm_select();
        co_await ch.basic_publish("one", "", q);
        amqp::ConsumeOptions co;
        co.consumer_tag = "mine";
        co.no_ack = true;
        auto messages = ch.basic_consume(q, co);
        auto m = co_await messages.next();
        EXPECT_EQ(m->body, "one");
        co_await ch.basic_cancel("mine");
        EXPECT_FALSE(co_await messages.next());
        // The server cancels a consumer whose queue is deleted.
        auto other = ch.basic_consume(q);
        auto consumer =
            corio::create_task([](corio::AsyncGenerator<amqp::Message>& g) -> Task<int> {
                int n = 0;
                while (co_await g.next())
                    ++n;
                co_return n;
            }(other));
        co_await ch.basic_qos(1);  // the consumer is registered by now
        auto ch2 = co_await conn.channel();
        co_await ch2.queue_delete(q);
        EXPECT_EQ(co_await consumer, 0);
        EXPECT_TRUE(ch.is_open());
        co_await conn.close();
    }());
}

TEST_F(Amqp, CancellingAConsumerRequeuesWhatItHadNotYieldedAndKeepsTheChannelInStep) {
    net_run([]() -> Task<void> {
        auto conn = co_await amqp::Connection::connect(url());
        auto ch = co_await conn.channel();
        std::string q = fresh();
        co_await ch.queue_declare(q);
        co_await ch.confirm_select();
        for (int i = 0; i < 5; ++i) {
            co_await ch.basic_publish(std::to_string(i), "", q);
        }
        {
            auto messages = ch.basic_consume(q);
            auto m = co_await messages.next();
            EXPECT_EQ(m->body, "0");
            ch.basic_ack(m->delivery_tag);
            co_await messages.aclose();  // 1..4 were prefetched: requeued
        }
        // A task blocked in a consumer loop, cancelled.
        std::string empty = fresh("empty");
        co_await ch.queue_declare(empty);
        auto blocked = corio::create_task([](amqp::Channel c, std::string queue) -> Task<void> {
            amqp::ConsumeOptions co;
            co.consumer_tag = "blocked";
            auto g = c.basic_consume(queue, co);
            (void)co_await g.next();
        }(ch, empty));
        auto declared = co_await ch.queue_declare(q);  // the channel is in step
        (void)declared;
        // One more round trip before the cancel: RabbitMQ 3.10's channel
        // registers a consumer on an internal message that can trail the
        // consume-ok it sent, and crashes (541 INTERNAL_ERROR, badkey in
        // rabbit_channel:consumer_monitor) on a basic.cancel that overtakes it.
        co_await ch.queue_declare(empty);
        blocked.cancel();
        try {
            co_await blocked;
        } catch (const corio::CancelledError&) {
        } catch (const amqp::ChannelClosed& e) {
            ADD_FAILURE() << e.what();
        }
        // A cancelled wait for a reply: the reply is dropped, later ones match.
        auto purge = corio::create_task(ch.queue_purge(empty));
        co_await corio::sleep(0s);  // sent
        purge.cancel();
        std::vector<std::string> got;
        for (int i = 0; i < 4; ++i) {
            auto m = co_await ch.basic_get(q, /*no_ack=*/true);
            if (m)
                got.push_back(m->body);
        }
        EXPECT_EQ(got, (std::vector<std::string>{"1", "2", "3", "4"}));
        co_await conn.close();
    }());
}

// Closing the channel right after closing a consumer's generator used to
// report "Future exception was never retrieved" (the consumer's basic.cancel,
// sent by the generator and awaited by nobody, failed with the channel).
TEST_F(Amqp, ClosingTheChannelRightAfterAConsumerReportsNothing) {
    net_run([]() -> Task<void> {
        auto conn = co_await amqp::Connection::connect(url());
        auto ch = co_await conn.channel();
        amqp::QueueOptions exclusive;
        exclusive.exclusive = true;
        std::string q = (co_await ch.queue_declare("", exclusive)).queue;
        co_await ch.basic_publish("one", "", q);
        amqp::ConsumeOptions no_ack;
        no_ack.no_ack = true;
        auto messages = ch.basic_consume(q, no_ack);
        auto m = co_await messages.next();
        CO_ASSERT_TRUE(m.has_value());
        co_await messages.aclose();  // sends basic.cancel
        co_await ch.close();         // before its cancel-ok
        co_await conn.close();
    }());
}

}  // namespace

namespace {

// Runs a command and returns its standard output (blocking: between loops).
std::string run(const std::string& cmd) {
    std::string out;
    if (FILE* p = ::popen(cmd.c_str(), "r")) {
        char buf[4096];
        while (std::size_t n = std::fread(buf, 1, sizeof buf, p)) {
            out.append(buf, n);
        }
        ::pclose(p);
    }
    return out;
}

bool has(const std::string& haystack, const std::string& needle) {
    return haystack.find(needle) != std::string::npos;
}

TEST_F(Amqp, InteroperatesWithAioamqpBothWaysPropertiesAndHeadersIntact) {
    const std::string to_py = fresh("to-py"), to_corio = fresh("to-corio");
    net_run([](std::string to_py, std::string to_corio) -> Task<void> {
        auto conn = co_await amqp::Connection::connect(url());
        auto ch = co_await conn.channel();
        co_await ch.queue_declare(to_py);
        co_await ch.queue_declare(to_corio);
        co_await ch.confirm_select();
        for (int i = 0; i < 3; ++i) {
            amqp::Properties p;
            p.content_type = "application/json";
            p.delivery_mode = 2;
            p.correlation_id = "cx-" + std::to_string(i);
            p.reply_to = "corio-replies";
            p.message_id = "corio-msg-" + std::to_string(i);
            p.expiration = "600000";
            p.headers = amqp::FieldTable{
                {"lang", amqp::FieldValue("c++")},
                {"n", amqp::FieldValue(i)},
                {"big", amqp::FieldValue(std::int64_t{1} << 40)},
                {"flag", amqp::FieldValue(true)},
                {"ratio", amqp::FieldValue(0.25)},
                {"nested", amqp::FieldValue(amqp::FieldTable{{"k", amqp::FieldValue("v")}})},
                {"list",
                 amqp::FieldValue(amqp::FieldArray{amqp::FieldValue(1), amqp::FieldValue("two")})}};
            co_await ch.basic_publish("{\"i\": " + std::to_string(i) + "}", "", to_py, p);
        }
        co_await conn.close();
    }(to_py, to_corio));

    const std::string out =
        run("/usr/bin/python3 " CORIO_AMQP_PEER " " + std::to_string(server->port()) + " " +
            corio_test::kRabbitUser + " " + corio_test::kRabbitPassword + " " + to_py + " " +
            to_corio + " 3 2>&1");
    // What aioamqp read from corio.
    EXPECT_TRUE(has(out, "\"body\": \"{\\\"i\\\": 2}\"")) << out;
    EXPECT_TRUE(has(out, "\"content_type\": \"application/json\"")) << out;
    EXPECT_TRUE(has(out, "\"delivery_mode\": 2")) << out;
    EXPECT_TRUE(has(out, "\"correlation_id\": \"cx-1\"")) << out;
    EXPECT_TRUE(has(out, "\"reply_to\": \"corio-replies\"")) << out;
    EXPECT_TRUE(has(out, "\"message_id\": \"corio-msg-0\"")) << out;
    EXPECT_TRUE(has(out, "\"expiration\": \"600000\"")) << out;
    EXPECT_TRUE(has(out,
                    "\"lang\": \"c++\", \"n\": 1, \"big\": 1099511627776, \"flag\": true, "
                    "\"ratio\": 0.25, \"nested\": {\"k\": \"v\"}, \"list\": [1, \"two\"]"))
        << out;

    // What corio reads from aioamqp.
    net_run([](std::string to_corio) -> Task<void> {
        auto conn = co_await amqp::Connection::connect(url());
        auto ch = co_await conn.channel();
        for (int i = 0; i < 3; ++i) {
            auto m = co_await ch.basic_get(to_corio);
            CO_ASSERT_TRUE(m.has_value());
            EXPECT_EQ(m->body, "from python " + std::to_string(i));
            EXPECT_EQ(m->properties.content_type, "text/plain");
            EXPECT_EQ(m->properties.delivery_mode, 2);
            EXPECT_EQ(m->properties.correlation_id, "py-" + std::to_string(i));
            EXPECT_EQ(m->properties.reply_to, "py-replies");
            EXPECT_EQ(m->properties.message_id, "py-msg-" + std::to_string(i));
            CO_ASSERT_TRUE(m->properties.headers.has_value());
            const amqp::FieldTable& h = *m->properties.headers;
            EXPECT_EQ(h.repr(), "{flag: true, lang: 'python', list: [1, 'two'], n: " +
                                    std::to_string(i) + ", nested: {k: 'v'}, pi: 3.5}");
            EXPECT_EQ(h.find("lang")->as_string(), "python");
            EXPECT_EQ(h.find("n")->as_integer(), i);
            EXPECT_EQ(h.find("flag")->as<bool>(), true);
            EXPECT_EQ(h.find("pi")->as<float>(), 3.5f);  // pamqp sends a Python float as 'f'
            EXPECT_EQ(h.find("nested")->as<amqp::FieldTable>().find("k")->as_string(), "v");
            const auto& list = h.find("list")->as<amqp::FieldArray>();
            CO_ASSERT_EQ(list.size(), 2u);
            EXPECT_EQ(list[0].as_integer(), 1);
            EXPECT_EQ(list[1].as_string(), "two");
            ch.basic_ack(m->delivery_tag);
        }
        co_await conn.close();
    }(to_corio));
}

}  // namespace
