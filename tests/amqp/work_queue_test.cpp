// tests/amqp/work_queue_test.cpp - corio::redis's WorkQueue on RabbitMQ
// (corio::amqp::enable_work_queue): put / get / ack, persistent items on a
// durable quorum queue, redelivery of a dead consumer's unacked items to
// another consumer with the delivery counted, dead letters after
// max_deliveries, get() timing out.
#include "corio/amqp/work_queue.hpp"

#include <gtest/gtest.h>

#include "amqp/rabbit.hpp"
#include "corio/amqp.hpp"
#include "corio/corio.hpp"
#include "corio/redis/work_queue.hpp"
#include "net/net_fixture.hpp"

using corio::Task;
using corio::redis::WorkQueue;
using corio_test::net_run;
using namespace std::chrono_literals;

namespace {

int queue_number = 0;

std::string wq_url() {
    return std::string("amqp://") + corio_test::kRabbitUser + ":" + corio_test::kRabbitPassword +
           "@127.0.0.1:" + std::to_string(corio_amqp_test::rabbit().port());
}

TEST(AmqpWorkQueue, PutGetAckAndTimeout) {
    corio::amqp::enable_work_queue();
    std::string name = "wq-basic-" + std::to_string(++queue_number);
    net_run([](std::string url, std::string name) -> Task<void> {
        auto q = co_await WorkQueue::open(url, name);
        for (const char* b : {"a", "b", "c"}) {
            co_await q.put(b);
        }
        EXPECT_EQ(co_await q.size(), 3);
        std::string got;
        for (int i = 0; i < 3; ++i) {
            auto item = co_await q.get(5s);
            CO_ASSERT_TRUE(item.has_value());
            EXPECT_EQ(item->deliveries, 1);
            got += item->body;
            co_await q.ack(*item);
        }
        EXPECT_EQ(got, "abc");
        EXPECT_FALSE(co_await q.get(200ms));  // empty: times out
        EXPECT_EQ(co_await q.size(), 0);
        q.close();
        EXPECT_FALSE(co_await q.get());
    }(wq_url(), name));
}

TEST(AmqpWorkQueue, ADeadConsumersItemIsRedeliveredAndDeadLetteredAfterMaxDeliveries) {
    corio::amqp::enable_work_queue();
    std::string name = "wq-redeliver-" + std::to_string(++queue_number);
    net_run([](std::string url, std::string name) -> Task<void> {
        corio::redis::WorkQueueOptions o;
        o.max_deliveries = 3;
        auto producer = co_await WorkQueue::open(url, name, o);
        std::string id = co_await producer.put("job");
        {
            // A consumer takes it and dies without acking (its connection goes).
            auto dying = co_await WorkQueue::open(url, name, o);
            auto item = co_await dying.get(5s);
            CO_ASSERT_TRUE(item.has_value());
            EXPECT_EQ(item->id, id);
            EXPECT_EQ(item->deliveries, 1);
        }
        auto worker = co_await WorkQueue::open(url, name, o);
        auto again = co_await worker.get(5s);
        CO_ASSERT_TRUE(again.has_value());
        EXPECT_EQ(again->id, id);
        EXPECT_EQ(again->deliveries, 2);
        co_await worker.nack(*again);  // the third delivery is the last
        auto third = co_await worker.get(5s);
        CO_ASSERT_TRUE(third.has_value());
        EXPECT_EQ(third->deliveries, 3);
        co_await worker.nack(*third);
        EXPECT_FALSE(co_await worker.get(300ms));
        auto dead = co_await producer.dead_letters();
        CO_ASSERT_EQ(dead.size(), 1u);
        EXPECT_EQ(dead[0].id, id);
        EXPECT_EQ(dead[0].body, "job");
    }(wq_url(), name));
}

}  // namespace
