// Mirrors the Python documentation's "TCP echo client using streams" and
// "TCP echo server using streams" (asyncio › Streams › Examples), joined into
// one program on a real loopback socket: the server listens on 127.0.0.1
// port 0 (any free port, read back from server.sockets()), the client sends a
// few lines one at a time and prints what came back, then closes; the server
// is closed and wait_closed() awaited, which also waits for the handler.
//
//   async def handle_echo(reader, writer):
//       addr = writer.get_extra_info('peername')
//       while data := await reader.readline():
//           message = data.decode().rstrip('\n')
//           print(f"server: received {message!r} from {addr!r}")
//           writer.write(data)
//           await writer.drain()
//       print("server: the client closed the connection")
//       writer.close()
//       await writer.wait_closed()
//
//   async def tcp_echo_client(port, messages):
//       reader, writer = await asyncio.open_connection('127.0.0.1', port)
//       for message in messages:
//           print(f'client: send {message!r}')
//           writer.write(message.encode() + b'\n')
//           await writer.drain()
//           data = await reader.readline()
//           print(f'client: received {data.decode().rstrip()!r}')
//       print('client: close the connection')
//       writer.close()
//       await writer.wait_closed()
//
//   async def main():
//       server = await asyncio.start_server(handle_echo, '127.0.0.1', 0)
//       host, port = server.sockets[0].getsockname()
//       print(f'Serving on {host}:{port}')
//       await tcp_echo_client(port, ['Hello World!', 'How are you?', 'Goodbye'])
//       server.close()
//       await server.wait_closed()
//       print('server closed')
//
//   asyncio.run(main())
#include <corio/corio.hpp>
#include <corio/net.hpp>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "support/repr.hpp"

namespace net = corio::net;
using example::chomp;

namespace {

// The server's side of one connection: echo every line until EOF.
corio::Task<> handle_echo(net::StreamReader reader, net::StreamWriter writer) {
    const std::string addr = writer.peername().to_string();
    for (;;) {
        std::string data = co_await reader.readline();
        if (data.empty()) {  // EOF: the client closed its side
            break;
        }
        std::printf("server: received '%s' from %s\n", chomp(data).c_str(), addr.c_str());
        writer.write(data);
        co_await writer.drain();
    }
    std::puts("server: the client closed the connection");
    writer.close();
    co_await writer.wait_closed();
}

corio::Task<> tcp_echo_client(std::uint16_t port, std::vector<std::string> messages) {
    auto [reader, writer] = co_await net::open_connection("127.0.0.1", port);
    for (const std::string& message : messages) {
        std::printf("client: send '%s'\n", message.c_str());
        writer.write(message + "\n");
        co_await writer.drain();
        std::string data = co_await reader.readline();
        std::printf("client: received '%s'\n", chomp(data).c_str());
    }
    std::puts("client: close the connection");
    writer.close();
    co_await writer.wait_closed();
}

corio::Task<> amain() {
    net::Server server = co_await net::start_server(handle_echo, "127.0.0.1", 0);
    const net::SocketAddress addr = server.sockets()[0];
    std::printf("Serving on %s\n", addr.to_string().c_str());

    std::vector<std::string> messages{"Hello World!", "How are you?", "Goodbye"};
    co_await tcp_echo_client(addr.port(), std::move(messages));

    server.close();
    co_await server.wait_closed();  // also waits for handle_echo to end
    std::puts("server closed");
}

}  // namespace

int main() {
    corio::run(amain());
}
