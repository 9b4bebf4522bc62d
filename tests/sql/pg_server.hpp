// tests/sql/pg_server.hpp - one PostgreSQL server per test binary, started
// on first use (initdb + start take a second or two), and connect options
// for it.
#pragma once

#include "corio/sql/postgres.hpp"
#include "support/server_fixture.hpp"

namespace corio_test {

inline corio_test::PostgresServer& pg_server() {
    static corio_test::PostgresServer server;
    return server;
}

inline corio::sql::pg::ConnectOptions pg_options() {
    corio::sql::pg::ConnectOptions o;
    o.host = "127.0.0.1";
    o.port = pg_server().port();
    o.user = kPostgresUser;
    o.password = kPostgresPassword;
    o.database = "postgres";
    return o;
}

}  // namespace corio_test
