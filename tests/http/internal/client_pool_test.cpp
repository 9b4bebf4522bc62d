// ClientPool's connection limits without sockets, on virtual time: places
// (open connections) per key and in all, the FIFO of waiting requests,
// cancellation and timeouts while waiting. Connections themselves (reuse,
// idle ones closed to make room) are covered on loopback by
// client_limits_test.cpp.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "corio/corio.hpp"
#include "http/client_conn.hpp"
#include "support/loop_fixture.hpp"

using namespace std::chrono_literals;
using corio::Task;
using corio::TaskHandle;
using corio::http::detail::ClientPool;
using corio::http::detail::Place;
using corio_test::vrun;

namespace {

std::shared_ptr<ClientPool> make_pool(std::size_t limit, std::size_t per_host) {
    auto pool = std::make_shared<ClientPool>();
    pool->limit = limit;
    pool->limit_per_host = per_host;
    pool->max_idle_per_host = 16;
    pool->keepalive_timeout = 15s;
    return pool;
}

// Takes a place for `key` (waiting if needed) and logs `name` when it has one.
Task<Place> take_place(std::shared_ptr<ClientPool> pool, std::string key, std::string name,
                       std::vector<std::string>* log) {
    ClientPool::Lease l = co_await pool->acquire(key);
    EXPECT_TRUE(l.place);
    EXPECT_FALSE(l.conn);
    log->push_back(name);
    co_return std::move(l.place);
}

// Runs a few loop iterations (granted waiters resume).
Task<void> settle() {
    for (int i = 0; i < 4; ++i) {
        co_await corio::sleep(0s);
    }
}

}  // namespace

TEST(ClientPool, PerHostWaitersAreServedInArrivalOrder) {
    vrun([]() -> Task<void> {
        auto pool = make_pool(0, 2);
        std::vector<std::string> log;
        Place a = co_await take_place(pool, "http://a:80", "a", &log);
        Place b = co_await take_place(pool, "http://a:80", "b", &log);
        std::vector<TaskHandle<Place>> waiting;
        for (const char* name : {"w1", "w2", "w3"}) {
            waiting.push_back(corio::create_task(take_place(pool, "http://a:80", name, &log)));
        }
        co_await settle();
        EXPECT_EQ(log, (std::vector<std::string>{"a", "b"}));
        EXPECT_EQ(pool->open, 2u);
        EXPECT_EQ(pool->waiters.size(), 3u);
        b.reset();
        co_await settle();
        EXPECT_EQ(log.back(), "w1");
        a.reset();
        co_await settle();
        EXPECT_EQ(log, (std::vector<std::string>{"a", "b", "w1", "w2"}));
        EXPECT_EQ(pool->open, 2u);  // never above the limit
        Place w1 = co_await std::move(waiting[0]);
        w1.reset();
        Place w3 = co_await std::move(waiting[2]);
        EXPECT_EQ(log.back(), "w3");
        Place w2 = co_await std::move(waiting[1]);
        w2.reset();
        w3.reset();
        EXPECT_EQ(pool->open, 0u);
        EXPECT_TRUE(pool->open_per_host.empty());
    }());
}

TEST(ClientPool, TotalLimitAcrossHostsAndAFullHostHoldsUpNoOther) {
    vrun([]() -> Task<void> {
        auto pool = make_pool(3, 1);
        std::vector<std::string> log;
        Place a = co_await take_place(pool, "http://a:80", "a", &log);
        auto a2 = corio::create_task(take_place(pool, "http://a:80", "a2", &log));
        co_await settle();
        // a2 waits for its host; b and c, behind it in the queue, do not.
        Place b = co_await take_place(pool, "http://b:80", "b", &log);
        Place c = co_await take_place(pool, "http://c:80", "c", &log);
        EXPECT_EQ(pool->open, 3u);
        auto d = corio::create_task(take_place(pool, "http://d:80", "d", &log));
        co_await settle();
        EXPECT_EQ(log, (std::vector<std::string>{"a", "b", "c"}));
        // A place freed by b: a2 is first in the queue but its host is
        // still full, so d (another host) takes it.
        b.reset();
        co_await settle();
        EXPECT_EQ(log.back(), "d");
        EXPECT_FALSE(a2.done());
        a.reset();  // a's host has room again, and a place is free
        Place got = co_await std::move(a2);
        EXPECT_EQ(log.back(), "a2");
        EXPECT_EQ(pool->open, 3u);
        Place dp = co_await std::move(d);
    }());
}

