#include "corio/net/loop_group.hpp"

#include <gtest/gtest.h>
#include <sys/socket.h>

#include <cerrno>
#include <memory>
#include <set>
#include <string>
#include <system_error>

#include "corio/corio.hpp"
#include "support/fd_count.hpp"
#include "support/group_fixture.hpp"

using corio::EventLoop;
using corio::LoopGroup;
using corio::Task;
namespace net = corio::net;
using corio_test::GroupChecks;

namespace {

// Runs `body(group)` as the main of loop 0; the other mains return at once.
template <class Body>
void on_loop0(LoopGroup& group, Body body) {
    group.run([&](EventLoop&, std::size_t i) -> Task<void> {
        if (i == 0) {
            return body(group);
        }
        return []() -> Task<void> { co_return; }();
    });
}

// Replies with the index of the loop that accepted the connection, then closes.
net::ClientConnected reply_loop_index(LoopGroup* group) {
    return [group](net::StreamReader, net::StreamWriter w) -> Task<void> {
        w.write(std::to_string(group->index_of(corio::get_running_loop()).value()));
        w.close();
        co_await w.wait_closed();
    };
}

// The same as a Protocol (create_server).
class ReplyLoopIndex final : public net::Protocol {
public:
    explicit ReplyLoopIndex(LoopGroup* g) : group_(g) {}
    void connection_made(net::Transport& t) override {
        t.write(std::to_string(group_->index_of(corio::get_running_loop()).value()));
        t.close();
    }

private:
    LoopGroup* group_;
};

struct Spread {
    std::set<std::string> loops;  // the indexes that answered
    int connections = 0;
};

// Connects (one connection at a time, so each is a new 4-tuple for the
// kernel's SO_REUSEPORT hash) until `want` loops have answered, at most
// `bound` times.
Task<Spread> connect_until_each_loop_answers(std::uint16_t port, std::size_t want, int bound) {
    Spread s;
    while (s.loops.size() < want && s.connections < bound) {
        auto [r, w] = co_await net::open_connection("127.0.0.1", port);
        ++s.connections;
        s.loops.insert(co_await r.read());
        w.close();
        co_await w.wait_closed();
    }
    co_return s;
}

}  // namespace

TEST(GroupServer, OnePortServedByTwoLoopsSeesBothLoopsAccept) {
    corio_test::FdLeakCheck fds;
    GroupChecks checks;
    {
        LoopGroup group(checks.options(2));
        on_loop0(group, [](LoopGroup& g) -> Task<void> {
            net::GroupServer server =
                co_await net::start_server(g, reply_loop_index(&g), "127.0.0.1", 0);
            EXPECT_NE(server.port(), 0);
            EXPECT_EQ(server.size(), 2u);
            EXPECT_TRUE(server.is_serving());
            EXPECT_EQ(server.sockets().at(0).port(), server.port());
            // Two listeners: each connection lands on either with even odds,
            // so 200 connections all on one loop has a chance of 2^-199.
            Spread s = co_await connect_until_each_loop_answers(server.port(), 2, 200);
            EXPECT_EQ(s.loops, (std::set<std::string>{"0", "1"})) << s.connections << " tries";
            co_await server.close();
            EXPECT_FALSE(server.is_serving());
            EXPECT_TRUE(server.sockets().empty());
            bool refused = false;
            try {
                co_await net::open_connection("127.0.0.1", server.port());
            } catch (const std::system_error& e) {
                refused = e.code().value() == ECONNREFUSED;
            }
            EXPECT_TRUE(refused);
        });
    }
    checks.expect_clean(2);
}

TEST(GroupServer, CreateServerServesThePortFromEveryLoop) {
    corio_test::FdLeakCheck fds;
    GroupChecks checks;
    {
        LoopGroup group(checks.options(3));
        on_loop0(group, [](LoopGroup& g) -> Task<void> {
            LoopGroup* gp = &g;
            net::GroupServer server = co_await net::create_server(
                g, [gp] { return std::make_unique<ReplyLoopIndex>(gp); }, "127.0.0.1", 0);
            Spread s = co_await connect_until_each_loop_answers(server.port(), 3, 400);
            EXPECT_EQ(s.loops, (std::set<std::string>{"0", "1", "2"})) << s.connections << " tries";
            co_await server.close();
        });
    }
    checks.expect_clean(3);
}

TEST(GroupServer, APortInUseFailsWithEaddrinuseAndLeavesNothingOpen) {
    corio_test::FdLeakCheck fds;
    GroupChecks checks;
    {
        LoopGroup group(checks.options(2));
        // A listener without SO_REUSEPORT holds the port.
        net::Socket holder = net::Socket::create(AF_INET, SOCK_STREAM);
        holder.bind(net::SocketAddress::ip("127.0.0.1", 0));
        holder.listen(1);
        std::uint16_t taken = holder.local_address().port();
        on_loop0(group, [taken](LoopGroup& g) -> Task<void> {
            int err = 0;
            try {
                co_await net::start_server(g, reply_loop_index(&g), "127.0.0.1", taken);
            } catch (const std::system_error& e) {
                err = e.code().value();
            }
            EXPECT_EQ(err, EADDRINUSE);
        });
    }
    checks.expect_clean(2);
}

TEST(GroupServer, AHandleDroppedWithoutCloseStillClosesEveryLoopsServer) {
    corio_test::FdLeakCheck fds;
    GroupChecks checks;
    {
        LoopGroup group(checks.options(2));
        on_loop0(group, [](LoopGroup& g) -> Task<void> {
            std::uint16_t port = 0;
            {
                net::GroupServer server =
                    co_await net::start_server(g, reply_loop_index(&g), "127.0.0.1", 0);
                port = server.port();
            }
            // The closes were posted to each loop first: a round trip through
            // every loop's queue comes after them.
            for (std::size_t i = 0; i < g.size(); ++i) {
                co_await corio::submit_to(g.loop(i), []() -> Task<void> { co_return; }());
            }
            bool refused = false;
            try {
                co_await net::open_connection("127.0.0.1", port);
            } catch (const std::system_error& e) {
                refused = e.code().value() == ECONNREFUSED;
            }
            EXPECT_TRUE(refused);
        });
    }
    checks.expect_clean(2);
}
