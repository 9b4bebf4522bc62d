// White-box tests of I/O operations on registered fds (src/core/io.hpp):
// what every backend must do the same way.
#include "core/io.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cerrno>

#include "corio/corio.hpp"
#include "support/loop_fixture.hpp"
#include "support/pipe.hpp"

using namespace std::chrono_literals;
using corio::Task;
using corio::detail::IoOp;
using corio::detail::IoState;
using corio::detail::LoopAccess;
using corio::detail::OpAwait;
using corio::detail::OpKind;
using corio::detail::wait_ready;

namespace {

using corio_test::Pipe;

// The read end of a pipe, registered with the running loop.
struct Registered {
    IoState st;
    explicit Registered(int fd) {
        st.fd = fd;
        st.is_socket = false;
        LoopAccess::io_register(corio::get_running_loop(), st);
    }
    ~Registered() { LoopAccess::io_unregister(st); }
};

IoOp read_op(IoState& st, char* buf, std::size_t len) {
    IoOp op;
    op.kind = OpKind::read;
    op.io = &st;
    op.buf = buf;
    op.len = len;
    return op;
}

Task<void> write_later(int fd, std::string data) {
    co_await corio::sleep(5ms);
    EXPECT_EQ(::write(fd, data.data(), data.size()), static_cast<ssize_t>(data.size()));
}

}  // namespace

TEST(IoOp, AReadWaitsForDataAndReturnsIt) {
    corio_test::vrun(
        []() -> Task<void> {
            Pipe p;
            Registered reg(p.r);
            auto writer = corio::create_task(write_later(p.w, "hello"));
            char buf[16];
            int n = co_await OpAwait(read_op(reg.st, buf, sizeof buf));
            EXPECT_EQ(n, 5);
            EXPECT_EQ(std::string(buf, 5), "hello");
            co_await writer;
        }(),
        nullptr, false);  // real time: the pipe's readiness comes from the kernel
}

// epoll tries the syscall at once; io_uring always goes through the ring
// (and the read finishes in the next poll).
TEST(IoOp, AReadOfDataAlreadyThereFinishesWithoutWaitingOnEpoll) {
    corio_test::vrun([]() -> Task<void> {
        Pipe p;
        Registered reg(p.r);
        EXPECT_EQ(::write(p.w, "xy", 2), 2);
        co_await corio::sleep(1ms);  // one poll: the edge is seen
        char buf[4];
        if (std::string(corio::get_running_loop().backend_name()) == "epoll") {
            OpAwait op(read_op(reg.st, buf, sizeof buf));
            EXPECT_TRUE(op.await_ready());
            EXPECT_EQ(op.res, 2);
        } else {
            EXPECT_EQ(co_await OpAwait(read_op(reg.st, buf, sizeof buf)), 2);
        }
        co_return;
    }());
}

TEST(IoOp, OneOperationPerDirectionAndCancellationWithdrawsIt) {
    corio_test::vrun(
        []() -> Task<void> {
            Pipe p;
            Registered reg(p.r);
            auto first = corio::create_task(
                [](IoState& s) -> Task<void> { co_await wait_ready(s, false); }(reg.st));
            co_await corio::sleep(1ms);
            EXPECT_NE(reg.st.reading, nullptr);
            EXPECT_THROW(co_await wait_ready(reg.st, false), corio::RuntimeError);
            first.cancel();
            EXPECT_THROW(co_await first, corio::CancelledError);
            EXPECT_EQ(reg.st.reading, nullptr);  // cancellation withdrew the wait
            // The direction is free again: the next wait is served.
            EXPECT_EQ(::write(p.w, "z", 1), 1);
            int ready = co_await wait_ready(reg.st, false);
            EXPECT_NE(ready & corio::detail::kIoReadable, 0);
        }(),
        nullptr, false);
}

TEST(IoOp, UnregisteringEndsAWaitingReadWithEbadf) {
    corio_test::vrun(
        []() -> Task<void> {
            Pipe p;
            IoState st;
            st.fd = p.r;
            st.is_socket = false;
            LoopAccess::io_register(corio::get_running_loop(), st);
            char buf[4];
            auto reader = corio::create_task([](IoState& s, char* b) -> Task<int> {
                co_return co_await OpAwait(read_op(s, b, 4));
            }(st, buf));
            co_await corio::sleep(1ms);
            LoopAccess::io_unregister(st);
            EXPECT_EQ(co_await reader, -EBADF);
            // A closed fd refuses new operations.
            EXPECT_THROW(co_await OpAwait(read_op(st, buf, 4)), corio::RuntimeError);
        }(),
        nullptr, false);
}

TEST(IoOp, BytesLeftInTheStashAreReadFirst) {
    corio_test::vrun([]() -> Task<void> {
        Pipe p;
        Registered reg(p.r);
        reg.st.stash = "kept";  // what a cancelled receive left behind
        EXPECT_EQ(::write(p.w, "new", 3), 3);
        char buf[3];
        int n = co_await OpAwait(read_op(reg.st, buf, sizeof buf));
        EXPECT_EQ(std::string(buf, static_cast<std::size_t>(n)), "kep");
        n = co_await OpAwait(read_op(reg.st, buf, sizeof buf));
        EXPECT_EQ(std::string(buf, static_cast<std::size_t>(n)), "t");
        n = co_await OpAwait(read_op(reg.st, buf, sizeof buf));
        EXPECT_EQ(std::string(buf, static_cast<std::size_t>(n)), "new");
    }());
}
