// corio::net from an installed corio: one line echoed over loopback, and a
// TLS client context (so the link needs OpenSSL).
#include <corio/corio.hpp>
#include <corio/net.hpp>
#include <cstdio>
#include <string>

namespace net = corio::net;

corio::Task<> echo(net::StreamReader reader, net::StreamWriter writer) {
    writer.write(co_await reader.readline());
    co_await writer.drain();
    writer.close();
    co_await writer.wait_closed();
}

corio::Task<std::string> amain() {
    net::Server server = co_await net::start_server(echo, "127.0.0.1", 0);
    auto [reader, writer] = co_await net::open_connection("127.0.0.1", server.sockets()[0].port());
    writer.write("ping\n");
    std::string line = co_await reader.readline();
    writer.close();
    co_await writer.wait_closed();
    server.close();
    co_await server.wait_closed();
    co_return line;
}

int main() {
    const bool tls = net::SslContext::client() != nullptr;
    const std::string line = corio::run(amain());
    std::printf("net: echoed %s", line.c_str());
    return line == "ping\n" && tls ? 0 : 1;
}
