// Client against a real redis-server: connecting (host/port, URL, Unix
// socket), the handshake (HELLO 3, RESP2 fallback, AUTH, ACL users, SELECT,
// CLIENT SETNAME), automatic pipelining, error replies, cancellation in
// flight, a server killed mid-command and the reconnection after it.
#include "corio/redis/client.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "corio/corio.hpp"
#include "net/net_fixture.hpp"
#include "redis/fake_server.hpp"
#include "support/server_fixture.hpp"

namespace redis = corio::redis;
using corio::Task;
using corio_test::net_run;
using corio_test::RedisServer;

namespace {

// One server for the suite; tests that need a server of their own (kill,
// passwords) make one.
class RedisClient : public ::testing::Test {
protected:
    static void SetUpTestSuite() { server_ = new RedisServer(); }
    static void TearDownTestSuite() {
        delete server_;
        server_ = nullptr;
    }
    static redis::ClientOptions opts() {
        redis::ClientOptions o;
        o.port = server_->port();
        return o;
    }
    static RedisServer* server_;
};
RedisServer* RedisClient::server_ = nullptr;

std::int64_t info_field(const std::string& info, const std::string& name) {
    auto at = info.find(name + ":");
    if (at == std::string::npos) {
        return -1;
    }
    return std::stoll(info.substr(at + name.size() + 1));
}

}  // namespace

TEST(ServerFixture, StartsKillsRestartsOnTheSamePortAndCleansUp) {
    std::string dir;
    {
        RedisServer server;
        dir = server.dir();
        EXPECT_TRUE(std::filesystem::is_directory(dir));
        EXPECT_TRUE(corio_test::tcp_probe(server.port(), "PING\r\n", "+PONG"));
        std::uint16_t port = server.port();
        server.kill();
        EXPECT_FALSE(server.running());
        EXPECT_FALSE(corio_test::tcp_probe(port, "PING\r\n", "+PONG"));
        server.restart();
        EXPECT_EQ(server.port(), port);
        EXPECT_TRUE(corio_test::tcp_probe(port, "PING\r\n", "+PONG"));
    }
    EXPECT_FALSE(std::filesystem::exists(dir));
}

TEST_F(RedisClient, ConnectsWithHello3AndRunsCommands) {
    net_run([]() -> Task<void> {
        auto c = co_await redis::Client::connect(opts());
        EXPECT_TRUE(c.is_connected());
        EXPECT_EQ(c.protocol(), 3);
        redis::Reply ok = co_await c.execute("SET", "client:k", 42);
        EXPECT_EQ(ok.as_string(), "OK");
        redis::Reply v = co_await c.execute("GET", "client:k");
        EXPECT_EQ(v.as_string(), "42");
        redis::Reply missing = co_await c.execute("GET", "client:missing");
        EXPECT_TRUE(missing.is_null());
        // RESP3: HGETALL is a map.
        co_await c.execute("HSET", "client:h", "a", 1, "b", 2);
        redis::Reply h = co_await c.execute("HGETALL", "client:h");
        EXPECT_TRUE(h.is_map());
        EXPECT_EQ((h.to<std::map<std::string, std::string>>()),
                  (std::map<std::string, std::string>{{"a", "1"}, {"b", "2"}}));
    }());
}

TEST_F(RedisClient, ConnectsByUrlSelectingTheDatabase) {
    net_run([]() -> Task<void> {
        auto db2 = co_await redis::Client::connect(
            "redis://127.0.0.1:" + std::to_string(server_->port()) + "/2?client_name=worker-7");
        co_await db2.execute("SET", "client:url", "in-db-2");
        auto db0 = co_await redis::Client::connect(opts());
        EXPECT_TRUE((co_await db0.execute("GET", "client:url")).is_null());
        EXPECT_EQ((co_await db2.execute("GET", "client:url")).as_string(), "in-db-2");
        EXPECT_EQ((co_await db2.execute("CLIENT", "GETNAME")).as_string(), "worker-7");
    }());
}

TEST_F(RedisClient, ConnectsOverTheUnixSocket) {
    net_run([]() -> Task<void> {
        auto c = co_await redis::Client::connect("unix://" + server_->socket_path());
        EXPECT_EQ((co_await c.execute("PING")).as_string(), "PONG");
        redis::Reply info = co_await c.execute("CLIENT", "INFO");
        EXPECT_NE(info.to_string().find("addr=" + server_->socket_path()), std::string::npos)
            << info.to_string();
    }());
}

