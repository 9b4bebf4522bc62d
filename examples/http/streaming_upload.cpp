// aiohttp's streaming request body (`request.content`): a handler that
// reads an upload line by line while it arrives, and one that streams the
// body straight back. The server buffers at most ServerOptions::
// body_buffer_limit bytes of a body ahead of its handler (it stops reading
// the socket beyond that), so an upload of any size goes through a small
// buffer. The Python it mirrors:
//
//   async def count(request):
//       lines = 0
//       async for line in request.content:      # readline() until EOF
//           lines += 1
//       return web.Response(text=f'{lines} lines')
//
//   async def echo(request):
//       resp = web.StreamResponse()
//       await resp.prepare(request)
//       async for chunk in request.content.iter_any():
//           await resp.write(chunk)
//       return resp
#include <algorithm>
#include <corio/corio.hpp>
#include <corio/http.hpp>
#include <cstdio>
#include <string>

namespace web = corio::http::web;

namespace {

std::size_t peak = 0;  // the most body bytes buffered ahead of a handler

corio::Task<web::Response> count(web::Request& request) {
    long lines = 0;
    for (;;) {
        std::string line = co_await request.content().readline();
        if (line.empty()) {
            break;  // the end of the body
        }
        ++lines;
    }
    peak = std::max(peak, request.content().buffered_peak());
    co_return web::Response::text(std::to_string(lines) + " lines");
}

corio::Task<web::Response> echo(web::Request& request) {
    web::StreamResponse resp;
    co_await resp.prepare(request);
    auto chunks = request.content().iter_any();
    while (auto chunk = co_await chunks.next()) {
        co_await resp.write(*chunk);  // waits while the client is behind
    }
    peak = std::max(peak, request.content().buffered_peak());
    co_return resp;
}

corio::Task<> amain() {
    web::Application app;
    app.add_post("/count", count);
    app.add_post("/echo", echo);
    web::ServerOptions options;
    options.body_buffer_limit = 16 * 1024;
    options.max_body_size = 8 * 1024 * 1024;
    web::AppServer srv = co_await web::serve(app, "127.0.0.1", 0, options);
    const std::string base = "http://127.0.0.1:" + std::to_string(srv.port());

    std::string upload;
    for (int i = 0; i < 100000; ++i) {
        upload += "line " + std::to_string(i) + "\n";
    }
    corio::http::ClientSession session;
    const std::string count_url = base + "/count", echo_url = base + "/echo";
    corio::http::ClientResponse counted = co_await session.post(count_url, upload);
    std::printf("POST /count (%zu bytes) -> %d %s\n", upload.size(), counted.status(),
                counted.body().c_str());
    corio::http::ClientResponse echoed = co_await session.post(echo_url, upload);
    std::printf("POST /echo -> %d, %zu bytes back, the same: %s\n", echoed.status(),
                echoed.body().size(), echoed.body() == upload ? "yes" : "no");
    std::printf("at most 32 KiB buffered ahead of a handler: %s\n",
                peak <= 32 * 1024 ? "yes" : "no");
    co_await session.close();
    co_await srv.shutdown();
}

}  // namespace

int main() {
    corio::run(amain());
}
