// Runs each example of the tour and compares what it prints with
// tests/examples/expected/<name>.txt, line by line. One test per example, so
// that ctest runs them in parallel.
//
// Timing (manifest.hpp's Entry::timing): a virtual_time example runs with
// CORIO_VIRTUAL_TIME=1, where the loop's clock jumps, so the timings it
// prints ("executed in 2.00 seconds") are exact and the check also proves
// the concurrency. A real_time example (threads) runs on the real clock: its
// expected file matches printed times with regexes, and the test checks that
// the run took Entry::seconds of wall time, give or take a tolerance that
// still tells a concurrent run from a sequential one.
//
// Expected-file syntax, one entry per line:
//   text          the actual line must equal it;
//   ~ regex       the actual line must match the (ECMAScript) regex;
//   @tag line     a run of consecutive "@" lines matches as many actual lines
//                 that are an interleaving of the tags' lines: lines with the
//                 same tag appear in the given order, lines with different
//                 tags in any order (output of several threads). `line` is
//                 text or "~ regex".
#include <fcntl.h>
#include <gtest/gtest.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <fstream>
#include <functional>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "manifest.hpp"

extern char** environ;

namespace {

struct Result {
    int status = -1;
    std::string out;
    double seconds = 0;  // wall time from spawn to exit
};

Result run_example(const std::string& path, bool virtual_time) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) {
        return {};
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fds[1], 1);
    std::vector<std::string> env_store;
    for (char** e = environ; *e; ++e) {
        if (std::strncmp(*e, "CORIO_VIRTUAL_TIME=", 19) != 0) {
            env_store.emplace_back(*e);
        }
    }
    if (virtual_time) {
        env_store.emplace_back("CORIO_VIRTUAL_TIME=1");
    }
    std::vector<char*> envp;
    for (auto& s : env_store) {
        envp.push_back(s.data());
    }
    envp.push_back(nullptr);
    char* argv[] = {const_cast<char*>(path.c_str()), nullptr};
    pid_t pid = -1;
    const auto start = std::chrono::steady_clock::now();
    int err = ::posix_spawn(&pid, path.c_str(), &actions, nullptr, argv, envp.data());
    posix_spawn_file_actions_destroy(&actions);
    ::close(fds[1]);
    Result r;
    if (err != 0) {
        ::close(fds[0]);
        r.out = "cannot start " + path;
        return r;
    }
    char buf[4096];
    ssize_t n;
    while ((n = ::read(fds[0], buf, sizeof buf)) > 0) {
        r.out.append(buf, static_cast<std::size_t>(n));
    }
    ::close(fds[0]);
    int status = 0;
    ::waitpid(pid, &status, 0);
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    r.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return r;
}

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        out.push_back(line);
    }
    return out;
}

// One expected line (without its "@tag "): text or "~ regex".
bool line_matches(const std::string& want, const std::string& got) {
    if (want.rfind("~ ", 0) == 0) {
        return std::regex_match(got, std::regex(want.substr(2)));
    }
    return got == want;
}

// True if got[0..) is an interleaving of `streams` (each in its own order).
bool interleaves(const std::vector<std::vector<std::string>>& streams,
                 const std::vector<std::string>& got) {
    std::vector<std::size_t> next(streams.size(), 0);
    // Depth-first over which stream supplies each line; blocks are small.
    std::function<bool(std::size_t)> from = [&](std::size_t pos) {
        if (pos == got.size()) {
            return true;
        }
        for (std::size_t s = 0; s < streams.size(); ++s) {
            if (next[s] < streams[s].size() && line_matches(streams[s][next[s]], got[pos])) {
                ++next[s];
                if (from(pos + 1)) {
                    return true;
                }
                --next[s];
            }
        }
        return false;
    };
    return from(0);
}

