#include "corio/queues.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "corio/corio.hpp"
#include "support/counted.hpp"
#include "support/loop_fixture.hpp"

using namespace std::chrono_literals;
using corio::Task;
using corio::TaskHandle;
using corio_test::vrun;

namespace {

template <class Q>
Task<int> get_one(Q& q) {
    co_return co_await q.get();
}

}  // namespace

TEST(Queue, FifoLifoAndPriorityOrders) {
    vrun([]() -> Task<void> {
        corio::Queue<int> fifo;
        corio::LifoQueue<int> lifo;
        corio::PriorityQueue<std::pair<int, std::string>> prio;
        for (int i : {3, 1, 2}) {
            co_await fifo.put(i);
            co_await lifo.put(i);
        }
        prio.put_nowait({3, "low"});
        prio.put_nowait({1, "high"});
        prio.put_nowait({2, "mid"});
        std::vector<int> f, l;
        std::vector<std::string> p;
        for (int i = 0; i < 3; ++i) {
            f.push_back(co_await fifo.get());
            l.push_back(co_await lifo.get());
            p.push_back((co_await prio.get()).second);
        }
        EXPECT_EQ(f, (std::vector<int>{3, 1, 2}));
        EXPECT_EQ(l, (std::vector<int>{2, 1, 3}));
        EXPECT_EQ(p, (std::vector<std::string>{"high", "mid", "low"}));
        corio::PriorityQueue<int, std::greater<int>> maxfirst;
        maxfirst.put_nowait(1);
        maxfirst.put_nowait(5);
        EXPECT_EQ(maxfirst.get_nowait(), 5);
    }());
}

TEST(Queue, SizeFullEmptyAndTheNowaitErrors) {
    corio::Queue<int> q(2);
    EXPECT_EQ(q.maxsize(), 2u);
    EXPECT_TRUE(q.empty());
    EXPECT_THROW(q.get_nowait(), corio::QueueEmpty);
    q.put_nowait(1);
    q.put_nowait(2);
    EXPECT_TRUE(q.full());
    EXPECT_EQ(q.qsize(), 2u);
    EXPECT_THROW(q.put_nowait(3), corio::QueueFull);
    EXPECT_EQ(q.get_nowait(), 1);
    EXPECT_FALSE(q.full());
    corio::Queue<int> unbounded;
    for (int i = 0; i < 10000; ++i) {
        unbounded.put_nowait(i);
    }
    EXPECT_FALSE(unbounded.full());
    EXPECT_EQ(unbounded.get_nowait(), 0);
}

TEST(Queue, PutWaitsForRoomAndGetWaitsForItems) {
    vrun([]() -> Task<void> {
        corio::Queue<int> q(1);
        co_await q.put(1);
        auto putter =
            corio::create_task([](corio::Queue<int>& qq) -> Task<void> { co_await qq.put(2); }(q));
        co_await corio::sleep(1s);
        EXPECT_FALSE(putter.done());
        EXPECT_EQ(co_await q.get(), 1);
        co_await putter;
        EXPECT_EQ(co_await q.get(), 2);
        auto getter = corio::create_task(get_one(q));
        co_await corio::sleep(1s);
        EXPECT_FALSE(getter.done());
        q.put_nowait(7);
        EXPECT_EQ(co_await getter, 7);
    }());
}

TEST(Queue, WaitingGettersAreServedFifo) {
    vrun([]() -> Task<void> {
        corio::Queue<int> q;
        std::vector<TaskHandle<int>> getters;
        for (int i = 0; i < 3; ++i) {
            getters.push_back(corio::create_task(get_one(q)));
        }
        co_await corio::sleep(1ms);
        for (int i = 10; i < 13; ++i) {
            q.put_nowait(i);
        }
        EXPECT_EQ(co_await getters[0], 10);
        EXPECT_EQ(co_await getters[1], 11);
        EXPECT_EQ(co_await getters[2], 12);
    }());
}

