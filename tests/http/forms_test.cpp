// tests/http/forms_test.cpp - Request::post() on a live server, fed by curl
// (a client nobody here wrote: -F for multipart, --data-urlencode) and by
// corio's own client with FormData.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "corio/corio.hpp"
#include "corio/http/client.hpp"
#include "corio/http/multipart.hpp"
#include "corio/http/server.hpp"
#include "corio/net/subprocess.hpp"
#include "net/net_fixture.hpp"

using namespace std::chrono_literals;
using corio::Task;
using corio::http::Form;
using corio::http::FormData;
using corio::http::Headers;
namespace web = corio::http::web;
using corio_test::net_run;

namespace {

// FNV-1a of a file's bytes (files may hold any bytes; JSON wants UTF-8).
std::uint64_t fnv(std::string_view s) {
    std::uint64_t h = 1469598103934665603ULL;
    for (unsigned char c : s) {
        h = (h ^ c) * 1099511628211ULL;
    }
    return h;
}

// Echoes the form as JSON: fields in order, files with name, type, size.
void add_echo(web::Application& app) {
    app.add_post("/form", [](web::Request& req) -> Task<web::Response> {
        Form form = co_await req.post();
        nlohmann::json out{{"fields", nlohmann::json::array()}, {"files", nlohmann::json::array()}};
        for (const auto& e : form.fields) {
            out["fields"].push_back({e.key, e.value});
        }
        for (const auto& f : form.files) {
            out["files"].push_back({{"name", f.name},
                                    {"filename", f.filename},
                                    {"type", f.content_type},
                                    {"size", f.data.size()},
                                    {"fnv", fnv(f.data)}});
        }
        co_return web::json_response(out);
    });
}

Task<std::string> run_curl(std::vector<std::string> args) {
    std::vector<std::string> head{"-sS", "--max-time", "30"};
    args.insert(args.begin(), head.begin(), head.end());
    corio::net::Process curl = co_await corio::net::create_subprocess_exec(
        "/usr/bin/curl", args, corio::net::SubprocessOptions{.stdout_ = corio::net::PIPE});
    std::string out = co_await corio::wait_for(curl.stdout_->read(), 60s);
    EXPECT_EQ(co_await curl.wait(), 0);
    co_return out;
}

// What the server echoed, checked outside the coroutines (GCC 12 mishandles
// string-literal temporaries in some coroutine full-expressions).
void expect_fields(const std::string& echoed, const char* fields_json) {
    auto got = nlohmann::json::parse(echoed);
    EXPECT_EQ(got.at("fields"), nlohmann::json::parse(fields_json)) << echoed;
}

TEST(Forms, CurlMultipartAndUrlencodedBodies) {
    std::string payload(100000, '\0');
    for (std::size_t i = 0; i < payload.size(); ++i) {
        payload[i] = static_cast<char>(i * 7 + 3);
    }
    std::string path = "/tmp/corio_forms_XXXXXX";
    ::close(::mkstemp(path.data()));
    std::ofstream(path, std::ios::binary) << payload;
    std::string multipart_out;
    std::string urlencoded_out;
    net_run([&]() -> Task<void> {
        web::Application app;
        add_echo(app);
        web::AppServer server = co_await web::serve(app, "127.0.0.1", 0);
        const std::string url = "http://127.0.0.1:" + std::to_string(server.port()) + "/form";
        std::vector<std::string> multipart{
            "-F", "title=été & co", "-F", "doc=@" + path + ";type=image/png",
            "-F", "title=second",   url};
        multipart_out = co_await run_curl(multipart);
        std::vector<std::string> urlencoded{"--data-urlencode", "q=a b&c", "--data-urlencode",
                                            "lang=é", url};
        urlencoded_out = co_await run_curl(urlencoded);
        co_await server.shutdown(1s);
    }());
    ::unlink(path.c_str());
    expect_fields(multipart_out, R"([["title","été & co"],["title","second"]])");
    auto got = nlohmann::json::parse(multipart_out);
    ASSERT_EQ(got.at("files").size(), 1u);
    EXPECT_EQ(got["files"][0]["name"], "doc");
    EXPECT_EQ(got["files"][0]["type"], "image/png");
    EXPECT_EQ(got["files"][0]["size"], payload.size());
    EXPECT_EQ(got["files"][0]["fnv"], fnv(payload));
    expect_fields(urlencoded_out, R"([["q","a b&c"],["lang","é"]])");
}

TEST(Forms, FormDataFromCorioClientAndBadBodiesAnswer400) {
    std::string echoed;
    int bad_multipart = 0;
    std::string bad_multipart_body;
    int bad_urlencoded = 0;
    const std::string binary("\0\r\n--", 5);
    net_run([&]() -> Task<void> {
        web::Application app;
        add_echo(app);
        web::AppServer server = co_await web::serve(app, "127.0.0.1", 0);
        const std::string url = "http://127.0.0.1:" + std::to_string(server.port()) + "/form";
        corio::http::ClientSession session;
        FormData form;
        form.add_field("k", "v").add_file("f", "x.bin", binary);
        Headers multipart_type{{"Content-Type", form.content_type()}};
        auto r = co_await session.post(url, form.body(), multipart_type);
        echoed = r.body();
        Headers bad_type{{"Content-Type", "multipart/form-data; boundary=B"}};
        r = co_await session.post(url, "--B\r\n\r\nno end", bad_type);
        bad_multipart = r.status();
        bad_multipart_body = r.body();
        Headers url_type{{"Content-Type", "application/x-www-form-urlencoded"}};
        r = co_await session.post(url, "a=%zz", url_type);
        bad_urlencoded = r.status();
        co_await session.close();
        co_await server.shutdown(1s);
    }());
    expect_fields(echoed, R"([["k","v"]])");
    EXPECT_EQ(nlohmann::json::parse(echoed)["files"][0]["fnv"], fnv(binary));
    EXPECT_EQ(bad_multipart, 400);
    EXPECT_EQ(bad_multipart_body,
              "400: Bad Request: invalid form body: the body ends before the closing delimiter");
    EXPECT_EQ(bad_urlencoded, 400);
}

}  // namespace
