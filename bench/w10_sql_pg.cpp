// bench/w10_sql_pg.cpp - W10's PostgreSQL half: `tasks` tasks over
// `pool_size` connections (task t on connection t mod pool_size, so the
// tasks of one connection share its pipeline), each awaiting one
// `SELECT $1::int + 1` at a time; then the same tasks insert `rows` rows
// into a fresh table, one INSERT per row, each awaited.
#include <chrono>
#include <stdexcept>
#include <vector>

#include "corio/corio.hpp"
#include "corio/sql/postgres.hpp"
#include "w10_sql.hpp"

namespace pg = corio::sql::pg;
using corio::Task;

namespace {

Task<void> selects(pg::Connection& conn, long n) {
    for (long i = 0; i < n; ++i) {
        int v = co_await conn.fetchval<int>("SELECT $1::int + 1", static_cast<int>(i));
        if (v != static_cast<int>(i) + 1) {
            throw std::runtime_error("w10 pg: wrong answer");
        }
    }
}

Task<void> inserts(pg::Connection& conn, long first, long n) {
    const std::string name = "row";
    for (long i = first; i < first + n; ++i) {
        co_await conn.execute("INSERT INTO w10_corio VALUES ($1, $2)", static_cast<int>(i), name);
    }
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

Task<w10::Result> run(w10::Args a) {
    pg::ConnectOptions o;
    o.host = "127.0.0.1";
    o.port = a.port;
    o.user = a.user;
    o.password = a.password;
    o.database = a.db;
    std::vector<pg::Connection> conns;
    for (long i = 0; i < a.pool_size; ++i) {
        conns.push_back(co_await pg::Connection::connect(o));
    }
    w10::Result r;
    {
        std::vector<corio::TaskHandle<void>> ts;
        const long per = a.selects / a.tasks;
        auto t0 = std::chrono::steady_clock::now();
        for (long t = 0; t < a.tasks; ++t) {
            ts.push_back(corio::create_task(selects(conns[t % a.pool_size], per)));
        }
        for (auto& t : ts) {
            co_await t;
        }
        r.select_qps = static_cast<double>(per * a.tasks) / seconds_since(t0);
    }
    co_await conns[0].execute("DROP TABLE IF EXISTS w10_corio");
    co_await conns[0].execute("CREATE TABLE w10_corio (id int, name text)");
    {
        std::vector<corio::TaskHandle<void>> ts;
        const long per = a.rows / a.tasks;
        auto t0 = std::chrono::steady_clock::now();
        for (long t = 0; t < a.tasks; ++t) {
            ts.push_back(corio::create_task(inserts(conns[t % a.pool_size], t * per, per)));
        }
        for (auto& t : ts) {
            co_await t;
        }
        r.insert_rows_s = static_cast<double>(per * a.tasks) / seconds_since(t0);
    }
    auto count = co_await conns[0].fetchval<std::int64_t>("SELECT count(*) FROM w10_corio");
    if (count != a.rows / a.tasks * a.tasks) {
        throw std::runtime_error("w10 pg: rows missing");
    }
    for (auto& c : conns) {
        co_await c.close();
    }
    co_return r;
}

}  // namespace

w10::Result w10::run_pg(const w10::Args& a) {
    return corio::run(run(a));
}
