// WorkQueue on both backends (in-process and Redis Streams): FIFO delivery,
// acks, redelivery after the visibility timeout (also to another consumer:
// the first one "died"), nack, dead letters, close, many consumers; on
// Redis, the server killed under load and a consumer process killed
// mid-message.
#include "corio/redis/work_queue.hpp"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "corio/corio.hpp"
#include "corio/redis/client.hpp"
#include "corio/redis/errors.hpp"
#include "net/net_fixture.hpp"
#include "support/server_fixture.hpp"

namespace redis = corio::redis;
using corio::Task;
using corio_test::net_run;
using namespace std::chrono_literals;

namespace {

corio_test::RedisServer* server = nullptr;
int queue_number = 0;

class WorkQueues : public ::testing::TestWithParam<const char*> {
protected:
    static void SetUpTestSuite() { server = new corio_test::RedisServer(); }
    static void TearDownTestSuite() {
        delete server;
        server = nullptr;
    }
    static std::string url() {
        return std::string(GetParam()) == "redis"
                   ? "redis://127.0.0.1:" + std::to_string(server->port())
                   : "memory://";
    }
    // A fresh queue name per test.
    static std::string fresh() { return "jobs" + std::to_string(++queue_number); }
};

}  // namespace

TEST_P(WorkQueues, DeliversInOrderAndAckedItemsAreGone) {
    net_run([]() -> Task<void> {
        auto q = co_await redis::WorkQueue::open(url(), fresh());
        std::vector<std::string> ids;
        for (const char* body : {"a", "b", "c"}) {
            ids.push_back(co_await q.put(body));
        }
        EXPECT_EQ(co_await q.size(), 3);
        for (int i = 0; i < 3; ++i) {
            auto item = co_await q.get(1s);
            CO_ASSERT_TRUE(item.has_value());
            EXPECT_EQ(item->id, ids[i]);
            EXPECT_EQ(item->body, std::string(1, static_cast<char>('a' + i)));
            EXPECT_EQ(item->deliveries, 1);
            co_await q.ack(*item);
        }
        EXPECT_EQ(co_await q.size(), 0);
        auto start = corio::get_running_loop().time();
        EXPECT_EQ(co_await q.get(50ms), std::nullopt);
        EXPECT_GE(corio_test::ms_since(start), 40);
        q.close();
    }());
}

TEST_P(WorkQueues, AnItemWhoseConsumerDiedIsRedeliveredToAnother) {
    net_run([]() -> Task<void> {
        std::string name = fresh();
        redis::WorkQueueOptions o{.visibility_timeout = 100ms};
        o.consumer = "dies";
        std::string id;
        {
            auto dying = co_await redis::WorkQueue::open(url(), name, o);
            id = co_await dying.put("work");
            auto item = co_await dying.get(1s);
            CO_ASSERT_TRUE(item.has_value());
            // ... and the consumer is gone without acking.
        }
        o.consumer = "survives";
        auto other = co_await redis::WorkQueue::open(url(), name, o);
        auto start = corio::get_running_loop().time();
        auto again = co_await other.get(5s);
        CO_ASSERT_TRUE(again.has_value());
        EXPECT_GE(corio_test::ms_since(start), 50);  // not before the visibility timeout
        EXPECT_EQ(again->id, id);
        EXPECT_EQ(again->body, "work");
        EXPECT_EQ(again->deliveries, 2);
        co_await other.ack(*again);
        EXPECT_EQ(co_await other.get(150ms), std::nullopt);  // acked: never again
        other.close();
    }());
}

TEST_P(WorkQueues, NackRedeliversAtOnce) {
    net_run([]() -> Task<void> {
        auto q = co_await redis::WorkQueue::open(url(), fresh(), {.visibility_timeout = 60s});
        co_await q.put("retry me");
        auto first = co_await q.get(1s);
        CO_ASSERT_TRUE(first.has_value());
        co_await q.nack(*first);
        auto second = co_await q.get(1s);  // long before 60 s
        CO_ASSERT_TRUE(second.has_value());
        EXPECT_EQ(second->id, first->id);
        EXPECT_EQ(second->deliveries, 2);
        co_await q.ack(*second);
        q.close();
    }());
}

