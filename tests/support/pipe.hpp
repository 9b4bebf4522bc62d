// tests/support/pipe.hpp - a non-blocking pipe that closes its ends.
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

namespace corio_test {

struct Pipe {
    int r = -1, w = -1;
    Pipe() {
        int fds[2];
        EXPECT_EQ(::pipe2(fds, O_NONBLOCK | O_CLOEXEC), 0);
        r = fds[0];
        w = fds[1];
    }
    Pipe(const Pipe&) = delete;
    Pipe& operator=(const Pipe&) = delete;
    ~Pipe() {
        close_r();
        close_w();
    }
    void close_r() {
        if (r >= 0) {
            ::close(r);
            r = -1;
        }
    }
    void close_w() {
        if (w >= 0) {
            ::close(w);
            w = -1;
        }
    }
};

}  // namespace corio_test
