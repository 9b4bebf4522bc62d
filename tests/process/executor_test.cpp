// ProcessPoolExecutor: results, errors across the process boundary, map
// with chunks, crash recovery, initializer, max_tasks_per_child, shutdown,
// and no zombies or leaked descriptors afterwards. The workers are this
// test binary, started with the worker marker (see main() below).
#include "corio/process/executor.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <numeric>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "corio/run.hpp"
#include "support/children.hpp"
#include "support/fd_count.hpp"

namespace {

using corio::process::BrokenProcessPool;
using corio::process::ProcessPoolExecutor;
using corio::process::ProcessPoolOptions;
using corio::process::RemoteError;

int add(int a, int b) {
    return a + b;
}
int square(int x) {
    return x * x;
}
int worker_pid() {
    return static_cast<int>(::getpid());
}
int checked_sqrt(int n) {
    if (n < 0) {
        throw std::invalid_argument("n must be >= 0, got " + std::to_string(n));
    }
    int r = 0;
    while ((r + 1) * (r + 1) <= n) {
        ++r;
    }
    return r;
}
void crash() {
    ::kill(::getpid(), SIGKILL);
}
void nap(int ms) {
    std::this_thread::sleep_for(std::chrono::milliseconds(ms));
}
// A 100 MB argument: its size and a checksum come back, and a large result.
// (One byte per page is summed: the test is about the transfer.)
std::pair<std::size_t, std::uint64_t> digest(std::string data) {
    std::uint64_t sum = 0;
    for (std::size_t i = 0; i < data.size(); i += 4096) {
        sum = sum * 31 + static_cast<unsigned char>(data[i]);
    }
    return {data.size(), sum};
}
std::string make_blob(std::size_t n) {
    return std::string(n, 'b');
}

int g_base = 0;  // set by the initializer, in each worker
void set_base(int b) {
    g_base = b;
}
int plus_base(int x) {
    return g_base + x;
}
void failing_init() {
    throw std::runtime_error("no database");
}

CORIO_PROCESS_REGISTER(add);
CORIO_PROCESS_REGISTER(square);
CORIO_PROCESS_REGISTER(worker_pid);
CORIO_PROCESS_REGISTER(checked_sqrt);
CORIO_PROCESS_REGISTER(crash);
CORIO_PROCESS_REGISTER(nap);
CORIO_PROCESS_REGISTER(digest);
CORIO_PROCESS_REGISTER(make_blob);
CORIO_PROCESS_REGISTER(set_base);
CORIO_PROCESS_REGISTER(plus_base);
CORIO_PROCESS_REGISTER(failing_init);

int unregistered(int x) {
    return x;
}

// No child of this process is left, reaped or not.
void expect_no_children() {
    EXPECT_EQ(corio_test::child_pids(), std::vector<pid_t>{}) << "a child process is left";
}

void wait_until_running(corio::ConcurrentFuture<void>& f) {
    while (!f.running() && !f.done()) {
        std::this_thread::yield();
    }
}

TEST(ProcessPoolExecutor, SubmitRunsTheCallInAnotherProcess) {
    ProcessPoolExecutor pool(2);
    auto f = pool.submit(add, 2, 3);
    EXPECT_EQ(f.result(), 5);
    int pid = pool.submit(worker_pid).result();
    EXPECT_NE(pid, static_cast<int>(::getpid()));
    EXPECT_EQ(pool.max_workers(), 2u);
}

TEST(ProcessPoolExecutor, AnExceptionComesBackTypedWithItsMessage) {
    ProcessPoolExecutor pool(1);
    auto f = pool.submit(checked_sqrt, -4);
    try {
        f.result();
        FAIL() << "no exception";
    } catch (const RemoteError& e) {
        EXPECT_EQ(e.type(), "std::invalid_argument");
        EXPECT_EQ(e.message(), "n must be >= 0, got -4");
        EXPECT_STREQ(e.what(), "std::invalid_argument: n must be >= 0, got -4");
    }
    EXPECT_EQ(pool.submit(checked_sqrt, 17).result(), 4);  // the worker lives on
}

TEST(ProcessPoolExecutor, MapWithChunksKeepsTheOrder) {
    ProcessPoolExecutor pool(3);
    std::vector<int> items(100);
    std::iota(items.begin(), items.end(), 0);
    std::vector<int> expected;
    for (int i : items) {
        expected.push_back(i * i);
    }
    EXPECT_EQ(pool.map(square, items, 7).all(), expected);
    EXPECT_EQ(pool.map(square, items).all(), expected);
    EXPECT_THROW(pool.map(square, items, 0), std::invalid_argument);
    std::vector<std::tuple<int, int>> pairs{{1, 2}, {3, 4}};
    EXPECT_EQ(pool.starmap(add, pairs, 2).all(), (std::vector<int>{3, 7}));
}

TEST(ProcessPoolExecutor, MapRethrowsTheFirstFailure) {
    ProcessPoolExecutor pool(2);
    auto results = pool.map(checked_sqrt, std::vector<int>{4, -1, 9});
    EXPECT_EQ(results.next(), 2);
    EXPECT_THROW(results.next(), RemoteError);
    EXPECT_EQ(results.next(), std::nullopt);
}

TEST(ProcessPoolExecutor, ACrashFailsItsFutureAndThePoolRecovers) {
    ProcessPoolExecutor pool(1);
    auto f = pool.submit(crash);
    try {
        f.result();
        FAIL() << "no exception";
    } catch (const BrokenProcessPool& e) {
        EXPECT_NE(std::string(e.what()).find("killed by signal 9"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("'crash'"), std::string::npos) << e.what();
    }
    EXPECT_EQ(pool.submit(add, 1, 1).result(), 2);
}

TEST(ProcessPoolExecutor, AWorkerKilledMidTaskFailsOnlyItsWork) {
    ProcessPoolExecutor pool(1);
    auto f = pool.submit(nap, 60000);
    wait_until_running(f);
    std::vector<pid_t> pids;
    while ((pids = pool.pids()).empty()) {
        std::this_thread::yield();
    }
    ASSERT_EQ(pids.size(), 1u);
    ::kill(pids[0], SIGKILL);
    EXPECT_THROW(f.result(), BrokenProcessPool);
    EXPECT_EQ(pool.submit(add, 20, 22).result(), 42);
    EXPECT_NE(pool.pids().at(0), pids[0]);
}

TEST(ProcessPoolExecutor, NoZombiesAndNoLeakedFdsAfterShutdownEvenAfterACrash) {
    const int fds_before = corio_test::open_fds();
    {
        ProcessPoolExecutor pool(3);
        std::vector<corio::ConcurrentFuture<int>> fs;
        for (int i = 0; i < 9; ++i) {
            fs.push_back(pool.submit(square, i));
        }
        auto boom = pool.submit(crash);
        EXPECT_THROW(boom.result(), BrokenProcessPool);
        for (int i = 0; i < 9; ++i) {
            EXPECT_EQ(fs[static_cast<std::size_t>(i)].result(), i * i);
        }
        EXPECT_GE(pool.pids().size(), 1u);
        pool.shutdown(true);
        EXPECT_TRUE(pool.pids().empty());
        expect_no_children();
    }
    EXPECT_EQ(corio_test::open_fds(), fds_before);
}

TEST(ProcessPoolExecutor, TheInitializerRunsFirstInEveryWorker) {
    ProcessPoolExecutor pool(
        ProcessPoolOptions{.max_workers = 2, .initializer = corio::process::bind(set_base, 100)});
    auto results = pool.map(plus_base, std::vector<int>{1, 2, 3, 4}).all();
    EXPECT_EQ(results, (std::vector<int>{101, 102, 103, 104}));
}

TEST(ProcessPoolExecutor, AFailingInitializerBreaksThePool) {
    ProcessPoolExecutor pool(
        ProcessPoolOptions{.max_workers = 1, .initializer = corio::process::bind(failing_init)});
    auto f = pool.submit(add, 1, 2);
    try {
        f.result();
        FAIL() << "no exception";
    } catch (const BrokenProcessPool& e) {
        EXPECT_NE(std::string(e.what()).find("std::runtime_error: no database"), std::string::npos)
            << e.what();
    }
    EXPECT_THROW(pool.submit(add, 1, 2), BrokenProcessPool);
}

TEST(ProcessPoolExecutor, MaxTasksPerChildReplacesTheWorker) {
    ProcessPoolExecutor pool(ProcessPoolOptions{.max_workers = 1, .max_tasks_per_child = 2});
    std::vector<int> pids;
    for (int i = 0; i < 4; ++i) {
        pids.push_back(pool.submit(worker_pid).result());
    }
    EXPECT_EQ(pids[0], pids[1]);
    EXPECT_EQ(pids[2], pids[3]);
    EXPECT_NE(pids[1], pids[2]);
}

TEST(ProcessPoolExecutor, ShutdownWithCancelFuturesDropsQueuedWork) {
    ProcessPoolExecutor pool(1);
    auto running = pool.submit(nap, 100);
    wait_until_running(running);
    auto queued1 = pool.submit(add, 1, 2);
    auto queued2 = pool.submit(add, 3, 4);
    pool.shutdown(true, true);
    EXPECT_NO_THROW(running.result());
    EXPECT_TRUE(queued1.cancelled());
    EXPECT_TRUE(queued2.cancelled());
    EXPECT_THROW(pool.submit(add, 1, 2), corio::RuntimeError);
    EXPECT_TRUE(pool.is_shutdown());
}

TEST(ProcessPoolExecutor, ACancelledFutureNeverRuns) {
    ProcessPoolExecutor pool(1);
    auto running = pool.submit(nap, 50);
    wait_until_running(running);
    auto queued = pool.submit(crash);  // would break the worker if it ran
    EXPECT_TRUE(queued.cancel());
    running.result();
    EXPECT_EQ(pool.submit(worker_pid).result(), pool.pids().at(0));
}

TEST(ProcessPoolExecutor, AnUnregisteredFunctionIsRejectedAtSubmit) {
    ProcessPoolExecutor pool(1);
    EXPECT_THROW(pool.submit(unregistered, 1), std::invalid_argument);
    EXPECT_THROW(ProcessPoolExecutor(-1), std::invalid_argument);
}

TEST(ProcessPoolExecutor, HundredMegabytePayloadsCrossTheBoundary) {
    ProcessPoolExecutor pool(1);
    std::string data(100u << 20, '\0');
    for (std::size_t i = 0; i < data.size(); i += 4096) {
        data[i] = static_cast<char>(i / 4096);
    }
    auto expected = digest(data);
    EXPECT_EQ(pool.submit(digest, data).result(), expected);
    EXPECT_EQ(pool.submit(make_blob, std::size_t{32} << 20).result().size(), 32u << 20);
}

TEST(ProcessPoolExecutor, AwaitableFromALoop) {
    ProcessPoolExecutor pool(2);
    int r = corio::run([](ProcessPoolExecutor& p) -> corio::Task<int> {
        int a = co_await corio::process::run_in_executor(p, add, 1, 2);
        int b = co_await corio::wrap_future(p.submit(square, 4));
        co_return a + b;
    }(pool));
    EXPECT_EQ(r, 19);
}

}  // namespace

int main(int argc, char** argv) {
    corio::process::worker_main_if_child(argc, argv);
    ::testing::InitGoogleTest(&argc, argv);
    return RUN_ALL_TESTS();
}
