// ClientSession's connection limits (limit, limit_per_host) and
// ClientTimeout over streamed bodies, on loopback against a raw keep-alive
// server that counts its connections. The queue's order, cancellation and
// timeouts are also checked without sockets on virtual time
// (internal/client_pool_test.cpp).
#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "corio/corio.hpp"
#include "corio/http/client.hpp"
#include "corio/net/streams.hpp"
#include "net/net_fixture.hpp"

using namespace std::chrono_literals;
using corio::Task;
namespace net = corio::net;
using corio::http::ClientResponse;
using corio::http::ClientSession;
using corio::http::ClientSessionOptions;
using corio::http::ContentReader;
using corio::http::RequestOptions;
using corio_test::net_run;

namespace {

// A raw HTTP/1.1 keep-alive server. GET /n answers "ok" after letting the
// loop run a few times (so that concurrent requests overlap); GET /hold
// sends the head of a 10-byte body and its first 5 bytes, and the rest once
// `finish` is set. It counts open connections and requests in flight;
// `in_flight` may be shared by two servers.
struct CountingServer {
    std::size_t open = 0;
    std::size_t peak_open = 0;
    std::size_t requests = 0;
    std::size_t own_in_flight = 0;
    std::size_t* in_flight = &own_in_flight;
    std::size_t peak_in_flight = 0;
    std::size_t* shared_peak = &peak_in_flight;
    corio::Event finish;
    std::optional<net::Server> server;

    std::string url(std::string_view path) const {
        return "http://127.0.0.1:" + std::to_string(server->sockets().at(0).port()) +
               std::string(path);
    }
};

Task<void> serve_conn(CountingServer* s, net::StreamReader reader, net::StreamWriter writer) {
    ++s->open;
    s->peak_open = std::max(s->peak_open, s->open);
    try {
        for (;;) {
            std::string head = co_await reader.readuntil("\r\n\r\n");
            ++s->requests;
            ++*s->in_flight;
            *s->shared_peak = std::max(*s->shared_peak, *s->in_flight);
            if (head.starts_with("GET /hold")) {
                writer.write("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nfirst");
                co_await writer.drain();
                co_await s->finish.wait();
                writer.write("final");
            } else {
                for (int i = 0; i < 3; ++i) {
                    co_await corio::sleep(0s);
                }
                writer.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
            }
            --*s->in_flight;
            co_await writer.drain();
        }
    } catch (const std::exception&) {
        // The client closed the connection (EOF between requests, or a reset).
    }
    --s->open;
    writer.close();
}

Task<void> start(CountingServer& s) {
    net::ClientConnected handler = [&s](net::StreamReader r, net::StreamWriter w) {
        return serve_conn(&s, std::move(r), std::move(w));
    };
    s.server.emplace(co_await net::start_server(std::move(handler), "127.0.0.1", 0));
}

Task<void> stop(CountingServer& s) {
    s.finish.set();
    s.server->close();
    co_await s.server->wait_closed();
}

RequestOptions streamed() {
    RequestOptions o;
    o.stream = true;
    return o;
}

// Reads exactly `n` bytes of a streamed body (fewer at its end).
Task<std::string> read_n(ContentReader c, std::size_t n) {
    std::string got;
    while (got.size() < n) {
        std::string piece = co_await c.read(static_cast<long>(n - got.size()));
        if (piece.empty()) {
            break;
        }
        got += piece;
    }
    co_return got;
}

// Lets the loop run a few iterations: queued requests get to their wait.
Task<void> settle() {
    for (int i = 0; i < 10; ++i) {
        co_await corio::sleep(0s);
    }
}

Task<std::vector<ClientResponse>> get_all(ClientSession& session, std::vector<std::string> urls) {
    std::vector<Task<ClientResponse>> requests;
    for (const std::string& u : urls) {
        requests.push_back(session.get(u));
    }
    co_return co_await corio::gather(std::move(requests));
}

}  // namespace

TEST(ClientLimits, LimitPerHostBoundsOpenConnections) {
    net_run([]() -> Task<void> {
        for (std::size_t per_host : {2u, 0u}) {
            CountingServer s;
            co_await start(s);
            ClientSessionOptions o;
            o.limit_per_host = per_host;
            ClientSession session(o);
            std::vector<ClientResponse> got = co_await corio::wait_for(
                get_all(session, std::vector<std::string>(10, s.url("/n"))), 10s);
            EXPECT_EQ(got.size(), 10u);
            for (const ClientResponse& r : got) {
                EXPECT_EQ(r.status(), 200);
                EXPECT_EQ(r.body(), "ok");
            }
            EXPECT_EQ(s.requests, 10u);
            if (per_host == 2) {
                EXPECT_EQ(s.peak_open, 2u);
                EXPECT_EQ(session.connections_opened(), 2u);
                EXPECT_EQ(session.open_connections(), 2u);  // both idle now
            } else {
                // Without the limit the same requests open one each: the
                // check above could fail.
                EXPECT_EQ(s.peak_open, 10u);
            }
            co_await session.close();
            EXPECT_EQ(session.open_connections(), 0u);
            co_await stop(s);
        }
    }());
}

