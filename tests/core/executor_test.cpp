#include "corio/executor.hpp"

#include <gtest/gtest.h>
#include <pthread.h>

#include <atomic>
#include <future>
#include <latch>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using corio::ConcurrentFuture;
using corio::ThreadPoolExecutor;

TEST(ThreadPoolExecutor, SubmitReturnsTheResultAndKeepsTheExceptionType) {
    ThreadPoolExecutor pool(2);
    auto f = pool.submit([](int a, int b) { return a * b; }, 6, 7);
    EXPECT_EQ(f.result(), 42);
    auto g = pool.submit([] {
        throw std::out_of_range("index");
        return 0;
    });
    EXPECT_THROW(g.result(), std::out_of_range);
    EXPECT_TRUE(g.done());
    EXPECT_NE(g.exception(), nullptr);
    auto v = pool.submit([] {});
    v.result();
    EXPECT_EQ(v.exception(), nullptr);
}

TEST(ThreadPoolExecutor, ResultWithATimeoutThrowsTimeoutError) {
    std::latch go(1);
    ThreadPoolExecutor pool(1);
    auto f = pool.submit([&] {
        go.wait();
        return 1;
    });
    EXPECT_THROW(f.result(1ms), corio::TimeoutError);
    go.count_down();
    EXPECT_EQ(f.result(), 1);
}

namespace {

// A call that counts `started` down, then holds its worker until `gate` opens.
ConcurrentFuture<void> occupy_a_worker(ThreadPoolExecutor& pool, std::latch& started,
                                       std::latch& gate) {
    return pool.submit([&started, &gate] {
        started.count_down();
        gate.wait();
    });
}

}  // namespace

TEST(ThreadPoolExecutor, QueuedWorkCanBeCancelledRunningWorkCannot) {
    ThreadPoolExecutor pool(1);
    std::latch started(1);
    std::latch go(1);
    auto busy = occupy_a_worker(pool, started, go);
    std::atomic<bool> ran{false};
    auto queued = pool.submit([&] { ran = true; });
    started.wait();
    EXPECT_TRUE(busy.running());
    EXPECT_FALSE(busy.cancel());
    EXPECT_TRUE(queued.cancel());
    EXPECT_TRUE(queued.cancelled());
    EXPECT_THROW(queued.result(), corio::CancelledError);
    go.count_down();
    busy.result();
    pool.shutdown(true);
    EXPECT_FALSE(ran);
}

TEST(ThreadPoolExecutor, MapKeepsOrderAndRaisesAtTheFailingItem) {
    ThreadPoolExecutor pool(3);
    std::vector<int> xs{1, 2, 3, 4, 5};
    auto squares = pool.map([](int x) { return x * x; }, xs).all();
    EXPECT_EQ(squares, (std::vector<int>{1, 4, 9, 16, 25}));
    auto results = pool.map(
        [](int x) {
            if (x == 3) {
                throw std::domain_error("three");
            }
            return x;
        },
        xs);
    EXPECT_EQ(results.next(), 1);
    EXPECT_EQ(results.next(), 2);
    EXPECT_THROW(results.next(), std::domain_error);
    EXPECT_FALSE(results.next());  // finished, as a Python generator that raised
    auto nones = pool.map([&](int x) { return void(x); }, xs).all();  // void calls
    EXPECT_EQ(nones.size(), xs.size());
}

// Python's map iterator cancels the calls not started yet when reading
// stops: on a failed (here timed-out) result, and when it is dropped.
TEST(ThreadPoolExecutor, MapCancelsTheRestWhenReadingStops) {
    ThreadPoolExecutor pool(1);
    std::latch started(1);
    std::latch gate(1);
    auto busy = occupy_a_worker(pool, started, gate);
    started.wait();  // the only worker is busy: map's calls queue up
    std::atomic<int> ran{0};
    std::vector<int> items{1, 2, 3};
    auto timed_out = pool.map([&](int) { ++ran; }, items, 0ms);
    EXPECT_THROW(timed_out.next(), corio::TimeoutError);
    EXPECT_FALSE(timed_out.next());  // reading has stopped
    {
        auto dropped = pool.map([&](int) { ++ran; }, items);
    }
    gate.count_down();
    busy.result();
    pool.shutdown(true);
    EXPECT_EQ(ran.load(), 0);
}

TEST(ThreadPoolExecutor, MapTimeoutCoversTheWholeCall) {
    std::latch go(1);  // outlives the pool, whose destructor waits for the calls
    ThreadPoolExecutor pool(1);
    std::vector<int> xs{1, 2};
    auto results = pool.map(
        [&](int x) {
            go.wait();
            return x;
        },
        xs, 1ms);
    EXPECT_THROW(results.next(), corio::TimeoutError);
    go.count_down();
}

TEST(ThreadPoolExecutor, ShutdownRefusesNewWorkAndCanDropQueuedWork) {
    auto pool = std::make_unique<ThreadPoolExecutor>(1);
    std::latch started(1);
    std::latch go(1);
    auto busy = pool->submit([&] {
        started.count_down();
        go.wait();
        return 1;
    });
    auto queued = pool->submit([] { return 2; });
    started.wait();
    // Release `busy` only once shutdown() has started: `queued` must still be
    // pending then (this used to race under TSan's slower scheduling).
    std::thread releaser([&] {
        while (!pool->is_shutdown()) {
            std::this_thread::yield();
        }
        go.count_down();
    });
    pool->shutdown(true, true);
    releaser.join();
    EXPECT_TRUE(pool->is_shutdown());
    EXPECT_EQ(busy.result(), 1);
    EXPECT_TRUE(queued.cancelled());
    EXPECT_THROW(pool->submit([] {}), corio::RuntimeError);
    pool.reset();  // idempotent shutdown in the destructor
}

