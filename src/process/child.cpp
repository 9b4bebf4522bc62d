// Worker processes: spawning, frames, reaping (see child.hpp).
#include "child.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

extern char** environ;

namespace corio::process::detail {

namespace {

[[noreturn]] void throw_errno(int err, const char* what) {
    throw std::system_error(err, std::generic_category(), what);
}

bool write_all(int fd, const char* p, std::size_t n) {
    while (n > 0) {
        ssize_t w = ::send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EINTR) {
                continue;
            }
            return false;
        }
        p += w;
        n -= static_cast<std::size_t>(w);
    }
    return true;
}

bool read_all(int fd, char* p, std::size_t n) {
    while (n > 0) {
        ssize_t r = ::read(fd, p, n);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r <= 0) {
            return false;
        }
        p += r;
        n -= static_cast<std::size_t>(r);
    }
    return true;
}

}  // namespace

bool send_frame(int fd, std::string_view payload) {
    std::uint64_t n = payload.size();
    char header[8];
    std::memcpy(header, &n, 8);
    if (payload.size() < 64 * 1024) {  // one write for the small calls
        std::string buf(header, 8);
        buf.append(payload);
        return write_all(fd, buf.data(), buf.size());
    }
    return write_all(fd, header, 8) && write_all(fd, payload.data(), payload.size());
}

bool recv_frame(int fd, std::string& payload) {
    char header[8];
    if (!read_all(fd, header, 8)) {
        return false;
    }
    std::uint64_t n = 0;
    std::memcpy(&n, header, 8);
    if (n > kMaxFrame) {
        return false;
    }
    payload.resize(static_cast<std::size_t>(n));
    return read_all(fd, payload.data(), payload.size());
}

Child Child::spawn(Mode mode) {
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
        throw_errno(errno, "corio::process: socketpair");
    }
    // The child's end stays O_CLOEXEC here (another thread may be spawning
    // a child of its own right now, which must not inherit it: a copy would
    // hide this child's death from us). The spawn dup2()s it onto a fixed
    // number in the child only, which clears O_CLOEXEC there.
    const int child_fd = sv[1] == 3 ? 4 : 3;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, sv[1], child_fd);
    std::string marker = std::string(kWorkerMarker) + (mode == Mode::pool ? "pool:" : "once:") +
                         std::to_string(child_fd);
    char exe[] = "/proc/self/exe";
    char* argv[] = {exe, marker.data(), nullptr};
    pid_t pid = -1;
    int err = ::posix_spawn(&pid, exe, &actions, nullptr, argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(sv[1]);
    if (err != 0) {
        ::close(sv[0]);
        throw_errno(err, "corio::process: posix_spawn(/proc/self/exe)");
    }
    Child c;
    c.pid_ = pid;
    c.fd_ = sv[0];
    return c;
}

Child::Child(Child&& o) noexcept
    : pid_(std::exchange(o.pid_, -1)),
      fd_(std::exchange(o.fd_, -1)),
      status_(std::exchange(o.status_, std::nullopt)) {}

Child& Child::operator=(Child&& o) noexcept {
    if (this != &o) {
        this->~Child();
        new (this) Child(std::move(o));
    }
    return *this;
}

Child::~Child() {
    close_channel();
    if (pid_ > 0 && !status_) {
        if (!poll()) {
            signal(SIGKILL);
            wait();
        }
    }
}

void Child::close_channel() noexcept {
    if (fd_ >= 0) {
        ::close(fd_);
        fd_ = -1;
    }
}

int Child::wait() noexcept {
    if (status_ || pid_ <= 0) {
        return status_.value_or(0);
    }
    int st = 0;
    while (::waitpid(pid_, &st, 0) < 0) {
        if (errno != EINTR) {
            st = 0;
            break;
        }
    }
    status_ = st;
    return st;
}

std::optional<int> Child::poll() noexcept {
    if (status_ || pid_ <= 0) {
        return status_;
    }
    int st = 0;
    pid_t r = ::waitpid(pid_, &st, WNOHANG);
    if (r == pid_ || (r < 0 && errno == ECHILD)) {
        status_ = st;
    }
    return status_;
}

bool Child::wait_for(int ms) noexcept {
    if (poll()) {
        return true;
    }
    int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0));
    if (pidfd >= 0) {
        struct pollfd p = {pidfd, POLLIN, 0};
        int r;
        do {
            r = ::poll(&p, 1, ms);
        } while (r < 0 && errno == EINTR);
        ::close(pidfd);
    }
    return poll().has_value();
}

void Child::signal(int sig) noexcept {
    if (pid_ > 0 && !status_) {
        ::kill(pid_, sig);
    }
}

std::string Child::describe(int status) {
    if (WIFSIGNALED(status)) {
        return "was killed by signal " + std::to_string(WTERMSIG(status)) + " (" +
               ::strsignal(WTERMSIG(status)) + ")";
    }
    return "exited with code " + std::to_string(WEXITSTATUS(status));
}

int Child::exitcode(int status) noexcept {
    return WIFSIGNALED(status) ? -WTERMSIG(status) : WEXITSTATUS(status);
}

}  // namespace corio::process::detail
