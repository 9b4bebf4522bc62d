// Signal handlers on the loop, and run()'s handling of SIGINT.
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <latch>
#include <thread>
#include <vector>

#include "corio/corio.hpp"
#include "support/loop_fixture.hpp"

using namespace std::chrono_literals;
using corio::Task;

TEST(Signals, AHandlerRunsOnTheLoopWhenTheSignalArrives) {
    corio::EventLoop loop;
    int seen = 0;
    loop.add_signal_handler(SIGUSR1, [&] {
        ++seen;
        loop.stop();
    });
    loop.call_soon([] { ::kill(::getpid(), SIGUSR1); });
    loop.run_forever();
    EXPECT_EQ(seen, 1);
    EXPECT_TRUE(loop.remove_signal_handler(SIGUSR1));
    EXPECT_FALSE(loop.remove_signal_handler(SIGUSR1));
    struct sigaction now {};
    ::sigaction(SIGUSR1, nullptr, &now);
    EXPECT_EQ(now.sa_handler, SIG_DFL);  // the default action is back
}

TEST(Signals, BadSignalsAreRejected) {
    corio::EventLoop loop;
    EXPECT_THROW(loop.add_signal_handler(SIGKILL, [] {}), std::invalid_argument);
    EXPECT_THROW(loop.add_signal_handler(0, [] {}), std::invalid_argument);
    EXPECT_THROW(loop.add_signal_handler(1000, [] {}), std::invalid_argument);
}

TEST(Signals, ClosingTheLoopRestoresTheDefaultAction) {
    {
        corio::EventLoop loop;
        loop.add_signal_handler(SIGUSR2, [] {});
    }
    struct sigaction now {};
    ::sigaction(SIGUSR2, nullptr, &now);
    EXPECT_EQ(now.sa_handler, SIG_DFL);
}

TEST(Signals, SigintCancelsMainAndRunRaisesKeyboardInterrupt) {
    bool cleaned_up = false;
    try {
        corio::run([](bool& c) -> Task<void> {
            ::kill(::getpid(), SIGINT);
            try {
                co_await corio::sleep(1h);
            } catch (const corio::CancelledError&) {
                c = true;
                throw;
            }
        }(cleaned_up));
        ADD_FAILURE() << "no KeyboardInterrupt";
    } catch (const corio::KeyboardInterrupt&) {
    }
    EXPECT_TRUE(cleaned_up);
    struct sigaction now {};
    ::sigaction(SIGINT, nullptr, &now);
    EXPECT_EQ(now.sa_handler, SIG_DFL);
}

TEST(Signals, MainThatSwallowsTheCancellationEndsNormally) {
    int v = corio::run([]() -> Task<int> {
        ::kill(::getpid(), SIGINT);
        try {
            co_await corio::sleep(1h);
        } catch (const corio::CancelledError&) {
        }
        co_return 7;
    }());
    EXPECT_EQ(v, 7);
}

// Until loops kept one handler each, the last loop to register a signal took
// it from every other loop.
TEST(Signals, EveryLoopWithAHandlerRunsItForOneDelivery) {
    constexpr int kLoops = 3;
    std::latch installed(kLoops);
    std::atomic<int> ran{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < kLoops; ++i) {
        threads.emplace_back([&] {
            corio::EventLoop loop;
            corio::Future<void> got(loop);
            loop.add_signal_handler(SIGUSR1, [&] {
                ++ran;
                got.set_result();
            });
            installed.count_down();
            // Bounded, so that a loop the signal never reaches fails the
            // test instead of hanging it.
            loop.run_until_complete(corio::wait_for(got, 30s));
            loop.remove_signal_handler(SIGUSR1);
        });
    }
    installed.wait();
    ::kill(::getpid(), SIGUSR1);
    for (auto& t : threads) {
        t.join();
    }
    EXPECT_EQ(ran, kLoops);
    struct sigaction now {};
    ::sigaction(SIGUSR1, nullptr, &now);
    EXPECT_EQ(now.sa_handler, SIG_DFL);
}

TEST(Signals, RemovingOneLoopsHandlerLeavesTheOtherLoopsTheirs) {
    corio::EventLoop a;
    corio::EventLoop b;
    int ran_a = 0;
    int ran_b = 0;
    a.add_signal_handler(SIGUSR2, [&] { ++ran_a; });
    b.add_signal_handler(SIGUSR2, [&] {
        ++ran_b;
        b.stop();
    });
    EXPECT_TRUE(a.remove_signal_handler(SIGUSR2));
    struct sigaction now {};
    ::sigaction(SIGUSR2, nullptr, &now);
    EXPECT_NE(now.sa_handler, SIG_DFL);  // b still handles it
    ::kill(::getpid(), SIGUSR2);
    b.run_forever();
    for (int i = 0; i < 3; ++i) {
        a.run_once(false);
    }
    EXPECT_EQ(ran_a, 0);
    EXPECT_EQ(ran_b, 1);
    b.close();  // closing the last loop that handles it restores the default
    ::sigaction(SIGUSR2, nullptr, &now);
    EXPECT_EQ(now.sa_handler, SIG_DFL);
}

TEST(Signals, RemovingTheLastHandlerReleasesTheLoopsSignalPipe) {
    corio::EventLoop loop;
    auto before = corio::detail::LoopAccess::census(loop).watched_fds;
    loop.add_signal_handler(SIGUSR1, [] {});
    loop.add_signal_handler(SIGUSR2, [] {});
    EXPECT_EQ(corio::detail::LoopAccess::census(loop).watched_fds, before + 1);
    EXPECT_TRUE(loop.remove_signal_handler(SIGUSR1));
    EXPECT_EQ(corio::detail::LoopAccess::census(loop).watched_fds, before + 1);
    EXPECT_TRUE(loop.remove_signal_handler(SIGUSR2));
    EXPECT_EQ(corio::detail::LoopAccess::census(loop).watched_fds, before);
    // And a new handler works again after that.
    int seen = 0;
    loop.add_signal_handler(SIGUSR1, [&] {
        ++seen;
        loop.stop();
    });
    loop.call_soon([] { ::kill(::getpid(), SIGUSR1); });
    loop.run_forever();
    EXPECT_EQ(seen, 1);
}