TEST_F(RedisClient, Resp2WhenAskedAndWhenHelloIsRefused) {
    net_run([]() -> Task<void> {
        auto o = opts();
        o.protocol = 2;
        o.client_name = "resp2-client";
        auto c = co_await redis::Client::connect(o);
        EXPECT_EQ(c.protocol(), 2);
        co_await c.execute("HSET", "client:h2", "f", "v");
        redis::Reply h = co_await c.execute("HGETALL", "client:h2");
        EXPECT_TRUE(h.is_array());  // RESP2's flat array, read as a map all the same
        EXPECT_EQ(h.to_string_map(), (std::map<std::string, std::string>{{"f", "v"}}));
        EXPECT_EQ((co_await c.execute("CLIENT", "GETNAME")).as_string(), "resp2-client");
    }());
}

TEST(RedisFake, ServerThatRefusesHelloGetsResp2WithAuthAndSetname) {
    net_run([]() -> Task<void> {
        std::vector<std::vector<std::string>> seen;
        auto [server, port] = co_await corio_test::fake_redis([&](const auto& cmd) {
            seen.push_back(cmd);
            if (cmd[0] == "HELLO") {
                return std::string("-ERR unknown command 'HELLO'\r\n");  // Redis 5
            }
            if (cmd[0] == "GET") {
                return std::string("$5\r\nhello\r\n");
            }
            return std::string("+OK\r\n");
        });
        redis::ClientOptions o;
        o.port = port;
        o.username = "u";
        o.password = "p";
        o.client_name = "n";
        o.db = 3;
        auto c = co_await redis::Client::connect(o);
        EXPECT_EQ(c.protocol(), 2);
        EXPECT_EQ((co_await c.execute("GET", "k")).as_string(), "hello");
        using V = std::vector<std::string>;
        EXPECT_EQ(seen, (std::vector<V>{{"HELLO", "3", "AUTH", "u", "p", "SETNAME", "n"},
                                        {"AUTH", "u", "p"},
                                        {"CLIENT", "SETNAME", "n"},
                                        {"SELECT", "3"},
                                        {"GET", "k"}}));
        c.close();
        co_await corio_test::stop_fake(server);
    }());
}

TEST(RedisFake, GarbageIsAProtocolErrorAndTheClientRecovers) {
    net_run([]() -> Task<void> {
        int gets = 0;
        auto [server, port] = co_await corio_test::fake_redis([&](const auto& cmd) {
            if (cmd[0] == "GET" && ++gets == 1) {
                return std::string("?garbage\r\n");
            }
            if (cmd[0] == "GET") {
                return std::string("$2\r\nok\r\n");
            }
            return std::string(cmd[0] == "HELLO" ? "%1\r\n+proto\r\n:3\r\n" : "+OK\r\n");
        });
        redis::ClientOptions o;
        o.port = port;
        auto c = co_await redis::Client::connect(o);
        auto first = c.execute("GET", "a");
        auto second = c.execute("GET", "b");  // in flight behind it: fails too
        std::string e1, e2;
        try {
            co_await std::move(first);
        } catch (const redis::ProtocolError& e) {
            e1 = e.what();
        }
        try {
            co_await std::move(second);
        } catch (const redis::ProtocolError& e) {
            e2 = e.what();
        }
        EXPECT_NE(e1.find("protocol error"), std::string::npos) << e1;
        EXPECT_EQ(e1, e2);
        EXPECT_FALSE(c.is_connected());
        EXPECT_EQ((co_await c.execute("GET", "c")).as_string(), "ok");  // a new connection
        EXPECT_EQ(c.connections_made(), 2u);
        c.close();
        co_await corio_test::stop_fake(server);
    }());
}

