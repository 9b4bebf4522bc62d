#include "corio/threads.hpp"

#include <dirent.h>
#include <gtest/gtest.h>

#include <atomic>
#include <latch>
#include <memory>
#include <stdexcept>
#include <thread>

#include "corio/corio.hpp"
#include "support/loop_fixture.hpp"

using namespace std::chrono_literals;
using corio::Task;
using corio_test::vrun;

namespace {

int thread_count() {
    int n = 0;
    if (DIR* d = ::opendir("/proc/self/task")) {
        while (dirent* e = ::readdir(d)) {
            n += e->d_name[0] != '.';
        }
        ::closedir(d);
    }
    return n;
}

}  // namespace

TEST(RunInExecutor, ResultsAndExceptionTypesReachTheAwaiter) {
    vrun([]() -> Task<void> {
        corio::ThreadPoolExecutor pool(2);
        auto& loop = corio::get_running_loop();
        int v = co_await loop.run_in_executor(
            &pool, [](int x) { return x + 1; }, 41);
        EXPECT_EQ(v, 42);
        EXPECT_NE(co_await loop.run_in_executor(&pool, [] { return std::this_thread::get_id(); }),
                  std::this_thread::get_id());
        EXPECT_THROW(co_await loop.run_in_executor(&pool,
                                                   [] {
                                                       throw std::length_error("too long");
                                                       return 0;
                                                   }),
                     std::length_error);
        co_await loop.run_in_executor(&pool, [] {});
    }());
}

TEST(RunInExecutor, ManyCallsInOneIterationAllComplete) {
    vrun([]() -> Task<void> {
        corio::ThreadPoolExecutor pool(4);
        auto& loop = corio::get_running_loop();
        std::vector<corio::Future<int>> fs;
        for (int i = 0; i < 5000; ++i) {
            fs.push_back(loop.run_in_executor(
                &pool, [](int x) { return x; }, i));
        }
        auto out = co_await corio::gather(std::move(fs));
        long sum = 0;
        for (int x : out) {
            sum += x;
        }
        EXPECT_EQ(sum, 4999L * 5000 / 2);
    }());
}

TEST(RunInExecutor, ACancelledAwaiterKeepsAQueuedCallFromRunning) {
    vrun([]() -> Task<void> {
        corio::ThreadPoolExecutor pool(1);
        auto& loop = corio::get_running_loop();
        std::latch go(1);
        std::atomic<bool> ran{false};
        auto busy = loop.run_in_executor(&pool, [&] { go.wait(); });
        auto waiter = corio::create_task([](corio::EventLoop& l, corio::ThreadPoolExecutor& p,
                                            std::atomic<bool>& r) -> Task<void> {
            co_await l.run_in_executor(&p, [&] { r = true; });
        }(loop, pool, ran));
        co_await corio::sleep(0s);  // both calls handed to the pool
        waiter.cancel();
        EXPECT_THROW(co_await waiter, corio::CancelledError);
        go.count_down();
        co_await busy;
        pool.shutdown(true);
        EXPECT_FALSE(ran);
    }());
}

TEST(RunInExecutor, VirtualTimeStandsStillWhileWorkIsOutstanding) {
    vrun([]() -> Task<void> {
        auto& loop = corio::get_running_loop();
        auto timer = corio::create_task(corio::sleep(10s, 1));
        auto t0 = loop.time();
        // Blocking work (a real 20 ms here): the clock must not jump to the
        // 10 s timer while it runs.
        co_await corio::to_thread([] { std::this_thread::sleep_for(20ms); });
        EXPECT_EQ(loop.time(), t0);
        co_await timer;
        EXPECT_EQ(loop.time() - t0, 10s);
    }());
}

TEST(ToThread, PassesArgumentsAndMovesResults) {
    vrun([]() -> Task<void> {
        auto p = co_await corio::to_thread([](int x) { return std::make_unique<int>(x); }, 7);
        EXPECT_EQ(*p, 7);
        std::string s =
            co_await corio::to_thread([](std::string a, std::string b) { return a + b; },
                                      std::string("to_"), std::string("thread"));
        EXPECT_EQ(s, "to_thread");
    }());
}