TEST(ThreadPoolExecutor, DestructorWaitsForQueuedWork) {
    std::atomic<int> done{0};
    {
        ThreadPoolExecutor pool(2);
        for (int i = 0; i < 100; ++i) {
            pool.submit([&] { ++done; });
        }
    }
    EXPECT_EQ(done, 100);
}

TEST(ThreadPoolExecutor, NeverRunsMoreThanMaxWorkersAtOnce) {
    ThreadPoolExecutor pool(3);
    std::atomic<int> inside{0};
    std::atomic<int> peak{0};
    std::vector<ConcurrentFuture<void>> fs;
    for (int i = 0; i < 50; ++i) {
        fs.push_back(pool.submit([&] {
            int now = ++inside;
            int p = peak;
            while (now > p && !peak.compare_exchange_weak(p, now)) {
            }
            std::this_thread::yield();
            --inside;
        }));
    }
    for (auto& f : fs) {
        f.result();
    }
    EXPECT_LE(peak, 3);
    EXPECT_EQ(pool.max_workers(), 3u);
}

// As in Python's pool, where each free worker takes the next item: a queued
// call never waits behind a long one while another worker is idle (here j0
// waits for j1, which would deadlock if j1 sat in j0's worker's batch).
TEST(ThreadPoolExecutor, AQueuedCallDoesNotWaitBehindALongOneWhileAWorkerIsIdle) {
    ThreadPoolExecutor pool(2);
    std::latch gate(1);
    std::latch started(2);
    auto b1 = occupy_a_worker(pool, started, gate);
    auto b2 = occupy_a_worker(pool, started, gate);
    started.wait();  // both workers busy: the next four calls queue up
    std::promise<void> j1_ran;
    std::future<void> j1_done = j1_ran.get_future();
    auto j0 = pool.submit([&] {
        return j1_done.wait_for(10s) == std::future_status::ready;  // a bound, not a pace
    });
    auto j1 = pool.submit([&] { j1_ran.set_value(); });
    auto j2 = pool.submit([] {});
    auto j3 = pool.submit([] {});
    gate.count_down();
    EXPECT_TRUE(j0.result()) << "j1 waited behind j0 while a worker was idle";
    j1.result();
    j2.result();
    j3.result();
}

// Many small calls with some long ones: every call runs exactly once, with
// stealing going on (the sum checks nothing was lost or run twice).
TEST(ThreadPoolExecutor, StealingRunsEveryCallExactlyOnce) {
    ThreadPoolExecutor pool(4);
    std::atomic<long> sum{0};
    std::vector<ConcurrentFuture<void>> fs;
    for (int i = 1; i <= 2000; ++i) {
        fs.push_back(pool.submit([&sum, i] {
            if (i % 97 == 0) {
                std::this_thread::yield();
            }
            sum += i;
        }));
    }
    for (auto& f : fs) {
        f.result();
    }
    EXPECT_EQ(sum.load(), 2000L * 2001 / 2);
}

TEST(ThreadPoolExecutor, ThreadsCarryThePrefix) {
    ThreadPoolExecutor pool(1, "worker");
    auto name = pool.submit([] {
        char buf[32] = {};
        pthread_getname_np(pthread_self(), buf, sizeof buf);
        return std::string(buf);
    });
    EXPECT_EQ(name.result(), "worker_0");
}

TEST(ConcurrentFuture, DoneCallbacksRunOnceEvenWhenAddedLate) {
    ConcurrentFuture<int> f;
    std::vector<int> seen;
    f.add_done_callback([&](ConcurrentFuture<int> g) { seen.push_back(g.result()); });
    std::thread t([f]() mutable {
        ASSERT_TRUE(f.set_running_or_notify_cancel());
        f.set_result(5);
    });
    t.join();
    f.add_done_callback([&](ConcurrentFuture<int> g) { seen.push_back(g.result() + 1); });
    EXPECT_EQ(seen, (std::vector<int>{5, 6}));
    EXPECT_THROW(f.set_result(1), corio::InvalidStateError);
}

// Regression: -1 wrapped around to a huge size_t and was accepted.
TEST(ThreadPoolExecutor, ANegativeMaxWorkersRaisesValueErrorAsPythonDoes) {
    try {
        ThreadPoolExecutor pool(-1);
        ADD_FAILURE() << "accepted";
    } catch (const std::invalid_argument& e) {
        EXPECT_NE(std::string(e.what()).find("max_workers"), std::string::npos);
    }
    ThreadPoolExecutor dflt(0);  // 0 is Python's None: the default size
    EXPECT_GE(dflt.max_workers(), 5u);
}

// Regression: wait_for(now + Duration::max()) overflowed and gave up at once.
TEST(ConcurrentFuture, ResultWithDurationMaxWaitsWithoutLimit) {
    ThreadPoolExecutor pool(1);
    std::latch go(1);
    auto f = pool.submit([&] {
        go.wait();
        return 5;
    });
    std::thread releaser([&] {
        std::this_thread::sleep_for(20ms);  // let result() block first
        go.count_down();
    });
    EXPECT_EQ(f.result(corio::Duration::max()), 5);
    releaser.join();
    auto m = pool.map([](int x) { return x * 2; }, std::vector<int>{1, 2}, corio::Duration::max());
    EXPECT_EQ(m.all(), (std::vector<int>{2, 4}));
}