TEST(RedisFake, TruncatedReplyIsAConnectionErrorSayingSo) {
    net_run([]() -> Task<void> {
        auto [server, port] = co_await corio_test::fake_redis([&](const auto& cmd) {
            if (cmd[0] == "GET") {
                return std::string("$10\r\nabc");  // cut short
            }
            if (cmd[0] == "QUIT") {
                return std::string();  // close
            }
            return std::string(cmd[0] == "HELLO" ? "%1\r\n+proto\r\n:3\r\n" : "+OK\r\n");
        });
        redis::ClientOptions o;
        o.port = port;
        o.connect_attempts = 1;
        auto c = co_await redis::Client::connect(o);
        auto get = c.execute("GET", "a");
        auto quit = c.execute("QUIT");  // the fake closes on an empty answer
        std::string error;
        try {
            co_await std::move(get);
        } catch (const redis::ConnectionError& e) {
            error = e.what();
        }
        EXPECT_NE(error.find("in the middle of a reply"), std::string::npos) << error;
        EXPECT_THROW(co_await std::move(quit), redis::ConnectionError);
        c.close();
        co_await corio_test::stop_fake(server);
    }());
}

TEST(RedisAuth, PasswordAndAclUserAndRefusal) {
    RedisServer server;
    net_run([&]() -> Task<void> {
        redis::ClientOptions admin;
        admin.port = server.port();
        auto a = co_await redis::Client::connect(admin);
        co_await a.execute("ACL", "SETUSER", "alice", "on", ">alice-pw", "~app:*", "+@all");
        co_await a.execute("CONFIG", "SET", "requirepass", "s3cret");

        auto o = admin;
        o.password = "s3cret";
        auto byPassword = co_await redis::Client::connect(o);
        EXPECT_EQ((co_await byPassword.execute("ACL", "WHOAMI")).as_string(), "default");

        auto alice = co_await redis::Client::connect("redis://alice:alice-pw@127.0.0.1:" +
                                                     std::to_string(server.port()));
        EXPECT_EQ((co_await alice.execute("ACL", "WHOAMI")).as_string(), "alice");
        bool denied = false;
        try {
            co_await alice.execute("SET", "other:key", 1);  // outside ~app:*
        } catch (const redis::ReplyError& e) {
            denied = e.prefix() == "NOPERM";
        }
        EXPECT_TRUE(denied);

        o.password = "wrong";
        bool refused = false;
        try {
            co_await redis::Client::connect(o);
        } catch (const redis::ReplyError& e) {
            refused = e.prefix() == "WRONGPASS";
        }
        EXPECT_TRUE(refused);

        bool unauthenticated = false;  // no password at all
        try {
            co_await redis::Client::connect(admin);
        } catch (const redis::ReplyError& e) {
            unauthenticated = e.prefix() == "NOAUTH";
        }
        EXPECT_TRUE(unauthenticated);
    }());
}

TEST_F(RedisClient, ErrorReplyIsAReplyErrorWithTheServersMessage) {
    net_run([]() -> Task<void> {
        auto c = co_await redis::Client::connect(opts());
        co_await c.execute("SET", "client:text", "abc");
        std::string message;
        try {
            co_await c.execute("INCR", "client:text");
        } catch (const redis::ReplyError& e) {
            message = e.message();
        }
        EXPECT_EQ(message, "ERR value is not an integer or out of range");
        // The connection stays in step after an error.
        EXPECT_EQ((co_await c.execute("GET", "client:text")).as_string(), "abc");
    }());
}

TEST_F(RedisClient, ConcurrentTasksArePipelinedInOrderInFewWrites) {
    net_run([]() -> Task<void> {
        auto c = co_await redis::Client::connect(opts());
        auto probe = co_await redis::Client::connect(opts());
        constexpr int n = 200;
        auto reads = [&]() -> Task<std::int64_t> {
            redis::Reply info = co_await probe.execute("INFO", "stats");
            co_return info_field(info.to_string(), "total_reads_processed");
        };
        std::int64_t before = co_await reads();
        std::vector<corio::TaskHandle<std::string>> tasks;
        for (int i = 0; i < n; ++i) {
            tasks.push_back(corio::create_task([](redis::Client c, int i) -> Task<std::string> {
                co_await c.execute("SET", "pipe:" + std::to_string(i), i * 10);
                redis::Reply r = co_await c.execute("GET", "pipe:" + std::to_string(i));
                co_return r.as_string();
            }(c, i)));
        }
        for (int i = 0; i < n; ++i) {
            EXPECT_EQ(co_await tasks[i], std::to_string(i * 10));
        }
        std::int64_t after = co_await reads();
        // 400 commands from 200 tasks: the SETs leave in one write, the GETs
        // in another (plus the probe's INFO). Without pipelining: 400 reads.
        EXPECT_GE(before, 0);
        EXPECT_LE(after - before, 10) << "server reads for " << 2 * n << " commands";
        EXPECT_GE(after - before, 2);
    }());
}