TEST(ClientLimits, LimitAcrossTwoHostsClosesAnIdleConnectionToMakeRoom) {
    net_run([]() -> Task<void> {
        CountingServer a;
        CountingServer b;
        std::size_t in_flight = 0;
        std::size_t peak = 0;
        // (No braced lists inside this coroutine: GCC 12 rejects them.)
        a.in_flight = b.in_flight = &in_flight;
        a.shared_peak = b.shared_peak = &peak;
        co_await start(a);
        co_await start(b);
        ClientSessionOptions o;
        o.limit = 2;
        o.timeout.connect = 10s;  // bounds a wait that would never end
        ClientSession session(o);
        // Two idle connections to a take the whole limit: b's request
        // closes one of them rather than waiting.
        co_await get_all(session, std::vector<std::string>(2, a.url("/n")));
        EXPECT_EQ(session.idle_connections(), 2u);
        EXPECT_EQ((co_await session.get(b.url("/n"))).body(), "ok");
        EXPECT_EQ(session.connections_opened(), 3u);
        EXPECT_EQ(session.open_connections(), 2u);
        EXPECT_EQ(session.idle_connections(), 2u);
        // Ten at once over both hosts: never more than two in flight.
        std::vector<std::string> urls;
        for (int i = 0; i < 5; ++i) {
            urls.push_back(a.url("/n"));
            urls.push_back(b.url("/n"));
        }
        peak = 0;
        std::vector<ClientResponse> got = co_await get_all(session, urls);
        EXPECT_EQ(got.size(), 10u);
        for (const ClientResponse& r : got) {
            EXPECT_EQ(r.body(), "ok");
        }
        EXPECT_EQ(a.requests + b.requests, 13u);
        EXPECT_LE(peak, 2u);
        EXPECT_GE(peak, 1u);
        EXPECT_LE(session.open_connections(), 2u);
        co_await session.close();
        co_await stop(a);
        co_await stop(b);
    }());
}

TEST(ClientLimits, AStreamedResponseHoldsItsPlaceUntilReadOrReleased) {
    net_run([]() -> Task<void> {
        CountingServer s;
        co_await start(s);
        ClientSessionOptions o;
        o.limit_per_host = 1;
        ClientSession session(o);
        {
            ClientResponse held = co_await session.get(s.url("/hold"), {}, streamed());
            auto next = corio::create_task(session.get(s.url("/n")));
            co_await settle();
            EXPECT_FALSE(next.done());
            EXPECT_EQ(s.requests, 1u);
            // Read to its end: the connection goes to the waiting request.
            s.finish.set();
            EXPECT_EQ(co_await held.content().read(), "firstfinal");
            ClientResponse r = co_await corio::wait_for(std::move(next), 10s);
            EXPECT_EQ(r.body(), "ok");
            EXPECT_EQ(session.connections_opened(), 1u);
        }
        s.finish.clear();
        {
            ClientResponse held = co_await session.get(s.url("/hold"), {}, streamed());
            EXPECT_EQ(co_await read_n(held.content(), 2), "fi");
            auto next = corio::create_task(session.get(s.url("/n")));
            co_await settle();
            EXPECT_FALSE(next.done());
            held.release();  // half-read: closed, its place freed
            ClientResponse r = co_await corio::wait_for(std::move(next), 10s);
            EXPECT_EQ(r.body(), "ok");
            EXPECT_EQ(session.connections_opened(), 2u);
            EXPECT_EQ(session.open_connections(), 1u);
        }
        {
            std::optional<ClientResponse> held =
                co_await session.get(s.url("/hold"), {}, streamed());
            auto next = corio::create_task(session.get(s.url("/n")));
            co_await settle();
            EXPECT_FALSE(next.done());
            held.reset();  // dropped unread: the same
            EXPECT_EQ((co_await corio::wait_for(std::move(next), 10s)).body(), "ok");
            EXPECT_EQ(session.connections_opened(), 3u);
        }
        co_await session.close();
        co_await stop(s);
    }());
}

TEST(ClientLimits, ACancelledWaiterGivesNothingAway) {
    net_run([]() -> Task<void> {
        CountingServer s;
        co_await start(s);
        ClientSessionOptions o;
        o.limit_per_host = 1;
        ClientSession session(o);
        ClientResponse held = co_await session.get(s.url("/hold"), {}, streamed());
        auto first = corio::create_task(session.get(s.url("/n")));
        auto second = corio::create_task(session.get(s.url("/n")));
        co_await settle();
        first.cancel();
        co_await settle();
        EXPECT_TRUE(first.cancelled());
        EXPECT_FALSE(second.done());
        EXPECT_EQ(session.open_connections(), 1u);
        held.release();
        ClientResponse r = co_await corio::wait_for(std::move(second), 10s);
        EXPECT_EQ(r.body(), "ok");
        EXPECT_EQ(s.requests, 2u);  // the cancelled one never reached the server
        EXPECT_EQ(session.open_connections(), 1u);
        EXPECT_EQ(session.connections_opened(), 2u);
        co_await session.close();
        co_await stop(s);
    }());
}

