// bench/w10_sql.hpp - W10: the two halves of w10_sql (PostgreSQL in
// w10_sql_pg.cpp, MariaDB in w10_sql_mysql.cpp), driven by w10_sql.cpp.
#pragma once

#include <cstdint>
#include <string>

namespace w10 {

struct Args {
    std::uint16_t port = 0;
    std::string user, password, db;
    long tasks = 50;        // concurrent tasks
    long pool_size = 10;    // connections in the pool
    long selects = 100000;  // point queries in all
    long rows = 10000;      // rows inserted
};

struct Result {
    double select_qps = 0;
    double insert_rows_s = 0;
};

// Each runs the workload on its own loop (corio::run) and returns the rates.
Result run_pg(const Args& a);
Result run_mysql(const Args& a);

}  // namespace w10