TEST(ClientPool, ACancelledWaiterTakesNoPlace) {
    vrun([]() -> Task<void> {
        auto pool = make_pool(1, 0);
        std::vector<std::string> log;
        Place held = co_await take_place(pool, "http://a:80", "held", &log);
        auto first = corio::create_task(take_place(pool, "http://a:80", "first", &log));
        auto second = corio::create_task(take_place(pool, "http://b:80", "second", &log));
        co_await settle();
        first.cancel();
        co_await settle();
        EXPECT_TRUE(first.cancelled());
        EXPECT_EQ(pool->waiters.size(), 1u);
        held.reset();
        Place p = co_await std::move(second);  // the next waiter proceeds
        EXPECT_EQ(log, (std::vector<std::string>{"held", "second"}));
        EXPECT_EQ(pool->open, 1u);
    }());
}

TEST(ClientPool, APlaceGrantedToAWaiterCancelledBeforeItRanGoesToTheNext) {
    vrun([]() -> Task<void> {
        auto pool = make_pool(1, 0);
        std::vector<std::string> log;
        Place held = co_await take_place(pool, "http://a:80", "held", &log);
        auto first = corio::create_task(take_place(pool, "http://a:80", "first", &log));
        auto second = corio::create_task(take_place(pool, "http://a:80", "second", &log));
        co_await settle();
        held.reset();    // granted to `first`, which has not run yet
        first.cancel();  // ... and is cancelled before it does
        Place p = co_await std::move(second);
        EXPECT_TRUE(first.cancelled());
        EXPECT_EQ(log, (std::vector<std::string>{"held", "second"}));
        EXPECT_EQ(pool->open, 1u);
        EXPECT_TRUE(pool->waiters.empty());
    }());
}

TEST(ClientPool, WaitingIsBoundedByWaitForOnVirtualTime) {
    vrun([]() -> Task<void> {
        auto pool = make_pool(0, 1);
        std::vector<std::string> log;
        Place held = co_await take_place(pool, "http://a:80", "held", &log);
        const corio::TimePoint start = corio::get_running_loop().time();
        EXPECT_THROW(co_await corio::wait_for(pool->acquire("http://a:80"), 30s),
                     corio::TimeoutError);
        EXPECT_EQ(corio_test::ms_since(start), 30000);
        EXPECT_TRUE(pool->waiters.empty());
        EXPECT_EQ(pool->open, 1u);
        held.reset();
        Place again = co_await take_place(pool, "http://a:80", "again", &log);
        EXPECT_EQ(pool->open, 1u);
    }());
}

TEST(ClientPool, ShutFailsTheWaitersWithRuntimeError) {
    vrun([]() -> Task<void> {
        auto pool = make_pool(1, 0);
        std::vector<std::string> log;
        Place held = co_await take_place(pool, "http://a:80", "held", &log);
        auto waiting = corio::create_task(take_place(pool, "http://a:80", "w", &log));
        co_await settle();
        EXPECT_TRUE(pool->shut().empty());
        EXPECT_THROW(co_await std::move(waiting), corio::RuntimeError);
        EXPECT_THROW(co_await pool->acquire("http://a:80"), corio::RuntimeError);
        held.reset();
        EXPECT_EQ(pool->open, 0u);
    }());
}

TEST(ClientPool, APlaceOutlivingItsPoolIsHarmless) {
    vrun([]() -> Task<void> {
        auto pool = make_pool(1, 0);
        std::vector<std::string> log;
        Place held = co_await take_place(pool, "http://a:80", "held", &log);
        pool.reset();  // the session went away first
        held.reset();
        EXPECT_FALSE(held);
    }());
}
