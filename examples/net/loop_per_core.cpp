// One echo port served by a loop on every thread. Python serves a port from every core with one
// process per core, each listening with reuse_port=True (aiohttp behind gunicorn does this); corio
// runs the loops in one process: a LoopGroup of 2 loops, and net::start_server(group, ...) listens
// on the same port on each of them (SO_REUSEPORT). The kernel spreads the connections; each reply
// names the loop that served it, and the client counts them.
//
//   async def handle_echo(reader, writer):          # in every process
//       line = await reader.readline()
//       writer.write(f'process {os.getpid()}: '.encode() + line)
//       writer.close()
//       await writer.wait_closed()
//
//   async def main():                                # started N times
//       server = await asyncio.start_server(handle_echo, '127.0.0.1', 8888,
//                                           reuse_port=True)
//       async with server:
//           await server.serve_forever()
#include <corio/corio.hpp>
#include <corio/net.hpp>
#include <cstdint>
#include <cstdio>
#include <map>
#include <string>

namespace net = corio::net;

namespace {

constexpr int kClients = 100;

// Runs on whichever loop accepted the connection.
net::ClientConnected echo_naming_the_loop(corio::LoopGroup* group) {
    return [group](net::StreamReader reader, net::StreamWriter writer) -> corio::Task<> {
        std::string line = co_await reader.readline();
        std::size_t loop = group->index_of(corio::get_running_loop()).value();
        writer.write("loop " + std::to_string(loop) + ": " + line);
        writer.close();
        co_await writer.wait_closed();
    };
}

// Loop 0's main: serve the port from every loop, then be the client.
corio::Task<> serve_and_count(corio::LoopGroup* group) {
    net::GroupServer server =
        co_await net::start_server(*group, echo_naming_the_loop(group), "127.0.0.1", 0);
    std::printf("serving %s from %zu loops\n", server.sockets()[0].to_string().c_str(),
                server.size());

    std::map<std::string, int> answered;  // "loop 0" -> replies
    int correct = 0;
    for (int i = 0; i < kClients; ++i) {
        auto [reader, writer] = co_await net::open_connection("127.0.0.1", server.port());
        std::string message = "hello " + std::to_string(i) + "\n";
        writer.write(message);
        std::string reply = co_await reader.readline();
        std::size_t colon = reply.find(": ");
        if (colon != std::string::npos && reply.substr(colon + 2) == message) {
            ++correct;
            ++answered[reply.substr(0, colon)];
        }
        writer.close();
        co_await writer.wait_closed();
    }
    std::printf("client: %d echoes, %d correct\n", kClients, correct);
    std::printf("loop 0 answered %d, loop 1 answered %d\n", answered["loop 0"], answered["loop 1"]);
    std::printf("every loop answered: %s\n", answered.size() == server.size() ? "yes" : "no");

    co_await server.close();  // every loop's server, each on its own loop
    std::puts("server closed");
}

}  // namespace

int main() {
    corio::LoopGroupOptions options;
    options.threads = 2;
    corio::LoopGroup group(options);
    group.run([&group](corio::EventLoop&, std::size_t index) -> corio::Task<> {
        if (index == 0) {
            return serve_and_count(&group);
        }
        return []() -> corio::Task<> { co_return; }();  // loop 1 only serves
    });
}
