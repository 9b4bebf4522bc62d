// tests/amqp/fault_test.cpp - the connection against a fake server (a corio
// server socket in the test speaking just enough AMQP): a malformed frame
// (a clear ProtocolError, connection.close 501 sent, the connection
// closed), heartbeat loss (the dead peer found within two intervals while
// nobody reads), heartbeats sent by the library while the user does
// nothing, connection.blocked holding publishes until unblocked, the
// reconnection backoff (exponential, capped).
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "corio/amqp.hpp"
#include "corio/corio.hpp"
#include "corio/net/streams.hpp"
#include "net/net_fixture.hpp"

namespace amqp = corio::amqp;
using corio::Task;
using corio_test::net_run;
using namespace std::chrono_literals;

namespace {

/// The fake server's side of one connection.
struct Peer {
    corio::net::StreamReader reader;
    corio::net::StreamWriter writer;
    std::string buf;

    /// The next frame from the client (heartbeats included).
    Task<amqp::Frame> frame() {
        for (;;) {
            amqp::DecodeResult r = amqp::FrameDecoder{}.feed(buf);
            if (r.status == amqp::DecodeStatus::complete) {
                buf.erase(0, r.consumed);
                co_return std::move(r.frame);
            }
            if (r.status == amqp::DecodeStatus::error) {
                throw std::runtime_error("fake server: " + r.message);
            }
            std::string more = co_await reader.read(65536);
            if (more.empty()) {
                throw std::runtime_error("fake server: EOF");
            }
            buf += more;
        }
    }
    /// The next method frame (heartbeats skipped).
    Task<amqp::Method> method() {
        for (;;) {
            amqp::Frame f = co_await frame();
            if (f.type == amqp::FrameType::method)
                co_return f.method;
        }
    }
    void send(std::uint16_t channel, const amqp::Method& m) {
        std::string out;
        amqp::encode_method(out, channel, m);
        writer.write(out);
    }
    /// The handshake, offering `heartbeat`.
    Task<void> handshake(std::uint16_t heartbeat) {
        std::string header = co_await reader.readexactly(8);
        EXPECT_EQ(header, amqp::kProtocolHeader);
        amqp::FieldTable props{{"product", amqp::FieldValue("fake")}};
        send(0, amqp::Method{amqp::methods::connection_start,
                             {0, 9, props, std::string("PLAIN"), std::string("en_US")}});
        amqp::Method start_ok = co_await method();
        EXPECT_EQ(start_ok.string(2), std::string("\0u\0p", 4));
        send(0, amqp::Method{amqp::methods::connection_tune, {10, 131072, heartbeat}});
        amqp::Method tune_ok = co_await method();
        EXPECT_EQ(tune_ok.number(2), heartbeat);
        amqp::Method open = co_await method();
        EXPECT_EQ(open.string(0), "vh");
        send(0, amqp::Method{amqp::methods::connection_open_ok, {std::string()}});
    }
};

using Script = std::function<Task<void>(Peer&)>;

Task<void> serve(std::shared_ptr<Script> script, corio::net::StreamReader r,
                 corio::net::StreamWriter w) {
    Peer peer{std::move(r), std::move(w), {}};
    try {
        co_await (*script)(peer);
    } catch (const std::exception& e) {
        ADD_FAILURE() << e.what();
    }
    peer.writer.close();
}

/// Serves connections with `script` (a coroutine lambda: it must outlive
/// the server, so it is kept by reference in a stable place, not copied
/// into a temporary closure); returns the server and its port.
Task<std::pair<corio::net::Server, std::uint16_t>> fake_server(std::shared_ptr<Script> script) {
    auto server = co_await corio::net::start_server(
        [script](corio::net::StreamReader r, corio::net::StreamWriter w) {
            return serve(script, std::move(r), std::move(w));
        },
        "127.0.0.1", 0);
    std::uint16_t port = server.sockets().at(0).port();
    co_return std::make_pair(std::move(server), port);
}

amqp::ConnectionOptions options(std::uint16_t port, std::uint16_t heartbeat) {
    amqp::ConnectionOptions o;
    o.port = port;
    o.user = "u";
    o.password = "p";
    o.vhost = "vh";
    o.heartbeat = heartbeat;
    return o;
}

TEST(AmqpFaults, MalformedFrameIsAClearProtocolErrorAndClosesTheConnection) {
    net_run([]() -> Task<void> {
        bool got_close = false;
        auto script = std::make_shared<Script>([&](Peer& p) -> Task<void> {
            co_await p.handshake(0);
            amqp::Method open = co_await p.method();
            EXPECT_EQ(open.id, amqp::methods::channel_open);
            // channel.open-ok with a bad frame end.
            std::string out;
            amqp::encode_method(out, 1,
                                amqp::Method{amqp::methods::channel_open_ok, {std::string()}});
            out.back() = 'X';
            p.writer.write(out);
            amqp::Method close = co_await p.method();
            EXPECT_EQ(close.id, amqp::methods::connection_close);
            EXPECT_EQ(close.number(0), 501u);
            got_close = true;
            EXPECT_EQ(co_await p.reader.read(100), "");  // then the client closes
        });
        auto served = co_await fake_server(script);
        corio::net::Server& server = served.first;
        const std::uint16_t port = served.second;
        amqp::ConnectionOptions o = options(port, 0);
        auto conn = co_await amqp::Connection::connect(o);
        try {
            co_await conn.channel();
            ADD_FAILURE() << "a channel opened on a malformed frame";
        } catch (const amqp::ProtocolError& e) {
            EXPECT_NE(std::string(e.what()).find("frame end is 0x58, not 0xce"), std::string::npos)
                << e.what();
        }
        co_await conn.closed();
        EXPECT_FALSE(conn.is_open());
        EXPECT_TRUE(conn.close_reason() != nullptr);
        co_await corio::sleep(50ms);
        EXPECT_TRUE(got_close);
        server.close();
    }());
}

TEST(AmqpFaults, ASilentPeerIsFoundDeadWithinTwoIntervals) {
    net_run([]() -> Task<void> {
        corio::Event release;
        auto script = std::make_shared<Script>([&](Peer& p) -> Task<void> {
            co_await p.handshake(1);
            co_await release.wait();  // silent, socket open
        });
        auto served = co_await fake_server(script);
        corio::net::Server& server = served.first;
        const std::uint16_t port = served.second;
        amqp::ConnectionOptions o = options(port, 1);
        auto conn = co_await amqp::Connection::connect(o);
        EXPECT_EQ(conn.heartbeat(), 1);
        auto t0 = corio::get_running_loop().time();
        co_await conn.closed();  // nobody calls anything: the library notices
        auto took = corio::get_running_loop().time() - t0;
        EXPECT_GE(took, 1400ms);
        EXPECT_LE(took, 2100ms);
        try {
            std::rethrow_exception(conn.close_reason());
        } catch (const amqp::ConnectionError& e) {
            EXPECT_NE(std::string(e.what()).find("no heartbeat"), std::string::npos) << e.what();
        }
        release.set();
        server.close();
    }());
}

TEST(AmqpFaults, TheLibrarySendsHeartbeatsWhileTheUserIsIdle) {
    net_run([]() -> Task<void> {
        int heartbeats = 0;
        auto script = std::make_shared<Script>([&](Peer& p) -> Task<void> {
            co_await p.handshake(1);
            for (int i = 0; i < 4; ++i) {
                amqp::Frame f = co_await p.frame();
                if (f.type == amqp::FrameType::heartbeat)
                    ++heartbeats;
                std::string hb;
                amqp::encode_heartbeat(hb);
                p.writer.write(hb);  // keep the client's check happy
            }
        });
        auto served = co_await fake_server(script);
        corio::net::Server& server = served.first;
        const std::uint16_t port = served.second;
        amqp::ConnectionOptions o = options(port, 1);
        auto conn = co_await amqp::Connection::connect(o);
        co_await corio::sleep(1700ms);
        EXPECT_GE(heartbeats, 2);  // one each half interval the client wrote nothing else
        EXPECT_TRUE(conn.is_open());
        co_await conn.closed();  // the fake server hangs up after 4 frames
        EXPECT_EQ(heartbeats, 4);
        server.close();
    }());
}

TEST(AmqpFaults, PublishesAreHeldWhileTheServerBlocksTheConnection) {
    net_run([]() -> Task<void> {
        corio::Event blocked, unblock;
        std::vector<std::string> bodies;
        auto script = std::make_shared<Script>([&](Peer& p) -> Task<void> {
            co_await p.handshake(0);
            amqp::Method open = co_await p.method();  // channel.open
            EXPECT_EQ(open.id, amqp::methods::channel_open);
            p.send(1, amqp::Method{amqp::methods::channel_open_ok, {std::string()}});
            p.send(0, amqp::Method{amqp::methods::connection_blocked, {std::string("low memory")}});
            blocked.set();
            co_await unblock.wait();
            p.send(0, amqp::Method{amqp::methods::connection_unblocked, {}});
            for (;;) {
                amqp::Frame f = co_await p.frame();
                if (f.type == amqp::FrameType::body) {
                    bodies.push_back(f.body);
                    if (bodies.size() == 2)
                        break;
                }
            }
        });
        auto served = co_await fake_server(script);
        corio::net::Server& server = served.first;
        const std::uint16_t port = served.second;
        amqp::ConnectionOptions o = options(port, 0);
        auto conn = co_await amqp::Connection::connect(o);
        auto ch = co_await conn.channel();
        co_await blocked.wait();
        co_await corio::sleep(20ms);  // the blocked frame has arrived
        EXPECT_TRUE(conn.is_blocked());
        auto a = ch.basic_publish("one", "", "q");
        auto b = ch.basic_publish("two", "", "q");
        co_await corio::sleep(50ms);
        EXPECT_FALSE(a.done());  // held
        EXPECT_TRUE(bodies.empty());
        unblock.set();
        co_await a;
        co_await b;
        co_await corio::sleep(50ms);
        EXPECT_FALSE(conn.is_blocked());
        EXPECT_EQ(bodies, (std::vector<std::string>{"one", "two"}));
        server.close();
    }());
}

TEST(AmqpFaults, ReconnectionBacksOffExponentiallyUpToTheCap) {
    net_run([]() -> Task<void> {
        // Connection 0 opens, then the server hangs up; attempts 1..6 are
        // hung up on at once; attempt 7 opens again.
        int accepted = 0;
        std::vector<corio::TimePoint> at;
        auto script = std::make_shared<Script>([&](Peer& p) -> Task<void> {
            const int n = accepted++;
            at.push_back(corio::get_running_loop().time());
            if (n == 0) {
                co_await p.handshake(0);
            } else if (n == 7) {
                co_await p.handshake(0);
                amqp::Method close = co_await p.method();
                EXPECT_EQ(close.id, amqp::methods::connection_close);
                p.send(0, amqp::Method{amqp::methods::connection_close_ok, {}});
            }
        });
        auto served = co_await fake_server(script);
        corio::net::Server& server = served.first;
        amqp::ConnectionOptions o = options(served.second, 0);
        corio::Event down, up;
        std::uint64_t recoveries = 0;
        amqp::ReconnectOptions r;
        r.initial_delay = 50ms;
        r.max_delay = 100ms;
        r.jitter = 0;
        r.on_disconnect = [&](std::exception_ptr) { down.set(); };
        r.on_reconnect = [&](std::uint64_t n) {
            recoveries = n;
            up.set();
        };
        o.reconnect = r;
        auto conn = co_await amqp::Connection::connect(o);
        co_await corio::wait_for(down.wait(), 10s);
        co_await corio::wait_for(up.wait(), 10s);
        EXPECT_TRUE(conn.is_open());
        EXPECT_EQ(recoveries, 1u);
        EXPECT_EQ(conn.reconnects(), 1u);
        CO_ASSERT_EQ(at.size(), 8u);
        // Waits of 50, 100 (doubled), then 100 (capped) ms before each
        // attempt. Without the cap the last would be 3200 ms; 1000 ms leaves
        // room for a loaded machine.
        const std::vector<int> floor{50, 100, 100, 100, 100, 100, 100};
        for (std::size_t i = 0; i < floor.size(); ++i) {
            auto gap = std::chrono::duration_cast<std::chrono::milliseconds>(at[i + 1] - at[i]);
            EXPECT_GE(gap.count(), floor[i]) << "before attempt " << i + 1;
            EXPECT_LT(gap.count(), 1000) << "before attempt " << i + 1;
        }
        co_await conn.close();
        EXPECT_FALSE(conn.is_open());
        server.close();
    }());
}

}  // namespace
