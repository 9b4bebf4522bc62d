#include "corio/net/dns.hpp"

#include <gtest/gtest.h>
#include <netdb.h>
#include <sys/socket.h>

#include <string>

#include "corio/corio.hpp"
#include "net/net_fixture.hpp"

using namespace std::chrono_literals;
using corio::Task;
namespace net = corio::net;
using corio_test::net_run;

TEST(Dns, NumericHostsResolveAtOnceWithoutAThread) {
    net_run([]() -> Task<void> {
        // Numeric: answered inline, so the task never suspends on it.
        auto lookup =
            corio::create_task(net::getaddrinfo("127.0.0.1", "8080", AF_INET, SOCK_STREAM));
        auto infos = co_await lookup;
        CO_ASSERT_EQ(infos.size(), 1u);
        EXPECT_EQ(infos[0].family, AF_INET);
        EXPECT_EQ(infos[0].type, SOCK_STREAM);
        EXPECT_EQ(infos[0].address.host(), "127.0.0.1");
        EXPECT_EQ(infos[0].address.port(), 8080);
        auto v6 = co_await net::getaddrinfo("::1", "443", AF_INET6, SOCK_STREAM);
        CO_ASSERT_FALSE(v6.empty());
        EXPECT_EQ(v6[0].family, AF_INET6);
        EXPECT_EQ(v6[0].address.host(), "::1");
        EXPECT_EQ(v6[0].address.port(), 443);
    }());
}

TEST(Dns, ThePassiveWildcard) {
    net_run([]() -> Task<void> {
        auto any = co_await net::getaddrinfo("", "9000", AF_INET, SOCK_STREAM, 0, AI_PASSIVE);
        CO_ASSERT_FALSE(any.empty());
        EXPECT_EQ(any[0].address.host(), "0.0.0.0");
        EXPECT_EQ(any[0].address.port(), 9000);
    }());
}

TEST(Dns, LocalhostResolvesThroughTheExecutor) {
    net_run([]() -> Task<void> {
        auto infos = co_await net::getaddrinfo("localhost", "22", AF_INET, SOCK_STREAM);
        CO_ASSERT_FALSE(infos.empty());
        EXPECT_EQ(infos[0].address.host(), "127.0.0.1");
        EXPECT_EQ(infos[0].address.port(), 22);
    }());
}

TEST(Dns, FailuresAreGaiErrorsWithTheirCode) {
    net_run([]() -> Task<void> {
        // .invalid never resolves (RFC 2606); no network needed to fail.
        try {
            co_await net::getaddrinfo("no-such-host.invalid", "80", AF_INET, SOCK_STREAM);
            ADD_FAILURE() << "resolved a .invalid name";
        } catch (const net::GaiError& e) {
            EXPECT_NE(e.code(), 0);
            EXPECT_NE(std::string(e.what()), "");
        }
        try {
            co_await net::getaddrinfo("127.0.0.1", "no-such-service-name", AF_INET, SOCK_STREAM);
            ADD_FAILURE() << "resolved an unknown service";
        } catch (const net::GaiError& e) {
            EXPECT_EQ(e.code(), EAI_SERVICE);
        }
    }());
}

TEST(Dns, GetnameinfoGivesNumericNamesOnRequest) {
    net_run([]() -> Task<void> {
        auto [host, service] = co_await net::getnameinfo(net::SocketAddress::ip("127.0.0.1", 80),
                                                         NI_NUMERICHOST | NI_NUMERICSERV);
        EXPECT_EQ(host, "127.0.0.1");
        EXPECT_EQ(service, "80");
        auto [h2, s2] =
            co_await net::getnameinfo(net::SocketAddress::ip("127.0.0.1", 80), NI_NUMERICSERV);
        EXPECT_EQ(h2, "localhost");  // /etc/hosts, through the executor
        EXPECT_EQ(s2, "80");
    }());
}
