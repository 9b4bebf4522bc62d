// TLS echo over loopback, in one process and one loop: the TLS layer over
// plain transports (start_tls on both ends) against today's fd-bound TLS
// (transports and streams made with the `ssl` option). A client sends a
// message of --size bytes, the server echoes it, the client waits for all of
// it and sends the next, until --mib MiB went each way. Prints, per
// variant, the echo rate (MB/s of payload each way) and the CPU the process
// used (user + sys) per MB.
//
//   tls_echo [--size BYTES] [--mib N] [--only layer|fd|streams]
#include <sys/resource.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "bench_common.hpp"
#include "corio/corio.hpp"
#include "corio/net/streams.hpp"
#include "corio/net/transports.hpp"
#include "support/tls_pki.hpp"

namespace net = corio::net;
using corio::Task;

namespace {

using Pki = corio_test::TestPki;  // a CA, a localhost certificate, a trusting client

struct Echo : net::Protocol {
    net::Transport* t = nullptr;
    void connection_made(net::Transport& tr) override { t = &tr; }
    void data_received(std::string_view d) override { t->write(d); }
};

// The layer's server side: switch to TLS at once.
struct UpgradingEcho : Echo {
    std::shared_ptr<net::SslContext> ctx;
    std::vector<corio::TaskHandle<void>>* tasks;
    void connection_made(net::Transport& tr) override {
        if (t != nullptr) {  // the second call: the TLS transport
            t = &tr;
            return;
        }
        t = &tr;
        tr.pause_reading();
        tasks->push_back(corio::create_task([](std::shared_ptr<net::Transport> raw,
                                               std::shared_ptr<net::SslContext> c) -> Task<void> {
            co_await net::start_tls(raw, c, {.call_connection_made = true});
        }(tr.shared_from_this(), ctx)));
    }
};

// Sends `message`, waits for its echo, `rounds` times.
struct Client : net::Protocol {
    net::Transport* t = nullptr;
    const std::string* message = nullptr;
    std::size_t got = 0;
    long left = 0;
    corio::Future<void>* done = nullptr;
    void data_received(std::string_view d) override {
        got += d.size();
        if (got < message->size()) {
            return;
        }
        got = 0;
        if (--left == 0) {
            done->set_result();
        } else {
            t->write(*message);
        }
    }
};

struct Usage {
    bench::clock::time_point wall = bench::clock::now();
    double cpu = now_cpu();
    static double now_cpu() {
        rusage u{};
        ::getrusage(RUSAGE_SELF, &u);
        return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
               static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
    }
};

void report(const char* name, const Usage& start, std::size_t size, long rounds) {
    double wall = bench::seconds_between(start.wall, bench::clock::now());
    double cpu = Usage::now_cpu() - start.cpu;
    double mb = static_cast<double>(size) * static_cast<double>(rounds) / 1e6;
    std::printf("%-8s size %8zu  %7.1f MB/s each way  cpu %6.2f ms/MB  (%.2f s wall, %.2f s cpu)\n",
                name, size, mb / wall, 1e3 * cpu / mb, wall, cpu);
}

// Runs the client over `tls` (a connected TLS transport whose protocol is
// a Client) and reports.
Task<void> drive(const char* name, net::Transport& tls, const std::string& message, long rounds) {
    auto& c = static_cast<Client&>(tls.get_protocol());
    corio::Future<void> done;
    c.t = &tls;
    c.message = &message;
    c.done = &done;
    c.left = 1;  // warm-up
    tls.write(message);
    co_await done;
    done = corio::Future<void>();
    c.done = &done;
    c.left = rounds;
    Usage start;
    tls.write(message);
    co_await done;
    report(name, start, message.size(), rounds);
}

Task<void> layer(Pki& p, std::string message, long rounds) {
    std::vector<corio::TaskHandle<void>> tasks;
    net::Server server = co_await net::create_server(
        [&] {
            auto e = std::make_unique<UpgradingEcho>();
            e->ctx = p.server;
            e->tasks = &tasks;
            return e;
        },
        "127.0.0.1", 0);
    auto raw = co_await net::create_connection([] { return std::make_unique<Client>(); },
                                               "127.0.0.1", server.sockets().at(0).port());
    auto tls = co_await net::start_tls(raw, p.client, {.server_hostname = "localhost"});
    co_await drive("layer", *tls, message, rounds);
    tls->close();
    server.close();
    server.close_clients();
    co_await server.wait_closed();
    for (auto& t : tasks) {
        co_await t;
    }
}

Task<void> fd_bound(Pki& p, std::string message, long rounds) {
    net::Server server = co_await net::create_server([] { return std::make_unique<Echo>(); },
                                                     "127.0.0.1", 0, {.ssl = p.server.get()});
    auto tls = co_await net::create_connection(
        [] { return std::make_unique<Client>(); }, "127.0.0.1", server.sockets().at(0).port(),
        {.ssl = p.client.get(), .server_hostname = "localhost"});
    co_await drive("fd", *tls, message, rounds);
    tls->close();
    server.close();
    server.close_clients();
    co_await server.wait_closed();
}

Task<void> echo_stream(net::StreamReader r, net::StreamWriter w) {
    for (;;) {
        std::string data = co_await r.read(65536);
        if (data.empty()) {
            break;
        }
        w.write(data);
        co_await w.drain();
    }
    w.close();
}

Task<void> streams(Pki& p, std::string message, long rounds) {
    net::Server server =
        co_await net::start_server(echo_stream, "127.0.0.1", 0, {.ssl = p.server.get()});
    auto [r, w] =
        co_await net::open_connection("127.0.0.1", server.sockets().at(0).port(),
                                      {.ssl = p.client.get(), .server_hostname = "localhost"});
    Usage start;
    for (long i = 0; i <= rounds; ++i) {
        if (i == 1) {
            start = Usage();  // after the warm-up round
        }
        w.write(message);
        co_await w.drain();
        co_await r.readexactly(message.size());
    }
    report("streams", start, message.size(), rounds);
    w.close();
    co_await w.wait_closed();
    server.close();
    co_await server.wait_closed();
}

}  // namespace

int main(int argc, char** argv) {
    long size = bench::flag(argc, argv, "--size", 1 << 20);
    long mib = bench::flag(argc, argv, "--mib", 1024);
    std::string only;
    for (int i = 1; i + 1 < argc; ++i) {
        if (std::strcmp(argv[i], "--only") == 0) {
            only = argv[i + 1];
        }
    }
    if (size <= 0 || mib <= 0) {
        std::fprintf(stderr,
                     "usage: tls_echo [--size BYTES] [--mib N] [--only layer|fd|streams]\n");
        return 2;
    }
    long rounds = std::max(1L, mib * (1L << 20) / size);
    std::string message(static_cast<std::size_t>(size), 'e');
    Pki pki;
    if (only.empty() || only == "layer") {
        corio::run(layer(pki, message, rounds));
    }
    if (only.empty() || only == "fd") {
        corio::run(fd_bound(pki, message, rounds));
    }
    if (only.empty() || only == "streams") {
        corio::run(streams(pki, message, rounds));
    }
    return 0;
}
