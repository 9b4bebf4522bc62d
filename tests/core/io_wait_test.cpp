#include "corio/io_wait.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "corio/corio.hpp"
#include "support/loop_fixture.hpp"
#include "support/pipe.hpp"

using namespace std::chrono_literals;
using corio::FdEvents;
using corio::Task;

using corio_test::Pipe;

TEST(WaitFd, ReadableOnceDataArrives) {
    corio_test::vrun(
        []() -> Task<void> {
            Pipe p;
            auto writer = corio::create_task([](int fd) -> Task<void> {
                co_await corio::sleep(5ms);
                EXPECT_EQ(::write(fd, "x", 1), 1);
            }(p.w));
            co_await corio::wait_readable(p.r);
            char c;
            EXPECT_EQ(::read(p.r, &c, 1), 1);  // the wait did not consume anything
            co_await writer;
        }(),
        nullptr, false);  // real time: readiness comes from the kernel
}

TEST(WaitFd, ReportsWhichOfTheInterestIsReady) {
    corio_test::vrun([]() -> Task<void> {
        Pipe p;
        EXPECT_EQ(co_await corio::wait_fd(p.w, FdEvents::readable | FdEvents::writable),
                  FdEvents::writable);
        EXPECT_EQ(::write(p.w, "x", 1), 1);
        EXPECT_EQ(co_await corio::wait_fd(p.r, FdEvents::readable), FdEvents::readable);
    }());
}

TEST(WaitFd, TheOtherEndClosingMakesTheReadEndReady) {
    corio_test::vrun([]() -> Task<void> {
        Pipe p;
        p.close_w();
        EXPECT_EQ(co_await corio::wait_fd(p.r, FdEvents::readable), FdEvents::readable);
    }());
}

TEST(WaitFd, CancellationWithdrawsTheWaitAndLeavesTheFdAlone) {
    corio_test::vrun([]() -> Task<void> {
        Pipe p;
        // Nothing to read: a deadline cancels the wait.
        EXPECT_THROW(co_await corio::wait_for(corio::wait_readable(p.r), 30s), corio::TimeoutError);
        EXPECT_EQ(::write(p.w, "x", 1), 1);
        co_await corio::wait_readable(p.r);  // the fd can be waited for again
        char c;
        EXPECT_EQ(::read(p.r, &c, 1), 1);
        EXPECT_EQ(::fcntl(p.r, F_GETFD), FD_CLOEXEC);  // still open, untouched
    }());
}

TEST(WaitFd, BadArgumentsAndUnwatchableFdsGiveClearErrors) {
    corio_test::vrun([]() -> Task<void> {
        EXPECT_THROW(co_await corio::wait_readable(-1), std::invalid_argument);
        Pipe p;
        EXPECT_THROW(co_await corio::wait_fd(p.r, FdEvents::none), std::invalid_argument);
        int closed = ::dup(p.r);
        ::close(closed);
        try {
            co_await corio::wait_readable(closed);
            ADD_FAILURE() << "waited on a closed fd";
        } catch (const std::system_error& e) {
            EXPECT_EQ(e.code().value(), EBADF);
        }
        std::FILE* f = std::tmpfile();
        try {
            co_await corio::wait_readable(::fileno(f));
            ADD_FAILURE() << "waited on a regular file";
        } catch (const std::system_error& e) {
            EXPECT_EQ(e.code().value(), EPERM);
        }
        std::fclose(f);
    }());
}
