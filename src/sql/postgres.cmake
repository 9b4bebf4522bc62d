# The PostgreSQL driver (corio/sql/postgres.hpp) on libpq's asynchronous API.
find_package(PostgreSQL REQUIRED)
list(APPEND corio_sql_pg_srcs pg_api.cpp pg_connection.cpp pg_types.cpp)
list(APPEND corio_sql_private_deps PostgreSQL::PostgreSQL)
