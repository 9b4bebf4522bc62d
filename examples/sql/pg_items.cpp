// A small JSON API in the spirit of the tutorial's FastAPI examples
// (《异步编程》 › FastAPI框架异步), storing its items in PostgreSQL through
// a pool (asyncpg's create_pool), with the table created by the program
// itself. Needs a PostgreSQL server: DATABASE_URL (default
// postgresql://postgres@127.0.0.1:5432/postgres). Instead of running for
// ever, the program adds three items at once and lists them with corio's
// ClientSession, then stops the server and drops the table.
//
//   pool = await asyncpg.create_pool(DATABASE_URL, min_size=1, max_size=10)
//   @app.post("/items")
//   async def add(item: Item):
//       row = await pool.fetchrow(
//           "INSERT INTO items (name, price) VALUES ($1, $2) RETURNING id", item.name, item.price)
//       return {"id": row["id"]}
//   @app.get("/items")
//   async def items():
//       return [dict(r) for r in await pool.fetch("SELECT id, name, price FROM items ORDER BY id")]
#include <algorithm>
#include <corio/corio.hpp>
#include <corio/http.hpp>
#include <corio/sql/postgres.hpp>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace pg = corio::sql::pg;
namespace sql = corio::sql;
namespace web = corio::http::web;

namespace {

corio::Task<int> amain() {
    const char* env = std::getenv("DATABASE_URL");
    pg::Pool pool(
        pg::ConnectOptions::from_url(env ? env : "postgresql://postgres@127.0.0.1/postgres"),
        {.minsize = 1, .maxsize = 10, .recycle = {}, .acquire_timeout = {}});
    try {
        co_await pool.open();
    } catch (const sql::Error& e) {
        std::fprintf(stderr, "no PostgreSQL server: %s\nset DATABASE_URL\n", e.what());
        co_return 1;
    }
    co_await pool.execute("DROP TABLE IF EXISTS corio_items");
    co_await pool.execute(
        "CREATE TABLE corio_items (id serial PRIMARY KEY, name text NOT NULL, price numeric)");

    web::Application app;
    app.add_route("POST", "/items", [&pool](web::Request& req) -> corio::Task<web::Response> {
        nlohmann::json item = co_await req.json();
        const std::string name = item.at("name").get<std::string>();
        const sql::Decimal price{item.at("price").get<std::string>()};
        auto id = co_await pool.fetchval<int>(
            "INSERT INTO corio_items (name, price) VALUES ($1, $2) RETURNING id", name, price);
        co_return web::Response::json(nlohmann::json{{"id", id}}.dump());
    });
    app.add_route("GET", "/items", [&pool](web::Request&) -> corio::Task<web::Response> {
        nlohmann::json out = nlohmann::json::array();
        for (const pg::Row& r :
             co_await pool.fetch("SELECT id, name, price FROM corio_items ORDER BY id")) {
            out.push_back({{"id", r.get<int>("id")},
                           {"name", r.get<std::string>("name")},
                           {"price", r.get<sql::Decimal>("price").text}});
        }
        co_return web::Response::json(out.dump());
    });
    web::AppServer srv = co_await web::serve(app, "127.0.0.1", 0);
    const std::string base = "http://127.0.0.1:" + std::to_string(srv.port());

    corio::http::ClientSession session;
    // Named first: GCC 12 mishandles some temporaries inside a co_await.
    const corio::http::Headers json_type{{"Content-Type", "application/json"}};
    std::string pen = R"({"name": "pen", "price": "1.50"})";
    std::string ink = R"({"name": "ink", "price": "4.25"})";
    std::string pad = R"({"name": "pad", "price": "2.00"})";
    const std::string items_url = base + "/items";
    auto [a, b, c] = co_await corio::gather(session.post(items_url, pen, json_type),
                                            session.post(items_url, ink, json_type),
                                            session.post(items_url, pad, json_type));
    std::printf("POST /items x3 -> %d %d %d\n", a.status(), b.status(), c.status());
    auto list = co_await session.get(items_url);
    auto items = nlohmann::json::parse(list.body());
    std::printf("GET /items -> %d, %zu items:", list.status(), items.size());
    // The ids depend on which insert ran first: print the names sorted.
    std::vector<std::string> names;
    for (const auto& item : items) {
        names.push_back(item.at("name").get<std::string>() + " " +
                        item.at("price").get<std::string>());
    }
    std::sort(names.begin(), names.end());
    for (const auto& n : names) {
        std::printf(" [%s]", n.c_str());
    }
    std::printf("\n");
    co_await session.close();
    co_await srv.shutdown();
    co_await pool.execute("DROP TABLE corio_items");
    co_await pool.close();
    co_return 0;
}

}  // namespace

int main() {
    return corio::run(amain());
}