// GCC 12 destroys a capturing lambda twice when the lambda is a temporary
// inside the co_await expression (docs/pitfalls.md); no signature of
// to_thread can prevent it. These spellings are safe under every compiler
// (the capture's use count shows a double destruction at once).
TEST(ToThread, ACapturingLambdaIsSafeNamedFirstOrAsArguments) {
    vrun([]() -> Task<void> {
        auto s = std::make_shared<std::string>("hello");
        auto fn = [s] { return *s + " world"; };
        EXPECT_EQ(co_await corio::to_thread(fn), "hello world");
        EXPECT_EQ(s.use_count(), 2);  // s and fn's copy
        EXPECT_EQ(co_await corio::to_thread(std::move(fn)), "hello world");
        EXPECT_EQ(s.use_count(), 1);
        EXPECT_EQ(co_await corio::to_thread(
                      [](const std::shared_ptr<std::string>& p) { return *p + "!"; }, s),
                  "hello!");
        EXPECT_EQ(s.use_count(), 1);
#if defined(__clang__) || !defined(__GNUC__) || __GNUC__ >= 13
        // The natural spelling, where the compiler gets it right.
        EXPECT_EQ(co_await corio::to_thread([s] { return *s + "?"; }), "hello?");
        EXPECT_EQ(s.use_count(), 1);
#endif
    }());
}

TEST(ToThread, RunShutsTheDefaultExecutorDown) {
    int before = thread_count();
    corio::run([]() -> Task<void> {
        co_await corio::gather(corio::to_thread([] { return 1; }),
                               corio::to_thread([] { return 2; }));
    }());
    EXPECT_EQ(thread_count(), before);  // its threads were joined
}

TEST(WrapFuture, MirrorsAConcurrentFutureCompletedElsewhere) {
    vrun([]() -> Task<void> {
        corio::ConcurrentFuture<std::string> cf;
        std::thread producer([cf]() mutable {
            cf.set_running_or_notify_cancel();
            cf.set_result("from a thread");
        });
        std::string s = co_await corio::wrap_future(cf);
        producer.join();
        EXPECT_EQ(s, "from a thread");
        corio::ConcurrentFuture<int> failing;
        failing.set_exception(std::make_exception_ptr(std::range_error("bad")));
        EXPECT_THROW(co_await corio::wrap_future(failing), std::range_error);
    }());
}

TEST(WrapFuture, CancellingTheLoopFutureCancelsTheSource) {
    vrun([]() -> Task<void> {
        corio::ConcurrentFuture<int> cf;
        auto waiter = corio::create_task([](corio::ConcurrentFuture<int> c) -> Task<int> {
            co_return co_await corio::wrap_future(c);
        }(cf));
        co_await corio::sleep(0s);
        waiter.cancel();
        EXPECT_THROW(co_await waiter, corio::CancelledError);
        EXPECT_TRUE(cf.cancelled());
    }());
}

TEST(RunCoroutineThreadsafe, SubmitsToALoopInAnotherThreadAndBlocksForTheResult) {
    corio::EventLoop* loop_ptr = nullptr;
    std::latch ready(1);
    corio::Future<void>* stop = nullptr;
    std::thread loop_thread([&] {
        corio::EventLoop loop;
        corio::Future<void> stopper(loop);
        loop_ptr = &loop;
        stop = &stopper;
        loop.call_soon([&] { ready.count_down(); });
        loop.run_until_complete(stopper);
    });
    ready.wait();
    corio::EventLoop& loop = *loop_ptr;
    auto f = corio::run_coroutine_threadsafe(
        []() -> Task<std::string> {
            co_await corio::sleep(1ms);
            co_return "hello from the loop";
        }(),
        loop);
    EXPECT_EQ(f.result(5s), "hello from the loop");

    auto failing = corio::run_coroutine_threadsafe(
        []() -> Task<int> {
            co_await corio::sleep(0s);
            throw std::invalid_argument("no");
        }(),
        loop);
    EXPECT_THROW(failing.result(5s), std::invalid_argument);

    std::atomic<bool> saw_cancel{false};
    std::latch started(1);
    auto endless = corio::run_coroutine_threadsafe(
        [](std::atomic<bool>& saw, std::latch& st) -> Task<void> {
            st.count_down();
            try {
                co_await corio::sleep(1h);
            } catch (const corio::CancelledError&) {
                saw = true;
                throw;
            }
        }(saw_cancel, started),
        loop);
    started.wait();
    EXPECT_TRUE(endless.cancel());
    // The cancellation reaches the task on its loop; a round trip through the
    // loop proves it has been processed.
    auto probe = corio::run_coroutine_threadsafe(
        []() -> Task<int> {
            co_await corio::sleep(1ms);
            co_return 1;
        }(),
        loop);
    EXPECT_EQ(probe.result(5s), 1);
    EXPECT_TRUE(saw_cancel);

    loop.call_soon_threadsafe([&] { stop->set_result(); });
    loop_thread.join();
}