TEST(ClientLimits, WaitingForAPlaceCountsAgainstConnectAndTotal) {
    net_run([]() -> Task<void> {
        CountingServer s;
        co_await start(s);
        for (bool total : {false, true}) {
            ClientSessionOptions o;
            o.limit_per_host = 1;
            if (total) {
                o.timeout.total = 1s;
            } else {
                o.timeout.total.reset();
                o.timeout.connect = 1s;
            }
            ClientSession session(o);
            ClientResponse held = co_await session.get(s.url("/hold"), {}, streamed());
            EXPECT_THROW(co_await session.get(s.url("/n")), corio::TimeoutError);
            EXPECT_EQ(session.open_connections(), 1u);
            held.release();
            EXPECT_EQ(session.open_connections(), 0u);
            co_await session.close();
        }
        EXPECT_EQ(s.requests, 2u);  // only the two held ones reached it
        co_await stop(s);
    }());
}

TEST(ClientLimits, CloseFailsTheWaitingRequests) {
    net_run([]() -> Task<void> {
        CountingServer s;
        co_await start(s);
        ClientSessionOptions o;
        o.limit = 1;
        ClientSession session(o);
        ClientResponse held = co_await session.get(s.url("/hold"), {}, streamed());
        auto waiting = corio::create_task(session.get(s.url("/n")));
        co_await settle();
        co_await session.close();
        EXPECT_THROW(co_await std::move(waiting), corio::RuntimeError);
        held.release();
        co_await stop(s);
    }());
}

TEST(ClientTimeoutStreamed, TotalRunsUntilTheBodyIsRead) {
    net_run([]() -> Task<void> {
        CountingServer s;  // /hold: the head, 5 bytes, then a stall
        co_await start(s);
        ClientSessionOptions o;
        o.timeout.total = 1s;  // room for a loaded machine to get each head in time
        ClientSession session(o);
        ClientResponse r = co_await session.get(s.url("/hold"), {}, streamed());
        ContentReader c = r.content();
        EXPECT_EQ(co_await read_n(c, 5), "first");
        // The deadline cuts the read waiting for the rest (the outer limit
        // only bounds a test that would hang)...
        EXPECT_THROW(co_await corio::wait_for(c.read(), 10s), corio::TimeoutError);
        // ...and the body stays failed with it (a read cancelled from outside
        // would leave ClientPayloadError), its connection closed.
        EXPECT_THROW(co_await c.read(), corio::TimeoutError);
        EXPECT_THROW(co_await r.read(), corio::TimeoutError);
        EXPECT_EQ(session.open_connections(), 0u);
        EXPECT_EQ(session.idle_connections(), 0u);

        // A read after the deadline throws even with bytes buffered.
        r = co_await session.get(s.url("/hold"), {}, streamed());
        EXPECT_EQ(co_await read_n(r.content(), 2), "fi");
        co_await corio::sleep(1100ms);  // the caller dawdles past the deadline
        EXPECT_THROW(co_await r.content().read(3), corio::TimeoutError);
        EXPECT_EQ(session.open_connections(), 0u);

        // A body read to its end in time is free of the deadline.
        s.finish.set();
        r = co_await session.get(s.url("/hold"), {}, streamed());
        EXPECT_EQ(co_await r.read(), "firstfinal");
        co_await corio::sleep(1100ms);
        EXPECT_EQ(co_await r.content().read(), "firstfinal");
        EXPECT_EQ(session.idle_connections(), 1u);
        co_await session.close();
        co_await stop(s);
    }());
}

TEST(ClientTimeoutStreamed, SockReadBoundsEachRead) {
    net_run([]() -> Task<void> {
        CountingServer s;
        co_await start(s);
        ClientSessionOptions o;
        o.timeout.total.reset();
        o.timeout.sock_read = 1s;
        ClientSession session(o);
        ClientResponse r = co_await session.get(s.url("/hold"), {}, streamed());
        ContentReader c = r.content();
        EXPECT_EQ(co_await read_n(c, 5), "first");
        EXPECT_THROW(co_await corio::wait_for(c.read(), 10s), corio::TimeoutError);
        EXPECT_THROW(co_await c.read(), corio::TimeoutError);
        EXPECT_EQ(session.open_connections(), 0u);
        co_await session.close();
        co_await stop(s);
    }());
}
