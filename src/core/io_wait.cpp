// src/core/io_wait.cpp - waiting for the readiness of foreign fds.
#include "corio/io_wait.hpp"

#include <stdexcept>
#include <string>
#include <system_error>

#include "io.hpp"

namespace corio {

namespace {

// The fd, registered with the running loop for the length of one wait.
struct Registration {
    detail::IoState st;
    explicit Registration(int fd) {
        st.fd = fd;
        st.is_socket = false;
        detail::LoopAccess::io_register(detail::running_loop_for("wait_fd()"), st);
    }
    ~Registration() { detail::LoopAccess::io_unregister(st); }
};

}  // namespace

Task<FdEvents> wait_fd(int fd, FdEvents interest) {
    if (fd < 0) {
        throw std::invalid_argument("wait_fd: fd must be >= 0, got " + std::to_string(fd));
    }
    if (!any(interest)) {
        throw std::invalid_argument("wait_fd: interest must name readable and/or writable");
    }
    Registration reg(fd);
    detail::IoOp op;
    op.kind = detail::OpKind::poll;
    op.io = &reg.st;
    op.flags = 0;
    if (any(interest & FdEvents::readable)) {
        op.flags |= detail::kIoReadable;
    }
    if (any(interest & FdEvents::writable)) {
        op.flags |= detail::kIoWritable;
    }
    int r = co_await detail::OpAwait(op);
    if (r < 0) {
        throw std::system_error(-r, std::generic_category(),
                                "wait_fd(fd " + std::to_string(fd) + ")");
    }
    auto seen = static_cast<std::uint32_t>(r);
    bool failed = (seen & (detail::kIoError | detail::kIoHangup)) != 0;
    FdEvents out = FdEvents::none;
    if (failed || (seen & (detail::kIoReadable | detail::kIoPeerClosed))) {
        out = out | FdEvents::readable;
    }
    if (failed || (seen & detail::kIoWritable)) {
        out = out | FdEvents::writable;
    }
    co_return out& interest;
}

Task<void> wait_readable(int fd) {
    co_await wait_fd(fd, FdEvents::readable);
}

Task<void> wait_writable(int fd) {
    co_await wait_fd(fd, FdEvents::writable);
}

}  // namespace corio
