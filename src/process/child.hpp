// child.hpp - a worker process and its channel (private to corio::process).
//
// Child::spawn starts /proc/self/exe with posix_spawn (a vfork+exec, safe
// whatever threads the parent runs) and argv[1] = "--corio-process-worker=
// <mode>:<fd>", where <fd> is the child's end of a socketpair. Every other
// descriptor the library makes is O_CLOEXEC, so no child inherits another's
// channel.
//
// Frames on the channel: an 8-byte little-endian payload length, then the
// payload (an encoded Request one way, an encoded reply the other).
//
// Ownership: a Child owns its pid until wait() reaps it, and its channel
// until close_channel(). The destructor kills (SIGKILL) and reaps a child
// still running, so no path leaves a zombie or an open descriptor.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace corio::process::detail {

/// The largest frame either side accepts (a sanity bound on a corrupt
/// length, not a protocol limit anyone should reach).
inline constexpr std::uint64_t kMaxFrame = std::uint64_t{1} << 36;

inline constexpr const char* kWorkerMarker = "--corio-process-worker=";

enum class Mode {
    pool,  // serve requests until the channel closes
    once,  // serve one request; the exit code says whether it threw
};

bool send_frame(int fd, std::string_view payload);
/// False on end of stream, on an error, or on a length beyond kMaxFrame.
bool recv_frame(int fd, std::string& payload);

class Child {
public:
    /// Starts a worker; throws std::system_error if it cannot.
    static Child spawn(Mode mode);

    Child() = default;
    Child(Child&& o) noexcept;
    Child& operator=(Child&& o) noexcept;
    Child(const Child&) = delete;
    Child& operator=(const Child&) = delete;
    ~Child();

    bool started() const noexcept { return pid_ > 0; }
    pid_t pid() const noexcept { return pid_; }
    bool send(std::string_view payload) { return fd_ >= 0 && send_frame(fd_, payload); }
    bool recv(std::string& payload) { return fd_ >= 0 && recv_frame(fd_, payload); }
    /// Closes the parent's end: a pool worker sees end of stream and exits.
    void close_channel() noexcept;
    /// Waits for the child to exit and reaps it; returns its wait status.
    /// Idempotent (later calls return the same status).
    int wait() noexcept;
    /// Reaps the child if it has exited; nullopt while it runs.
    std::optional<int> poll() noexcept;
    /// Waits at most `ms` milliseconds (pidfd + poll); true once reaped.
    bool wait_for(int ms) noexcept;
    /// Sends `sig` unless the child was reaped already.
    void signal(int sig) noexcept;
    /// The reaped status, if reaped.
    std::optional<int> status() const noexcept { return status_; }

    /// "exited with code 3", "was killed by signal 9 (Killed)".
    static std::string describe(int status);
    /// Python's Process.exitcode: the exit code, or -signal.
    static int exitcode(int status) noexcept;

private:
    pid_t pid_ = -1;
    int fd_ = -1;
    std::optional<int> status_;
};

}  // namespace corio::process::detail
