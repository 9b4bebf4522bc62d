// src/net/subprocess.cpp - spawning with posix_spawn and reaping through a
// pidfd the loop watches.
#include "corio/net/subprocess.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

#include "channel.hpp"
#include "connection.hpp"
#include "corio/future.hpp"
#include "corio/gather.hpp"
#include "corio/locks.hpp"
#include "stream_conn.hpp"

extern char** environ;

namespace corio::net {

namespace detail {

namespace {

// The first executable `name` on the PATH of `env` ("NAME=value" entries;
// Python's default search path when it has none), or "".
std::string find_in_path(const std::string& name, const std::vector<std::string>& env) {
    std::string_view path = "/bin:/usr/bin";
    for (const std::string& e : env) {
        if (e.compare(0, 5, "PATH=") == 0) {
            path = std::string_view(e).substr(5);
        }
    }
    for (;;) {
        std::size_t colon = path.find(':');
        std::string_view dir = path.substr(0, colon);
        std::string candidate = (dir.empty() ? std::string(".") : std::string(dir)) + "/" + name;
        struct stat sb;
        if (::stat(candidate.c_str(), &sb) == 0 && S_ISREG(sb.st_mode) &&
            ::access(candidate.c_str(), X_OK) == 0) {
            return candidate;
        }
        if (colon == std::string_view::npos) {
            return {};
        }
        path.remove_prefix(colon + 1);
    }
}

int pidfd_open(pid_t pid) {
    return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
}

int pidfd_send_signal(int pidfd, int sig) {
    return static_cast<int>(::syscall(SYS_pidfd_send_signal, pidfd, sig, nullptr, 0));
}

// Closes an fd unless released.
struct Fd {
    int fd = -1;
    Fd() = default;
    explicit Fd(int f) : fd(f) {}
    Fd(Fd&& o) noexcept : fd(std::exchange(o.fd, -1)) {}
    Fd& operator=(Fd&& o) noexcept {
        reset();
        fd = std::exchange(o.fd, -1);
        return *this;
    }
    ~Fd() { reset(); }
    void reset() {
        if (fd >= 0) {
            ::close(fd);
            fd = -1;
        }
    }
    int release() { return std::exchange(fd, -1); }
};

}  // namespace

class ProcessState {
public:
    pid_t pid = -1;
    Socket pidfd;  // readable when the child has ended
    std::optional<int> returncode;
    Event exited;  // set once reaped (an Event: a cancelled wait() leaves it alone)

