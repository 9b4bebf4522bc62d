// Mirrors the tutorial's FastAPI example 2 (《异步编程》 › FastAPI框架异步):
// a synchronous `GET /` and an asynchronous `GET /red` that sleeps, then
// writes a hash with hmset_dict and reads it back with hgetall on a
// connection taken from a pool (aioredis' ConnectionsPool: acquire /
// release). Needs a Redis server: REDIS_URL (default
// redis://127.0.0.1:6379; a password goes in the URL). Here the server
// listens on a free loopback port instead of 5000, sleeps 0.5 s instead of
// 3 s, and instead of running forever the program asks it for `/` and for
// `/red` twice at once with corio's ClientSession, prints the answers and
// stops it: the two `/red` requests are served side by side.
//
//   REDIS_POOL = aioredis.ConnectionsPool("redis://...", password="root123",
//                                         minsize=1, maxsize=10)
//   @app.get("/")
//   def index():
//       return {"message": "Hello world"}
//
//   @app.get("/red")
//   async def red():
//       await asyncio.sleep(3)
//       conn = await REDIS_POOL.acquire()
//       redis = Redis(conn)
//       await redis.hmset_dict("car", key1=1, key2=2)
//       res = await redis.hgetall("car", encoding="utf8")
//       print(res)
//       REDIS_POOL.release(conn)
//       return res
//
//   uvicorn.run("luffy:app", host="127.0.0.1", port=5000, log_level="info")
#include <corio/corio.hpp>
#include <corio/http.hpp>
#include <corio/redis.hpp>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>

namespace redis = corio::redis;
namespace web = corio::http::web;
using namespace std::chrono_literals;

namespace {

constexpr auto kSleep = 500ms;  // the tutorial's 3 s, shortened

// {"key1": "1", "key2": "2"}: the hash as FastAPI returns a dict.
std::string to_json(const std::map<std::string, std::string>& m) {
    std::string out = "{";
    for (const auto& [k, v] : m) {
        out += (out.size() > 1 ? ", \"" : "\"") + k + "\": \"" + v + "\"";
    }
    return out + "}";
}

corio::Task<int> amain() {
    const char* env = std::getenv("REDIS_URL");
    redis::PoolOptions options{redis::parse_url(env ? env : "redis://127.0.0.1:6379"), 10};
    options.client.connect_attempts = 1;
    redis::Pool pool(options);
    try {
        co_await pool.ping();
    } catch (const redis::ConnectionError& e) {
        std::fprintf(stderr,
                     "no Redis server: %s\n"
                     "start one (redis-server --port 6379 --save '') or set REDIS_URL\n",
                     e.what());
        co_return 1;
    }

    web::Application app;
    app.add_route("GET", "/", [](web::Request&) -> corio::Task<web::Response> {
        co_return web::Response::json(R"({"message": "Hello world"})");
    });
    app.add_route("GET", "/red", [&pool](web::Request&) -> corio::Task<web::Response> {
        co_await corio::sleep(kSleep);
        auto conn = co_await pool.acquire();  // REDIS_POOL.acquire()
        std::map<std::string, int> fields{{"key1", 1}, {"key2", 2}};
        co_await conn->hset("car", fields);  // hmset_dict
        std::map<std::string, std::string> res = co_await conn->hgetall("car");
        std::printf("server: /red read %s\n", to_json(res).c_str());
        conn.release();  // REDIS_POOL.release(conn)
        co_return web::Response::json(to_json(res));
    });
    web::AppServer srv = co_await web::serve(app, "127.0.0.1", 0);
    const std::string base = "http://127.0.0.1:" + std::to_string(srv.port());
    std::printf("server started\n");

    corio::http::ClientSession session;
    auto index = co_await session.get(base + "/");
    std::printf("GET / -> %d %s\n", index.status(), index.body().c_str());
    auto& loop = corio::get_running_loop();
    auto start = loop.time();
    auto [a, b] = co_await corio::gather(session.get(base + "/red"), session.get(base + "/red"));
    auto took = loop.time() - start;
    for (const corio::http::ClientResponse* r : {&a, &b}) {
        std::printf("GET /red -> %d %s\n", r->status(), r->body().c_str());
    }
    std::printf("the two /red requests were served side by side: %s\n",
                took < 2 * kSleep ? "yes" : "no");
    co_await session.close();
    co_await srv.shutdown();
    co_await pool.del("car");
    co_return 0;
}

}  // namespace

int main() {
    return corio::run(amain());
}
