// src/core/backend.hpp - the loop's I/O backend interface (private).
//
// Readiness today (epoll); the io_uring backend of a later issue adds
// completion-style operations next to these. The loop owns one backend and
// calls it from its own thread only.
#pragma once

#include <cstdint>
#include <memory>

#include "corio/detail/io_state.hpp"

namespace corio::detail {

// Event bits: the same as the IoReady bits the loop ORs into an IoState.
inline constexpr std::uint32_t kReadable = kIoReadable;
inline constexpr std::uint32_t kWritable = kIoWritable;
inline constexpr std::uint32_t kError = kIoError;
inline constexpr std::uint32_t kHangup = kIoHangup;
inline constexpr std::uint32_t kPeerClosed = kIoPeerClosed;

struct IoEvent {
    std::uint64_t token;
    std::uint32_t events;  // IoReady bits
};

class Backend {
public:
    virtual ~Backend() = default;
    /// Starts or changes watching `fd` for `interest` (kReadable | kWritable),
    /// level-triggered; events carry `token`. interest == 0 stops watching.
    /// Throws std::system_error (e.g. EPERM for a regular file).
    virtual void watch(int fd, std::uint32_t interest, std::uint32_t old_interest,
                       std::uint64_t token) = 0;
    /// Starts watching `fd` for reading and writing, edge-triggered (the I/O
    /// registrations of sockets and pipes); events carry `token`.
    virtual void watch_edge(int fd, std::uint64_t token) = 0;
    /// Stops watching an fd added with watch_edge().
    virtual void unwatch(int fd) noexcept = 0;
    /// Waits at most `timeout_ns` (-1: no limit, 0: just poll) and stores up to
    /// `max` events in `out`. Returns how many; EINTR counts as zero.
    virtual int wait(IoEvent* out, int max, std::int64_t timeout_ns) = 0;
    virtual const char* name() const noexcept = 0;
};

std::unique_ptr<Backend> make_epoll_backend();

}  // namespace corio::detail