// Compares the output with the expected entries; returns what went wrong
// first, or an empty string.
std::string compare(const std::vector<std::string>& want, const std::vector<std::string>& got) {
    std::size_t g = 0;
    for (std::size_t w = 0; w < want.size();) {
        if (want[w].rfind("@", 0) == 0) {
            std::vector<std::string> tags;
            std::vector<std::vector<std::string>> streams;
            std::size_t end = w;
            for (; end < want.size() && want[end].rfind("@", 0) == 0; ++end) {
                std::size_t space = want[end].find(' ');
                std::string tag = want[end].substr(1, space - 1);
                std::string body = space == std::string::npos ? "" : want[end].substr(space + 1);
                auto it = std::find(tags.begin(), tags.end(), tag);
                if (it == tags.end()) {
                    tags.push_back(tag);
                    streams.emplace_back();
                    it = tags.end() - 1;
                }
                streams[static_cast<std::size_t>(it - tags.begin())].push_back(body);
            }
            std::size_t n = end - w;
            if (g + n > got.size()) {
                return "expected lines " + std::to_string(w + 1) + "-" + std::to_string(end) +
                       " (an interleaving), but the output ended";
            }
            std::vector<std::string> block(got.begin() + static_cast<std::ptrdiff_t>(g),
                                           got.begin() + static_cast<std::ptrdiff_t>(g + n));
            if (!interleaves(streams, block)) {
                return "output lines " + std::to_string(g + 1) + "-" + std::to_string(g + n) +
                       " are not an interleaving of expected lines " + std::to_string(w + 1) + "-" +
                       std::to_string(end);
            }
            g += n;
            w = end;
            continue;
        }
        if (g >= got.size()) {
            return "line " + std::to_string(g + 1) + ": expected " + want[w] + ", got nothing";
        }
        if (!line_matches(want[w], got[g])) {
            return "line " + std::to_string(g + 1) + ": expected " + want[w] + "\n  got " + got[g];
        }
        ++w;
        ++g;
    }
    if (g < got.size()) {
        return "line " + std::to_string(g + 1) + ": unexpected " + got[g];
    }
    return {};
}

class Example : public testing::TestWithParam<example::Entry> {};

TEST_P(Example, PrintsWhatTheTutorialPrints) {
    const example::Entry& e = GetParam();
    std::ifstream f(std::string(CORIO_EXAMPLES_EXPECTED_DIR) + "/" + e.name + ".txt");
    ASSERT_TRUE(f) << "missing expected/" << e.name << ".txt";
    std::stringstream expected_text;
    expected_text << f.rdbuf();
    const bool virtual_time = e.timing == example::Timing::virtual_time;
    Result r =
        run_example(std::string(CORIO_EXAMPLES_BIN_DIR) + "/" + e.dir + "/" + e.name, virtual_time);
    EXPECT_EQ(r.status, 0) << r.out;
    std::string problem = compare(lines_of(expected_text.str()), lines_of(r.out));
    EXPECT_EQ(problem, "") << "whole output:\n" << r.out;
    if (!virtual_time) {
        // Sleeps never end early; lateness is allowed for a loaded machine
        // (2 shared cores running two examples at once, sanitizers, other
        // builds), but not so much that a sequential run would pass for a
        // concurrent one (that doubles the time of every timed example).
        EXPECT_GE(r.seconds, e.seconds - 0.01) << "ran for " << r.seconds << " s";
        if (e.seconds > 0) {  // an example that sleeps nowhere has no concurrency to prove
            EXPECT_LE(r.seconds, e.seconds + std::max(0.75, 0.5 * e.seconds))
                << "ran for " << r.seconds << " s";
        }
    }
}

// The examples that need a server run in tests/redis, tests/sql and
// tests/amqp (examples_test), each against a server that test starts.
std::vector<example::Entry> serverless_entries() {
    std::vector<example::Entry> out;
    for (const example::Entry& e : example::kTour) {
        if (!e.needs_redis && !e.needs_rabbitmq && e.needs_db == nullptr) {
            out.push_back(e);
        }
    }
    return out;
}

INSTANTIATE_TEST_SUITE_P(Tour, Example, testing::ValuesIn(serverless_entries()),
                         [](const testing::TestParamInfo<example::Entry>& info) {
                             return std::string(info.param.name);
                         });

}  // namespace
