// src/net/channel.cpp - the helpers connection objects share.
#include "channel.hpp"

#include <signal.h>

#include <cerrno>
#include <memory>
#include <mutex>
#include <string>
#include <system_error>

namespace corio::net::detail {

std::exception_ptr os_error(int err, const char* op, const SocketAddress& peer) {
    std::string what(op);
    if (!peer.empty()) {
        what += " " + peer.to_string();
    }
    return std::make_exception_ptr(std::system_error(err, std::generic_category(), what));
}

void ignore_sigpipe() {
    static std::once_flag once;
    std::call_once(once, [] {
        struct sigaction old {};
        if (::sigaction(SIGPIPE, nullptr, &old) == 0 && old.sa_handler == SIG_DFL &&
            (old.sa_flags & SA_SIGINFO) == 0) {
            ::signal(SIGPIPE, SIG_IGN);
        }
    });
}

char* read_scratch() {
    thread_local std::unique_ptr<char[]> buf = std::make_unique_for_overwrite<char[]>(kScratchSize);
    return buf.get();
}

}  // namespace corio::net::detail
