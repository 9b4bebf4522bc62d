// src/core/backend_epoll.cpp - the epoll readiness backend.
#include <sys/epoll.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <system_error>

#include "backend.hpp"

namespace corio::detail {
namespace {

std::uint32_t to_epoll(std::uint32_t interest) {
    std::uint32_t ev = 0;
    if (interest & kReadable) {
        ev |= EPOLLIN;
    }
    if (interest & kWritable) {
        ev |= EPOLLOUT;
    }
    return ev;
}

class EpollBackend final : public Backend {
public:
    EpollBackend() : ep_(::epoll_create1(EPOLL_CLOEXEC)) {
        if (ep_ < 0) {
            throw std::system_error(errno, std::generic_category(), "epoll_create1");
        }
    }
    ~EpollBackend() override { ::close(ep_); }

    void watch(int fd, std::uint32_t interest, std::uint32_t old_interest,
               std::uint64_t token) override {
        epoll_event ev{};
        ev.events = to_epoll(interest);
        ev.data.u64 = token;
        int op = interest == 0 ? EPOLL_CTL_DEL : old_interest == 0 ? EPOLL_CTL_ADD : EPOLL_CTL_MOD;
        if (::epoll_ctl(ep_, op, fd, &ev) < 0) {
            if (op == EPOLL_CTL_DEL && (errno == EBADF || errno == ENOENT)) {
                return;  // the fd was closed first: the kernel already forgot it
            }
            throw std::system_error(errno, std::generic_category(),
                                    "epoll_ctl(fd " + std::to_string(fd) + ")");
        }
    }

    void watch_edge(int fd, std::uint64_t token) override {
        epoll_event ev{};
        ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
        ev.data.u64 = token;
        if (::epoll_ctl(ep_, EPOLL_CTL_ADD, fd, &ev) < 0) {
            throw std::system_error(errno, std::generic_category(),
                                    "epoll_ctl(ADD fd " + std::to_string(fd) + ")");
        }
    }

    void unwatch(int fd) noexcept override {
        epoll_event ev{};
        ::epoll_ctl(ep_, EPOLL_CTL_DEL, fd, &ev);
    }

    int wait(IoEvent* out, int max, std::int64_t timeout_ns) override {
        epoll_event evs[256];
        if (max > 256) {
            max = 256;
        }
        int n;
        if (timeout_ns < 0) {
            n = ::epoll_wait(ep_, evs, max, -1);
        } else {
            timespec ts{static_cast<time_t>(timeout_ns / 1000000000),
                        static_cast<long>(timeout_ns % 1000000000)};
            n = ::epoll_pwait2(ep_, evs, max, &ts, nullptr);
        }
        if (n < 0) {
            if (errno == EINTR) {
                return 0;
            }
            throw std::system_error(errno, std::generic_category(), "epoll_wait");
        }
        for (int i = 0; i < n; ++i) {
            std::uint32_t e = 0;
            if (evs[i].events & EPOLLIN) {
                e |= kReadable;
            }
            if (evs[i].events & EPOLLRDHUP) {
                e |= kReadable | kPeerClosed;
            }
            if (evs[i].events & EPOLLOUT) {
                e |= kWritable;
            }
            if (evs[i].events & EPOLLERR) {
                e |= kError;
            }
            if (evs[i].events & EPOLLHUP) {
                e |= kHangup;
            }
            out[i] = IoEvent{evs[i].data.u64, e};
        }
        return n;
    }

    const char* name() const noexcept override { return "epoll"; }

private:
    int ep_;
};

}  // namespace

std::unique_ptr<Backend> make_epoll_backend() {
    return std::make_unique<EpollBackend>();
}

}  // namespace corio::detail
