// Mirrors the tutorial's aiomysql example (《异步编程》 › 异步操作MySQL ›
// 示例1): two tasks each open their own connection, run a SELECT through a
// cursor, fetch every row and close, and asyncio.wait runs both at once.
// The tutorial reads the `mysql.user` table; this port makes and fills its
// own table, `example_hosts`, first (one more connection), so it runs on
// any server. Each task also sleeps on the server (DO SLEEP(0.2)) so that the
// two overlap visibly: together they take about 0.2 s, not 0.4 s.
//
//   async def execute(address, password):
//       conn = await aiomysql.connect(host="127.0.0.1", port=3306, user="root",
//                                     password="123", db="student")
//       cur = await conn.cursor()
//       await cur.execute("SELECT Host,user FROM user")
//       res = await cur.fetchall()
//       await cur.close()
//       conn.close()
//
//   tasks = [execute('127.0.0.1', "root!2345"), execute('127.0.0.2', "root!2345")]
//   asyncio.run(asyncio.wait(tasks))
//
// The server: arguments HOST PORT USER PASSWORD DB, or the environment's
// MYSQL_HOST (127.0.0.1), MYSQL_PORT (3306), MYSQL_USER (root),
// MYSQL_PASSWORD (""), MYSQL_DB (test).
#include <chrono>
#include <corio/corio.hpp>
#include <corio/sql/mysql.hpp>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

namespace mysql = corio::sql::mysql;
using corio::Task;

namespace {

std::string setting(int argc, char** argv, int i, const char* env, const char* fallback) {
    if (i < argc) {
        return argv[i];
    }
    const char* v = std::getenv(env);
    return v != nullptr ? v : fallback;
}

// One of the tutorial's two tasks: connect, cursor, execute, fetchall, close.
Task<std::vector<std::string>> execute(mysql::ConnectOptions options, std::string label) {
    auto conn = co_await mysql::Connection::connect(options);
    auto cur = conn.cursor();
    co_await cur.execute("DO SLEEP(0.2)");  // a slow query, so the two overlap
    co_await cur.execute("SELECT host, user FROM example_hosts WHERE label = ? ORDER BY host",
                         label);
    std::vector<mysql::Row> res = co_await cur.fetchall();
    co_await cur.close();
    co_await conn.close();
    std::vector<std::string> lines;
    for (const mysql::Row& row : res) {
        lines.push_back(label + ": host=" + row.get<std::string>("host") +
                        " user=" + row.get<std::string>("user"));
    }
    co_return lines;
}

Task<int> amain(mysql::ConnectOptions options) {
    {
        auto setup = co_await mysql::Connection::connect(options);
        co_await setup.execute("DROP TABLE IF EXISTS example_hosts");
        co_await setup.execute(
            "CREATE TABLE example_hosts (label VARCHAR(16), host VARCHAR(64), user VARCHAR(32))");
        co_await setup.execute("INSERT INTO example_hosts VALUES (?, ?, ?), (?, ?, ?), (?, ?, ?)",
                               "first", "127.0.0.1", "root", "first", "localhost", "root", "second",
                               "127.0.0.2", "student");
        co_await setup.close();
    }
    auto start = std::chrono::steady_clock::now();
    auto first = corio::create_task(execute(options, "first"));
    auto second = corio::create_task(execute(options, "second"));
    co_await corio::wait(first, second);  // asyncio.wait(tasks)
    auto took = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    for (auto* t : {&first, &second}) {
        for (const std::string& line : t->result()) {
            std::cout << line << "\n";
        }
    }
    std::cout << "both queries done together: " << (took < 0.35 ? "yes" : "no") << "\n";
    co_return 0;
}

}  // namespace

int main(int argc, char** argv) {
    mysql::ConnectOptions options;
    options.host = setting(argc, argv, 1, "MYSQL_HOST", "127.0.0.1");
    options.port =
        static_cast<std::uint16_t>(std::stoi(setting(argc, argv, 2, "MYSQL_PORT", "3306")));
    options.user = setting(argc, argv, 3, "MYSQL_USER", "root");
    options.password = setting(argc, argv, 4, "MYSQL_PASSWORD", "");
    options.db = setting(argc, argv, 5, "MYSQL_DB", "test");
    try {
        return corio::run(amain(options));
    } catch (const corio::sql::Error& e) {
        std::cerr << "aiomysql_two_connections: " << e.what() << "\n";
        return 1;
    }
}
