// tests/support/fd_count.hpp - fails the test if it leaked file descriptors.
#pragma once

#include <dirent.h>
#include <gtest/gtest.h>

namespace corio_test {

inline int open_fds() {
    int n = 0;
    if (DIR* d = ::opendir("/proc/self/fd")) {
        while (dirent* e = ::readdir(d)) {
            n += e->d_name[0] != '.';
        }
        ::closedir(d);
    }
    return n - 1;  // the directory stream itself
}

/// Counts open fds at construction and checks the count at destruction.
class FdLeakCheck {
public:
    FdLeakCheck() : before_(open_fds()) {}
    ~FdLeakCheck() { EXPECT_EQ(open_fds(), before_) << "file descriptors leaked"; }

private:
    int before_;
};

}  // namespace corio_test
