// Signal handlers on the loop, and run()'s handling of SIGINT.
#include <gtest/gtest.h>
#include <signal.h>

#include <thread>

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
