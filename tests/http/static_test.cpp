// Static files: add_static / FileResponse, conditional requests (304),
// ranges (206, 416), Content-Length framing, and path traversal refused.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <string>

#include "corio/corio.hpp"
#include "corio/http/client.hpp"
#include "corio/http/server.hpp"
#include "corio/net/socket.hpp"
#include "net/net_fixture.hpp"

using namespace std::chrono_literals;
using corio::Task;
namespace fs = std::filesystem;
namespace net = corio::net;
namespace web = corio::http::web;
using corio::http::ClientResponse;
using corio::http::ClientSession;
using corio::http::Headers;
using corio_test::net_run;

namespace {

// Request headers (GCC 12 miscompiles braced lists of string literals
// inside a co_await expression: "array used as initializer").
Headers h(std::string_view k, std::string_view v, std::string_view k2 = {},
          std::string_view v2 = {}) {
    Headers out;
    out.add(k, v);
    if (!k2.empty()) {
        out.add(k2, v2);
    }
    return out;
}

// A temporary tree: root/www/{index.html, big.bin, sub/a.txt, link-out},
// root/secret.txt outside www.
struct Tree {
    fs::path root;
    std::string big;
    Tree() {
        root = fs::temp_directory_path() / ("corio_static_" + std::to_string(::getpid()));
        fs::remove_all(root);
        fs::create_directories(root / "www" / "sub");
        write(root / "www" / "index.html", "<h1>static</h1>");
        write(root / "www" / "sub" / "a.txt", "0123456789");
        write(root / "secret.txt", "top secret");
        for (int i = 0; i < 300000; ++i) {
            big.push_back(static_cast<char>('a' + i % 26));
        }
        write(root / "www" / "big.bin", big);
        fs::create_symlink(root / "secret.txt", root / "www" / "link-out");
        fs::create_symlink(root / "www" / "sub" / "a.txt", root / "www" / "link-in");
    }
    ~Tree() { fs::remove_all(root); }
    static void write(const fs::path& p, const std::string& data) {
        std::ofstream(p, std::ios::binary) << data;
    }
};

template <class F>
void with_server(const Tree& tree, F body) {
    net_run([](const Tree& tree, F body) -> Task<void> {
        web::Application app;
        app.add_static("/static/", tree.root / "www");
        app.add_get("/report", [&tree](web::Request& req) -> Task<web::Response> {
            web::FileResponse resp(tree.root / "www" / "sub" / "a.txt");
            resp.set_content_type("text/x-report");
            co_await resp.prepare(req);
            co_return resp;
        });
        web::AppServer server = co_await web::serve(app, "127.0.0.1", 0);
        co_await body(server);
        co_await server.shutdown(1s);
    }(tree, std::move(body)));
}

std::string url(const web::AppServer& s, std::string_view path) {
    return "http://127.0.0.1:" + std::to_string(s.port()) + std::string(path);
}

// Sends a raw request (paths a client would normalize) and returns the
// status line.
Task<std::string> raw_status(std::uint16_t port, std::string target) {
    net::Socket s = net::Socket::create(AF_INET, SOCK_STREAM);
    co_await net::sock_connect(s, net::SocketAddress::ip("127.0.0.1", port));
    co_await net::sock_sendall(
        s, "GET " + target + " HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
    std::string out;
    for (;;) {
        std::string part = co_await corio::wait_for(net::sock_recv(s, 65536), 10s);
        if (part.empty()) {
            break;
        }
        out += part;
    }
    co_return out.substr(0, out.find("\r\n"));
}

}  // namespace

TEST(StaticFiles, ServesFilesWithValidatorsAndTypes) {
    Tree tree;
    with_server(tree, [&tree](web::AppServer& server) -> Task<void> {
        ClientSession session;
        ClientResponse r = co_await session.get(url(server, "/static/index.html"));
        EXPECT_EQ(r.status(), 200);
        EXPECT_EQ(r.body(), "<h1>static</h1>");
        EXPECT_EQ(r.headers().get("Content-Type", ""), "text/html; charset=utf-8");
        EXPECT_EQ(r.headers().get("Content-Length", ""), "15");
        EXPECT_EQ(r.headers().get("Accept-Ranges", ""), "bytes");
        EXPECT_FALSE(r.headers().contains("Transfer-Encoding"));
        const std::string etag(r.headers().get("ETag", ""));
        EXPECT_TRUE(std::regex_match(etag, std::regex("\"[0-9a-f]+-f\""))) << etag;
        const std::string lm(r.headers().get("Last-Modified", ""));
        EXPECT_TRUE(std::regex_match(lm, std::regex("[A-Z][a-z]{2}, \\d\\d [A-Z][a-z]{2} \\d{4} "
                                                    "\\d\\d:\\d\\d:\\d\\d GMT")))
            << lm;

        // A large file, in several writes, on the same keep-alive connection.
        r = co_await session.get(url(server, "/static/big.bin"));
        EXPECT_EQ(r.status(), 200);
        EXPECT_TRUE(r.body() == tree.big);
        EXPECT_EQ(r.headers().get("Content-Type", ""), "application/octet-stream");
        r = co_await session.get(url(server, "/static/sub/a.txt"));
        EXPECT_EQ(r.body(), "0123456789");
        r = co_await session.get(url(server, "/static/sub/./a.txt"));
        EXPECT_EQ(r.body(), "0123456789");
        r = co_await session.get(url(server, "/static/link-in"));  // a link inside: fine
        EXPECT_EQ(r.body(), "0123456789");
        r = co_await session.request("HEAD", url(server, "/static/big.bin"));
        EXPECT_EQ(r.status(), 200);
        EXPECT_EQ(r.body(), "");
        EXPECT_EQ(r.headers().get("Content-Length", ""), "300000");
        // A FileResponse from a handler, its Content-Type kept.
        r = co_await session.get(url(server, "/report"));
        EXPECT_EQ(r.body(), "0123456789");
        EXPECT_EQ(r.headers().get("Content-Type", ""), "text/x-report");
        EXPECT_EQ(session.connections_opened(), 1u);

        r = co_await session.get(url(server, "/static/missing.txt"));
        EXPECT_EQ(r.status(), 404);
        r = co_await session.get(url(server, "/static/sub"));
        EXPECT_EQ(r.status(), 403);
        co_await session.close();
    });
}

TEST(StaticFiles, ConditionalRequestsAnswer304) {
    Tree tree;
    with_server(tree, [](web::AppServer& server) -> Task<void> {
        ClientSession session;
        ClientResponse r = co_await session.get(url(server, "/static/index.html"));
        const std::string etag(r.headers().get("ETag", ""));
        const std::string lm(r.headers().get("Last-Modified", ""));

        r = co_await session.get(url(server, "/static/index.html"), h("If-None-Match", etag));
        EXPECT_EQ(r.status(), 304);
        EXPECT_EQ(r.body(), "");
        EXPECT_EQ(r.headers().get("ETag", ""), etag);
        r = co_await session.get(url(server, "/static/index.html"),
                                 h("If-None-Match", "\"other\", W/" + etag));
        EXPECT_EQ(r.status(), 304);
        r = co_await session.get(url(server, "/static/index.html"), h("If-None-Match", "*"));
        EXPECT_EQ(r.status(), 304);
        r = co_await session.get(url(server, "/static/index.html"),
                                 h("If-None-Match", "\"other\""));
        EXPECT_EQ(r.status(), 200);
        EXPECT_EQ(r.body(), "<h1>static</h1>");

        r = co_await session.get(url(server, "/static/index.html"), h("If-Modified-Since", lm));
        EXPECT_EQ(r.status(), 304);
        r = co_await session.get(url(server, "/static/index.html"),
                                 h("If-Modified-Since", "Sun, 06 Nov 1994 08:49:37 GMT"));
        EXPECT_EQ(r.status(), 200);
        r = co_await session.get(url(server, "/static/index.html"),
                                 h("If-Modified-Since", "not a date"));
        EXPECT_EQ(r.status(), 200);
        // If-None-Match wins over If-Modified-Since.
        r = co_await session.get(url(server, "/static/index.html"),
                                 h("If-None-Match", "\"other\"", "If-Modified-Since", lm));
        EXPECT_EQ(r.status(), 200);
        // The connection stays usable after 304s.
        EXPECT_EQ(session.connections_opened(), 1u);
        co_await session.close();
    });
}

TEST(StaticFiles, RangesAnswer206And416) {
    Tree tree;
    with_server(tree, [&tree](web::AppServer& server) -> Task<void> {
        ClientSession session;
        const std::string u = url(server, "/static/sub/a.txt");
        ClientResponse r = co_await session.get(u, h("Range", "bytes=2-5"));
        EXPECT_EQ(r.status(), 206);
        EXPECT_EQ(r.body(), "2345");
        EXPECT_EQ(r.headers().get("Content-Range", ""), "bytes 2-5/10");
        EXPECT_EQ(r.headers().get("Content-Length", ""), "4");
        r = co_await session.get(u, h("Range", "bytes=7-"));
        EXPECT_EQ(r.body(), "789");
        EXPECT_EQ(r.headers().get("Content-Range", ""), "bytes 7-9/10");
        r = co_await session.get(u, h("Range", "bytes=-3"));
        EXPECT_EQ(r.body(), "789");
        r = co_await session.get(u, h("Range", "bytes=-30"));
        EXPECT_EQ(r.body(), "0123456789");
        EXPECT_EQ(r.status(), 206);
        r = co_await session.get(u, h("Range", "bytes=5-100"));
        EXPECT_EQ(r.body(), "56789");
        EXPECT_EQ(r.headers().get("Content-Range", ""), "bytes 5-9/10");

        r = co_await session.get(u, h("Range", "bytes=10-"));
        EXPECT_EQ(r.status(), 416);
        EXPECT_EQ(r.headers().get("Content-Range", ""), "bytes */10");
        r = co_await session.get(u, h("Range", "bytes=-0"));
        EXPECT_EQ(r.status(), 416);

        // Ignored: several ranges, malformed ones, another unit.
        for (const char* range : {"bytes=0-1,3-4", "bytes=5-2", "bytes=x-", "items=0-1"}) {
            r = co_await session.get(u, h("Range", range));
            EXPECT_EQ(r.status(), 200) << range;
            EXPECT_EQ(r.body(), "0123456789") << range;
        }
        // If-Range: the current ETag lets the range through, an old one does not.
        const std::string etag(r.headers().get("ETag", ""));
        r = co_await session.get(u, h("Range", "bytes=0-1", "If-Range", etag));
        EXPECT_EQ(r.status(), 206);
        EXPECT_EQ(r.body(), "01");
        r = co_await session.get(u, h("Range", "bytes=0-1", "If-Range", "\"old\""));
        EXPECT_EQ(r.status(), 200);
        EXPECT_EQ(r.body(), "0123456789");

        // A range of the large file.
        r = co_await session.get(url(server, "/static/big.bin"), h("Range", "bytes=100000-299999"));
        EXPECT_EQ(r.status(), 206);
        EXPECT_TRUE(r.body() == tree.big.substr(100000));
        EXPECT_EQ(session.connections_opened(), 1u);
        co_await session.close();
    });
}

TEST(StaticFiles, PathTraversalIsRefused) {
    Tree tree;
    with_server(tree, [](web::AppServer& server) -> Task<void> {
        const std::uint16_t port = server.port();
        for (const char* target :
             {"/static/../secret.txt", "/static/sub/../../secret.txt", "/static/%2e%2e/secret.txt",
              "/static/%2E%2E/secret.txt", "/static/sub/%2e%2e/%2e%2e/secret.txt",
              "/static/..%2fsecret.txt", "/static/%2e%2e%2fsecret.txt", "/static/..",
              "/static/sub%5c..%5c..%5csecret.txt", "/static/a%00b"}) {
            std::string status = co_await raw_status(port, target);
            EXPECT_EQ(status, "HTTP/1.1 403 Forbidden") << target;
        }
        // A symbolic link that leads outside the directory.
        EXPECT_EQ(co_await raw_status(port, "/static/link-out"), "HTTP/1.1 403 Forbidden");
        // An absolute path after the prefix stays inside it.
        EXPECT_EQ(co_await raw_status(port, "/static//etc/passwd"), "HTTP/1.1 404 Not Found");
        EXPECT_EQ(co_await raw_status(port, "/static/sub/a.txt"), "HTTP/1.1 200 OK");
    });
}

TEST(StaticFiles, BadArguments) {
    web::Application app;
    EXPECT_THROW(app.add_static("static", fs::temp_directory_path()), std::invalid_argument);
    EXPECT_THROW(app.add_static("/static", "/nonexistent/corio/dir"), std::invalid_argument);
}

TEST(StaticFiles, ContentLengthStreamResponse) {
    net_run([]() -> Task<void> {
        web::Application app;
        app.add_get("/sized", [](web::Request& req) -> Task<web::Response> {
            web::StreamResponse resp;
            resp.set_content_length(6);
            co_await resp.prepare(req);
            EXPECT_THROW(resp.set_content_length(1), corio::RuntimeError);
            co_await resp.write("abc");
            EXPECT_THROW(co_await resp.write("defg"), corio::RuntimeError);
            co_await resp.write_eof("def");
            co_return resp;
        });
        app.add_get("/short", [](web::Request& req) -> Task<web::Response> {
            web::StreamResponse resp;
            resp.set_content_length(10);
            co_await resp.prepare(req);
            co_await resp.write("abc");  // and returns: the connection is cut
            co_return resp;
        });
        web::AppServer server = co_await web::serve(app, "127.0.0.1", 0);
        ClientSession session;
        ClientResponse r = co_await session.get(url(server, "/sized"));
        EXPECT_EQ(r.body(), "abcdef");
        EXPECT_EQ(r.headers().get("Content-Length", ""), "6");
        EXPECT_FALSE(r.headers().contains("Transfer-Encoding"));
        EXPECT_EQ(session.idle_connections(), 1u);
        EXPECT_THROW(co_await session.get(url(server, "/short")),
                     corio::http::ServerDisconnectedError);
        co_await session.close();
        co_await server.shutdown(1s);
    }());
}

TEST(StaticFiles, LargeFileAndRangesOverOneConnection) {
    // 8 MiB: sent with sendfile(2) under epoll, read and written under
    // io_uring; either way whole, as a range, then a request after it on
    // the same keep-alive connection.
    Tree tree;
    std::string large(8u << 20, '\0');
    for (std::size_t i = 0; i < large.size(); ++i) {
        large[i] = static_cast<char>('a' + (i * 11 + i / 4099) % 26);
    }
    Tree::write(tree.root / "www" / "large.bin", large);
    with_server(tree, [&large](web::AppServer& server) -> Task<void> {
        ClientSession session;
        const std::string u = url(server, "/static/large.bin");
        ClientResponse whole = co_await session.get(u);
        EXPECT_EQ(whole.status(), 200);
        EXPECT_TRUE(whole.body() == large) << whole.body().size();
        Headers range = h("Range", "bytes=1000-5000999");
        ClientResponse part = co_await session.get(u, range);
        EXPECT_EQ(part.status(), 206);
        EXPECT_EQ(part.headers().get("Content-Range", ""), "bytes 1000-5000999/8388608");
        EXPECT_TRUE(part.body() == std::string_view(large).substr(1000, 5000000))
            << part.body().size();
        const std::string small = url(server, "/static/sub/a.txt");
        ClientResponse after = co_await session.get(small);
        EXPECT_EQ(after.body(), "0123456789");
        EXPECT_EQ(session.connections_opened(), 1u);
        co_await session.close();
    });
}
