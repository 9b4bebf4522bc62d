# corio::sql's MariaDB/MySQL driver, on MariaDB Connector/C's non-blocking
# API (Debian libmariadb-dev, pkg-config libmariadb). Included by
# src/sql/CMakeLists.txt.
find_package(PkgConfig REQUIRED)
pkg_check_modules(CORIO_MARIADB REQUIRED IMPORTED_TARGET libmariadb)
list(APPEND corio_sql_my_srcs mysql_connection.cpp mysql_values.cpp)
list(APPEND corio_sql_private_deps PkgConfig::CORIO_MARIADB)
