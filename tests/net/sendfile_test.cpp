// Transport::sendfile: a file sent with sendfile(2) on plain sockets under
// epoll (after what write() queued, with an offset, waiting while the
// socket is full), refused where it cannot be used (io_uring), and its
// errors (a short file, a peer gone, close() while it runs).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <system_error>

#include "corio/corio.hpp"
#include "corio/net/socket.hpp"
#include "corio/net/transports.hpp"
#include "net/net_fixture.hpp"

using namespace std::chrono_literals;
using corio::Task;
namespace net = corio::net;
using corio_test::net_run;

namespace {

// Hands the server side's transport to the test.
struct Holder : net::Protocol {
    corio::Future<std::shared_ptr<net::Transport>>* made;
    bool lost = false;
    explicit Holder(corio::Future<std::shared_ptr<net::Transport>>* m) : made(m) {}
    void connection_made(net::Transport& t) override { made->set_result(t.shared_from_this()); }
    void connection_lost(std::exception_ptr) override { lost = true; }
};

std::string pattern(std::size_t n) {
    std::string s(n, '\0');
    for (std::size_t i = 0; i < n; ++i) {
        s[i] = static_cast<char>('A' + (i * 13 + i / 1021) % 26);
    }
    return s;
}

// A temporary file with `data`, open for reading.
struct TempFile {
    std::filesystem::path path;
    int fd = -1;
    explicit TempFile(const std::string& data) {
        path = std::filesystem::temp_directory_path() /
               ("corio_sendfile_" + std::to_string(::getpid()) + "_" + std::to_string(data.size()));
        std::ofstream(path, std::ios::binary) << data;
        fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    }
    ~TempFile() {
        ::close(fd);
        std::filesystem::remove(path);
    }
};

bool on_uring() {
    const char* b = std::getenv("CORIO_BACKEND");
    return b != nullptr && std::string(b) == "io_uring";
}

// A connected pair: the server side's transport and a raw client socket.
// (Filled in place: GCC 12 may destroy a temporary made inside co_await twice.)
struct Pair {
    std::optional<net::Server> server;
    std::shared_ptr<net::Transport> t;
    net::Socket client;
    std::shared_ptr<corio::Future<std::shared_ptr<net::Transport>>> made =
        std::make_shared<corio::Future<std::shared_ptr<net::Transport>>>();

    Task<void> open() {
        net::ProtocolFactory factory = [m = made] { return std::make_unique<Holder>(m.get()); };
        server.emplace(co_await net::create_server(std::move(factory), "127.0.0.1", 0));
        client = net::Socket::create(AF_INET, SOCK_STREAM);
        const net::SocketAddress to =
            net::SocketAddress::ip("127.0.0.1", server->sockets().at(0).port());
        co_await net::sock_connect(client, to);
        t = co_await *made;
    }
    Task<void> close() {
        t->close();
        t.reset();
        client.close();
        server->close();
        co_await server->wait_closed();
    }
};

Task<std::string> read_n(net::Socket& s, std::size_t n) {
    std::string out;
    while (out.size() < n) {
        std::string part = co_await corio::wait_for(net::sock_recv(s, 1 << 20), 20s);
        if (part.empty()) {
            break;
        }
        out += part;
    }
    co_return out;
}

TEST(Sendfile, SendsQueuedBytesThenTheFileRangeWithBackpressure) {
    net_run([]() -> Task<void> {
        Pair p;
        co_await p.open();
        if (on_uring()) {
            // io_uring keeps the read+write path: refused, nothing sent.
            EXPECT_FALSE(p.t->can_sendfile());
            TempFile f("abc");
            EXPECT_THROW(co_await p.t->sendfile(f.fd, 0, 3), corio::RuntimeError);
            co_await p.close();
            co_return;
        }
        EXPECT_TRUE(p.t->can_sendfile());
        // 32 MiB: more than the loopback sockets hold, so sendfile() must
        // wait for the client to read.
        const std::string data = pattern(32u << 20);
        TempFile f(data);
        const std::uint64_t offset = 1000, count = data.size() - 3000;
        p.t->write("head:");
        auto sending = corio::create_task(p.t->sendfile(f.fd, offset, count));
        for (int i = 0; i < 20; ++i) {
            co_await corio::sleep(1ms);
        }
        EXPECT_FALSE(sending.done());  // the client reads nothing yet: it waits
        std::string got = co_await read_n(p.client, 5);
        EXPECT_EQ(got.substr(0, 5), "head:");
        got += co_await read_n(p.client, 5 + count - got.size());
        co_await sending;
        EXPECT_EQ(got.size(), 5 + count);
        EXPECT_TRUE(got.substr(5) == std::string_view(data).substr(offset, count));
        EXPECT_EQ(::lseek(f.fd, 0, SEEK_CUR), 0);  // the file's offset stays
        co_await p.close();
    }());
}

TEST(Sendfile, ErrorsAndCloseWhileSending) {
    if (on_uring()) {
        GTEST_SKIP() << "sendfile is the epoll backend's";
    }
    net_run([]() -> Task<void> {
        {
            // A file shorter than the count: EIO after what it had.
            Pair p;
            co_await p.open();
            TempFile f("0123456789");
            try {
                co_await p.t->sendfile(f.fd, 4, 100);
                ADD_FAILURE() << "no error";
            } catch (const std::system_error& e) {
                EXPECT_EQ(e.code().value(), EIO);
            }
            EXPECT_EQ(co_await read_n(p.client, 6), "456789");
            co_await p.close();
        }
        {
            // close() while it runs: everything goes out, then the close.
            Pair p;
            co_await p.open();
            const std::string data = pattern(16u << 20);
            TempFile f(data);
            auto sending = corio::create_task(p.t->sendfile(f.fd, 0, data.size()));
            co_await corio::sleep(1ms);
            p.t->close();
            std::string got = co_await read_n(p.client, data.size() + 1);  // until EOF
            co_await sending;
            EXPECT_TRUE(got == data) << got.size();
            co_await p.close();
        }
        {
            // The peer goes away: the send fails, the connection is lost.
            Pair p;
            co_await p.open();
            const std::string data = pattern(16u << 20);
            TempFile f(data);
            auto sending = corio::create_task(p.t->sendfile(f.fd, 0, data.size()));
            co_await corio::sleep(1ms);
            linger l{1, 0};  // close with a reset
            ::setsockopt(p.client.fd(), SOL_SOCKET, SO_LINGER, &l, sizeof l);
            p.client.close();
            EXPECT_THROW(co_await sending, std::system_error);
            co_await p.close();
        }
    }());
}

}  // namespace
