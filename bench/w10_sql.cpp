// bench/w10_sql.cpp - W10 (bench/README.md): corio::sql against PostgreSQL
// and MariaDB. 50 tasks share a pool of 10 connections: 100,000 point
// queries (`SELECT $1::int + 1`, MariaDB `SELECT ? + 1`), each awaited by
// its task, then 10,000 rows inserted into a fresh table in batches.
//
//   w10_sql [--pg-port P] [--my-port Q] --user U --password W --db D
//           [--tasks 50] [--pool 10] [--selects 100000] [--rows 10000]
// prints {"pg_select_qps":..., "pg_insert_rows_s":..., "my_select_qps":...,
// "my_insert_rows_s":...} with the keys of the servers it was given.
#include "w10_sql.hpp"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <stdexcept>
#include <string>

int main(int argc, char** argv) {
    w10::Args a;
    long pg_port = 0;
    long my_port = 0;
    for (int i = 1; i + 1 < argc; i += 2) {
        std::string k = argv[i];
        const char* v = argv[i + 1];
        if (k == "--pg-port") {
            pg_port = std::atol(v);
        } else if (k == "--my-port") {
            my_port = std::atol(v);
        } else if (k == "--user") {
            a.user = v;
        } else if (k == "--password") {
            a.password = v;
        } else if (k == "--db") {
            a.db = v;
        } else if (k == "--tasks") {
            a.tasks = std::atol(v);
        } else if (k == "--pool") {
            a.pool_size = std::atol(v);
        } else if (k == "--selects") {
            a.selects = std::atol(v);
        } else if (k == "--rows") {
            a.rows = std::atol(v);
        } else {
            std::fprintf(stderr, "w10_sql: unknown option %s\n", k.c_str());
            return 2;
        }
    }
    if (pg_port == 0 && my_port == 0) {
        std::fprintf(stderr, "w10_sql: give --pg-port and/or --my-port\n");
        return 2;
    }
    try {
        std::string json = "{";
        if (pg_port != 0) {
            a.port = static_cast<std::uint16_t>(pg_port);
#ifdef CORIO_W10_PG
            w10::Result r = w10::run_pg(a);
#else
            throw std::runtime_error("built without the PostgreSQL half");
            w10::Result r;
#endif
            json += "\"pg_select_qps\": " + std::to_string(r.select_qps) +
                    ", \"pg_insert_rows_s\": " + std::to_string(r.insert_rows_s);
        }
        if (my_port != 0) {
            a.port = static_cast<std::uint16_t>(my_port);
#ifdef CORIO_W10_MY
            w10::Result r = w10::run_mysql(a);
#else
            throw std::runtime_error("built without the MariaDB half");
            w10::Result r;
#endif
            json += std::string(pg_port != 0 ? ", " : "") +
                    "\"my_select_qps\": " + std::to_string(r.select_qps) +
                    ", \"my_insert_rows_s\": " + std::to_string(r.insert_rows_s);
        }
        std::printf("%s}\n", json.c_str());
    } catch (const std::exception& e) {
        std::fprintf(stderr, "w10_sql: %s\n", e.what());
        return 1;
    }
}
