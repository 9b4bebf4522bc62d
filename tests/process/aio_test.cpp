// run() and AsyncPool: coroutines in child processes with loops of their
// own, awaited from this process's loop.
#include "corio/process/aio.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <stdexcept>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "corio/run.hpp"
#include "corio/timeouts.hpp"
#include "support/children.hpp"
#include "support/fd_count.hpp"

namespace {

using corio::Task;
using corio::process::AsyncPool;
using corio::process::AsyncPoolOptions;
using corio::process::BrokenProcessPool;
using corio::process::RemoteError;
using namespace std::chrono_literals;

Task<std::string> greet(std::string name, int delay_ms) {
    co_await corio::sleep(std::chrono::milliseconds(delay_ms));
    co_return "hello " + name + " from pid " + std::to_string(::getpid());
}
Task<int> async_fail(int code) {
    co_await corio::sleep(0s);
    throw std::out_of_range("code " + std::to_string(code));
}
Task<void> async_crash() {
    co_await corio::sleep(0s);
    ::kill(::getpid(), SIGKILL);
}
Task<void> async_nap(int ms) {
    co_await corio::sleep(std::chrono::milliseconds(ms));
}

// The most calls of peak() this process ran at once, as each call ends.
int g_active = 0;
int g_peak = 0;
Task<int> peak(int) {
    g_peak = std::max(g_peak, ++g_active);
    co_await corio::sleep(20ms);
    --g_active;
    co_return g_peak;
}
Task<int> async_square(int x) {
    co_await corio::sleep(1ms);
    co_return x* x;
}
int plain_add(int a, int b) {
    return a + b;
}

CORIO_PROCESS_REGISTER(greet);
CORIO_PROCESS_REGISTER(async_fail);
CORIO_PROCESS_REGISTER(async_crash);
CORIO_PROCESS_REGISTER(async_nap);
CORIO_PROCESS_REGISTER(peak);
CORIO_PROCESS_REGISTER(async_square);
CORIO_PROCESS_REGISTER(plain_add);

// The children are reaped by pool threads or run()'s threads: wait for the
// last one (an event, not a delay), at most 10 s.
void expect_children_reaped() {
    auto deadline = std::chrono::steady_clock::now() + 10s;
    while (!corio_test::child_pids().empty()) {
        ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "a child process is left";
        std::this_thread::yield();
    }
}

TEST(Run, AwaitsACoroutineRunningOnTheChildsOwnLoop) {
    const int fds_before = corio_test::open_fds();
    std::string s = corio::run(corio::process::run(greet, "A", 5));
    EXPECT_EQ(s.rfind("hello A from pid ", 0), 0u) << s;
    EXPECT_NE(s, "hello A from pid " + std::to_string(::getpid()));
    expect_children_reaped();
    EXPECT_EQ(corio_test::open_fds(), fds_before);
}

TEST(Run, ErrorsAndCrashesComeBack) {
    try {
        corio::run(corio::process::run(async_fail, 7));
        FAIL() << "no exception";
    } catch (const RemoteError& e) {
        EXPECT_EQ(e.type(), "std::out_of_range");
        EXPECT_EQ(e.message(), "code 7");
    }
    EXPECT_THROW(corio::run(corio::process::run(async_crash)), BrokenProcessPool);
    expect_children_reaped();
}

TEST(Run, CancellingTheCallerKillsTheChild) {
    EXPECT_THROW(corio::run(corio::wait_for(corio::process::run(async_nap, 60000), 50ms)),
                 corio::TimeoutError);
    expect_children_reaped();
}

TEST(AsyncPool, MapRunsChildconcurrencyCoroutinesPerWorkerAndKeepsOrder) {
    AsyncPool pool(AsyncPoolOptions{.processes = 1, .childconcurrency = 4});
    auto seen = corio::run(pool.map(peak, std::vector<int>{0, 1, 2, 3}));
    EXPECT_EQ(seen, (std::vector<int>{4, 4, 4, 4}));
    std::vector<int> items{1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
    auto squares = corio::run(pool.map(async_square, items));
    EXPECT_EQ(squares, (std::vector<int>{1, 4, 9, 16, 25, 36, 49, 64, 81, 100}));
}

TEST(AsyncPool, ApplyStarmapAndPlainFunctions) {
    AsyncPool pool(AsyncPoolOptions{.processes = 2, .childconcurrency = 2});
    auto r = corio::run([](AsyncPool& p) -> Task<std::tuple<int, std::vector<int>>> {
        int a = co_await p.apply(async_square, 9);
        std::vector<std::tuple<int, int>> pairs{{1, 1}, {2, 3}, {5, 8}};
        auto b = co_await p.starmap(plain_add, pairs);
        co_return std::tuple(a, b);
    }(pool));
    EXPECT_EQ(std::get<0>(r), 81);
    EXPECT_EQ(std::get<1>(r), (std::vector<int>{2, 5, 13}));
}

TEST(AsyncPool, AFailureIsRethrownAndTheWorkersSurviveACrash) {
    AsyncPool pool(AsyncPoolOptions{.processes = 1, .childconcurrency = 2});
    EXPECT_THROW(corio::run(pool.map(async_fail, std::vector<int>{1, 2})), RemoteError);
    EXPECT_THROW(corio::run(pool.apply(async_crash)), BrokenProcessPool);
    EXPECT_EQ(corio::run(pool.apply(async_square, 3)), 9);
    corio::run([](AsyncPool& p) -> Task<> {
        p.close();
        co_await p.join();
    }(pool));
    expect_children_reaped();
}

TEST(AsyncPool, ACancelledMapStopsSchedulingWork) {
    AsyncPool pool(AsyncPoolOptions{.processes = 1, .childconcurrency = 1});
    // One worker, one call at a time: the 200 ms nap is running when the
    // timeout cancels the map, and the 60 s naps behind it are cancelled
    // before they start. (The running call ends on its own: the loop waits
    // for it.) Had one of them started, the next call would wait a minute
    // behind it and the test would time out.
    std::vector<int> naps{200, 60000, 60000, 60000};
    EXPECT_THROW(corio::run(corio::wait_for(pool.map(async_nap, naps), 50ms)), corio::TimeoutError);
    EXPECT_EQ(corio::run(pool.apply(async_square, 5)), 25);
}

Task<int> nap_then_echo(int ms) {
    co_await corio::sleep(std::chrono::milliseconds(ms));
    co_return ms;
}
Task<int> worker_pid(int ms) {
    co_await corio::sleep(std::chrono::milliseconds(ms));
    co_return static_cast<int>(::getpid());
}
CORIO_PROCESS_REGISTER(nap_then_echo);
CORIO_PROCESS_REGISTER(worker_pid);

TEST(AsyncPool, MapUnorderedYieldsResultsAsTheyFinish) {
    // Two workers, one call per batch: the 10 ms and 150 ms calls run one
    // after the other on one worker while the 400 ms call runs on the other.
    AsyncPool pool(AsyncPoolOptions{.processes = 2, .childconcurrency = 1});
    auto got = corio::run([](AsyncPool& p) -> Task<std::vector<int>> {
        std::vector<int> out;
        auto gen = p.map_unordered(nap_then_echo, std::vector<int>{400, 10, 150});
        while (auto v = co_await gen.next()) {
            out.push_back(*v);
        }
        co_return out;
    }(pool));
    EXPECT_EQ(got, (std::vector<int>{10, 150, 400}));
}

TEST(AsyncPool, MapUnorderedRethrowsAFailureAndStopsWhenLeftEarly) {
    AsyncPool pool(AsyncPoolOptions{.processes = 1, .childconcurrency = 1});
    EXPECT_THROW(corio::run([](AsyncPool& p) -> Task<> {
                     auto gen = p.map_unordered(async_fail, std::vector<int>{1, 2});
                     while (co_await gen.next()) {
                     }
                 }(pool)),
                 RemoteError);
    // One call at a time: the first result is taken while the 300 ms call
    // runs, then the generator is dropped; the 60 s naps queued behind it
    // must be cancelled, or the apply() below would wait a minute for its
    // turn.
    int first = corio::run([](AsyncPool& p) -> Task<int> {
        auto gen = p.map_unordered(nap_then_echo, std::vector<int>{5, 300, 60000, 60000});
        co_return *co_await gen.next();
    }(pool));
    EXPECT_EQ(first, 5);
    EXPECT_EQ(corio::run(pool.apply(async_square, 6)), 36);
    // Dropped before its first next(): the naps not started are cancelled
    // all the same (else apply() would wait two minutes behind them).
    corio::run([](AsyncPool& p) -> Task<> {
        auto gen = p.map_unordered(nap_then_echo, std::vector<int>{50, 60000, 60000});
        co_return;
    }(pool));
    EXPECT_EQ(corio::run(pool.apply(async_square, 7)), 49);
}

TEST(AsyncPool, QueuecountSplitsTheWorkersAndDealsWorkToEveryQueue) {
    AsyncPool pool(AsyncPoolOptions{.processes = 2, .childconcurrency = 1, .queuecount = 2});
    EXPECT_EQ(pool.queuecount(), 2u);
    EXPECT_EQ(pool.processes(), 2u);
    auto pids = corio::run(pool.map(worker_pid, std::vector<int>{50, 50, 50, 50}));
    std::sort(pids.begin(), pids.end());
    pids.erase(std::unique(pids.begin(), pids.end()), pids.end());
    EXPECT_EQ(pids.size(), 2u) << "both queues' workers ran calls";
    auto live = pool.pids();
    std::sort(live.begin(), live.end());
    EXPECT_EQ(std::vector<int>(live.begin(), live.end()), pids);
    auto squares = corio::run(pool.map(async_square, std::vector<int>{1, 2, 3, 4, 5}));
    EXPECT_EQ(squares, (std::vector<int>{1, 4, 9, 16, 25}));
    EXPECT_THROW(AsyncPool(AsyncPoolOptions{.processes = 2, .queuecount = 3}),
                 std::invalid_argument);
    EXPECT_THROW(AsyncPool(AsyncPoolOptions{.processes = 2, .queuecount = 0}),
                 std::invalid_argument);
}

}  // namespace

int main(int argc, char** argv) {
    corio::process::worker_main_if_child(argc, argv);
    ::testing::InitGoogleTest(&argc, argv);
    return RUN_ALL_TESTS();
}
