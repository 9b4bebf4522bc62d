// 《异步编程》 › 其他 › FastAPI框架异步: a FastAPI app whose `GET /` answers
// the JSON {"message": "Hello world"}, served by uvicorn on 127.0.0.1:5000.
// Here the app is a corio web::Application answering with json_response(),
// plus a POST that reads its JSON body (FastAPI's request model, with the
// 422 it answers for invalid input); it listens on a free loopback port,
// and instead of running forever the program asks it with ClientSession,
// prints the answers and stops it.
//
//   app = FastAPI()
//
//   @app.get("/")
//   def index():
//       # 某个操作10s
//       return {"message": "Hello world"}
//
//   if __name__ == "__main__":
//       uvicorn.run("luffy:app", host="127.0.0.1", port=5000, log_level="info")
#include <corio/corio.hpp>
#include <corio/http.hpp>
#include <cstdio>
#include <string>

namespace http = corio::http;
namespace web = corio::http::web;
using nlohmann::json;

namespace {

corio::Task<web::Response> index(web::Request&) {
    co_return web::json_response({{"message", "Hello world"}});
}

// POST /items {"name": str, "price": number}: the item back with an id, or
// 422 with what is wrong. A body that is not JSON at all throws
// JSONDecodeError, an HTTPException(400), answered by the server.
corio::Task<web::Response> create_item(web::Request& request) {
    json item = co_await request.json();
    if (!item.is_object() || !item.contains("name") || !item["name"].is_string() ||
        !item.contains("price") || !item["price"].is_number()) {
        co_return web::json_response(
            {{"detail", "name (a string) and price (a number) are required"}}, 422);
    }
    item["id"] = 1;
    co_return web::json_response(item, 201);
}

corio::Task<> amain() {
    web::Application app;
    app.add_get("/", index);
    app.add_post("/items", create_item);
    web::AppServer srv = co_await web::serve(app, "127.0.0.1", 0);
    const std::string base = "http://127.0.0.1:" + std::to_string(srv.port());
    std::printf("Uvicorn-like server running on %s\n", base.c_str());

    http::ClientSession session;
    http::ClientResponse r = co_await session.get(base + "/");
    json body = co_await r.json();
    std::printf("GET / -> %d %s (message: %s)\n", r.status(), r.body().c_str(),
                body["message"].get<std::string>().c_str());
    const char* posts[] = {R"({"name": "pen", "price": 1.5})", R"({"name": "pen"})", "{oops"};
    for (const char* data : posts) {
        r = co_await session.post(base + "/items", data);
        std::printf("POST /items %s -> %d %s\n", data, r.status(), r.body().c_str());
    }
    co_await session.close();
    co_await srv.shutdown();
}

}  // namespace

int main() {
    corio::run(amain());
}