// These futures used to stay pending forever: whoever blocked on result()
// (or a loop awaiting wrap_future of them) hung.
TEST(RunCoroutineThreadsafe, AFutureWhoseLoopClosesBeforeTheTaskStartsIsCancelled) {
    bool ran = false;
    corio::ConcurrentFuture<int> f;
    {
        corio::EventLoop loop;
        f = corio::run_coroutine_threadsafe(
            [](bool& r) -> Task<int> {
                r = true;
                co_return 1;
            }(ran),
            loop);
        EXPECT_FALSE(f.done());
        loop.close();
    }
    EXPECT_TRUE(f.cancelled());
    EXPECT_THROW(f.result(0s), corio::CancelledError);
    EXPECT_FALSE(ran);
}

TEST(RunCoroutineThreadsafe, AFutureWhoseLoopClosesWithTheTaskPendingIsCancelled) {
    corio::EventLoop loop;
    corio_test::Reports reports;
    corio_test::install_recorder(loop, &reports);
    bool started = false;
    auto f = corio::run_coroutine_threadsafe(
        [](bool& s) -> Task<void> {
            s = true;
            co_await corio::sleep(1h);
        }(started),
        loop);
    while (!started) {
        loop.run_once(false);
    }
    EXPECT_FALSE(f.done());
    loop.close();
    EXPECT_TRUE(f.cancelled());
    EXPECT_TRUE(reports.contains("Task was destroyed but it is pending"));
}

TEST(RunCoroutineThreadsafe, CancellingBeforeTheTaskStartsKeepsItFromRunning) {
    corio::EventLoop loop;
    bool ran = false;
    auto f = corio::run_coroutine_threadsafe(
        [](bool& r) -> Task<void> {
            r = true;
            co_return;
        }(ran),
        loop);
    EXPECT_TRUE(f.cancel());
    for (int i = 0; i < 3; ++i) {
        loop.run_once(false);
    }
    EXPECT_FALSE(ran);
    EXPECT_TRUE(f.cancelled());
    EXPECT_EQ(corio::detail::LoopAccess::census(loop).tasks, 0u);
}

// Regression: a cancel() from another thread was not seen while the loop
// slept; the task went on until an unrelated timer woke the loop.
TEST(TaskHandle, CancelFromAnotherThreadWakesTheSleepingLoop) {
    corio::EventLoop loop;  // real time: the loop really sleeps in the backend
    auto task = loop.create_task([]() -> Task<void> { co_await corio::sleep(1h); }());
    std::thread t;
    bool posted = false;
    loop.call_soon([&] { t = std::thread([&] { posted = task.cancel("from a thread"); }); });
    try {
        loop.run_until_complete(task);  // an hour, if the request were not seen
        ADD_FAILURE() << "not cancelled";
    } catch (const corio::CancelledError& e) {
        EXPECT_EQ(e.message(), "from a thread");
    }
    t.join();
    EXPECT_TRUE(posted);
    EXPECT_TRUE(task.cancelled());
}

TEST(TaskHandle, CancelFromAnotherThreadBeforeTheLoopRunsIsDeliveredWhenItRuns) {
    corio::EventLoop loop(corio::LoopOptions{.virtual_time = true, .debug = false});
    auto task = loop.create_task([]() -> Task<int> {
        co_await corio::sleep(1h);
        co_return 1;
    }());
    bool posted = false;
    std::thread([&] { posted = task.cancel(); }).join();
    EXPECT_TRUE(posted);
    EXPECT_EQ(task.cancelling(), 0);  // not yet: it waits in the loop's inbox
    EXPECT_THROW(loop.run_until_complete(task), corio::CancelledError);
    EXPECT_EQ(loop.time(), corio::TimePoint{});  // cancelled, not slept
    loop.close();
    bool after_close = true;
    std::thread([&] { after_close = task.cancel(); }).join();
    EXPECT_FALSE(after_close);
}