TEST_F(RedisClient, CancelledCommandsReplyIsDroppedAndLaterRepliesStayMatched) {
    net_run([]() -> Task<void> {
        auto c = co_await redis::Client::connect(opts());
        auto other = co_await redis::Client::connect(opts());
        co_await c.execute("DEL", "cancel:q");
        co_await c.execute("SET", "cancel:k", "value-of-k");
        auto blocked = corio::create_task([](redis::Client c) -> Task<redis::Reply> {
            co_return co_await c.execute("BLPOP", "cancel:q", 10);
        }(c));
        // Wait until the server holds the BLPOP.
        for (;;) {
            redis::Reply info = co_await other.execute("INFO", "clients");
            if (info_field(info.to_string(), "blocked_clients") == 1) {
                break;
            }
        }
        blocked.cancel();
        auto get = c.execute("GET", "cancel:k");  // queued behind the BLPOP
        co_await other.execute("RPUSH", "cancel:q", "x");
        redis::Reply v = co_await std::move(get);
        EXPECT_EQ(v.as_string(), "value-of-k");
        EXPECT_TRUE(blocked.cancelled());
        // The BLPOP ran (it popped "x"): only its reply was dropped.
        EXPECT_EQ((co_await c.execute("LLEN", "cancel:q")).as_integer(), 0);
        EXPECT_EQ(c.pending(), 0u);
    }());
}

TEST_F(RedisClient, CommandTimeoutRaisesAndTheConnectionStaysInStep) {
    net_run([]() -> Task<void> {
        redis::ClientOptions o = opts();
        o.command_timeout = std::chrono::milliseconds(200);
        auto c = co_await redis::Client::connect(o);
        auto other = co_await redis::Client::connect(opts());
        co_await c.execute("DEL", "timeout:q");
        co_await c.execute("SET", "timeout:k", "value-of-k");
        auto& loop = corio::get_running_loop();
        auto t0 = loop.time();
        std::string error;
        try {
            co_await c.execute("BLPOP", "timeout:q", 30);  // the server would wait 30 s
        } catch (const corio::TimeoutError& e) {
            error = e.what();
        }
        auto waited = loop.time() - t0;
        EXPECT_NE(error.find("timed out after 200 ms"), std::string::npos) << error;
        EXPECT_GE(waited, std::chrono::milliseconds(200));
        EXPECT_LT(waited, std::chrono::seconds(10));
        // The server still holds the BLPOP; the client keeps the connection.
        redis::Reply info = co_await other.execute("INFO", "clients");
        EXPECT_EQ(info_field(info.to_string(), "blocked_clients"), 1);
        EXPECT_TRUE(c.is_connected());
        EXPECT_EQ(c.pending(), 1u);
        auto get = c.execute("GET", "timeout:k");  // queued behind the BLPOP
        co_await other.execute("RPUSH", "timeout:q", "x");
        // The BLPOP's reply (timeout:q, x) is read and dropped: GET gets its own.
        EXPECT_EQ((co_await std::move(get)).as_string(), "value-of-k");
        EXPECT_EQ((co_await c.execute("LLEN", "timeout:q")).as_integer(), 0);
        EXPECT_EQ(c.pending(), 0u);
        EXPECT_EQ(c.connections_made(), 1u);
        // Quick commands under the limit are untouched, many at once too.
        std::vector<corio::Future<redis::Reply>> many;
        for (int i = 0; i < 500; ++i) {
            many.push_back(c.execute("INCR", "timeout:n"));
        }
        for (int i = 0; i < 500; ++i) {
            EXPECT_EQ((co_await std::move(many[static_cast<std::size_t>(i)])).as_integer(), i + 1);
        }
    }());
}