TEST_P(WorkQueues, AfterMaxDeliveriesAnItemGoesToTheDeadLetters) {
    net_run([]() -> Task<void> {
        auto q = co_await redis::WorkQueue::open(url(), fresh(),
                                                 {.visibility_timeout = 10s, .max_deliveries = 2});
        std::string id = co_await q.put("poison");
        for (int i = 1; i <= 2; ++i) {
            auto item = co_await q.get(1s);
            CO_ASSERT_TRUE(item.has_value());
            EXPECT_EQ(item->deliveries, i);
            co_await q.nack(*item);  // processing failed
        }
        EXPECT_EQ(co_await q.get(100ms), std::nullopt);
        auto dead = co_await q.dead_letters();
        CO_ASSERT_EQ(dead.size(), 1u);
        EXPECT_EQ(dead[0].id, id);
        EXPECT_EQ(dead[0].body, "poison");
        EXPECT_EQ(dead[0].deliveries, 2);
        EXPECT_EQ(co_await q.size(), 0);
        q.close();
    }());
}

TEST_P(WorkQueues, CloseEndsAWaitingGet) {
    net_run([]() -> Task<void> {
        auto q = co_await redis::WorkQueue::open(url(), fresh());
        auto waiting = corio::create_task(q.get());
        co_await corio::sleep(20ms);
        EXPECT_FALSE(waiting.done());
        q.close();
        EXPECT_EQ(co_await waiting, std::nullopt);
        EXPECT_EQ(co_await q.get(), std::nullopt);
    }());
}

TEST_P(WorkQueues, ManyConsumersProcessEveryItemOnce) {
    net_run([]() -> Task<void> {
        std::string name = fresh();
        auto producer = co_await redis::WorkQueue::open(url(), name);
        std::map<std::string, int> seen;
        auto consumer = [](std::string url, std::string name, std::string me,
                           std::map<std::string, int>& seen) -> Task<void> {
            redis::WorkQueueOptions o;
            o.consumer = me;
            auto q = co_await redis::WorkQueue::open(url, name, o);
            while (auto item = co_await q.get(300ms)) {
                ++seen[item->body];
                co_await q.ack(*item);
            }
            q.close();
        };
        std::vector<corio::TaskHandle<void>> consumers;
        for (int c = 0; c < 3; ++c) {
            consumers.push_back(
                corio::create_task(consumer(url(), name, "c" + std::to_string(c), seen)));
        }
        for (int i = 0; i < 100; ++i) {
            co_await producer.put("item-" + std::to_string(i));
        }
        for (auto& c : consumers) {
            co_await c;
        }
        EXPECT_EQ(seen.size(), 100u);
        for (const auto& [body, n] : seen) {
            EXPECT_EQ(n, 1) << body;
        }
        EXPECT_EQ(co_await producer.size(), 0);
        producer.close();
    }());
}

INSTANTIATE_TEST_SUITE_P(Backend, WorkQueues, ::testing::Values("memory", "redis"),
                         [](const auto& info) { return std::string(info.param); });

// The work queue's fault test: the server is SIGKILLed and restarted (with an
// append-only file fsynced on every write) while producers and consumers
// run. Every put the server acknowledged is processed at least once, and
// the clients reconnect by themselves.
TEST(WorkQueueFaults, ServerKilledAndRestartedWhileProducersAndConsumersRun) {
    corio_test::RedisServer server({"--appendonly", "yes", "--appendfsync", "always"});
    net_run([&]() -> Task<void> {
        const std::string url = "redis://127.0.0.1:" + std::to_string(server.port());
        struct State {
            std::set<std::string> acknowledged;  // puts the server confirmed
            std::set<std::string> processed;
            bool producing = true;
            int errors = 0;
        } st;
        auto producer = [](std::string url, State& st) -> Task<void> {
            auto q = co_await redis::WorkQueue::open(url, "faults");
            for (int i = 0; i < 300; ++i) {
                std::string body = "m" + std::to_string(i);
                for (;;) {
                    bool failed = false;
                    try {
                        co_await q.put(body);
                    } catch (const redis::ConnectionError&) {
                        failed = true;  // maybe stored, maybe not: send it again
                    }
                    if (!failed) {
                        break;
                    }
                    ++st.errors;
                }
                st.acknowledged.insert(body);
                if (i % 10 == 0) {
                    co_await corio::sleep(1ms);  // let consumers interleave
                }
            }
            st.producing = false;
            q.close();
        };
        auto consumer = [](std::string url, std::string me, State& st) -> Task<void> {
            redis::WorkQueueOptions o{.visibility_timeout = 300ms};
            o.consumer = me;
            auto q = co_await redis::WorkQueue::open(url, "faults", o);
            while (st.producing || st.processed.size() < st.acknowledged.size()) {
                bool failed = false;
                try {
                    if (auto item = co_await q.get(100ms)) {
                        st.processed.insert(item->body);
                        co_await q.ack(*item);
                    }
                } catch (const redis::ConnectionError&) {
                    failed = true;  // an unacked item comes back later
                }
                if (failed) {
                    ++st.errors;
                }
            }
            q.close();
        };
        auto p = corio::create_task(producer(url, st));
        auto c1 = corio::create_task(consumer(url, "c1", st));
        auto c2 = corio::create_task(consumer(url, "c2", st));
        while (st.processed.size() < 100) {
            co_await corio::sleep(1ms);
        }
        server.restart();  // SIGKILL mid-stream, then the same port again
        co_await p;
        co_await c1;
        co_await c2;
        EXPECT_EQ(st.acknowledged.size(), 300u);
        EXPECT_EQ(st.processed, st.acknowledged);  // nothing acknowledged was lost
        EXPECT_GT(st.errors, 0);                   // the kill was felt
    }());
}

