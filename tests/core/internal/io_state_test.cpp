#include "corio/detail/io_state.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include "corio/corio.hpp"
#include "support/loop_fixture.hpp"

using namespace std::chrono_literals;
using corio::Task;
using corio::detail::IoState;
using corio::detail::IoWait;
using corio::detail::LoopAccess;

namespace {

struct Pipe {
    int r = -1, w = -1;
    Pipe() {
        int fds[2];
        EXPECT_EQ(::pipe2(fds, O_NONBLOCK | O_CLOEXEC), 0);
        r = fds[0];
        w = fds[1];
    }
    ~Pipe() {
        ::close(r);
        ::close(w);
    }
};

}  // namespace

TEST(IoState, ATaskWaitsForReadabilityAndIsWokenByTheEdge) {
    corio_test::vrun(
        []() -> Task<void> {
            Pipe p;
            IoState st;
            st.fd = p.r;
            LoopAccess::io_register(corio::get_running_loop(), st);
            st.ready &= ~corio::detail::kIoReadable;
            auto writer = corio::create_task([](int fd) -> Task<void> {
                co_await corio::sleep(5ms);
                EXPECT_EQ(::write(fd, "x", 1), 1);
            }(p.w));
            co_await IoWait(st, false);
            char c;
            EXPECT_EQ(::read(p.r, &c, 1), 1);
            co_await writer;
            LoopAccess::io_unregister(st);
        }(),
        nullptr, false);  // real time: the pipe's edge comes from the kernel
}

TEST(IoState, WritableAtOnceAndOneWaiterPerDirection) {
    corio_test::vrun(
        []() -> Task<void> {
            Pipe p;
            IoState st;
            st.fd = p.r;
            LoopAccess::io_register(corio::get_running_loop(), st);
            co_await corio::sleep(1ms);  // one poll: the empty pipe's read end is not readable
            EXPECT_FALSE(st.readable());
            auto first =
                corio::create_task([](IoState& s) -> Task<void> { co_await IoWait(s, false); }(st));
            co_await corio::sleep(1ms);
            EXPECT_THROW(co_await IoWait(st, false), corio::RuntimeError);
            first.cancel();
            EXPECT_THROW(co_await first, corio::CancelledError);
            EXPECT_EQ(st.reader, nullptr);  // cancellation withdrew the wait
            LoopAccess::io_unregister(st);
            EXPECT_THROW(co_await IoWait(st, false), corio::RuntimeError);  // closed
        }(),
        nullptr, false);
}
