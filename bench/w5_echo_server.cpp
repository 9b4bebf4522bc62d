// W5 TCP echo server (bench/README.md): read up to 64 KiB, write it back, until EOF;
// TCP_NODELAY, backlog 4096, one loop. Streams by default (the idiomatic
// asyncio-style server); --protocol uses the callback Protocol API instead.
// Serves until SIGTERM or SIGINT, then exits 0. Prints nothing.
#include <signal.h>
#include <sys/resource.h>

#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <string_view>

#include "bench_common.hpp"
#include "corio/corio.hpp"
#include "corio/net/streams.hpp"
#include "corio/net/transports.hpp"

namespace net = corio::net;

namespace {

corio::Task<void> echo(net::StreamReader reader, net::StreamWriter writer) {
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

struct EchoProtocol final : net::Protocol {
    net::Transport* transport = nullptr;
    void connection_made(net::Transport& t) override { transport = &t; }
    void data_received(std::string_view data) override { transport->write(data); }
};

corio::Task<void> serve(std::uint16_t port, bool protocol) {
    auto& loop = corio::get_running_loop();
    corio::Future<void> stop;
    for (int sig : {SIGTERM, SIGINT}) {
        loop.add_signal_handler(sig, [stop]() mutable {
            if (!stop.done()) {
                stop.set_result();
            }
        });
    }
    net::ServerOptions opts{.backlog = 4096};
    // Not `Server s = protocol ? co_await a : co_await b;`: GCC 12
    // miscompiles co_await inside ?: (docs/pitfalls.md).
    std::optional<net::Server> server;
    if (protocol) {
        server.emplace(co_await net::create_server([] { return std::make_unique<EchoProtocol>(); },
                                                   "127.0.0.1", port, opts));
    } else {
        server.emplace(co_await net::start_server(echo, "127.0.0.1", port, opts));
    }
    co_await stop;
    server->close();
    server->abort_clients();
}

}  // namespace

int main(int argc, char** argv) {
    long port = bench::flag(argc, argv, "--port", -1);
    bool protocol = false;
    for (int i = 1; i < argc; ++i) {
        protocol = protocol || std::strcmp(argv[i], "--protocol") == 0;
    }
    if (port < 0 || port > 65535) {
        std::fprintf(stderr, "usage: w5_echo_server --port P [--protocol]\n");
        return 2;
    }
    rlimit lim{};  // many idle connections need many fds
    if (::getrlimit(RLIMIT_NOFILE, &lim) == 0) {
        lim.rlim_cur = lim.rlim_max;
        ::setrlimit(RLIMIT_NOFILE, &lim);
    }
    corio::run(serve(static_cast<std::uint16_t>(port), protocol));
    return 0;
}
