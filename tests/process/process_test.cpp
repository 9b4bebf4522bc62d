// Process and Pool (multiprocessing): a child's lifecycle (start, join,
// exitcode, terminate, kill), its side effects, and Pool's blocking API.
#include "corio/process/process.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "support/fd_count.hpp"

namespace {

using corio::process::Pool;
using corio::process::Process;
using namespace std::chrono_literals;

void write_file(std::string path, std::string text) {
    std::ofstream(path) << text << " from pid " << ::getpid();
}
void fail_with(std::string message) {
    throw std::runtime_error(message);
}
void exit_with(int code) {
    ::_exit(code);
}
void nap(int ms) {
    std::this_thread::sleep_for(std::chrono::milliseconds(ms));
}
int cube(int x) {
    return x * x * x;
}
int add(int a, int b) {
    return a + b;
}
int slow_echo(int ms) {
    std::this_thread::sleep_for(std::chrono::milliseconds(ms));
    return ms;
}
int g_offset = 0;
void set_offset(int v) {
    g_offset = v;
}
int offset(int x) {
    return x + g_offset;
}

CORIO_PROCESS_REGISTER(write_file);
CORIO_PROCESS_REGISTER(fail_with);
CORIO_PROCESS_REGISTER(exit_with);
CORIO_PROCESS_REGISTER(nap);
CORIO_PROCESS_REGISTER(cube);
CORIO_PROCESS_REGISTER(add);
CORIO_PROCESS_REGISTER(slow_echo);
CORIO_PROCESS_REGISTER(set_offset);
CORIO_PROCESS_REGISTER(offset);

void expect_no_children() {
    int status = 0;
    errno = 0;
    EXPECT_EQ(::waitpid(-1, &status, WNOHANG), -1) << "a child process is left";
    EXPECT_EQ(errno, ECHILD);
}

std::string temp_path() {
    char tmpl[] = "/tmp/corio_process_test_XXXXXX";
    int fd = ::mkstemp(tmpl);
    ::close(fd);
    return tmpl;
}

TEST(Process, RunsTheTargetInAChildAndJoinsIt) {
    const int fds_before = corio_test::open_fds();
    std::string path = temp_path();
    Process p(write_file, path, "hello");
    EXPECT_EQ(p.pid(), -1);
    EXPECT_FALSE(p.is_alive());
    EXPECT_EQ(p.exitcode(), std::nullopt);
    p.start();
    EXPECT_GT(p.pid(), 0);
    EXPECT_NE(p.pid(), ::getpid());
    p.join();
    EXPECT_FALSE(p.is_alive());
    EXPECT_EQ(p.exitcode(), 0);
    std::stringstream text;
    text << std::ifstream(path).rdbuf();
    EXPECT_EQ(text.str(), "hello from pid " + std::to_string(p.pid()));
    ::unlink(path.c_str());
    expect_no_children();
    EXPECT_EQ(corio_test::open_fds(), fds_before);
}

TEST(Process, ExitcodeTellsReturnThrowExitAndSignal) {
    Process threw(fail_with, "boom");
    Process exited(exit_with, 3);
    Process terminated(nap, 60000);
    Process killed(nap, 60000);
    for (Process* p : {&threw, &exited, &terminated, &killed}) {
        p->start();
    }
    terminated.terminate();
    killed.kill();
    for (Process* p : {&threw, &exited, &terminated, &killed}) {
        p->join();
    }
    EXPECT_EQ(threw.exitcode(), 1);
    EXPECT_EQ(exited.exitcode(), 3);
    EXPECT_EQ(terminated.exitcode(), -SIGTERM);
    EXPECT_EQ(killed.exitcode(), -SIGKILL);
    expect_no_children();
}

TEST(Process, JoinWithATimeoutReturnsWhileTheChildRuns) {
    Process p(nap, 60000);
    p.start();
    p.join(10ms);
    EXPECT_TRUE(p.is_alive());
    EXPECT_EQ(p.exitcode(), std::nullopt);
    p.kill();
    p.join();
    EXPECT_EQ(p.exitcode(), -SIGKILL);
}

TEST(Process, MisuseThrows) {
    Process p(cube, 2);
    EXPECT_THROW(p.join(), corio::RuntimeError);
    p.start();
    EXPECT_THROW(p.start(), corio::RuntimeError);
    p.join();
    EXPECT_EQ(p.exitcode(), 0);
}

TEST(Pool, MapStarmapApplyAndImap) {
    Pool pool(2);
    EXPECT_EQ(pool.map(cube, std::vector<int>{1, 2, 3}), (std::vector<int>{1, 8, 27}));
    EXPECT_EQ(pool.map(cube, std::vector<int>{4, 5, 6, 7}, 3),
              (std::vector<int>{64, 125, 216, 343}));
    std::vector<std::tuple<int, int>> pairs{{1, 2}, {10, 20}};
    EXPECT_EQ(pool.starmap(add, pairs), (std::vector<int>{3, 30}));
    EXPECT_EQ(pool.apply(add, 40, 2), 42);
    auto f = pool.apply_async(cube, 10);
    EXPECT_EQ(f.result(), 1000);
    auto it = pool.imap(cube, std::vector<int>{2, 3});
    EXPECT_EQ(it.next(), 8);
    EXPECT_EQ(it.next(), 27);
    EXPECT_EQ(it.next(), std::nullopt);
    pool.close();
    pool.join();
    expect_no_children();
}

TEST(Pool, ImapUnorderedGivesResultsAsTheyFinish) {
    Pool pool(2);
    // Two workers: 300 ms on one, 10 then 100 ms on the other.
    auto it = pool.imap_unordered(slow_echo, std::vector<int>{300, 10, 100});
    EXPECT_EQ(it.all(), (std::vector<int>{10, 100, 300}));
    auto bad = pool.imap_unordered(fail_with, std::vector<std::string>{"x"});
    EXPECT_THROW(bad.next(), corio::process::RemoteError);
    EXPECT_THROW(pool.imap_unordered(cube, std::vector<int>{1}, 0), std::invalid_argument);
}

TEST(Pool, InitializerAndErrors) {
    Pool pool(1, corio::process::bind(set_offset, 1000));
    EXPECT_EQ(pool.map(offset, std::vector<int>{1, 2}), (std::vector<int>{1001, 1002}));
    EXPECT_THROW(pool.apply(fail_with, "bad"), corio::process::RemoteError);
}

}  // namespace

int main(int argc, char** argv) {
    corio::process::worker_main_if_child(argc, argv);
    ::testing::InitGoogleTest(&argc, argv);
    return RUN_ALL_TESTS();
}
