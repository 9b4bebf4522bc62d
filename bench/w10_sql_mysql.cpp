// bench/w10_sql_mysql.cpp - W10's MariaDB half: `a.tasks` tasks share a
// mysql::Pool of `a.pool_size` connections; each task takes a connection
// per query (as aiomysql's `async with pool.acquire()` does) and runs
// `SELECT ? + 1` until `a.selects` have been answered; then `a.rows` rows
// go into a fresh table as multi-row INSERTs of 100 rows, the batches
// shared out among the tasks. The peer is bench/peers/python/w10_sql_mysql.py.
#include <algorithm>
#include <chrono>
#include <stdexcept>
#include <string>
#include <vector>

#include "corio/corio.hpp"
#include "corio/sql/mysql.hpp"
#include "w10_sql.hpp"

namespace mysql = corio::sql::mysql;
using corio::Task;

namespace {

constexpr long kBatch = 100;

Task<w10::Result> workload(const w10::Args& a) {
    mysql::ConnectOptions o;
    o.host = "127.0.0.1";
    o.port = a.port;
    o.user = a.user;
    o.password = a.password;
    o.db = a.db;
    o.autocommit = true;
    mysql::Pool pool(o, {.minsize = static_cast<std::size_t>(a.pool_size),
                         .maxsize = static_cast<std::size_t>(a.pool_size)});
    co_await pool.open();
    w10::Result result;

    long next = 0;
    auto selector = [&]() -> Task<void> {
        while (next < a.selects) {
            long i = next++;
            auto conn = co_await pool.acquire();
            auto r = co_await conn->execute("SELECT ? + 1", i);
            if (r.rows.at(0).get<long>(0) != i + 1) {
                throw std::runtime_error("w10: wrong answer");
            }
        }
    };
    auto t0 = std::chrono::steady_clock::now();
    {
        std::vector<corio::TaskHandle<void>> tasks;
        for (long t = 0; t < a.tasks; ++t) {
            tasks.push_back(corio::create_task(selector()));
        }
        for (auto& t : tasks) {
            co_await t;
        }
    }
    auto t1 = std::chrono::steady_clock::now();
    result.select_qps =
        static_cast<double>(a.selects) / std::chrono::duration<double>(t1 - t0).count();

    {
        auto conn = co_await pool.acquire();
        co_await conn->execute("DROP TABLE IF EXISTS w10_items");
        co_await conn->execute("CREATE TABLE w10_items (id INT PRIMARY KEY, name TEXT)");
    }
    long next_row = 0;
    auto inserter = [&]() -> Task<void> {
        while (next_row < a.rows) {
            long first = next_row;
            long n = std::min(kBatch, a.rows - first);
            next_row += n;
            std::string sql = "INSERT INTO w10_items (id, name) VALUES ";
            auto conn = co_await pool.acquire();
            for (long i = first; i < first + n; ++i) {
                sql +=
                    conn->format(i == first ? "(?, ?)" : ",(?, ?)", i, "item-" + std::to_string(i));
            }
            co_await conn->query(std::move(sql));
        }
    };
    auto t2 = std::chrono::steady_clock::now();
    {
        std::vector<corio::TaskHandle<void>> tasks;
        for (long t = 0; t < a.tasks; ++t) {
            tasks.push_back(corio::create_task(inserter()));
        }
        for (auto& t : tasks) {
            co_await t;
        }
    }
    auto t3 = std::chrono::steady_clock::now();
    result.insert_rows_s =
        static_cast<double>(a.rows) / std::chrono::duration<double>(t3 - t2).count();
    {
        auto conn = co_await pool.acquire();
        auto r = co_await conn->execute("SELECT COUNT(*) FROM w10_items");
        if (r.rows.at(0).get<long>(0) != a.rows) {
            throw std::runtime_error("w10: rows missing");
        }
    }
    co_await pool.close();
    co_return result;
}

}  // namespace

w10::Result w10::run_mysql(const w10::Args& a) {
    return corio::run(workload(a));
}
