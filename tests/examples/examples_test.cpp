// Runs each example of the tour with CORIO_VIRTUAL_TIME=1 and compares what
// it prints with tests/examples/expected/<name>.txt, line by line. On virtual
// time the loop's clock jumps, so the timings the examples print ("executed
// in 2.00 seconds") are exact and the check also proves the concurrency.
//
// Expected-file syntax: a line is compared verbatim, except a line starting
// with "~ ", whose rest is a regular expression the actual line must match.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
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
};

Result run_example(const std::string& path) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) {
        return {};
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fds[1], 1);
    std::vector<std::string> env_store;
    for (char** e = environ; *e; ++e) {
        env_store.emplace_back(*e);
    }
    env_store.emplace_back("CORIO_VIRTUAL_TIME=1");
    std::vector<char*> envp;
    for (auto& s : env_store) {
        envp.push_back(s.data());
    }
    envp.push_back(nullptr);
    char* argv[] = {const_cast<char*>(path.c_str()), nullptr};
    pid_t pid = -1;
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

class Example : public testing::TestWithParam<example::Entry> {};

TEST_P(Example, PrintsWhatTheTutorialPrints) {
    const example::Entry& e = GetParam();
    std::ifstream f(std::string(CORIO_EXAMPLES_EXPECTED_DIR) + "/" + e.name + ".txt");
    ASSERT_TRUE(f) << "missing expected/" << e.name << ".txt";
    std::stringstream expected_text;
    expected_text << f.rdbuf();
    Result r = run_example(std::string(CORIO_EXAMPLES_BIN_DIR) + "/" + e.dir + "/" + e.name);
    EXPECT_EQ(r.status, 0) << r.out;
    std::vector<std::string> want = lines_of(expected_text.str());
    std::vector<std::string> got = lines_of(r.out);
    for (std::size_t i = 0; i < want.size() || i < got.size(); ++i) {
        const std::string w = i < want.size() ? want[i] : "<nothing>";
        const std::string g = i < got.size() ? got[i] : "<nothing>";
        if (w.rfind("~ ", 0) == 0) {
            EXPECT_TRUE(std::regex_match(g, std::regex(w.substr(2))))
                << "line " << i + 1 << ": " << g << "\n  does not match " << w.substr(2)
                << "\nwhole output:\n"
                << r.out;
        } else {
            EXPECT_EQ(g, w) << "line " << i + 1 << "\nwhole output:\n" << r.out;
        }
        if (g != w && w.rfind("~ ", 0) != 0) {
            break;
        }
    }
}

INSTANTIATE_TEST_SUITE_P(Tour, Example, testing::ValuesIn(example::kTour),
                         [](const testing::TestParamInfo<example::Entry>& info) {
                             return std::string(info.param.name);
                         });

}  // namespace
