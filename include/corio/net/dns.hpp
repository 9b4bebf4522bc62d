// corio/net/dns.hpp - name resolution that never blocks the loop.
//
// Mirrors asyncio's loop.getaddrinfo / loop.getnameinfo: the blocking libc
// calls run in the loop's default executor; numeric hosts are resolved
// inline without a thread hop.
#pragma once

#include <netdb.h>
#include <sys/socket.h>

#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "corio/net/socket.hpp"
#include "corio/task.hpp"

namespace corio::net {

/// A name-resolution failure, with getaddrinfo's EAI_* code. Python: `socket.gaierror`.
class GaiError : public std::runtime_error {
public:
    GaiError(int code, const std::string& what) : std::runtime_error(what), code_(code) {}
    int code() const noexcept { return code_; }

private:
    int code_;
};

/// One result of getaddrinfo().
struct AddrInfo {
    int family = AF_UNSPEC;
    int type = 0;
    int protocol = 0;
    std::string canonname;
    SocketAddress address;
};

/// Resolves `host` and `service` (a port number or a service name).
/// Suspends while the default executor resolves names; numeric hosts are
/// resolved at once. An empty `host` with AI_PASSIVE means every local
/// interface. Throws GaiError. Cancellation abandons the answer.
/// asyncio: `loop.getaddrinfo`.
Task<std::vector<AddrInfo>> getaddrinfo(std::string host, std::string service,
                                        int family = AF_UNSPEC, int type = 0, int protocol = 0,
                                        int flags = 0);

/// The host and service names of `addr`. Suspends like getaddrinfo(). Throws
/// GaiError. asyncio: `loop.getnameinfo`.
Task<std::pair<std::string, std::string>> getnameinfo(SocketAddress addr, int flags = 0);

}  // namespace corio::net
