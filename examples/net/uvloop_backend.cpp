// Mirrors the tutorial's "uvloop" section (其他 › uvloop): uvloop replaces
// asyncio's event loop with a faster one, and the rest of the program stays
// as it was:
//
//   import uvloop
//   asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
//   # the code that follows is exactly the same as before
//
// corio's loop is already the fast one; what it lets a program choose is
// the kernel interface under it: epoll (readiness: try the syscall, wait
// for an edge) or io_uring (completions: everything an iteration queued
// goes to the kernel in one io_uring_enter). One line chooses, as
// set_event_loop_policy does:
//
//   corio::run(main(), {.backend = corio::BackendKind::io_uring});
//
// (or CORIO_BACKEND=io_uring in the environment, for every loop). The same
// echo program runs once on each and prints both timings. Where io_uring
// is not available (kernel, seccomp, sysctl) the loop falls back to epoll,
// and the line says so.
#include <chrono>
#include <corio/corio.hpp>
#include <corio/net.hpp>
#include <cstdio>
#include <string>

namespace net = corio::net;

namespace {

constexpr int kClients = 10;
constexpr int kMessages = 100;  // round trips per client
constexpr std::size_t kSize = 1024;

corio::Task<> echo(net::StreamReader reader, net::StreamWriter writer) {
    for (;;) {
        std::string data = co_await reader.read(65536);
        if (data.empty()) {
            break;
        }
        writer.write(data);
        co_await writer.drain();
    }
    writer.close();
}

corio::Task<> client(std::uint16_t port) {
    auto [reader, writer] = co_await net::open_connection("127.0.0.1", port);
    const std::string message(kSize, 'x');
    for (int i = 0; i < kMessages; ++i) {
        writer.write(message);
        co_await reader.readexactly(kSize);
    }
    writer.close();
    co_await writer.wait_closed();
}

// The program: a server and its clients, all on this loop. Returns the
// seconds the round trips took.
corio::Task<double> amain() {
    net::Server server = co_await net::start_server(echo, "127.0.0.1", 0);
    std::uint16_t port = server.sockets().at(0).port();
    auto start = std::chrono::steady_clock::now();
    std::vector<corio::Task<>> clients;
    for (int i = 0; i < kClients; ++i) {
        clients.push_back(client(port));
    }
    co_await corio::gather(std::move(clients));
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    server.close();
    co_await server.wait_closed();
    std::printf("  ran on %s: %d round trips of %zu bytes in %.4f s\n",
                corio::get_running_loop().backend_name(), kClients * kMessages, kSize, seconds);
    co_return seconds;
}

}  // namespace

int main() {
    for (corio::BackendKind kind : {corio::BackendKind::epoll, corio::BackendKind::io_uring}) {
        std::printf("asked for %s\n", kind == corio::BackendKind::epoll ? "epoll" : "io_uring");
        corio::LoopOptions options;
        options.backend = kind;
        corio::run(amain(), options);
    }
}
