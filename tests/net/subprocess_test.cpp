#include "corio/net/subprocess.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "corio/corio.hpp"
#include "net/net_fixture.hpp"

using namespace std::chrono_literals;
using corio::Task;
namespace net = corio::net;
using corio_test::net_run;

TEST(Subprocess, CommunicateFeedsStdinAndCollectsBothOutputs) {
    net_run([]() -> Task<void> {
        auto proc = co_await net::create_subprocess_shell(
            "sort -r; echo done >&2; exit 3",
            {.stdin_ = net::PIPE, .stdout_ = net::PIPE, .stderr_ = net::PIPE});
        EXPECT_GT(proc.pid(), 0);
        auto [out, err] = co_await proc.communicate("b\na\nc\n");
        EXPECT_EQ(out, "c\nb\na\n");
        EXPECT_EQ(err, "done\n");
        EXPECT_EQ(proc.returncode(), 3);
        EXPECT_EQ(co_await proc.wait(), 3);  // again: the same status
    }());
}

TEST(Subprocess, LargeOutputDoesNotDeadlock) {
    net_run([]() -> Task<void> {
        // 8 MiB on stdout and on stderr: far more than a pipe holds.
        auto proc = co_await net::create_subprocess_exec(
            "sh", "-c", "head -c 8388608 /dev/zero; head -c 8388608 /dev/zero >&2",
            net::SubprocessOptions{.stdout_ = net::PIPE, .stderr_ = net::PIPE});
        auto [out, err] = co_await proc.communicate();
        EXPECT_EQ(out.size(), 8u << 20);
        EXPECT_EQ(err.size(), 8u << 20);
        EXPECT_EQ(proc.returncode(), 0);
    }());
}

TEST(Subprocess, StreamsReadLineByLineAndStderrCanFollowStdout) {
    net_run([]() -> Task<void> {
        auto proc = co_await net::create_subprocess_exec(
            "sh", "-c", "echo one; echo two >&2; echo three",
            net::SubprocessOptions{.stdout_ = net::PIPE, .stderr_ = net::STDOUT});
        std::vector<std::string> lines;
        while (true) {
            std::string line = co_await proc.stdout_->readline();
            if (line.empty()) {
                break;
            }
            lines.push_back(line);
        }
        EXPECT_EQ(lines, (std::vector<std::string>{"one\n", "two\n", "three\n"}));
        EXPECT_EQ(co_await proc.wait(), 0);
        EXPECT_FALSE(proc.stderr_);
    }());
}

TEST(Subprocess, TerminateAndKillGiveNegativeSignalNumbers) {
    net_run([]() -> Task<void> {
        auto proc = co_await net::create_subprocess_exec("sleep", "60");
        EXPECT_EQ(proc.returncode(), std::nullopt);
        proc.terminate();
        EXPECT_EQ(co_await proc.wait(), -SIGTERM);
        proc.kill();                          // reaped already: a no-op, never a stray signal
        std::vector<std::string> args{"60"};  // the vector form, named first
        auto proc2 = co_await net::create_subprocess_exec("sleep", args);
        proc2.send_signal(SIGKILL);
        EXPECT_EQ(co_await proc2.wait(), -SIGKILL);
    }());
}

TEST(Subprocess, ACancelledWaitLeavesTheProcessAwaitable) {
    net_run([]() -> Task<void> {
        auto proc = co_await net::create_subprocess_exec("sleep", "60");
        EXPECT_THROW(co_await corio::wait_for(proc.wait(), 10ms), corio::TimeoutError);
        proc.kill();
        EXPECT_EQ(co_await proc.wait(), -SIGKILL);  // not CancelledError
        EXPECT_EQ(co_await proc.wait(), -SIGKILL);
    }());
}

TEST(Subprocess, WriteEofClosesTheChildsStdin) {
    net_run([]() -> Task<void> {
        auto proc = co_await net::create_subprocess_exec(
            "cat", net::SubprocessOptions{.stdin_ = net::PIPE, .stdout_ = net::PIPE});
        proc.stdin_->write("no newline at the end");
        proc.stdin_->write_eof();  // a pipe has no half-close: it is closed, as in asyncio
        co_await proc.stdin_->wait_closed();
        EXPECT_EQ(co_await proc.stdout_->read(), "no newline at the end");
        EXPECT_EQ(co_await proc.wait(), 0);
    }());
}

