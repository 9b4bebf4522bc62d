// Mirrors the tutorial's aiomysql example (《异步编程》 › 异步操作MySQL ›
// 示例1): two tasks each open their own connection, run a SELECT through a
// cursor, fetch every row and close, and asyncio.wait runs both at once.
// The tutorial reads the `mysql.user` table; this port makes and fills its
// own table, `example_hosts`, first (one more connection), so it runs on
// any server. Each task also sleeps on the server (DO SLEEP(0.2)) so that the
// two overlap visibly: the two sleeps run at the same time on the server,
// which the program checks by comparing when each began and ended.
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
using Clock = std::chrono::steady_clock;
struct Span {
    Clock::time_point begin, end;
};

Task<std::vector<std::string>> execute(mysql::ConnectOptions options, std::string label,
                                       Span& sleep) {
    auto conn = co_await mysql::Connection::connect(options);
    auto cur = conn.cursor();
    sleep.begin = Clock::now();
    co_await cur.execute("DO SLEEP(0.2)");  // a slow query, so the two overlap
    sleep.end = Clock::now();
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
    Span a, b;
    auto first = corio::create_task(execute(options, "first", a));
    auto second = corio::create_task(execute(options, "second", b));
    co_await corio::wait(first, second);  // asyncio.wait(tasks)
    for (auto* t : {&first, &second}) {
        for (const std::string& line : t->result()) {
            std::cout << line << "\n";
        }
    }
    // Together: each sleep began before the other ended.
    const bool together = a.begin < b.end && b.begin < a.end;
    std::cout << "both queries ran at the same time: " << (together ? "yes" : "no") << "\n";
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
