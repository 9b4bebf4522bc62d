// 《异步编程》 › 其他 › 异步爬虫: one ClientSession fetches two
// sites concurrently (a task per URL, asyncio.wait for both) and prints each
// page's length. The "sites" are two routes of a local corio server that the
// program starts itself, so it needs no internet.
//
//   async def fetch(session, url):
//       async with session.get(url, verify_ssl=False) as resp:
//           text = await resp.text()
//           print(len(text))
//           return text
//
//   async def main():
//       async with aiohttp.ClientSession() as session:
//           urls = ["https://www.baidu.com", "https://www.sogou.com"]
//           tasks = [asyncio.create_task(fetch(session, url)) for url in urls]
//           done, pending = await asyncio.wait(tasks)
#include <corio/corio.hpp>
#include <corio/http.hpp>
#include <cstdio>
#include <string>
#include <vector>

namespace web = corio::http::web;
using namespace std::chrono_literals;

namespace {

corio::Task<std::string> fetch(corio::http::ClientSession& session, std::string url) {
    corio::http::ClientResponse resp = co_await session.get(url);
    std::string text = co_await resp.text();
    std::printf("%zu\n", text.size());
    co_return text;
}

corio::Task<> amain() {
    // Two pages of different sizes; the larger one is slower to answer, so
    // the lengths print in the order the pages arrive.
    web::Application app;
    app.add_get("/baidu", [](web::Request&) -> corio::Task<web::Response> {
        co_await corio::sleep(200ms);
        co_return web::Response::text(std::string(2443, 'b'));
    });
    app.add_get("/sogou", [](web::Request&) -> corio::Task<web::Response> {
        co_await corio::sleep(100ms);
        co_return web::Response::text(std::string(1018, 's'));
    });
    web::AppServer server = co_await web::serve(app, "127.0.0.1", 0);
    const std::string base = "http://127.0.0.1:" + std::to_string(server.port());

    corio::http::ClientSession session;
    std::vector<std::string> urls{base + "/baidu", base + "/sogou"};
    std::vector<corio::TaskHandle<std::string>> tasks;
    for (const std::string& url : urls) {
        tasks.push_back(corio::create_task(fetch(session, url)));
    }
    auto [done, pending] = co_await corio::wait(tasks);
    std::printf("done: %zu, pending: %zu\n", done.size(), pending.size());
    co_await session.close();
    co_await server.shutdown();
}

}  // namespace

int main() {
    corio::run(amain());
}