TEST(Subprocess, WritingToAChildThatExitedIsAnErrorNotSigpipe) {
    net_run([]() -> Task<void> {
        // The child exits without reading: our writes hit a pipe without a
        // reader. With SIGPIPE at its default this killed the whole process.
        auto proc = co_await net::create_subprocess_exec(
            "true", net::SubprocessOptions{.stdin_ = net::PIPE});
        EXPECT_EQ(co_await proc.wait(), 0);
        proc.stdin_->write(std::string(1 << 20, 'p'));
        EXPECT_THROW(co_await proc.stdin_->drain(), std::system_error);  // EPIPE
        struct sigaction ours {};
        ::sigaction(SIGPIPE, nullptr, &ours);
        EXPECT_EQ(ours.sa_handler, SIG_IGN);  // corio set it, as Python does
        // Children still start with SIGPIPE at its default (exec keeps SIG_IGN).
        auto child = co_await net::create_subprocess_exec(
            "grep", "SigIgn", "/proc/self/status", net::SubprocessOptions{.stdout_ = net::PIPE});
        auto [out, err] = co_await child.communicate();
        (void)err;
        CO_ASSERT_EQ(out.rfind("SigIgn:", 0), 0u);
        unsigned long long ignored = std::stoull(out.substr(7), nullptr, 16);
        EXPECT_EQ((ignored >> (SIGPIPE - 1)) & 1, 0u) << out;
    }());
}

TEST(Subprocess, DevnullCwdAndEnvironment) {
    net_run([]() -> Task<void> {
        std::vector<std::string> env{"GREETING=hi from env"};
        auto proc = co_await net::create_subprocess_exec(
            "/bin/sh", "-c", "pwd; echo \"$GREETING\"; cat",
            net::SubprocessOptions{
                .stdin_ = net::DEVNULL, .stdout_ = net::PIPE, .cwd = "/tmp", .env = &env});
        auto [out, err] = co_await proc.communicate();
        EXPECT_EQ(out, "/tmp\nhi from env\n");
        EXPECT_EQ(proc.returncode(), 0);
    }());
}

// As Python's Popen with env=: a bare program name is looked up on the
// PATH of the child's environment, not on ours.
TEST(Subprocess, ABareNameIsSearchedOnTheGivenEnvironmentsPath) {
    char dir[] = "/tmp/corio-path-XXXXXX";
    ASSERT_NE(::mkdtemp(dir), nullptr);
    std::string prog = std::string(dir) + "/corio-only-here";
    {
        std::ofstream f(prog);
        f << "#!/bin/sh\necho found\n";
    }
    ::chmod(prog.c_str(), 0755);
    net_run([](std::string d) -> Task<void> {
        std::vector<std::string> env{"PATH=/nonexistent:" + d};
        auto proc = co_await net::create_subprocess_exec(
            "corio-only-here", net::SubprocessOptions{.stdout_ = net::PIPE, .env = &env});
        auto [out, err] = co_await proc.communicate();
        EXPECT_EQ(out, "found\n");
        std::vector<std::string> no_sh{"PATH=/nonexistent"};
        try {
            co_await net::create_subprocess_exec("sh", net::SubprocessOptions{.env = &no_sh});
            ADD_FAILURE() << "sh was found on our PATH, not the child's";
        } catch (const std::system_error& e) {
            EXPECT_EQ(e.code().value(), ENOENT);
        }
    }(dir));
    ::unlink(prog.c_str());
    ::rmdir(dir);
}

TEST(Subprocess, AMissingProgramIsAClearError) {
    net_run([]() -> Task<void> {
        try {
            co_await net::create_subprocess_exec("/no/such/program");
            ADD_FAILURE();
        } catch (const std::system_error& e) {
            EXPECT_EQ(e.code().value(), ENOENT);
            EXPECT_NE(std::string(e.what()).find("/no/such/program"), std::string::npos);
        }
        EXPECT_THROW(co_await net::create_subprocess_exec(""), std::invalid_argument);
        auto proc = co_await net::create_subprocess_exec("true");
        EXPECT_THROW(co_await proc.communicate("input"), std::invalid_argument);
        co_await proc.wait();
    }());
}

TEST(Subprocess, ChildrenOfLoopsInSeveralThreads) {
    auto run_one = [](int n) {
        return corio::run([](int k) -> Task<int> {
            auto proc = co_await net::create_subprocess_shell("exit " + std::to_string(k));
            co_return co_await proc.wait();
        }(n));
    };
    std::vector<std::thread> threads;
    std::vector<int> results(4, -1);
    for (int i = 0; i < 4; ++i) {
        threads.emplace_back([&, i] { results[static_cast<std::size_t>(i)] = run_one(i + 10); });
    }
    for (auto& t : threads) {
        t.join();
    }
    EXPECT_EQ(results, (std::vector<int>{10, 11, 12, 13}));
}