TEST(Queue, AGetterCancelledAfterItsWakeUpPassesTheItemOn) {
    vrun([]() -> Task<void> {
        corio::Queue<int> q;
        auto a = corio::create_task(get_one(q));
        auto b = corio::create_task(get_one(q));
        co_await corio::sleep(1ms);
        q.put_nowait(42);  // wakes a
        a.cancel();        // before a runs
        EXPECT_THROW(co_await a, corio::CancelledError);
        EXPECT_EQ(co_await b, 42);  // a woke b: the item was not lost
        EXPECT_TRUE(q.empty());
    }());
}

TEST(Queue, AWokenGetterMayLoseTheItemToAFasterTaskAndWaitsAgain) {
    // asyncio's semantics: the wake-up is a hint, not a hand-over.
    vrun([]() -> Task<void> {
        corio::Queue<int> q;
        auto slow = corio::create_task(get_one(q));
        co_await corio::sleep(1ms);
        q.put_nowait(1);  // wakes `slow`
        EXPECT_FALSE(q.empty());
        EXPECT_EQ(q.get_nowait(), 1);  // ...but we take it first
        co_await corio::sleep(1ms);
        EXPECT_FALSE(slow.done());  // it went back to waiting
        q.put_nowait(2);
        EXPECT_EQ(co_await slow, 2);
    }());
}

TEST(Queue, APutterCancelledAfterItsWakeUpPassesTheSlotOnAndPutsNothing) {
    vrun([]() -> Task<void> {
        corio::Queue<int> q(1);
        q.put_nowait(0);
        auto put = [](corio::Queue<int>& qq, int v) -> Task<void> { co_await qq.put(v); };
        auto a = corio::create_task(put(q, 1));
        auto b = corio::create_task(put(q, 2));
        co_await corio::sleep(1ms);
        EXPECT_EQ(q.get_nowait(), 0);  // frees the slot, wakes a
        a.cancel();
        EXPECT_THROW(co_await a, corio::CancelledError);
        co_await b;  // a passed the slot to b
        EXPECT_EQ(q.qsize(), 1u);
        EXPECT_EQ(q.get_nowait(), 2);
    }());
}

TEST(Queue, TaskDoneAndJoin) {
    vrun([]() -> Task<void> {
        corio::Queue<int> q;
        EXPECT_THROW(q.task_done(), std::invalid_argument);
        co_await q.join();  // nothing unfinished: immediate
        q.put_nowait(1);
        q.put_nowait(2);
        auto joiner =
            corio::create_task([](corio::Queue<int>& qq) -> Task<void> { co_await qq.join(); }(q));
        co_await corio::sleep(1ms);
        (void)q.get_nowait();
        q.task_done();
        co_await corio::sleep(1ms);
        EXPECT_FALSE(joiner.done());
        (void)q.get_nowait();
        q.task_done();
        co_await joiner;
        EXPECT_THROW(q.task_done(), std::invalid_argument);
    }());
}

TEST(Queue, ShutdownStopsPutsAndDrainsGets) {
    vrun([]() -> Task<void> {
        corio::Queue<int> q(1);
        q.put_nowait(1);
        auto blocked_put =
            corio::create_task([](corio::Queue<int>& qq) -> Task<void> { co_await qq.put(2); }(q));
        co_await corio::sleep(1ms);
        q.shutdown();
        EXPECT_TRUE(q.is_shutdown());
        EXPECT_THROW(co_await blocked_put, corio::QueueShutDown);
        EXPECT_THROW(q.put_nowait(3), corio::QueueShutDown);
        EXPECT_THROW(co_await q.put(3), corio::QueueShutDown);
        EXPECT_EQ(co_await q.get(), 1);  // what is left can still be taken
        EXPECT_THROW(co_await q.get(), corio::QueueShutDown);
        EXPECT_THROW(q.get_nowait(), corio::QueueShutDown);
    }());
}

TEST(Queue, ShutdownWakesWaitingGetters) {
    vrun([]() -> Task<void> {
        corio::Queue<int> q;
        auto g = corio::create_task(get_one(q));
        co_await corio::sleep(1ms);
        q.shutdown();
        EXPECT_THROW(co_await g, corio::QueueShutDown);
    }());
}

