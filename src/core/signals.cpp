// src/core/signals.cpp - signal handlers that run on a loop.
//
// Every loop with a handler for a signal runs it when the signal reaches the
// process (asyncio allows one handler per signal per loop; several loops in
// several threads each get theirs). The C handler only writes the signal
// number into the self-pipe of every loop that registered the signal
// (async-signal-safe); each loop reads its pipe like any fd and schedules its
// own callbacks.
//
// The fan-out the C handler walks is a lock-free list of slots, one per loop
// that has a handler for any signal: the slot's pipe write end and a mask of
// its signals. Slots are only ever added to the list (never freed), and
// reused once their loop is done with them, so the handler can walk the list
// at any moment. Writers (add/remove, under g_registry_mu) change a slot's
// fields atomically; before a pipe is closed, the remover clears the slot and
// waits until no handler is inside the walk (`g_in_handler`), so a handler
// never writes into an fd that was closed and reused meanwhile.
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>

#include "corio/event_loop.hpp"

namespace corio {

namespace {

constexpr int kMaxSignal = 65;  // signals 1..64: one bit each in a 64-bit mask

std::uint64_t bit_of(int sig) noexcept {
    return std::uint64_t{1} << (sig - 1);
}

struct SignalSlot {
    std::atomic<int> fd{-1};             // the loop's pipe write end, or -1
    std::atomic<std::uint64_t> mask{0};  // the signals that loop handles
    SignalSlot* next = nullptr;          // set before the slot is published
    bool in_use = false;                 // under g_registry_mu
};

std::atomic<SignalSlot*> g_slots{nullptr};
std::atomic<int> g_in_handler{0};

extern "C" void on_signal(int sig) {
    int saved = errno;
    g_in_handler.fetch_add(1, std::memory_order_seq_cst);
    if (sig > 0 && sig < kMaxSignal) {
        unsigned char b = static_cast<unsigned char>(sig);
        for (SignalSlot* s = g_slots.load(std::memory_order_acquire); s != nullptr; s = s->next) {
            if ((s->mask.load(std::memory_order_seq_cst) & bit_of(sig)) == 0) {
                continue;
            }
            int fd = s->fd.load(std::memory_order_seq_cst);
            if (fd >= 0) {
                [[maybe_unused]] ssize_t n = ::write(fd, &b, 1);
            }
        }
    }
    g_in_handler.fetch_sub(1, std::memory_order_seq_cst);
    errno = saved;
}

// Per loop: the self-pipe, its slot and the callbacks. Keyed by loop in a
// registry, so the loop's header carries no signal state. The map's shape is
// guarded by g_registry_mu; a loop's entry is used by that loop's thread.
struct LoopSignals {
    int pipe_r = -1;
    int pipe_w = -1;
    SignalSlot* slot = nullptr;
    std::map<int, std::shared_ptr<detail::Callback>> handlers;
};

std::mutex g_registry_mu;
// How many loops handle each signal (under g_registry_mu): the first installs
// on_signal, the last to leave restores the default action.
int g_loops_per_signal[kMaxSignal];

std::map<const EventLoop*, LoopSignals>& registry() {
    static auto* r = new std::map<const EventLoop*, LoopSignals>;
    return *r;
}

// Under g_registry_mu.
SignalSlot* acquire_slot(int pipe_w) {
    SignalSlot* s = g_slots.load(std::memory_order_acquire);
    for (; s != nullptr && s->in_use; s = s->next) {
    }
    if (s == nullptr) {
        s = new SignalSlot;  // never freed: a handler may be walking the list
        s->next = g_slots.load(std::memory_order_relaxed);
        g_slots.store(s, std::memory_order_release);
    }
    s->in_use = true;
    s->mask.store(0);
    s->fd.store(pipe_w);
    return s;
}

// Under g_registry_mu. After it returns no handler writes to the slot's pipe.
void release_slot(SignalSlot* s) noexcept {
    s->mask.store(0);
    s->fd.store(-1);
    while (g_in_handler.load(std::memory_order_seq_cst) != 0) {
        std::this_thread::yield();  // a handler in flight may still hold the old fd
    }
    s->in_use = false;
}

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
        std::lock_guard lock(g_registry_mu);
        ls->slot = acquire_slot(ls->pipe_w);
    }
    std::lock_guard lock(g_registry_mu);
    bool first_for_loop = ls->handlers.find(sig) == ls->handlers.end();
    ls->handlers[sig] = std::make_shared<detail::Callback>(std::move(cb));
    if (first_for_loop) {
        ++g_loops_per_signal[sig];
    }
    ls->slot->mask.fetch_or(bit_of(sig));
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
    {
        std::lock_guard lock(g_registry_mu);
        auto it = registry().find(this);
        if (it == registry().end() || it->second.handlers.erase(sig) == 0) {
            return false;
        }
        it->second.slot->mask.fetch_and(~bit_of(sig));
        if (--g_loops_per_signal[sig] == 0) {
            ::signal(sig, SIG_DFL);
        }
        if (!it->second.handlers.empty()) {
            return true;
        }
    }
    remove_all_signal_handlers();  // the last one: the pipe and its fd watch go too
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
        for (auto& [sig, cb] : ls.handlers) {
            if (--g_loops_per_signal[sig] == 0) {
                ::signal(sig, SIG_DFL);
            }
        }
        if (ls.slot != nullptr) {
            release_slot(ls.slot);
        }
    }
    if (ls.pipe_r >= 0) {
        remove_reader(ls.pipe_r);
        ::close(ls.pipe_r);
        ::close(ls.pipe_w);
    }
}

}  // namespace corio
