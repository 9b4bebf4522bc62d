// aiohttp's Client Quickstart › Redirection and history, Streaming Response
// Content, Streaming uploads: one ClientSession follows a redirect (the
// 302 stays in response.history), reads a 10 MB body piece by piece with
// content.iter_chunked() without ever holding it whole, and uploads a body
// produced by an async generator (sent chunked). The server is local: the
// program starts it itself.
//
//   async with session.get(url) as resp:
//       print(resp.status, [r.status for r in resp.history])
//       async for chunk in resp.content.iter_chunked(1 << 16):
//           total += len(chunk)
//   async def gen():
//       for part in (b"one ", b"two ", b"three"):
//           yield part
//   async with session.post(url, data=gen()) as resp:
//       print(await resp.text())
#include <corio/corio.hpp>
#include <corio/http.hpp>
#include <cstdio>
#include <optional>
#include <string>

namespace web = corio::http::web;
using namespace std::chrono_literals;

namespace {

corio::Task<web::Response> big(web::Request& req) {
    web::StreamResponse resp;
    resp.set_content_length(10 * 1024 * 1024);
    co_await resp.prepare(req);
    const std::string piece(64 * 1024, 'x');
    for (int i = 0; i < 160; ++i) {
        co_await resp.write(piece);
    }
    co_await resp.write_eof();
    co_return resp;
}

corio::AsyncGenerator<std::string> upload() {
    for (const char* part : {"one ", "two ", "three"}) {
        co_yield std::string(part);
    }
}

corio::Task<> amain() {
    web::Application app;
    app.add_get("/old", [](web::Request&) -> corio::Task<web::Response> {
        web::Response r("moved", 302);
        r.headers().add("Location", "/big");
        co_return r;
    });
    app.add_get("/big", big);
    app.add_post("/upload", [](web::Request& req) -> corio::Task<web::Response> {
        std::string body = co_await req.read();
        co_return web::Response::text(std::string(req.headers().get("Transfer-Encoding", "-")) +
                                      ": " + body);
    });
    web::AppServer server = co_await web::serve(app, "127.0.0.1", 0);
    const std::string base = "http://127.0.0.1:" + std::to_string(server.port());

    co_await corio::http::with_session([&](corio::http::ClientSession& session) -> corio::Task<> {
        corio::http::RequestOptions stream;
        stream.stream = true;  // return at the head; read the body as it comes
        corio::http::ClientResponse resp = co_await session.get(base + "/old", {}, stream);
        std::printf("%d, history: %d, url ends with %s\n", resp.status(),
                    resp.history().at(0).status(),
                    resp.url().substr(resp.url().rfind('/')).c_str());
        corio::AsyncGenerator<std::string> chunks = resp.content().iter_chunked(1 << 16);
        std::size_t total = 0;
        for (;;) {
            std::optional<std::string> chunk = co_await chunks.next();
            if (!chunk) {
                break;
            }
            total += chunk->size();
        }
        std::printf("streamed %zu bytes, at most %s KiB buffered at once\n", total,
                    resp.content().peak_buffered() <= 512 * 1024 ? "512" : "more than 512");
        corio::http::ClientResponse up = co_await session.post(base + "/upload", upload());
        std::printf("%s\n", (co_await up.text()).c_str());
    });
    co_await server.shutdown();
}

}  // namespace

int main() {
    corio::run(amain());
}
