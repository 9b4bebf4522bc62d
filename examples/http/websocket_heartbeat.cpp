// WebSocket with a heartbeat (no tutorial has WebSocket code; 《异步，并发，协程（旧版本折叠）》
// only links an article on server heartbeats). The server echoes messages and
// pings every client that has been quiet for 200 ms; a client that does not
// answer within 100 ms is dropped, whether or not the handler is reading.
// The first client (corio's ws_connect) answers pings by itself; the second
// one is a raw socket that completes the handshake and then goes silent.
//
//   async def echo(request):
//       ws = web.WebSocketResponse(heartbeat=0.2)
//       await ws.prepare(request)
//       async for msg in ws:
//           await ws.send_str(msg.data)
//       print("server: closed", ws.close_code, ws.exception())
//       return ws
//
//   async with session.ws_connect(url) as ws:
//       await ws.send_str("hello")
//       print((await ws.receive()).data)
#include <corio/corio.hpp>
#include <corio/http.hpp>
#include <corio/net.hpp>
#include <cstdio>
#include <string>

namespace http = corio::http;
namespace web = corio::http::web;
namespace net = corio::net;
using namespace std::chrono_literals;

namespace {

corio::Task<web::Response> echo(web::Request& request) {
    web::WebSocketResponse ws(http::WebSocketOptions{.heartbeat = 200ms});
    co_await ws.prepare(request);
    for (;;) {
        http::WSMessage msg = co_await ws.receive();
        if (msg.type != http::WSMsgType::TEXT) {
            std::printf("server: connection ended, code %d%s%s\n", ws.close_code().value_or(0),
                        msg.data.empty() ? "" : ": ", msg.data.c_str());
            break;
        }
        co_await ws.send_str("echo: " + msg.data);
    }
    co_return ws;
}

corio::Task<> amain() {
    web::Application app;
    app.add_get("/ws", echo);
    web::AppServer server = co_await web::serve(app, "127.0.0.1", 0);
    const std::string port = std::to_string(server.port());

    // A well-behaved client: its pongs keep the connection alive past the heartbeat.
    http::ClientWebSocketResponse ws = co_await http::ws_connect("ws://127.0.0.1:" + port + "/ws");
    co_await ws.send_str("hello");
    std::printf("client: %s\n", (co_await ws.receive()).data.c_str());
    co_await corio::sleep(500ms);  // two heartbeats, answered
    co_await ws.send_str("still here");
    std::printf("client: %s\n", (co_await ws.receive()).data.c_str());
    co_await ws.close();

    // A silent client: handshake, then nothing. The heartbeat drops it.
    auto [reader, writer] = co_await net::open_connection("127.0.0.1", server.port());
    writer.write(
        "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n");
    std::string status = co_await reader.readuntil("\r\n");
    status.resize(status.size() - 2);
    std::printf("silent client: %s\n", status.c_str());
    co_await reader.read();  // everything until the server drops the connection
    std::printf("silent client: dropped by the server\n");
    writer.close();

    co_await server.shutdown();
}

}  // namespace

int main() {
    corio::run(amain());
}
