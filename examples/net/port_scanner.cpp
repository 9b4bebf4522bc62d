// A concurrent port scanner, the classic
// asyncio exercise of asyncio.Semaphore + asyncio.wait_for + asyncio.gather:
// every port gets its own connect attempt, all are gathered, a semaphore
// keeps at most 10 connects in flight, and each connect has a 1 s timeout.
// The targets are real loopback ports: 3 listening servers (start_server on
// port 0) and 17 closed ports. A closed port is found by binding a socket to
// port 0 and never listening on it: connecting to it is refused, and keeping
// it bound during the scan stops any other program (or one of our own
// connects) from taking that port meanwhile. Port numbers differ from run to
// run, so the program prints names ("server 2", "unused port 5"), not numbers.
//
//   async def probe(limit, stats, port):
//       async with limit:
//           stats.in_flight += 1
//           stats.peak = max(stats.peak, stats.in_flight)
//           try:
//               reader, writer = await asyncio.wait_for(
//                   asyncio.open_connection('127.0.0.1', port), timeout=1.0)
//           except ConnectionRefusedError:
//               state = 'closed'
//           except TimeoutError:
//               state = 'timed out'
//           else:
//               state = 'open'
//               writer.close()
//               await writer.wait_closed()
//           stats.in_flight -= 1
//           return state
//
//   async def main():
//       servers = [await asyncio.start_server(hang_up, '127.0.0.1', 0) for _ in range(3)]
//       placeholders = [socket.socket() for _ in range(17)]
//       for s in placeholders:
//           s.bind(('127.0.0.1', 0))          # bound, never listening: refuses
//       targets = ...                          # (label, port), servers among them
//       limit, stats = asyncio.Semaphore(10), Stats()
//       states = await asyncio.gather(*(probe(limit, stats, p) for _, p in targets))
//       for (label, _), state in zip(targets, states):
//           print(f'{label}: {state}')
//       print('peak concurrent connects: <= 10' if stats.peak <= 10 else stats.peak)
//
//   asyncio.run(main())
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <corio/corio.hpp>
#include <corio/net.hpp>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

using namespace std::chrono_literals;
namespace net = corio::net;

namespace {

constexpr long kMaxInFlight = 10;
constexpr int kServers = 3;
constexpr int kClosedPorts = 17;

enum class PortState { open, closed, timed_out };

const char* to_string(PortState s) {
    switch (s) {
        case PortState::open:
            return "open";
        case PortState::closed:
            return "closed";
        case PortState::timed_out:
            return "timed out";
    }
    return "?";
}

// How many probes hold a permit now, and the most there ever were.
struct Stats {
    long in_flight = 0;
    long peak = 0;
};

// One connect attempt, at most kMaxInFlight of them at once.
corio::Task<PortState> probe(corio::Semaphore* limit, Stats* stats, std::uint16_t port) {
    auto held = co_await limit->scoped();  // async with limit:
    ++stats->in_flight;
    stats->peak = std::max(stats->peak, stats->in_flight);
    PortState state = PortState::closed;
    std::optional<net::StreamWriter> writer;
    try {
        auto conn = co_await corio::wait_for(net::open_connection("127.0.0.1", port), 1s);
        writer = std::move(conn.second);
        state = PortState::open;
    } catch (const corio::TimeoutError&) {
        state = PortState::timed_out;
    } catch (const std::system_error& e) {
        if (e.code().value() != ECONNREFUSED) {
            throw;  // anything but "connection refused" is a real failure
        }
        state = PortState::closed;
    }
    if (writer) {
        writer->close();
        co_await writer->wait_closed();
    }
    --stats->in_flight;
    co_return state;
}

// What the listening servers do with a connection: hang up at once.
corio::Task<> hang_up(net::StreamReader, net::StreamWriter writer) {
    writer.close();
    co_await writer.wait_closed();
}

struct Target {
    std::string label;
    std::uint16_t port;
};

corio::Task<> amain() {
    // Three listening servers on free ports.
    std::vector<net::Server> servers;
    for (int i = 0; i < kServers; ++i) {
        net::Server server = co_await net::start_server(hang_up, "127.0.0.1", 0);
        servers.push_back(std::move(server));
    }
    // Closed ports: bound to a free port, never listening.
    std::vector<net::Socket> placeholders;
    for (int i = 0; i < kClosedPorts; ++i) {
        net::Socket sock = net::Socket::create(AF_INET, SOCK_STREAM);
        sock.bind(net::SocketAddress::ip("127.0.0.1", 0));
        placeholders.push_back(std::move(sock));
    }

    // The scan list: the closed ports with a server after every sixth one.
    std::vector<Target> targets;
    int next_server = 0;
    for (int i = 0; i < kClosedPorts; ++i) {
        targets.push_back(Target{"unused port " + std::to_string(i + 1),
                                 placeholders[static_cast<std::size_t>(i)].local_address().port()});
        if (i % 6 == 1 && next_server < kServers) {
            targets.push_back(
                Target{"server " + std::to_string(next_server + 1),
                       servers[static_cast<std::size_t>(next_server)].sockets()[0].port()});
            ++next_server;
        }
    }
    std::printf("scanning %zu ports, at most %ld connects at a time\n", targets.size(),
                kMaxInFlight);

    corio::Semaphore limit(kMaxInFlight);
    Stats stats;
    std::vector<corio::Task<PortState>> probes;
    for (const Target& t : targets) {
        probes.push_back(probe(&limit, &stats, t.port));
    }
    std::vector<PortState> states = co_await corio::gather(std::move(probes));

    int counts[3] = {0, 0, 0};
    for (std::size_t i = 0; i < targets.size(); ++i) {
        std::printf("%s: %s\n", targets[i].label.c_str(), to_string(states[i]));
        ++counts[static_cast<int>(states[i])];
    }
    std::printf("open: %d, closed: %d, timed out: %d\n", counts[0], counts[1], counts[2]);
    if (stats.peak >= 1 && stats.peak <= kMaxInFlight) {
        std::printf("peak concurrent connects: <= %ld\n", kMaxInFlight);
    } else {
        std::printf("peak concurrent connects: %ld (limit %ld broken!)\n", stats.peak,
                    kMaxInFlight);
    }
    std::printf("permits back: %ld of %ld\n", limit.value(), kMaxInFlight);

    for (net::Server& server : servers) {
        server.close();
        co_await server.wait_closed();
    }
    std::puts("servers closed");
}

}  // namespace

int main() {
    corio::run(amain());
}
