// src/net/dns.cpp - getaddrinfo/getnameinfo in the default executor.
#include "corio/net/dns.hpp"

#include "corio/threads.hpp"

namespace corio::net {

namespace {

std::vector<AddrInfo> resolve(const std::string& host, const std::string& service, int family,
                              int type, int protocol, int flags) {
    addrinfo hints{};
    hints.ai_family = family;
    hints.ai_socktype = type;
    hints.ai_protocol = protocol;
    hints.ai_flags = flags;
    addrinfo* res = nullptr;
    int rc = ::getaddrinfo(host.empty() ? nullptr : host.c_str(),
                           service.empty() ? nullptr : service.c_str(), &hints, &res);
    if (rc != 0) {
        throw GaiError(rc, "getaddrinfo " + host + ":" + service + ": " + ::gai_strerror(rc));
    }
    std::vector<AddrInfo> out;
    for (addrinfo* a = res; a != nullptr; a = a->ai_next) {
        AddrInfo info;
        info.family = a->ai_family;
        info.type = a->ai_socktype;
        info.protocol = a->ai_protocol;
        if (a->ai_canonname != nullptr) {
            info.canonname = a->ai_canonname;
        }
        info.address = SocketAddress(a->ai_addr, a->ai_addrlen);
        out.push_back(std::move(info));
    }
    ::freeaddrinfo(res);
    return out;
}

}  // namespace

Task<std::vector<AddrInfo>> getaddrinfo(std::string host, std::string service, int family, int type,
                                        int protocol, int flags) {
    // Numeric hosts and ports need no thread: getaddrinfo answers at once.
    try {
        co_return resolve(host, service, family, type, protocol,
                          flags | AI_NUMERICHOST | AI_NUMERICSERV);
    } catch (const GaiError& e) {
        if (e.code() != EAI_NONAME && e.code() != EAI_SERVICE) {
            throw;
        }
    }
    co_return co_await to_thread(resolve, std::move(host), std::move(service), family, type,
                                 protocol, flags);
}

Task<std::pair<std::string, std::string>> getnameinfo(SocketAddress addr, int flags) {
    co_return co_await to_thread(
        [](SocketAddress a, int f) {
            char host[NI_MAXHOST];
            char serv[NI_MAXSERV];
            int rc = ::getnameinfo(a.data(), a.size(), host, sizeof host, serv, sizeof serv, f);
            if (rc != 0) {
                throw GaiError(rc, "getnameinfo " + a.to_string() + ": " + ::gai_strerror(rc));
            }
            return std::pair<std::string, std::string>(host, serv);
        },
        addr, flags);
}

}  // namespace corio::net
