// tests/amqp/recovery_test.cpp - reconnection and topology recovery
// (ConnectionOptions::reconnect) against the real RabbitMQ (the binary's
// one server, tests/amqp/rabbit.hpp), killed (SIGKILL) and restarted on the
// same port while a Connection is open: consumers resume on the same
// generator, the topology (an exchange, a server-named exclusive
// auto-delete queue, a binding, qos, confirm mode) is declared again, acks
// of the old connection's delivery tags are dropped, publishes in flight at
// the break fail and none is reported confirmed, every confirmed publish
// is delivered, and close() during the backoff stops reconnecting.
#include <gtest/gtest.h>

#include <deque>
#include <set>
#include <string>
#include <vector>

#include "amqp/rabbit.hpp"
#include "corio/amqp.hpp"
#include "corio/corio.hpp"
#include "corio/threads.hpp"
#include "net/net_fixture.hpp"

namespace amqp = corio::amqp;
using corio::Task;
using corio_amqp_test::rabbit;
using corio_test::net_run;
using namespace std::chrono_literals;

namespace {

// Robust options: quick retries (the restart takes seconds), events on
// disconnect and reconnect.
amqp::ConnectionOptions robust(corio::Event& down, corio::Event& up) {
    amqp::ConnectionOptions o = amqp::parse_url(rabbit().url());
    amqp::ReconnectOptions r;
    r.initial_delay = 20ms;
    r.max_delay = 300ms;
    r.on_disconnect = [&down](std::exception_ptr) { down.set(); };
    r.on_reconnect = [&up](std::uint64_t) { up.set(); };
    o.reconnect = r;
    return o;
}

// Kills the server, waits until `conn` noticed, restarts it.
Task<void> bounce(corio::Event& down) {
    co_await corio::to_thread([] { rabbit().kill(); });
    co_await corio::wait_for(down.wait(), 30s);
    co_await corio::to_thread([] { rabbit().start(); });
}

TEST(AmqpRecovery, ConsumersResumeAndTopologyComesBack) {
    net_run([&]() -> Task<void> {
        corio::Event down, up;
        amqp::ConnectionOptions o = robust(down, up);
        auto conn = co_await amqp::Connection::connect(o);
        auto ch = co_await conn.channel();
        co_await ch.exchange_declare("corio-rec-x", "direct");
        amqp::QueueOptions temp;
        temp.exclusive = true;
        temp.auto_delete = true;
        auto q = (co_await ch.queue_declare("", temp)).queue;  // server-named
        co_await ch.queue_bind(q, "corio-rec-x", "k");
        co_await ch.basic_qos(10);
        co_await ch.confirm_select();
        co_await ch.queue_declare("corio-rec-late");
        auto messages = ch.basic_consume(q);
        co_await ch.basic_publish("before", "corio-rec-x", "k");
        auto m1 = co_await corio::wait_for(messages.next(), 30s);
        CO_ASSERT_TRUE(m1.has_value());
        EXPECT_EQ(m1->body, "before");  // not acked

        co_await corio::to_thread([] { rabbit().kill(); });
        co_await corio::wait_for(down.wait(), 30s);
        EXPECT_TRUE(conn.is_reconnecting());
        // A consumer started while reconnecting: its basic.consume waits for
        // the recovery and is sent once (the recovery does not send it too:
        // a reused consumer tag would close the channel).
        auto late = ch.basic_consume("corio-rec-late");
        auto first_late =
            [](corio::AsyncGenerator<amqp::Message>& g) -> Task<std::optional<amqp::Message>> {
            co_return co_await g.next();
        };
        auto late_next = corio::create_task(first_late(late));
        co_await corio::to_thread([] { rabbit().start(); });
        co_await corio::wait_for(up.wait(), 60s);
        EXPECT_TRUE(conn.is_open());
        EXPECT_EQ(conn.reconnects(), 1u);
        EXPECT_TRUE(ch.is_open());

        // The old connection's tag: dropped (sent, the server would close
        // the channel: 406 unknown delivery tag).
        ch.basic_ack(m1->delivery_tag);
        // The exclusive queue is back (under a new name the library
        // substitutes), bound, and the same generator yields from it.
        auto ok = co_await ch.queue_declare(q, [] {
            amqp::QueueOptions p;
            p.passive = true;
            return p;
        }());
        EXPECT_NE(ok.queue, q) << "a server-named queue comes back with a new name";
        EXPECT_EQ(ok.consumer_count, 1u) << "the consumer was restarted";
        co_await ch.basic_publish("late", "", "corio-rec-late");
        auto ml = co_await late_next;
        CO_ASSERT_TRUE(ml.has_value());
        EXPECT_EQ(ml->body, "late");
        ch.basic_ack(ml->delivery_tag);
        co_await late.aclose();
        co_await ch.queue_delete("corio-rec-late");
        co_await ch.basic_publish("after", "corio-rec-x", "k");  // confirmed: routed
        auto m2 = co_await corio::wait_for(messages.next(), 30s);
        CO_ASSERT_TRUE(m2.has_value());
        EXPECT_EQ(m2->body, "after");
        EXPECT_GT(m2->delivery_tag, m1->delivery_tag) << "tags keep growing across reconnects";
        ch.basic_ack(m2->delivery_tag);
        co_await ch.basic_publish("by-queue-name", "", q);  // the old name still routes
        auto m3 = co_await corio::wait_for(messages.next(), 30s);
        CO_ASSERT_TRUE(m3.has_value());
        EXPECT_EQ(m3->body, "by-queue-name");
        ch.basic_ack(m3->delivery_tag);
        co_await messages.aclose();
        co_await ch.exchange_delete("corio-rec-x");
        EXPECT_TRUE(ch.is_open());
        co_await conn.close();
        EXPECT_FALSE(conn.is_open());
    }());
}

// What the publisher saw: each publish either confirmed or failed, never both.
struct Outcomes {
    int published = 0;
    int refused = 0;  // basic_publish threw at once (reconnecting)
    std::vector<int> confirmed;
    std::vector<int> failed;
    std::vector<std::string> other;
    std::string error;
};

Task<void> settle(int i, corio::Future<void> f, Outcomes& o) {
    try {
        co_await f;
        o.confirmed.push_back(i);
    } catch (const amqp::ConnectionError& e) {
        o.failed.push_back(i);
        if (o.error.empty()) {
            o.error = e.what();
        }
    } catch (const std::exception& e) {
        o.other.push_back(e.what());
    }
}

TEST(AmqpRecovery, NoConfirmedPublishIsLostAcrossAReconnect) {
    const std::string q = "corio-rec-confirms";
    Outcomes o;
    std::set<std::string> delivered;
    net_run([&]() -> Task<void> {
        corio::Event down, up;
        amqp::ConnectionOptions opts = robust(down, up);
        auto conn = co_await amqp::Connection::connect(opts);
        auto ch = co_await conn.channel();
        amqp::QueueOptions durable;
        durable.durable = true;
        co_await ch.queue_declare(q, durable);
        co_await ch.confirm_select();
        amqp::Properties persistent;
        persistent.delivery_mode = 2;
        corio::Event busy;
        bool stop = false;
        auto stop_requested = [&stop] { return stop; };  // set by the other task
        auto publish = [&]() -> Task<void> {
            std::deque<std::pair<int, corio::Future<void>>> inflight;
            for (int i = 0; !stop_requested(); ++i) {
                bool refused = false;
                try {
                    inflight.emplace_back(i,
                                          ch.basic_publish(std::to_string(i), "", q, persistent));
                    ++o.published;
                } catch (const amqp::ConnectionError&) {
                    refused = true;
                }
                if (refused) {
                    ++o.refused;
                    co_await conn.wait_open();  // then go on publishing on the same channel
                    continue;
                }
                if (inflight.size() >= 50) {
                    co_await settle(inflight.front().first, std::move(inflight.front().second), o);
                    inflight.pop_front();
                }
                if (o.confirmed.size() >= 300) {
                    busy.set();
                }
            }
            for (auto& [i, f] : inflight) {
                co_await settle(i, std::move(f), o);
            }
        };
        auto publisher = corio::create_task(publish());
        co_await corio::wait_for(busy.wait(), 60s);
        co_await bounce(down);
        co_await corio::wait_for(up.wait(), 60s);
        std::size_t at_recovery = o.confirmed.size();
        for (int i = 0; i < 6000 && o.confirmed.size() < at_recovery + 300; ++i) {
            co_await corio::sleep(10ms);
        }
        EXPECT_GE(o.confirmed.size(), at_recovery + 300) << "publishing goes on after recovery";
        stop = true;
        co_await publisher;
        // Drain with the same channel: confirm mode and the queue are back.
        while (auto m = co_await ch.basic_get(q)) {
            delivered.insert(m->body);
            ch.basic_ack(m->delivery_tag);
        }
        co_await ch.queue_delete(q);
        co_await conn.close();
    }());

    EXPECT_TRUE(o.other.empty()) << o.other.front();
    EXPECT_EQ(o.confirmed.size() + o.failed.size(), static_cast<std::size_t>(o.published));
    EXPECT_FALSE(o.failed.empty() && o.refused == 0) << "the break was seen by the publisher";
    if (!o.failed.empty()) {
        EXPECT_NE(o.error.find("lost before the server confirmed"), std::string::npos) << o.error;
    }
    std::set<int> confirmed(o.confirmed.begin(), o.confirmed.end());
    for (int i : o.failed) {
        EXPECT_EQ(confirmed.count(i), 0u) << i << " both failed and confirmed";
    }
    int lost = 0;
    for (int i : o.confirmed) {
        if (!delivered.count(std::to_string(i))) {
            ++lost;
        }
    }
    std::printf(
        "%d published (%d refused while reconnecting): %zu confirmed, %zu failed; %zu "
        "in the queue\n",
        o.published, o.refused, o.confirmed.size(), o.failed.size(), delivered.size());
    EXPECT_EQ(lost, 0) << "confirmed but not in the queue, of " << o.confirmed.size();
}

TEST(AmqpRecovery, CloseDuringBackoffStopsReconnecting) {
    net_run([&]() -> Task<void> {
        corio::Event down, up;
        amqp::ConnectionOptions opts = robust(down, up);
        opts.reconnect->initial_delay = 200ms;
        opts.reconnect->max_delay = 200ms;
        auto conn = co_await amqp::Connection::connect(opts);
        auto ch = co_await conn.channel();
        co_await corio::to_thread([] { rabbit().kill(); });
        co_await corio::wait_for(down.wait(), 30s);
        EXPECT_TRUE(conn.is_reconnecting());
        EXPECT_FALSE(conn.is_open());
        // A call made while reconnecting waits for the recovery...
        auto waiting = corio::create_task(ch.queue_declare("corio-rec-never"));
        co_await corio::sleep(50ms);
        EXPECT_FALSE(waiting.done());
        EXPECT_THROW(ch.basic_publish("x", "", "q"), amqp::ConnectionError);
        co_await conn.close();  // ...and fails when close() stops it
        EXPECT_FALSE(conn.is_reconnecting());
        EXPECT_FALSE(conn.is_open());
        EXPECT_TRUE(conn.closed().done());
        bool failed = false;
        try {
            co_await waiting;
        } catch (const amqp::ConnectionError&) {
            failed = true;
        }
        EXPECT_TRUE(failed);
        co_await corio::to_thread([] { rabbit().start(); });
        co_await corio::sleep(700ms);  // several backoffs' worth: nothing reconnects
        EXPECT_FALSE(up.is_set());
        EXPECT_EQ(conn.reconnects(), 0u);
        EXPECT_FALSE(conn.is_open());
    }());
}

}  // namespace
