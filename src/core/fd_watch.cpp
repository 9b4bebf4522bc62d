// src/core/fd_watch.cpp - add_reader / add_writer: callbacks on the
// readiness of file descriptors the program owns (level-triggered).
#include <string>

#include "corio/event_loop.hpp"
#include "loop_impl.hpp"

namespace corio {

using detail::HandleImpl;

void EventLoop::set_fd_callback(int fd, bool writer, detail::Callback* cb) {
    check_open();
    if (fd < 0) {
        throw std::invalid_argument("fd must be >= 0, got " + std::to_string(fd));
    }
    detail::LoopImpl& im = *impl_;
    if (static_cast<std::size_t>(fd) >= im.fds.size()) {
        if (cb == nullptr) {
            return;
        }
        im.fds.resize(static_cast<std::size_t>(fd) + 1);
    }
    detail::FdWatch& w = im.fds[static_cast<std::size_t>(fd)];
    HandleImpl*& slot = writer ? w.writer : w.reader;
    std::uint32_t bit = writer ? detail::kWritable : detail::kReadable;
    std::uint32_t interest = cb ? (w.interest | bit) : (w.interest & ~bit);
    if (interest != w.interest) {
        im.backend->watch(fd, interest, w.interest, static_cast<std::uint64_t>(fd) << 1);
        im.watched_fds += (interest != 0) - (w.interest != 0);
        w.interest = interest;
    }
    HandleImpl* old = slot;
    slot = cb ? new HandleImpl(*this, std::move(*cb), false) : nullptr;
    if (old) {
        old->cancelled = true;
        old->release();
    }
}

void EventLoop::add_reader(int fd, detail::Callback cb) {
    set_fd_callback(fd, false, &cb);
}
void EventLoop::add_writer(int fd, detail::Callback cb) {
    set_fd_callback(fd, true, &cb);
}

bool EventLoop::remove_reader(int fd) {
    if (closed_ || fd < 0 || static_cast<std::size_t>(fd) >= impl_->fds.size() ||
        impl_->fds[static_cast<std::size_t>(fd)].reader == nullptr) {
        return false;
    }
    set_fd_callback(fd, false, nullptr);
    return true;
}

bool EventLoop::remove_writer(int fd) {
    if (closed_ || fd < 0 || static_cast<std::size_t>(fd) >= impl_->fds.size() ||
        impl_->fds[static_cast<std::size_t>(fd)].writer == nullptr) {
        return false;
    }
    set_fd_callback(fd, true, nullptr);
    return true;
}

}  // namespace corio
