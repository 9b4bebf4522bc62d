// W6 HTTP hello world (bench/README.md): GET / answers 200 with the 13
// bytes "Hello, World!" as text/plain, HTTP/1.1 keep-alive, one loop, the
// Date header as the server sends it by default. Serves until SIGTERM or
// SIGINT (run_app's graceful shutdown), then exits 0. Prints nothing.
#include <sys/resource.h>

#include <cstdio>

#include "bench_common.hpp"
#include "corio/corio.hpp"
#include "corio/http.hpp"

namespace web = corio::http::web;

namespace {

corio::Task<web::Response> hello(web::Request&) {
    co_return web::Response::text("Hello, World!", 200, "text/plain");
}

corio::Task<void> serve(std::uint16_t port) {
    web::Application app;
    app.add_get("/", hello);
    co_await web::run_app(app, "127.0.0.1", port, {}, std::chrono::seconds(1));
}

}  // namespace

int main(int argc, char** argv) {
    long port = bench::flag(argc, argv, "--port", -1);
    if (port < 0 || port > 65535) {
        std::fprintf(stderr, "usage: w6_http_server --port P\n");
        return 2;
    }
    rlimit lim{};  // -c1000 needs more than the default 1024 fds
    if (::getrlimit(RLIMIT_NOFILE, &lim) == 0) {
        lim.rlim_cur = lim.rlim_max;
        ::setrlimit(RLIMIT_NOFILE, &lim);
    }
    corio::run(serve(static_cast<std::uint16_t>(port)));
    return 0;
}