    // Waits for the pidfd, then collects the status.
    static Task<void> reap(std::shared_ptr<ProcessState> st) {
        corio::detail::IoState& io = st->pidfd.io();
        for (;;) {
            siginfo_t info{};
            int rc = ::waitid(P_PIDFD, static_cast<id_t>(st->pidfd.fd()), &info, WEXITED | WNOHANG);
            if (rc == 0 && info.si_pid != 0) {
                st->returncode = info.si_code == CLD_EXITED ? info.si_status : -info.si_status;
                break;
            }
            if (rc < 0 && errno != EINTR) {
                st->returncode = 255;  // cannot happen for our own child; end the wait anyway
                break;
            }
            io.read_drained();
            co_await corio::detail::wait_ready(io, false);
        }
        st->pidfd.close();
        st->exited.set();
    }
};

}  // namespace detail

Process::Process(std::shared_ptr<detail::ProcessState> state) noexcept : state_(std::move(state)) {}

pid_t Process::pid() const noexcept {
    return state_->pid;
}
std::optional<int> Process::returncode() const noexcept {
    return state_->returncode;
}

namespace {

Task<int> wait_on(std::shared_ptr<detail::ProcessState> st) {
    co_await st->exited.wait();
    co_return *st->returncode;
}

Task<std::pair<std::string, std::string>> communicate_on(std::shared_ptr<detail::ProcessState> st,
                                                         std::optional<StreamWriter> in,
                                                         std::optional<StreamReader> out,
                                                         std::optional<StreamReader> err,
                                                         std::optional<std::string> input) {
    auto feed = [](std::optional<StreamWriter> w, std::optional<std::string> data) -> Task<void> {
        if (!w) {
            co_return;
        }
        if (data) {
            w->write(*data);
            try {
                co_await w->drain();
            } catch (const std::system_error&) {
                // The child closed its stdin early (EPIPE): as asyncio, ignore.
            }
        }
        w->close();
        co_await w->wait_closed();
    };
    auto drain = [](std::optional<StreamReader> r) -> Task<std::string> {
        if (!r) {
            co_return std::string();
        }
        co_return co_await r->read();
    };
    auto [fed, out_data, err_data] = co_await corio::gather(
        feed(std::move(in), std::move(input)), drain(std::move(out)), drain(std::move(err)));
    (void)fed;
    co_await wait_on(st);
    co_return std::pair<std::string, std::string>(std::move(out_data), std::move(err_data));
}

}  // namespace

// Both copy what they use before returning their lazy task, so a task made
// from a Process that is gone before the task first runs still works.
Task<int> Process::wait() {
    return wait_on(state_);
}

Task<std::pair<std::string, std::string>> Process::communicate(std::optional<std::string> input) {
    if (input && !stdin_) {
        throw std::invalid_argument("communicate: input given but stdin is not a pipe");
    }
    return communicate_on(state_, stdin_, stdout_, stderr_, std::move(input));
}

void Process::send_signal(int sig) {
    if (state_->returncode || !state_->pidfd) {
        return;  // reaped: the pid may belong to someone else now
    }
    if (detail::pidfd_send_signal(state_->pidfd.fd(), sig) < 0 && errno != ESRCH) {
        detail::throw_os_error(errno, "pidfd_send_signal");
    }
}

void Process::terminate() {
    send_signal(SIGTERM);
}
void Process::kill() {
    send_signal(SIGKILL);
}

namespace {

using detail::Fd;

struct Pipe {
    Fd parent;  // our end
    Fd child;   // the child's end (dup2'ed onto 0/1/2)
};

Pipe make_pipe(bool child_reads) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) < 0) {
        detail::throw_os_error(errno, "pipe2");
    }
    Pipe p;
    p.parent = Fd(child_reads ? fds[1] : fds[0]);
    p.child = Fd(child_reads ? fds[0] : fds[1]);
    int flags = ::fcntl(p.parent.fd, F_GETFL);
    ::fcntl(p.parent.fd, F_SETFL, flags | O_NONBLOCK);
    return p;
}

