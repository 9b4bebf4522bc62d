// corio/net/subprocess.hpp - child processes with pipes:
// create_subprocess_exec, create_subprocess_shell, Process.
//
// Mirrors asyncio.subprocess. The child's end is reaped through a pidfd the
// loop watches (Linux 5.3+), so several loops in several threads may run
// children at once and nothing relies on SIGCHLD.
//
// SIGPIPE: the first child (or TLS session) sets SIGPIPE to SIG_IGN if it is
// at its default, as Python does at start-up, so that writing to a child that
// exited fails with EPIPE instead of killing the program. A handler of the
// program's own is left alone. Children start with SIGPIPE at its default.
#pragma once

#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "corio/net/streams.hpp"
#include "corio/task.hpp"

namespace corio::net {

/// Where a child's standard stream goes. asyncio: `None` (inherit),
/// `subprocess.PIPE`, `subprocess.DEVNULL`, `subprocess.STDOUT`.
enum class Redirect : std::uint8_t { inherit, pipe, devnull, stdout_ };
inline constexpr Redirect PIPE = Redirect::pipe;
inline constexpr Redirect DEVNULL = Redirect::devnull;
/// For stderr_ only: into the same place as stdout.
inline constexpr Redirect STDOUT = Redirect::stdout_;

/// Options of create_subprocess_exec/shell (trivially destructible, see
/// ConnectOptions). `stdin_` and friends carry a trailing underscore because
/// stdin, stdout and stderr are macros in C++.
struct SubprocessOptions {
    Redirect stdin_ = Redirect::inherit;
    Redirect stdout_ = Redirect::inherit;
    Redirect stderr_ = Redirect::inherit;
    std::string_view cwd;  // empty: the current directory
    // "NAME=value" entries; null: inherit. With an environment, a program
    // named without a '/' is searched on its PATH (as Python's Popen).
    const std::vector<std::string>* env = nullptr;
    std::size_t limit = kDefaultLimit;  // of the stdout/stderr readers
};

namespace detail {
class ProcessState;
}

/// A running (or finished) child. Copies share it.
/// asyncio: `asyncio.subprocess.Process`.
class Process {
public:
    explicit Process(std::shared_ptr<detail::ProcessState> state) noexcept;

    /// The child's pid.
    pid_t pid() const noexcept;
    /// Its exit status once it ended: the exit code, or -N when signal N
    /// killed it; nullopt while it runs. asyncio: `returncode`.
    std::optional<int> returncode() const noexcept;

    /// Waits for the child to end and returns returncode(). With pipes, read
    /// them first (or use communicate()) or the child may block on a full
    /// pipe. Cancellation only stops waiting. asyncio: `wait`.
    Task<int> wait();
    /// Writes `input` to stdin (then closes it), reads stdout and stderr to
    /// EOF concurrently (no deadlock however large the output), and waits for
    /// the child. Returns {stdout, stderr} (empty where not piped). Throws
    /// std::invalid_argument if input is given but stdin is not a pipe.
    /// asyncio: `communicate`.
    Task<std::pair<std::string, std::string>> communicate(
        std::optional<std::string> input = std::nullopt);
    /// Sends `sig` (through the pidfd: never to a recycled pid). Does nothing
    /// once the child was reaped. asyncio: `send_signal`, `terminate`, `kill`.
    void send_signal(int sig);
    void terminate();
    void kill();

    /// The pipes, when asked for with PIPE. asyncio: `stdin`, `stdout`, `stderr`.
    std::optional<StreamWriter> stdin_;
    std::optional<StreamReader> stdout_;
    std::optional<StreamReader> stderr_;

private:
    std::shared_ptr<detail::ProcessState> state_;
};

/// Starts `program` (searched in PATH when it has no '/') with `args`.
/// Throws std::system_error (e.g. ENOENT when it cannot be run).
/// asyncio: `asyncio.create_subprocess_exec`.
Task<Process> create_subprocess_exec(std::string program, std::vector<std::string> args,
                                     SubprocessOptions options = {});

namespace detail {
template <class A>
concept exec_argument = std::is_convertible_v<A, std::string_view> ||
    std::is_same_v<std::remove_cvref_t<A>, SubprocessOptions>;
}

/// The asyncio spelling: the arguments one by one, the options (if any) last:
///   co_await create_subprocess_exec("sort", "-r", SubprocessOptions{.stdout_ = PIPE});
/// (Prefer this inside co_await: GCC 12 miscompiles a braced list such as
/// {"-c", "x"} for the vector overload there.)
template <class... Args>
requires(detail::exec_argument<Args>&&...) Task<Process> create_subprocess_exec(std::string program,
                                                                                Args&&... args) {
    std::vector<std::string> argv;
    SubprocessOptions options;
    [[maybe_unused]] auto add = [&](auto&& a) {
        if constexpr (std::is_same_v<std::remove_cvref_t<decltype(a)>, SubprocessOptions>) {
            options = a;
        } else {
            argv.emplace_back(std::string_view(a));
        }
    };
    (add(std::forward<Args>(args)), ...);
    return create_subprocess_exec(std::move(program), std::move(argv), options);
}
/// Runs `command` with /bin/sh -c. asyncio: `asyncio.create_subprocess_shell`.
Task<Process> create_subprocess_shell(std::string command, SubprocessOptions options = {});

}  // namespace corio::net
