// corio/io_wait.hpp - waiting for file descriptors that other libraries own
// (libpq and MariaDB Connector/C sockets, inotify, a device): wait_fd,
// wait_readable, wait_writable.
//
// asyncio has no awaitable for this; its programs use loop.add_reader with
// a Future, and trio has trio.lowlevel.wait_readable / wait_writable, which
// these mirror. corio's own sockets and pipes never need them: their
// operations wait by themselves.
#pragma once

#include <cstdint>

#include "corio/task.hpp"

namespace corio {

/// Readiness of a file descriptor (bits; combine with |).
enum class FdEvents : std::uint8_t {
    none = 0,
    readable = 1,
    writable = 2,
};
constexpr FdEvents operator|(FdEvents a, FdEvents b) noexcept {
    return static_cast<FdEvents>(static_cast<unsigned>(a) | static_cast<unsigned>(b));
}
constexpr FdEvents operator&(FdEvents a, FdEvents b) noexcept {
    return static_cast<FdEvents>(static_cast<unsigned>(a) & static_cast<unsigned>(b));
}
constexpr bool any(FdEvents e) noexcept {
    return e != FdEvents::none;
}

/// Suspends until `fd` is ready for one of `interest` and returns which of
/// them it is ready for (an error or hang-up condition on the fd counts as
/// both, so the owner's next call sees the error). Returns at once, without
/// suspending the loop, if the fd is ready already. The fd stays the
/// caller's: it is watched only during the wait (one registration with the
/// backend per call), so the owning library may close or replace it between
/// waits. At most one wait per fd at a time. Cancellation withdraws the
/// wait and leaves the fd alone. Throws std::invalid_argument for a
/// negative fd or an empty interest, std::system_error if the fd cannot be
/// watched (EBADF, EPERM for a regular file), RuntimeError outside a
/// running loop. Combine with wait_for() for a deadline.
Task<FdEvents> wait_fd(int fd, FdEvents interest);

/// wait_fd(fd, FdEvents::readable). trio: `trio.lowlevel.wait_readable`.
Task<void> wait_readable(int fd);
/// wait_fd(fd, FdEvents::writable). trio: `trio.lowlevel.wait_writable`.
Task<void> wait_writable(int fd);

}  // namespace corio
