// corio::sql from an installed corio: PostgreSQL connect options from a URL
// (no server needed), which links the driver and libpq.
#include <corio/sql/postgres.hpp>
#include <cstdio>

int main() {
    auto o = corio::sql::pg::ConnectOptions::from_url("postgresql://ann:pw@db:6543/shop");
    std::printf("sql: %s@%s:%u/%s\n", o.user.c_str(), o.host.c_str(), o.port, o.database.c_str());
    return o.port == 6543 && o.database == "shop" ? 0 : 1;
}
