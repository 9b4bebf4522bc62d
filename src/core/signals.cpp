// src/core/signals.cpp - signal handlers that run on a loop.
//
// The C handler only writes the signal number into the owning loop's
// self-pipe (async-signal-safe); the loop reads the pipe like any fd and
// schedules the callbacks. `g_signal_fd[sig]` is that pipe's write end, or
// -1; a loop sets it when it registers the signal and clears it (if it is
// still its own) when it removes it or closes.
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <system_error>

#include "corio/event_loop.hpp"

namespace corio {

namespace {

constexpr int kMaxSignal = 65;
std::atomic<int> g_signal_fd[kMaxSignal];

struct SignalFdInit {
    SignalFdInit() {
        for (auto& f : g_signal_fd) {
            f.store(-1);
        }
    }
} g_signal_fd_init;

extern "C" void on_signal(int sig) {
    int saved = errno;
    if (sig > 0 && sig < kMaxSignal) {
        int fd = g_signal_fd[sig].load(std::memory_order_relaxed);
        if (fd >= 0) {
            unsigned char b = static_cast<unsigned char>(sig);
            [[maybe_unused]] ssize_t n = ::write(fd, &b, 1);
        }
    }
    errno = saved;
}

// Per loop: the self-pipe and the callbacks. Keyed by loop in a registry,
// so the loop's header carries no signal state.
struct LoopSignals {
    int pipe_r = -1;
    int pipe_w = -1;
    std::map<int, std::shared_ptr<detail::Callback>> handlers;
};

std::map<const EventLoop*, LoopSignals>& registry() {
    static auto* r =
        new std::map<const EventLoop*, LoopSignals>;  // loop thread access only per loop
    return *r;
}
std::mutex g_registry_mu;

void check_signal(int sig) {
    if (sig <= 0 || sig >= kMaxSignal || sig == SIGKILL || sig == SIGSTOP) {
        throw std::invalid_argument("add_signal_handler: invalid signal " + std::to_string(sig));
    }
}

}  // namespace

void EventLoop::add_signal_handler(int sig, detail::Callback cb) {
    check_signal(sig);
    check_open();
    LoopSignals* ls;
    {
        std::lock_guard lock(g_registry_mu);
        ls = &registry()[this];
    }
    if (ls->pipe_r < 0) {
        int fds[2];
        if (::pipe2(fds, O_NONBLOCK | O_CLOEXEC) < 0) {
            throw std::system_error(errno, std::generic_category(), "pipe2 (signals)");
        }
        ls->pipe_r = fds[0];
        ls->pipe_w = fds[1];
        add_reader(ls->pipe_r, [this, ls] {
            unsigned char buf[64];
            ssize_t n;
            while ((n = ::read(ls->pipe_r, buf, sizeof buf)) > 0) {
                for (ssize_t i = 0; i < n; ++i) {
                    auto it = ls->handlers.find(buf[i]);
                    if (it != ls->handlers.end()) {
                        std::shared_ptr<detail::Callback> h = it->second;
                        call_soon([h] { (*h)(); });
                    }
                }
            }
        });
    }
    ls->handlers[sig] = std::make_shared<detail::Callback>(std::move(cb));
    g_signal_fd[sig].store(ls->pipe_w);
    struct sigaction sa {};
    sa.sa_handler = &on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    if (::sigaction(sig, &sa, nullptr) < 0) {
        throw std::system_error(errno, std::generic_category(), "sigaction");
    }
}

bool EventLoop::remove_signal_handler(int sig) {
    if (sig <= 0 || sig >= kMaxSignal) {
        return false;
    }
    LoopSignals* ls = nullptr;
    {
        std::lock_guard lock(g_registry_mu);
        auto it = registry().find(this);
        if (it != registry().end()) {
            ls = &it->second;
        }
    }
    if (ls == nullptr || ls->handlers.erase(sig) == 0) {
        return false;
    }
    int mine = ls->pipe_w;
    if (g_signal_fd[sig].compare_exchange_strong(mine, -1)) {
        ::signal(sig, SIG_DFL);
    }
    return true;
}

void EventLoop::remove_all_signal_handlers() noexcept {
    LoopSignals ls;
    {
        std::lock_guard lock(g_registry_mu);
        auto it = registry().find(this);
        if (it == registry().end()) {
            return;
        }
        ls = std::move(it->second);
        registry().erase(it);
    }
    for (auto& [sig, cb] : ls.handlers) {
        int mine = ls.pipe_w;
        if (g_signal_fd[sig].compare_exchange_strong(mine, -1)) {
            ::signal(sig, SIG_DFL);
        }
    }
    remove_reader(ls.pipe_r);
    ::close(ls.pipe_r);
    ::close(ls.pipe_w);
}

}  // namespace corio
