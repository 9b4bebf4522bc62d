#include "corio/net/streams.hpp"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "corio/corio.hpp"
#include "corio/net/dns.hpp"
#include "net/net_fixture.hpp"

using namespace std::chrono_literals;
using corio::Task;
namespace net = corio::net;
using corio_test::net_run;
using corio_test::Reports;

namespace {

// Echoes every line back until EOF.
Task<void> echo_lines(net::StreamReader r, net::StreamWriter w) {
    for (;;) {
        std::string line = co_await r.readline();
        if (line.empty()) {
            break;
        }
        w.write(line);
        co_await w.drain();
    }
    w.close();
    co_await w.wait_closed();
}

// A server running `handler` on an ephemeral loopback port.
Task<std::pair<net::Server, std::uint16_t>> serve(net::ClientConnected handler) {
    net::Server s = co_await net::start_server(std::move(handler), "127.0.0.1", 0);
    std::uint16_t port = s.sockets().at(0).port();
    co_return std::pair<net::Server, std::uint16_t>(std::move(s), port);
}

// A handler that reads one line, then closes with SO_LINGER 0: the kernel
// sends RST.
Task<void> reset_after_a_line(net::StreamReader r, net::StreamWriter w) {
    co_await r.readline();
    linger lg{1, 0};
    ::setsockopt(w.socket(), SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    w.abort();
}

Task<void> stop(net::Server& s) {
    s.close();
    co_await s.wait_closed();
}

}  // namespace

TEST(Streams, EchoRoundTripsWithEveryReadFlavour) {
    net_run([]() -> Task<void> {
        auto [server, port] = co_await serve(echo_lines);
        auto [r, w] = co_await net::open_connection("127.0.0.1", port);
        w.write("hello\n");
        EXPECT_EQ(co_await r.readline(), "hello\n");
        w.writelines(std::vector<std::string>{"abc", "def\n"});
        EXPECT_EQ(co_await r.readexactly(3), "abc");
        EXPECT_EQ(co_await r.readuntil("f\n"), "def\n");
        w.write("partial");
        w.write_eof();  // the server's readline returns the last, unterminated line
        EXPECT_EQ(co_await r.read(100), "partial");
        EXPECT_EQ(co_await r.read(100), "");  // the server closed: EOF
        EXPECT_TRUE(r.at_eof());
        w.close();
        co_await w.wait_closed();
        co_await stop(server);
    }());
}

TEST(Streams, DataBeyondAFullReadBufferArrivesIntactAndInOrder) {
    // 64 KiB fills the reader's first buffer exactly; what follows lands
    // through the overflow path (or a grown buffer) and must keep its order.
    net_run([]() -> Task<void> {
        std::string payload(64 * 1024 + 5000, '\0');
        for (std::size_t i = 0; i < payload.size(); ++i) {
            payload[i] = static_cast<char>('a' + (i * 7 + i / 251) % 26);
        }
        corio::Event written;
        auto [server, port] =
            co_await serve([&](net::StreamReader, net::StreamWriter w) -> Task<void> {
                w.write(std::string_view(payload).substr(0, 64 * 1024));
                co_await w.drain();
                w.write(std::string_view(payload).substr(64 * 1024));
                co_await w.drain();
                written.set();
                w.close();
                co_await w.wait_closed();
            });
        auto [r, w] = co_await net::open_connection("127.0.0.1", port);
        co_await written.wait();
        std::string got = co_await r.readexactly(payload.size());
        EXPECT_EQ(got.size(), payload.size());
        EXPECT_TRUE(got == payload)
            << "the bytes differ from the first at "
            << std::mismatch(got.begin(), got.end(), payload.begin()).first - got.begin();
        EXPECT_EQ(co_await r.read(100), "");
        w.close();
        co_await w.wait_closed();
        co_await stop(server);
    }());
}

TEST(Streams, AReadBufferFilledExactlyThenDrainedKeepsLaterDataIntact) {
    // The reader's buffer fills exactly (64 KiB) and the socket is empty:
    // the next read attempt finds nothing. Data that comes after must land
    // where it belongs (a fault here corrupted every 64 KiB echo).
    net_run([]() -> Task<void> {
        std::string payload(64 * 1024 + 5000, '\0');
        for (std::size_t i = 0; i < payload.size(); ++i) {
            payload[i] = static_cast<char>('a' + (i * 7 + i / 251) % 26);
        }
        corio::Event first_sent, go, rest_sent;
        auto [server, port] =
            co_await serve([&](net::StreamReader, net::StreamWriter w) -> Task<void> {
                w.write(std::string_view(payload).substr(0, 64 * 1024));
                co_await w.drain();
                first_sent.set();
                co_await go.wait();
                w.write(std::string_view(payload).substr(64 * 1024));
                co_await w.drain();
                rest_sent.set();
                w.close();
                co_await w.wait_closed();
            });
        auto [r, w] = co_await net::open_connection("127.0.0.1", port);
        co_await first_sent.wait();
        for (int i = 0; i < 200; ++i) {  // the client's transport reads all of it, and once more
            co_await corio::sleep(0s);
        }
        std::string got = co_await r.readexactly(64 * 1024);  // the buffer empties
        go.set();
        co_await rest_sent.wait();
        got += co_await r.readexactly(payload.size() - got.size());
        EXPECT_TRUE(got == payload)
            << "the bytes differ from the first at "
            << std::mismatch(got.begin(), got.end(), payload.begin()).first - got.begin();
        w.close();
        co_await w.wait_closed();
        co_await stop(server);
    }());
}

TEST(Streams, ReadAllUntilEofAndReadexactlyShortOfData) {
    net_run([]() -> Task<void> {
        auto [server, port] =
            co_await serve([](net::StreamReader, net::StreamWriter w) -> Task<void> {
                w.write(std::string(100000, 'x'));
                w.close();
                co_await w.wait_closed();
            });
        auto [r, w] = co_await net::open_connection("127.0.0.1", port);
        std::string all = co_await r.read();  // -1: until EOF
        EXPECT_EQ(all.size(), 100000u);
        EXPECT_EQ(all.find_first_not_of('x'), std::string::npos);
        w.close();

        auto [r2, w2] = co_await net::open_connection("127.0.0.1", port);
        try {
            co_await r2.readexactly(100001);
            ADD_FAILURE() << "no IncompleteReadError";
        } catch (const corio::IncompleteReadError& e) {
            EXPECT_EQ(e.partial.size(), 100000u);
            EXPECT_EQ(e.expected, std::optional<std::size_t>(100001));
        }
        w2.close();
        co_await stop(server);
    }());
}

TEST(Streams, ReaduntilPastTheLimitLeavesTheDataBuffered) {
    net_run([]() -> Task<void> {
        net::StreamReader r(10);  // a fed reader with a 10-byte limit
        r.feed_data("0123456789abcdef|rest");
        try {
            co_await r.readuntil("|");
            ADD_FAILURE();
        } catch (const corio::LimitOverrunError& e) {
            EXPECT_EQ(e.consumed, 16u);
        }
        EXPECT_EQ(co_await r.readexactly(4), "0123");  // nothing was lost
        r.feed_eof();
        EXPECT_EQ(co_await r.read(), "456789abcdef|rest");
    }());
}

// asyncio: with a multi-byte separator the "not found" overrun counts only
// where the separator could still start, so one split across two reads
// right at the limit is found; the overrun's `consumed` is that offset.
TEST(Streams, ReaduntilFindsASeparatorSplitAtTheLimit) {
    net_run([]() -> Task<void> {
        net::StreamReader r(10);
        r.feed_data("0123456789\r");
        auto line = corio::create_task(r.readuntil("\r\n"));
        co_await corio::sleep(0s);
        CO_ASSERT_FALSE(line.done());  // waits: "\r\n" may start at index 10
        r.feed_data("\nrest");
        EXPECT_EQ(co_await line, "0123456789\r\n");

        r.feed_data("0123456789x");  // after "rest": the separator could start at 14 only
        try {
            co_await r.readuntil("\r\n");
            ADD_FAILURE();
        } catch (const corio::LimitOverrunError& e) {
            EXPECT_EQ(e.consumed, 14u);  // 15 buffered + 1 - 2
        }
    }());
}

TEST(Streams, ReadlineLongerThanTheLimitIsDroppedWithValueError) {
    net_run([]() -> Task<void> {
        net::StreamReader r(8);
        r.feed_data("a very long line\nnext\n");
        EXPECT_THROW(co_await r.readline(), std::invalid_argument);
        EXPECT_EQ(co_await r.readline(), "next\n");
        r.feed_eof();
        EXPECT_EQ(co_await r.readline(), "");
    }());
}

TEST(Streams, AFedReaderWaitsForFeedDataAndFeedEof) {
    net_run([]() -> Task<void> {
        net::StreamReader r;
        auto reader = corio::create_task([](net::StreamReader rr) -> Task<std::string> {
            co_return co_await rr.readexactly(5);
        }(r));
        co_await corio::sleep(0s);
        EXPECT_FALSE(reader.done());
        r.feed_data("he");
        co_await corio::sleep(0s);
        EXPECT_FALSE(reader.done());
        r.feed_data("llo!");
        EXPECT_EQ(co_await reader, "hello");
        r.set_exception(std::make_exception_ptr(std::runtime_error("broken")));
        EXPECT_THROW(co_await r.read(10), std::runtime_error);
        EXPECT_NE(r.exception(), nullptr);
    }());
}

TEST(Streams, FeedingNothingIsANoOp) {
    // Found by fuzz/stream_reader_fuzz: an empty feed into a reader that never
    // had a buffer passed null to memcpy.
    net_run([]() -> Task<void> {
        net::StreamReader r;
        r.feed_data("");
        EXPECT_FALSE(r.at_eof());
        r.feed_data("x");
        r.feed_data("");
        r.feed_eof();
        EXPECT_EQ(co_await r.read(), "x");
        EXPECT_TRUE(r.at_eof());
    }());
}

TEST(Streams, TwoConcurrentReadsAreRefused) {
    net_run([]() -> Task<void> {
        net::StreamReader r;
        auto first = corio::create_task(r.read(10));
        co_await corio::sleep(0s);
        EXPECT_THROW(co_await r.read(10), corio::RuntimeError);
        r.feed_data("x");
        EXPECT_EQ(co_await first, "x");
    }());
}

TEST(Streams, ACancelledReadLosesNoData) {
    net_run([]() -> Task<void> {
        auto [server, port] = co_await serve(echo_lines);
        auto [r, w] = co_await net::open_connection("127.0.0.1", port);
        auto reading = corio::create_task(r.readline());
        co_await corio::sleep(0s);  // let it run up to its await
        reading.cancel();
        EXPECT_THROW(co_await reading, corio::CancelledError);
        w.write("after\n");
        EXPECT_EQ(co_await r.readline(), "after\n");
        w.close();
        co_await stop(server);
    }());
}

TEST(Streams, DrainWaitsForASlowReaderThenReturns) {
    net_run([]() -> Task<void> {
        corio::Event go;
        std::size_t received = 0;
        auto [server, port] =
            co_await serve([&](net::StreamReader r, net::StreamWriter w) -> Task<void> {
                co_await go.wait();  // do not read yet: the client's buffers fill up
                for (;;) {
                    std::string chunk = co_await r.read(1 << 20);
                    if (chunk.empty()) {
                        break;
                    }
                    received += chunk.size();
                }
                w.close();
            });
        auto [r, w] = co_await net::open_connection("127.0.0.1", port);
        const std::string block(1 << 20, 'y');
        std::size_t sent = 0;
        // Write until the socket is full and our buffer stays past the
        // high-water mark once the loop has run (under io_uring a write is
        // handed to the kernel when the iteration ends).
        for (;;) {
            w.write(block);
            sent += block.size();
            for (int i = 0; i < 100; ++i) {  // several polls: what the kernel takes, it took
                co_await corio::sleep(0s);
            }
            if (w.get_write_buffer_size() > 64 * 1024) {
                break;
            }
        }
        auto draining = corio::create_task(w.drain());
        for (int i = 0; i < 100; ++i) {  // the loop polls many times: nothing is read
            co_await corio::sleep(0s);
        }
        EXPECT_FALSE(draining.done());  // real backpressure
        go.set();
        co_await draining;
        EXPECT_LE(w.get_write_buffer_size(), 16u * 1024);
        w.write_eof();
        EXPECT_EQ(co_await r.read(), "");  // the server closes once it read everything
        EXPECT_EQ(received, sent);
        w.close();
        co_await stop(server);
    }());
}

// asyncio's limits: high defaults to 64 KiB (4 x low when only low is
// given), low to high / 4; an explicit high of 0 means "drain to empty".
TEST(Streams, WriteBufferLimitsFollowAsyncio) {
    net_run([]() -> Task<void> {
        auto [server, port] = co_await serve(echo_lines);
        auto [r, w] = co_await net::open_connection("127.0.0.1", port);
        EXPECT_THROW(w.set_write_buffer_limits(0, 10), std::invalid_argument);  // low > high
        EXPECT_THROW(w.set_write_buffer_limits(100, 101), std::invalid_argument);
        w.set_write_buffer_limits(std::nullopt, 1000);  // high 4000
        w.set_write_buffer_limits(0);                   // high 0, low 0
        w.write("x\n");
        co_await w.drain();
        EXPECT_EQ(w.get_write_buffer_size(), 0u);
        EXPECT_EQ(co_await r.readline(), "x\n");
        w.close();
        co_await stop(server);
    }());
}

TEST(Streams, AbortEndsAPendingDrainWithConnectionLost) {
    net_run([]() -> Task<void> {
        corio::Event done;
        auto [server, port] =
            co_await serve([&](net::StreamReader, net::StreamWriter w) -> Task<void> {
                co_await done.wait();  // never reads
                w.close();
            });
        auto [r, w] = co_await net::open_connection("127.0.0.1", port);
        const std::string block(1 << 20, 'z');
        while (w.get_write_buffer_size() <= 64 * 1024) {
            w.write(block);
        }
        auto draining = corio::create_task(w.drain());
        co_await corio::sleep(0s);
        EXPECT_FALSE(draining.done());
        w.abort();
        try {
            co_await draining;  // before the fix: waited forever
            ADD_FAILURE() << "drain() returned after abort()";
        } catch (const std::system_error& e) {
            EXPECT_EQ(e.code().value(), ECONNRESET);
        }
        EXPECT_THROW(co_await w.drain(), std::system_error);
        done.set();
        co_await stop(server);
    }());
}

TEST(Streams, DrainAfterCloseReportsTheLostConnection) {
    net_run([]() -> Task<void> {
        auto [server, port] = co_await serve(echo_lines);
        auto [r, w] = co_await net::open_connection("127.0.0.1", port);
        w.write("x\n");
        co_await w.drain();  // open: fine
        w.close();
        co_await w.wait_closed();
        try {
            co_await w.drain();
            ADD_FAILURE() << "drain() after close() returned";
        } catch (const std::system_error& e) {
            EXPECT_EQ(e.code().value(), ECONNRESET);  // asyncio: ConnectionResetError
        }
        co_await stop(server);
    }());
}

TEST(Streams, ATaskOutlivesTheReaderItWasMadeFrom) {
    net_run([]() -> Task<void> {
        net::StreamReader r;
        std::optional<net::StreamReader> copy(r);
        auto line = corio::create_task(copy->readline());  // lazy: has not run yet
        copy.reset();
        r.feed_data("still here\n");
        EXPECT_EQ(co_await line, "still here\n");
    }());
}

TEST(Streams, AWriterDroppedWithBufferedDataStillDeliversIt) {
    net_run([]() -> Task<void> {
        corio::Future<std::size_t> total;
        auto [server, port] =
            co_await serve([&](net::StreamReader r, net::StreamWriter) -> Task<void> {
                std::string all = co_await r.read();
                total.set_result(all.size());
            });
        {
            auto [r, w] = co_await net::open_connection("127.0.0.1", port);
            w.write(std::string(8 << 20, 'z'));  // far more than the socket buffers
            w.close();
        }  // both handles gone: the connection flushes, then closes
        EXPECT_EQ(co_await total, std::size_t{8} << 20);
        co_await stop(server);
    }());
}

TEST(Streams, APeerResetIsAClearErrorForReadsAndDrain) {
    net_run([]() -> Task<void> {
        auto [server, port] = co_await serve(reset_after_a_line);
        auto [r, w] = co_await net::open_connection("127.0.0.1", port);
        w.write("bye\n");
        bool reset = false;
        try {
            co_await r.read(10);
        } catch (const std::system_error& e) {
            reset = true;
            EXPECT_EQ(e.code().value(), ECONNRESET);
            EXPECT_NE(std::string(e.what()).find("127.0.0.1"), std::string::npos) << e.what();
        }
        EXPECT_TRUE(reset);
        EXPECT_THROW(co_await w.drain(), std::system_error);  // the connection is lost
        w.close();
        co_await stop(server);
    }());
}

// asyncio sees EOF as soon as it arrives, so `while not at_eof(): readline()`
// ends without an extra empty line; what arrives before is kept, and a
// reset is kept for the next read.
TEST(Streams, AtEofSeesThePeersCloseWithoutARead) {
    net_run([]() -> Task<void> {
        corio::Event go;
        auto [server, port] =
            co_await serve([&](net::StreamReader r, net::StreamWriter w) -> Task<void> {
                w.write("one\ntwo\n");
                co_await go.wait();
                w.write("three\n");
                w.close();
                co_await w.wait_closed();
                co_await r.read();
            });
        auto [r, w] = co_await net::open_connection("127.0.0.1", port);
        EXPECT_EQ(co_await r.readline(), "one\n");
        EXPECT_EQ(co_await r.readline(), "two\n");
        EXPECT_FALSE(r.at_eof());  // the peer is still open
        go.set();
        std::vector<std::string> lines;
        for (int i = 0; i < 1000 && !r.at_eof(); ++i) {
            if (i % 100 == 99) {
                lines.push_back(co_await r.readline());  // at most a few: data was there
            } else {
                co_await corio::sleep(0s);
            }
        }
        EXPECT_TRUE(r.at_eof());
        EXPECT_EQ(lines, (std::vector<std::string>{"three\n"}));  // no extra "" at the end
        w.close();
        co_await stop(server);
    }());
}

TEST(Streams, AtEofKeepsAResetForTheNextRead) {
    net_run([]() -> Task<void> {
        auto [server, port] = co_await serve(reset_after_a_line);
        auto [r, w] = co_await net::open_connection("127.0.0.1", port);
        w.write("bye\n");
        bool at_eof = false;
        for (int i = 0; i < 1000 && !at_eof && !w.is_closing(); ++i) {
            at_eof = r.at_eof();
            co_await corio::sleep(0s);
        }
        EXPECT_FALSE(at_eof);
        EXPECT_THROW(co_await r.read(10), std::system_error);  // ECONNRESET, not EOF
        w.close();
        co_await stop(server);
    }());
}

TEST(Streams, ClosingTheWriterEndsAPendingReadWithEof) {
    net_run([]() -> Task<void> {
        auto [server, port] = co_await serve(echo_lines);
        auto [r, w] = co_await net::open_connection("127.0.0.1", port);
        auto reading = corio::create_task(r.read(10));
        co_await corio::sleep(0s);  // let it run up to its await
        w.close();
        EXPECT_TRUE(w.is_closing());
        EXPECT_EQ(co_await reading, "");
        co_await w.wait_closed();
        w.write("dropped");  // after close: silently dropped, as in asyncio
        co_await stop(server);
    }());
}

TEST(Streams, WriteAfterWriteEofIsAnError) {
    net_run([]() -> Task<void> {
        auto [server, port] = co_await serve(echo_lines);
        auto [r, w] = co_await net::open_connection("127.0.0.1", port);
        EXPECT_TRUE(w.can_write_eof());
        w.write_eof();
        EXPECT_THROW(w.write("x"), corio::RuntimeError);
        EXPECT_EQ(co_await r.read(), "");
        w.close();
        co_await stop(server);
    }());
}

TEST(Streams, ExtraInfoNamesBothEnds) {
    net_run([]() -> Task<void> {
        auto [server, port] = co_await serve(echo_lines);
        auto [r, w] = co_await net::open_connection("127.0.0.1", port);
        EXPECT_EQ(w.peername().to_string(), "127.0.0.1:" + std::to_string(port));
        EXPECT_EQ(w.sockname().host(), "127.0.0.1");
        EXPECT_EQ(std::any_cast<net::SocketAddress>(w.get_extra_info("peername")).port(), port);
        EXPECT_GE(std::any_cast<int>(w.get_extra_info("socket")), 0);
        EXPECT_FALSE(w.get_extra_info("ssl_object").has_value());
        EXPECT_EQ(w.ssl_object(), nullptr);
        w.close();
        co_await stop(server);
    }());
}

TEST(Streams, ConnectionRefusedAndBadNamesGiveClearErrors) {
    net_run([]() -> Task<void> {
        net::Socket holder;
        std::uint16_t port = corio_test::refused_port(holder);
        try {
            co_await net::open_connection("127.0.0.1", port);
            ADD_FAILURE();
        } catch (const std::system_error& e) {
            EXPECT_EQ(e.code().value(), ECONNREFUSED);
            EXPECT_NE(std::string(e.what()).find("127.0.0.1:" + std::to_string(port)),
                      std::string::npos)
                << e.what();
        }
        EXPECT_THROW(co_await net::open_connection("no-such-host.invalid", 80), net::GaiError);
        EXPECT_THROW(co_await net::open_connection("127.0.0.1", 1, {.limit = 0}),
                     std::invalid_argument);
    }());
}

TEST(Streams, NamesResolveWithoutBlockingTheLoop) {
    net_run([]() -> Task<void> {
        auto infos = co_await net::getaddrinfo("localhost", "80", AF_INET, SOCK_STREAM);
        CO_ASSERT_FALSE(infos.empty());
        EXPECT_EQ(infos[0].address.host(), "127.0.0.1");
        EXPECT_EQ(infos[0].address.port(), 80);
        auto [server, port] = co_await serve(echo_lines);
        auto [r, w] = co_await net::open_connection("localhost", port);
        w.write("via localhost\n");
        EXPECT_EQ(co_await r.readline(), "via localhost\n");
        w.close();
        co_await stop(server);
    }());
}

TEST(Server, WaitClosedWaitsForClientsAndCloseClientsClosesThem) {
    net_run([]() -> Task<void> {
        auto [server, port] = co_await serve(echo_lines);
        EXPECT_TRUE(server.is_serving());
        auto [r, w] = co_await net::open_connection("127.0.0.1", port);
        w.write("x\n");
        co_await r.readline();
        EXPECT_EQ(server.active_connections(), 1u);
        server.close();
        EXPECT_FALSE(server.is_serving());
        auto waiting = corio::create_task(server.wait_closed());
        for (int i = 0; i < 100; ++i) {
            co_await corio::sleep(0s);
        }
        EXPECT_FALSE(waiting.done());  // a client is still connected
        EXPECT_THROW(co_await net::open_connection("127.0.0.1", port), std::system_error);
        server.close_clients();
        co_await waiting;
        EXPECT_EQ(co_await r.read(), "");
        w.close();
    }());
}

TEST(Server, AcceptingResumesAfterRunningOutOfFileDescriptors) {
    Reports reports;
    net_run(
        [&reports]() -> Task<void> {
            corio::Event served;
            auto [server, port] =
                co_await serve([&](net::StreamReader, net::StreamWriter w) -> Task<void> {
                    served.set();
                    w.close();
                    co_await w.wait_closed();
                });
            net::Socket client = net::Socket::create(AF_INET, SOCK_STREAM);
            // Use up every free descriptor, so that the server's accept4 fails
            // with EMFILE while the kernel completes the handshake anyway.
            std::vector<int> hogs;
            for (int fd; (fd = ::dup(client.fd())) >= 0;) {
                hogs.push_back(fd);
            }
            EXPECT_EQ(errno, EMFILE);
            co_await net::sock_connect(client, net::SocketAddress::ip("127.0.0.1", port));
            // The accept loop meets EMFILE, reports it and backs off.
            for (int i = 0; i < 100000 && !reports.contains("out of system resource"); ++i) {
                co_await corio::sleep(0s);
            }
            EXPECT_TRUE(reports.contains("out of system resource"));
            for (int fd : hogs) {
                ::close(fd);
            }
            // asyncio retries after a second: the server goes on serving.
            co_await corio::wait_for(served.wait(), 10s);
            EXPECT_TRUE(server.is_serving());
            co_await stop(server);
        }(),
        &reports);
    EXPECT_EQ(reports.count("out of system resource"), 1u);
}

TEST(Server, ServeForeverEndsWhenTheServerCloses) {
    net_run([]() -> Task<void> {
        auto [server, port] = co_await serve(echo_lines);
        net::Server copy = server;
        auto forever = corio::create_task(copy.serve_forever());
        co_await corio::sleep(0s);  // let it run up to its await
        server.close();
        EXPECT_THROW(co_await forever, corio::CancelledError);
        co_await server.wait_closed();
    }());
}

TEST(Server, AHandlerThatThrowsIsReportedAndItsConnectionClosed) {
    Reports reports;
    net_run(
        []() -> Task<void> {
            auto [server, port] =
                co_await serve([](net::StreamReader r, net::StreamWriter) -> Task<void> {
                    co_await r.readline();
                    throw std::runtime_error("handler failed");
                });
            auto [r, w] = co_await net::open_connection("127.0.0.1", port);
            w.write("go\n");
            EXPECT_EQ(co_await r.read(), "");  // closed by the server
            w.close();
            co_await stop(server);
        }(),
        &reports);
    ASSERT_EQ(reports.count("Unhandled exception in client_connected_cb"), 1u);
    EXPECT_EQ(corio::describe_exception(reports.items[0].exception),
              "std::runtime_error: handler failed");
}

TEST(Server, ManyClientsAtOnce) {
    net_run([]() -> Task<void> {
        auto [server, port] = co_await serve(echo_lines);
        std::vector<Task<std::string>> clients;
        for (int i = 0; i < 200; ++i) {
            clients.push_back([](std::uint16_t p, int id) -> Task<std::string> {
                auto [r, w] = co_await net::open_connection("127.0.0.1", p);
                w.write("client " + std::to_string(id) + "\n");
                std::string back = co_await r.readline();
                w.close();
                co_await w.wait_closed();
                co_return back;
            }(port, i));
        }
        auto answers = co_await corio::gather(std::move(clients));
        for (int i = 0; i < 200; ++i) {
            EXPECT_EQ(answers[static_cast<std::size_t>(i)], "client " + std::to_string(i) + "\n");
        }
        co_await stop(server);
    }());
}

TEST(UnixStreams, EchoOverAUnixSocketReplacingAStaleFile) {
    net_run([]() -> Task<void> {
        std::string path = "/tmp/corio-test-" + std::to_string(::getpid()) + ".sock";
        {
            // Leave a stale socket file behind, as a crashed server would.
            net::Socket stale = net::Socket::create(AF_UNIX, SOCK_STREAM);
            stale.bind(net::SocketAddress::unix_path(path));
        }
        net::Server server = co_await net::start_unix_server(echo_lines, path);
        auto [r, w] = co_await net::open_unix_connection(path);
        w.write("unix\n");
        EXPECT_EQ(co_await r.readline(), "unix\n");
        w.close();
        co_await stop(server);
        struct stat sb;
        EXPECT_NE(::stat(path.c_str(), &sb), 0);  // close() removed the server's file
    }());
}

// asyncio 3.13: close() removes the socket file only if it is still the
// server's own; a file another server bound at the path since stays.
TEST(UnixStreams, CloseLeavesAFileThatAnotherServerBoundSince) {
    net_run([]() -> Task<void> {
        std::string path = "/tmp/corio-test-" + std::to_string(::getpid()) + "-b.sock";
        net::Server first = co_await net::start_unix_server(echo_lines, path);
        net::Server second = co_await net::start_unix_server(echo_lines, path);  // replaces it
        EXPECT_EQ(first.sockets().size(), 1u);
        co_await stop(first);
        EXPECT_TRUE(first.sockets().empty());  // as asyncio's Server.sockets after close()
        struct stat sb;
        CO_ASSERT_EQ(::stat(path.c_str(), &sb), 0);
        auto [r, w] = co_await net::open_unix_connection(path);  // reaches the second
        w.write("still here\n");
        EXPECT_EQ(co_await r.readline(), "still here\n");
        w.close();
        co_await stop(second);
        EXPECT_NE(::stat(path.c_str(), &sb), 0);
    }());
}
