// 《异步编程》 › 案例 asyncio+requests: three downloads with a blocking HTTP
// client (the tutorial's `requests.get`) run on the default executor's
// threads through run_in_executor, so the coroutines await them side by
// side; each body is written to a file named after the URL's last "_" part.
// The "images" come from a local corio server that the program starts
// itself (each answer takes 0.5 s, a slow network), so it needs no
// internet; the files go to a temporary directory that is removed at the
// end. The tutorial's `loop.asyncio.get_event_loop()` (a typo for
// `loop = asyncio.get_event_loop()`) is fixed.
//
//   async def download_image(url):
//       print("开始下载:", url)
//       loop = asyncio.get_event_loop()
//       future = loop.run_in_executor(None, requests.get, url)
//       resp = await future
//       file_name = url.split("_")[-1]
//       with open(file_name, mode="wb") as f:
//           f.write(resp.content)
//
//   tasks = [download_image(url) for url in urls]
//   loop.run_until_complete(asyncio.wait(tasks))
//
// `blocking_get` below stands in for `requests.get`: plain blocking
// sockets, one request per connection, the thread waits for the answer.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <corio/corio.hpp>
#include <corio/http.hpp>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace web = corio::http::web;
using namespace std::chrono_literals;

namespace {

struct BlockingResponse {
    int status = 0;
    std::string content;
};

// GET http://127.0.0.1:PORT/PATH with blocking calls (requests.get's role).
BlockingResponse blocking_get(std::uint16_t port, const std::string& path) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        throw std::runtime_error("socket() failed");
    }
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    std::string raw;
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
        std::string req =
            "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
        if (::send(fd, req.data(), req.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(req.size())) {
            char buf[16384];
            ssize_t n;
            while ((n = ::recv(fd, buf, sizeof buf, 0)) > 0) {
                raw.append(buf, static_cast<std::size_t>(n));
            }
        }
    }
    ::close(fd);
    std::size_t head_end = raw.find("\r\n\r\n");
    if (raw.rfind("HTTP/1.1 ", 0) != 0 || head_end == std::string::npos) {
        throw std::runtime_error("no HTTP answer for " + path);
    }
    return {std::atoi(raw.c_str() + 9), raw.substr(head_end + 4)};
}

corio::Task<void> download_image(std::uint16_t port, std::string url, std::filesystem::path dir) {
    std::printf("开始下载: %s\n", url.c_str());
    auto& loop = corio::get_running_loop();
    BlockingResponse resp = co_await loop.run_in_executor(nullptr, blocking_get, port, url);
    std::string file_name = url.substr(url.rfind('_') + 1);
    std::ofstream(dir / file_name, std::ios::binary) << resp.content;
}

corio::Task<> amain() {
    web::Application app;
    app.add_get("/images/{name}", [](web::Request& request) -> corio::Task<web::Response> {
        co_await corio::sleep(500ms);                               // a slow network
        const std::string& name = request.match_info().at("name");  // cat_1.jpg: 1,000 bytes
        std::size_t kb = static_cast<std::size_t>(name[name.rfind('.') - 1] - '0');
        co_return web::Response(std::string(1000 * kb, 'x'), 200, "image/jpeg");
    });
    web::AppServer server = co_await web::serve(app, "127.0.0.1", 0);

    char tmpl[] = "/tmp/corio-images-XXXXXX";
    std::filesystem::path dir = ::mkdtemp(tmpl);
    std::vector<std::string> urls{"/images/cat_1.jpg", "/images/dog_2.jpg", "/images/fox_3.jpg"};
    auto& loop = corio::get_running_loop();
    auto start = loop.time();
    std::vector<corio::TaskHandle<void>> tasks;
    for (const std::string& url : urls) {
        tasks.push_back(corio::create_task(download_image(server.port(), url, dir)));
    }
    co_await corio::wait(tasks);
    std::chrono::duration<double> elapsed = loop.time() - start;
    for (const char* name : {"1.jpg", "2.jpg", "3.jpg"}) {
        std::printf("%s: %ju bytes\n", name,
                    static_cast<std::uintmax_t>(std::filesystem::file_size(dir / name)));
    }
    std::printf("three 0.5 s downloads took %.2f s\n", elapsed.count());
    std::filesystem::remove_all(dir);
    co_await server.shutdown();
}

}  // namespace

int main() {
    corio::run(amain());
}