Task<Process> spawn(std::vector<std::string> argv, SubprocessOptions o, std::string cwd,
                    std::optional<std::vector<std::string>> env) {
    if (o.stdin_ == Redirect::stdout_ || o.stdout_ == Redirect::stdout_) {
        throw std::invalid_argument("STDOUT can only be given for stderr_");
    }
    detail::ignore_sigpipe();  // writing to a child that exited: EPIPE, not death
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    struct Cleanup {
        posix_spawn_file_actions_t* a;
        posix_spawnattr_t* at;
        ~Cleanup() {
            posix_spawn_file_actions_destroy(a);
            posix_spawnattr_destroy(at);
        }
    } cleanup{&actions, &attr};
    // The child starts with SIGPIPE at its default, as Python's
    // restore_signals does (an ignored signal would survive exec).
    sigset_t defaults;
    sigemptyset(&defaults);
    sigaddset(&defaults, SIGPIPE);
    posix_spawnattr_setsigdefault(&attr, &defaults);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF);

    std::optional<Pipe> in, out, err;
    auto route = [&](Redirect r, int target, bool child_reads, std::optional<Pipe>& pipe) {
        switch (r) {
            case Redirect::inherit:
                break;
            case Redirect::pipe:
                pipe = make_pipe(child_reads);
                posix_spawn_file_actions_adddup2(&actions, pipe->child.fd, target);
                break;
            case Redirect::devnull:
                posix_spawn_file_actions_addopen(&actions, target, "/dev/null",
                                                 child_reads ? O_RDONLY : O_WRONLY, 0);
                break;
            case Redirect::stdout_:
                posix_spawn_file_actions_adddup2(&actions, 1, target);
                break;
        }
    };
    route(o.stdin_, 0, true, in);
    route(o.stdout_, 1, false, out);
    route(o.stderr_, 2, false, err);
    if (!cwd.empty()) {
        posix_spawn_file_actions_addchdir_np(&actions, cwd.c_str());
    }

    std::vector<char*> cargv;
    for (auto& a : argv) {
        cargv.push_back(a.data());
    }
    cargv.push_back(nullptr);
    std::vector<char*> cenv;
    if (env) {
        for (auto& e : *env) {
            cenv.push_back(e.data());
        }
        cenv.push_back(nullptr);
    }
    pid_t pid = -1;
    int rc;
    if (env && argv[0].find('/') == std::string::npos) {
        // posix_spawnp searches *our* PATH; Python's Popen searches the new
        // environment's (os.get_exec_path(env)).
        std::string path = detail::find_in_path(argv[0], *env);
        rc = path.empty()
                 ? ENOENT
                 : ::posix_spawn(&pid, path.c_str(), &actions, &attr, cargv.data(), cenv.data());
    } else {
        rc = ::posix_spawnp(&pid, cargv[0], &actions, &attr, cargv.data(),
                            env ? cenv.data() : environ);
    }
    if (rc != 0) {
        detail::throw_os_error(rc, "spawn", argv[0]);
    }
    auto st = std::make_shared<detail::ProcessState>();
    st->pid = pid;
    int pidfd = detail::pidfd_open(pid);
    if (pidfd < 0) {
        int e = errno;
        ::kill(pid, SIGKILL);
        ::waitpid(pid, nullptr, 0);
        detail::throw_os_error(e, "pidfd_open");
    }
    ::fcntl(pidfd, F_SETFD, FD_CLOEXEC);
    st->pidfd = Socket::adopt(pidfd);
    // The loop keeps the reaper alive; it ends when the child does.
    (void)corio::create_task(detail::ProcessState::reap(st));

    Process proc(st);
    std::size_t limit = o.limit;
    // A pipe transport per pipe (asyncio's unix_events pipe transports): the
    // stream protocol reads stdout/stderr; stdin is written, never read.
    auto stream_of = [limit](Pipe& p, bool we_write) {
        p.child.reset();
        auto conn = std::make_shared<detail::StreamConn>(limit);
        detail::start_plain(Socket::adopt(p.parent.release()), conn->make_protocol(), nullptr,
                            /*is_socket=*/false, /*reading=*/!we_write);
        return conn;
    };
    if (in) {
        proc.stdin_.emplace(stream_of(*in, true));
    }
    if (out) {
        proc.stdout_.emplace(stream_of(*out, false));
    }
    if (err) {
        proc.stderr_.emplace(stream_of(*err, false));
    }
    co_return proc;
}

std::optional<std::vector<std::string>> copy_env(const SubprocessOptions& o) {
    if (o.env == nullptr) {
        return std::nullopt;
    }
    return *o.env;
}

}  // namespace

Task<Process> create_subprocess_exec(std::string program, std::vector<std::string> args,
                                     SubprocessOptions options) {
    if (program.empty()) {
        throw std::invalid_argument("create_subprocess_exec: program is empty");
    }
    std::vector<std::string> argv;
    argv.reserve(args.size() + 1);
    argv.push_back(std::move(program));
    for (auto& a : args) {
        argv.push_back(std::move(a));
    }
    return spawn(std::move(argv), options, std::string(options.cwd), copy_env(options));
}

Task<Process> create_subprocess_shell(std::string command, SubprocessOptions options) {
    return spawn({"/bin/sh", "-c", std::move(command)}, options, std::string(options.cwd),
                 copy_env(options));
}

}  // namespace corio::net
