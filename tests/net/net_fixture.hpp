// tests/net/net_fixture.hpp - net tests run on a real-time loop (the kernel's
// sockets do not follow virtual time) and must close every fd they open.
#pragma once

#include <sys/socket.h>

#include <functional>

#include "corio/corio.hpp"
#include "corio/net/socket.hpp"
#include "support/fd_count.hpp"
#include "support/loop_fixture.hpp"

namespace corio_test {

template <class T>
T net_run(corio::Task<T> main, Reports* reports = nullptr) {
    FdLeakCheck fds;
    return vrun(std::move(main), reports, /*virtual_time=*/false);
}

/// A loopback port that refuses connections (bound, never listening).
inline std::uint16_t refused_port(corio::net::Socket& holder) {
    holder = corio::net::Socket::create(AF_INET, SOCK_STREAM);
    holder.bind(corio::net::SocketAddress::ip("127.0.0.1", 0));
    return holder.local_address().port();
}

// Calls fn(0), ..., fn(n - 1), each in its own iteration of the running loop
// (a chain of call_soon), and returns after the last.
inline corio::Task<void> one_per_iteration(int n, std::function<void(int)> fn) {
    auto& loop = corio::get_running_loop();
    corio::Future<void> done;
    std::function<void(int)> step = [&](int i) {
        if (i == n) {
            done.set_result();
            return;
        }
        fn(i);
        loop.call_soon([&step, i] { step(i + 1); });
    };
    loop.call_soon([&step] { step(0); });
    co_await done;
}

}  // namespace corio_test