TEST(Queue, ImmediateShutdownDropsItemsAndReleasesJoin) {
    vrun([]() -> Task<void> {
        corio::Queue<int> q;
        auto a = corio::create_task(get_one(q));
        co_await corio::sleep(1ms);
        q.put_nowait(1);  // wakes a, which has not run yet
        q.put_nowait(2);
        auto joiner =
            corio::create_task([](corio::Queue<int>& qq) -> Task<void> { co_await qq.join(); }(q));
        q.shutdown(true);
        EXPECT_TRUE(q.empty());
        EXPECT_THROW(co_await a, corio::QueueShutDown);
        co_await joiner;
    }());
}

TEST(Queue, ItemsAreMovedNotCopied) {
    Counted::reset();
    vrun([]() -> Task<void> {
        corio::Queue<Counted> q(1);
        co_await q.put(Counted(1));
        auto putter = corio::create_task(
            [](corio::Queue<Counted>& qq) -> Task<void> { co_await qq.put(Counted(2)); }(q));
        co_await corio::sleep(1ms);
        EXPECT_EQ((co_await q.get()).value, 1);
        EXPECT_EQ((co_await q.get()).value, 2);
        co_await putter;
    }());
    EXPECT_EQ(Counted::copies, 0);
    EXPECT_EQ(Counted::alive(), 0);
}

TEST(Queue, RandomCancellationsNeverLoseOrDuplicateItems) {
    // Producers and consumers on a small queue; a chaos task cancels random
    // ones at random moments. Every item that a put() reported as done must be
    // consumed exactly once or still be in the queue.
    vrun([]() -> Task<void> {
        corio::Queue<int> q(3);
        std::mt19937 rng(12345);
        std::multiset<int> put_ok, got;
        std::vector<TaskHandle<void>> workers;
        int next = 0;
        for (int i = 0; i < 6; ++i) {
            workers.push_back(corio::create_task(
                [](corio::Queue<int>& qq, std::multiset<int>& ok, int& n) -> Task<void> {
                    for (;;) {
                        int v = n++;
                        co_await qq.put(v);
                        ok.insert(v);
                        co_await corio::sleep(1ms);
                    }
                }(q, put_ok, next)));
            workers.push_back(
                corio::create_task([](corio::Queue<int>& qq, std::multiset<int>& g) -> Task<void> {
                    for (;;) {
                        g.insert(co_await qq.get());
                        co_await corio::sleep(2ms);
                    }
                }(q, got)));
        }
        for (int step = 0; step < 400; ++step) {
            co_await corio::sleep(std::chrono::microseconds(rng() % 1500));
            std::size_t i = rng() % workers.size();
            if (!workers[i].done()) {
                workers[i].cancel();
            } else {
                // Replace a finished worker with a fresh one of the same kind.
                if (i % 2 == 0) {
                    workers[i] = corio::create_task(
                        [](corio::Queue<int>& qq, std::multiset<int>& ok, int& n) -> Task<void> {
                            for (;;) {
                                int v = n++;
                                co_await qq.put(v);
                                ok.insert(v);
                                co_await corio::sleep(1ms);
                            }
                        }(q, put_ok, next));
                } else {
                    workers[i] = corio::create_task(
                        [](corio::Queue<int>& qq, std::multiset<int>& g) -> Task<void> {
                            for (;;) {
                                g.insert(co_await qq.get());
                                co_await corio::sleep(2ms);
                            }
                        }(q, got));
                }
            }
        }
        for (auto& w : workers) {
            w.cancel();
        }
        co_await corio::gather_settled(workers);
        std::multiset<int> left;
        while (!q.empty()) {
            left.insert(q.get_nowait());
        }
        std::multiset<int> accounted = got;
        accounted.insert(left.begin(), left.end());
        // A put() either returned (the item is in) or threw (it is not).
        EXPECT_EQ(accounted, put_ok);
        EXPECT_GT(got.size(), 100u);
    }());
}
