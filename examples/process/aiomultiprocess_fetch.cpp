// Mirrors the tutorial 《Python中线程、进程与异步的介绍和实现》, "八 › 结合多进程 ›
// 方法三 第三方库aiomultiprocess" and its 用法 section: a Process runs the
// coroutine put(url, data) in a child process for its effect; a Worker runs
// get(url) in a child process and returns the page; then a managed Pool maps
// get over a list of URLs across its worker processes, each running its own
// loop.
//
//   async def put(url, data):
//       async with request("PUT", url, data=data) as response:
//           return await response.text("utf-8")
//   p = Process(target=put, args=("https://jreese.sh", "data"))
//   await p
//
//   async def get(url):
//       async with request("GET", url) as response:
//           return await response.text("utf-8")
//   async def main():
//       p = Worker(target=get, args=("https://jreese.sh", ))
//       response = await p
//       urls = ["https://jreese.sh", ...]
//       async with Pool() as pool:
//           result = await pool.map(get, urls)
//
// The "sites" are routes of a local corio::http server that this program
// starts on its own loop, so it needs no internet: while the main
// coroutine awaits the children, its loop keeps serving their requests.
#include <corio/corio.hpp>
#include <corio/http.hpp>
#include <corio/process.hpp>
#include <cstdio>
#include <string>
#include <vector>

namespace web = corio::http::web;

namespace {

// Runs in a child process, on the child's own event loop.
corio::Task<std::string> get(std::string url) {
    corio::http::ClientSession session;
    corio::http::ClientResponse response = co_await session.get(url);
    std::string text = co_await response.text();
    co_await session.close();
    co_return text;
}
CORIO_PROCESS_REGISTER(get);

// Runs in a child process too: a PUT, for its effect on the server.
corio::Task<int> put(std::string url, std::string data) {
    corio::http::ClientSession session;
    corio::http::ClientResponse response = co_await session.put(url, data);
    co_await session.close();
    co_return response.status();
}
CORIO_PROCESS_REGISTER(put);

corio::Task<> amain() {
    web::Application app;
    app.add_get("/{site}", [](web::Request& request) -> corio::Task<web::Response> {
        co_return web::Response("<h1>" + request.match_info().at("site") + "</h1>");
    });
    std::string stored;  // what PUT requests left on the server
    app.add_put("/{site}", [&stored](web::Request& request) -> corio::Task<web::Response> {
        stored = request.match_info().at("site") + " <- " + co_await request.text();
        co_return web::Response("stored");
    });
    web::AppServer server = co_await web::serve(app, "127.0.0.1", 0);
    const std::string base = "http://127.0.0.1:" + std::to_string(server.port()) + "/";

    // Process(target=put, args=(url, data)): a coroutine in a child process,
    // awaited until the child is done (aiomultiprocess' Process, run()).
    int status = co_await corio::process::run(put, base + "jreese.sh", std::string("data"));
    std::printf("Process: PUT -> %d; the server has: %s\n", status, stored.c_str());

    // Worker(target=get, args=(url,)): one coroutine in one child process.
    std::string response = co_await corio::process::run(get, base + "jreese.sh");
    std::printf("Worker: %s\n", response.c_str());

    // Pool().map(get, urls): results in the order of the URLs.
    std::vector<std::string> urls{base + "jreese.sh", base + "python.org", base + "corio.dev",
                                  base + "example.com"};
    corio::process::AsyncPool pool;
    std::vector<std::string> result = co_await pool.map(get, urls);
    for (const std::string& page : result) {
        std::printf("Pool: %s\n", page.c_str());
    }
    pool.close();  // leaving `async with Pool()`
    co_await pool.join();
    co_await server.shutdown();
}

}  // namespace

int main(int argc, char** argv) {
    corio::process::worker_main_if_child(argc, argv);
    corio::run(amain());
}
