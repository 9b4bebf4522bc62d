// aiohttp docs, Client Reference › TCPConnector (limit, limit_per_host) and
// ClientTimeout: ten pages fetched at once through a session that opens at
// most two connections to the host (the other requests wait their turn),
// then a streamed body that stalls, cut by the total timeout, which runs
// until the body is read. The server is local: the program starts it.
//
//   conn = aiohttp.TCPConnector(limit_per_host=2)
//   async with aiohttp.ClientSession(connector=conn) as session:
//       pages = await asyncio.gather(*(fetch(session, url) for _ in range(10)))
//   timeout = aiohttp.ClientTimeout(total=0.1)
//   async with aiohttp.ClientSession(timeout=timeout) as session:
//       async with session.get(url) as resp:
//           await resp.content.read()          # raises TimeoutError
#include <algorithm>
#include <corio/corio.hpp>
#include <corio/http.hpp>
#include <cstdio>
#include <string>
#include <vector>

namespace web = corio::http::web;
using namespace std::chrono_literals;

namespace {

int in_flight = 0;  // requests the server is answering now
int peak = 0;

corio::Task<web::Response> page(web::Request&) {
    peak = std::max(peak, ++in_flight);
    co_await corio::sleep(20ms);  // some work
    --in_flight;
    co_return web::Response::text("a page");
}

corio::Task<web::Response> stall(web::Request& req) {
    web::StreamResponse resp;
    resp.set_content_length(100);
    co_await resp.prepare(req);
    co_await resp.write("first");
    co_await corio::sleep(100s);  // never finishes: cancelled at shutdown
    co_return resp;
}

corio::Task<> amain() {
    web::Application app;
    app.add_get("/page", page);
    app.add_get("/stall", stall);
    web::AppServer server = co_await web::serve(app, "127.0.0.1", 0);
    const std::string base = "http://127.0.0.1:" + std::to_string(server.port());

    corio::http::ClientSessionOptions limited;
    limited.limit_per_host = 2;  // TCPConnector(limit_per_host=2)
    co_await corio::http::with_session(
        [&](corio::http::ClientSession& session) -> corio::Task<> {
            std::vector<corio::Task<corio::http::ClientResponse>> requests;
            for (int i = 0; i < 10; ++i) {
                requests.push_back(session.get(base + "/page"));
            }
            std::vector<corio::http::ClientResponse> pages =
                co_await corio::gather(std::move(requests));
            std::printf("%zu pages; at most %d answered at once, over %llu connections\n",
                        pages.size(), peak,
                        static_cast<unsigned long long>(session.connections_opened()));
        },
        limited);

    corio::http::ClientSessionOptions quick;
    quick.timeout.total = 100ms;  // ClientTimeout(total=0.1)
    co_await corio::http::with_session(
        [&](corio::http::ClientSession& session) -> corio::Task<> {
            corio::http::RequestOptions stream;
            stream.stream = true;
            corio::http::ClientResponse resp = co_await session.get(base + "/stall", {}, stream);
            std::string got = co_await resp.content().read(5);
            try {
                co_await resp.content().read();
            } catch (const corio::TimeoutError&) {
                std::printf("read \"%s\", then TimeoutError: the total timeout covers the body\n",
                            got.c_str());
            }
        },
        quick);
    co_await server.shutdown(100ms);
}

}  // namespace

int main() {
    corio::run(amain());
}
