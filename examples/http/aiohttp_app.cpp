// 《异步，并发，协程（旧版本折叠）》 › aiohttp: an HTTP server
// that answers "/" with <h1>Index</h1> and "/hello/{name}" with
// <h1>hello, {name}!</h1>, each handler sleeping 0.5 s first. Here the
// server listens on a free loopback port instead of 8000, and instead of
// running forever the program asks it for both pages at once with corio's
// ClientSession, prints the answers and stops it.
//
//   async def index(request):
//       await asyncio.sleep(0.5)
//       return web.Response(body=b'<h1>Index</h1>')
//
//   async def hello(request):
//       await asyncio.sleep(0.5)
//       text = '<h1>hello, %s!</h1>' % request.match_info['name']
//       return web.Response(body=text.encode('utf-8'))
//
//   async def init(loop):
//       app = web.Application(loop=loop)
//       app.router.add_route('GET', '/', index)
//       app.router.add_route('GET', '/hello/{name}', hello)
//       srv = await loop.create_server(app.make_handler(), '127.0.0.1', 8000)
//       print('Server started at http://127.0.0.1:8000...')
//       return srv
#include <corio/corio.hpp>
#include <corio/http.hpp>
#include <cstdio>
#include <string>

namespace web = corio::http::web;
using namespace std::chrono_literals;

namespace {

corio::Task<web::Response> index(web::Request&) {
    co_await corio::sleep(500ms);
    co_return web::Response("<h1>Index</h1>");
}

corio::Task<web::Response> hello(web::Request& request) {
    co_await corio::sleep(500ms);
    co_return web::Response("<h1>hello, " + request.match_info().at("name") + "!</h1>");
}

corio::Task<> amain() {
    web::Application app;
    app.add_route("GET", "/", index);
    app.add_route("GET", "/hello/{name}", hello);
    web::AppServer srv = co_await web::serve(app, "127.0.0.1", 0);
    const std::string base = "http://127.0.0.1:" + std::to_string(srv.port());
    std::printf("Server started at %s...\n", base.c_str());

    // Both requests at once: the two handlers sleep side by side (0.5 s in all).
    corio::http::ClientSession session;
    auto [a, b] =
        co_await corio::gather(session.get(base + "/"), session.get(base + "/hello/corio"));
    for (const corio::http::ClientResponse* r : {&a, &b}) {
        std::printf("GET %s -> %d %s\n", r->url().substr(base.size()).c_str(), r->status(),
                    r->body().c_str());
    }
    co_await session.close();
    co_await srv.shutdown();
    std::printf("served %llu requests, server stopped\n",
                static_cast<unsigned long long>(srv.requests_served()));
}

}  // namespace

int main() {
    corio::run(amain());
}
