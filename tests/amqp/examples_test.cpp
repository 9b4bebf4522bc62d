// tests/amqp/examples_test.cpp - runs the RabbitMQ examples (examples/amqp/;
// the tour runs them only when scripts/tour.sh could start a server) against
// this binary's rabbitmq-server, with AMQP_URL naming it, and compares what
// each prints with tests/examples/expected/<name>.txt (an exact line, or
// "~ regex"); and what a user without a server sees.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "amqp/rabbit.hpp"
#include "manifest.hpp"

namespace {

struct Outcome {
    int status = -1;
    std::string out;
    double seconds = 0;
};

Outcome run(const std::string& command) {
    Outcome r;
    const auto start = std::chrono::steady_clock::now();
    FILE* p = ::popen(command.c_str(), "r");
    if (!p) {
        return r;
    }
    char buf[4096];
    while (std::size_t n = std::fread(buf, 1, sizeof buf, p)) {
        r.out.append(buf, n);
    }
    int st = ::pclose(p);
    r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return r;
}

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
        out.push_back(line);
    }
    return out;
}

std::string binary(const example::Entry& e) {
    return std::string(CORIO_EXAMPLES_BIN_DIR) + "/" + e.dir + "/" + e.name;
}

std::vector<example::Entry> rabbitmq_entries() {
    std::vector<example::Entry> out;
    for (const example::Entry& e : example::kTour) {
        if (e.needs_rabbitmq) {
            out.push_back(e);
        }
    }
    return out;
}

class AmqpExample : public testing::TestWithParam<example::Entry> {};

TEST_P(AmqpExample, PrintsWhatTheTutorialPrintsOnARealServer) {
    const example::Entry& e = GetParam();
    std::ifstream f(std::string(CORIO_EXAMPLES_EXPECTED_DIR) + "/" + e.name + ".txt");
    ASSERT_TRUE(f) << "missing expected/" << e.name << ".txt";
    std::stringstream expected;
    expected << f.rdbuf();
    // stderr too: a report such as "Future exception was never retrieved"
    // makes the output differ.
    Outcome r = run("AMQP_URL=" + corio_amqp_test::rabbit().url() + " " + binary(e) + " 2>&1");
    EXPECT_EQ(r.status, 0) << r.out;
    std::vector<std::string> want = lines_of(expected.str()), got = lines_of(r.out);
    ASSERT_EQ(got.size(), want.size()) << "whole output:\n" << r.out;
    for (std::size_t i = 0; i < want.size(); ++i) {
        if (want[i].rfind("~ ", 0) == 0) {
            EXPECT_TRUE(std::regex_match(got[i], std::regex(want[i].substr(2))))
                << "line " << i + 1 << ": " << got[i];
        } else {
            EXPECT_EQ(got[i], want[i]) << "line " << i + 1;
        }
    }
    // Its sleeps overlap: the work queue's four 2 s coroutines take 2 s, not
    // 8. The bound leaves room for connecting, declaring a quorum queue and
    // confirms on a loaded machine under a sanitizer.
    EXPECT_GE(r.seconds, e.seconds - 0.01);
    if (e.seconds > 0) {
        EXPECT_LE(r.seconds, 3 * e.seconds) << r.seconds << " s";
    }
}

INSTANTIATE_TEST_SUITE_P(Tour, AmqpExample, testing::ValuesIn(rabbitmq_entries()),
                         [](const testing::TestParamInfo<example::Entry>& info) {
                             return std::string(info.param.name);
                         });

TEST(AmqpExamples, WorkQueueLeavesNothingBehindOnTheServer) {
    // Run twice against one server (here and in Tour/): had an item stayed
    // unacked, the second run would print five lines or more.
    const example::Entry* wq = nullptr;
    for (const example::Entry& e : example::kTour) {
        if (std::string(e.name) == "rabbitmq_work_queue") {
            wq = &e;
        }
    }
    ASSERT_NE(wq, nullptr);
    Outcome r = run("AMQP_URL=" + corio_amqp_test::rabbit().url() + " " + binary(*wq));
    EXPECT_EQ(r.status, 0);
    EXPECT_EQ(r.out,
              "正在执行： Fosen_0\n正在执行： Fosen_1\n正在执行： Fosen_2\n正在执行： Fosen_3\n");
}

TEST(AmqpExamples, WithoutAServerEachSaysHowToGetOne) {
    std::uint16_t port = corio_test::free_loopback_port();  // nobody listens
    for (const example::Entry& e : rabbitmq_entries()) {
        Outcome r = run("AMQP_URL=amqp://u:p@127.0.0.1:" + std::to_string(port) + "/ " + binary(e) +
                        " 2>&1");
        EXPECT_EQ(r.status, 1) << e.name;
        EXPECT_NE(r.out.find("no RabbitMQ server"), std::string::npos) << e.name << ": " << r.out;
        EXPECT_NE(r.out.find("set AMQP_URL"), std::string::npos) << e.name << ": " << r.out;
    }
}

}  // namespace