// A consumer PROCESS dies mid-message (SIGKILL: no ack, no nack, no
// goodbye): the server keeps its item pending, and once the visibility
// timeout has passed the item is delivered to another consumer, in another
// process, with its delivery count up. The items nobody held go first.
TEST(WorkQueueFaults, ConsumerProcessKilledMidMessageIsRedeliveredToAnother) {
    corio_test::RedisServer server;
    const std::string url = "redis://127.0.0.1:" + std::to_string(server.port());
    std::vector<std::string> ids;
    net_run([&]() -> Task<void> {
        auto q = co_await redis::WorkQueue::open(url, "killed");
        for (const char* body : {"first", "second", "third"}) {
            ids.push_back(co_await q.put(body));
        }
        q.close();
    }());

    int to_parent[2];
    ASSERT_EQ(::pipe(to_parent), 0);
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        ::close(to_parent[0]);
        int status = 1;
        try {
            corio::run([](std::string url, int out) -> Task<void> {
                redis::WorkQueueOptions o{.visibility_timeout = 2s};
                o.consumer = "doomed";
                auto q = co_await redis::WorkQueue::open(url, "killed", o);
                auto item = co_await q.get(5s);
                std::string line = item ? item->id + "\n" : std::string("none\n");
                (void)!::write(out, line.data(), line.size());
                co_await corio::sleep(60s);  // "processing" until killed
            }(url, to_parent[1]));
        } catch (...) {
        }
        ::_exit(status);
    }
    ::close(to_parent[1]);
    std::string line;
    char ch = 0;
    while (::read(to_parent[0], &ch, 1) == 1 && ch != '\n') {
        line += ch;
    }
    ::close(to_parent[0]);
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status;
    ASSERT_EQ(line, ids[0]);  // the child held the first item when it died

    net_run([&]() -> Task<void> {
        auto c = co_await redis::Client::connect(url);
        // The server still counts it as the dead consumer's, delivered once.
        redis::Reply pending = co_await c.execute("XPENDING", "killed", "workers", "-", "+", 10);
        auto entries = std::move(pending).as_array();
        CO_ASSERT_EQ(entries.size(), 1u);
        auto entry = std::move(entries[0]).as_array();
        EXPECT_EQ(entry[0].to_string(), ids[0]);
        EXPECT_EQ(entry[1].to_string(), "doomed");
        EXPECT_EQ(entry[3].as_integer(), 1);

        redis::WorkQueueOptions o{.visibility_timeout = 2s};
        o.consumer = "survivor";
        auto q = co_await redis::WorkQueue::open(url, "killed", o);
        std::vector<redis::WorkItem> got;
        while (got.size() < 3) {
            auto item = co_await q.get(10s);
            CO_ASSERT_TRUE(item.has_value());
            got.push_back(*item);
            co_await q.ack(*item);
        }
        EXPECT_EQ(got[0].id, ids[1]);
        EXPECT_EQ(got[1].id, ids[2]);
        EXPECT_EQ(got[2].id, ids[0]);  // after the visibility timeout
        EXPECT_EQ(got[2].body, "first");
        EXPECT_EQ(got[2].deliveries, 2);
        EXPECT_EQ(co_await q.size(), 0);
        q.close();
    }());
}