TEST(RedisTimeout, CommandsWaitingForADownServerTimeOutToo) {
    corio::net::Socket holder;
    std::uint16_t port = corio_test::refused_port(holder);
    net_run([port]() -> Task<void> {
        redis::ClientOptions o;
        o.port = port;
        o.connect_attempts = 1000;
        o.reconnect_backoff = std::chrono::milliseconds(20);
        o.command_timeout = std::chrono::milliseconds(100);
        auto c = redis::Client::create(o);
        std::string error;
        try {
            co_await c.execute("PING");
        } catch (const corio::TimeoutError& e) {
            error = e.what();
        }
        EXPECT_NE(error.find("timed out"), std::string::npos) << error;
        c.close();
    }());
}

TEST(RedisFaults, ServerKilledMidCommandFailsItThenTheClientReconnects) {
    RedisServer server;
    net_run([&]() -> Task<void> {
        redis::ClientOptions o;
        o.port = server.port();
        auto c = co_await redis::Client::connect(o);
        auto other = co_await redis::Client::connect(o);
        auto blocked = corio::create_task([](redis::Client c) -> Task<redis::Reply> {
            co_return co_await c.execute("BLPOP", "fault:q", 10);
        }(c));
        for (;;) {
            redis::Reply info = co_await other.execute("INFO", "clients");
            if (info_field(info.to_string(), "blocked_clients") == 1) {
                break;
            }
        }
        server.kill();
        std::string error;
        try {
            co_await blocked;
        } catch (const redis::ConnectionError& e) {
            error = e.what();
        }
        EXPECT_NE(error.find("lost"), std::string::npos) << error;
        EXPECT_FALSE(c.is_connected());

        // Down: the command waits through the retries, then fails clearly.
        std::string refused;
        try {
            co_await c.execute("PING");
        } catch (const redis::ConnectionError& e) {
            refused = e.what();
        }
        EXPECT_NE(refused.find("cannot connect"), std::string::npos) << refused;

        server.restart();
        EXPECT_EQ((co_await c.execute("SET", "fault:k", "back")).as_string(), "OK");
        EXPECT_EQ((co_await c.execute("GET", "fault:k")).as_string(), "back");
        EXPECT_TRUE(c.is_connected());
        EXPECT_EQ(c.connections_made(), 2u);
    }());
}

TEST_F(RedisClient, CommandsIssuedWhileDisconnectedLeaveInOrderAfterReconnecting) {
    net_run([]() -> Task<void> {
        auto c = co_await redis::Client::connect(opts());
        c.close();
        EXPECT_FALSE(c.is_connected());
        auto a = c.execute("SET", "backlog:k", "1");
        auto b = c.execute("INCR", "backlog:k");
        auto g = c.execute("GET", "backlog:k");
        EXPECT_EQ((co_await std::move(a)).as_string(), "OK");
        EXPECT_EQ((co_await std::move(b)).as_integer(), 2);
        EXPECT_EQ((co_await std::move(g)).as_string(), "2");
        EXPECT_EQ(c.connections_made(), 2u);
    }());
}

TEST(RedisUrl, ParsesTheForms) {
    auto o = redis::parse_url("redis://user:p%40ss@example.org:6380/3");
    EXPECT_EQ(o.host, "example.org");
    EXPECT_EQ(o.port, 6380);
    EXPECT_EQ(o.username, "user");
    EXPECT_EQ(o.password, "p@ss");
    EXPECT_EQ(o.db, 3);
    auto d = redis::parse_url("redis://localhost");
    EXPECT_EQ(d.host, "localhost");
    EXPECT_EQ(d.port, 6379);
    EXPECT_EQ(d.db, 0);
    auto pw = redis::parse_url("redis://:only@h");
    EXPECT_EQ(pw.username, "");
    EXPECT_EQ(pw.password, "only");
    auto u = redis::parse_url("unix:///run/redis.sock?db=4&protocol=2");
    EXPECT_EQ(u.unix_socket, "/run/redis.sock");
    EXPECT_EQ(u.db, 4);
    EXPECT_EQ(u.protocol, 2);
    EXPECT_THROW(redis::parse_url("http://x"), std::invalid_argument);
    EXPECT_THROW(redis::parse_url("redis://h:99999"), std::invalid_argument);
    EXPECT_THROW(redis::parse_url("redis://h/x"), std::invalid_argument);
}
