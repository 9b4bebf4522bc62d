// tests/support/server_fixture.hpp - a real server process for integration
// tests: redis-server, PostgreSQL, MariaDB, RabbitMQ.
//
// ServerFixture starts the program from a fresh temporary directory on a free
// loopback port, waits until it answers a probe, and always stops it and
// removes the directory: in its destructor (a failed test too) and, should
// the test process die, through PR_SET_PDEATHSIG (the kernel kills the
// server with its parent). kill() and restart() serve fault tests: SIGKILL,
// then the same program again on the same port and directory.
//
// Blocking by design: it runs in a test's set-up or between two steps of a
// test, never as a step of the loop. start() waits for readiness by polling
// the probe (the server's own start-up time; nothing in a test waits on it).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace corio_test {

/// How to run one kind of server.
struct ServerSpec {
    /// Shown in messages ("redis-server").
    std::string name;
    /// The program, looked up on PATH (and in /usr/sbin, /usr/local/sbin).
    std::string program;
    /// Its arguments; "{port}" and "{dir}" are replaced by the port and the
    /// temporary directory.
    std::vector<std::string> args;
    /// True once the server answers on `port` (called repeatedly).
    std::function<bool(std::uint16_t port, const std::string& dir)> ready;
    /// How long start() waits for ready().
    std::chrono::milliseconds start_timeout{15000};
    /// Commands run once, in order, before the first start (initdb,
    /// mariadb-install-db), with the same placeholders, privileges and
    /// log; start() throws if one fails.
    std::vector<std::vector<std::string>> init;
    /// Servers that refuse to run as root (PostgreSQL): when the tests run
    /// as root, the directory is handed to the unprivileged user `nobody`
    /// and the init commands and the server run as that user.
    bool unprivileged = false;
    /// Extra environment for the init commands and the server ("K=V").
    std::vector<std::string> env;
    /// A command kill() runs first, while the server is up (empty: none):
    /// what a server must have on disk before the crash, for tests of
    /// clients rather than of the server's own crash safety.
    std::vector<std::string> before_kill;
};

class ServerFixture {
public:
    /// Makes the temporary directory and picks a free port; does not start.
    explicit ServerFixture(ServerSpec spec);
    ~ServerFixture();
    ServerFixture(const ServerFixture&) = delete;
    ServerFixture& operator=(const ServerFixture&) = delete;

    /// Full path of spec.program, or empty when it is not installed.
    static std::string find_program(std::string_view program);

    /// Starts the server and waits until it answers. Throws
    /// std::runtime_error (with the end of the server's log) if the program
    /// is missing, exits, or does not answer within spec.start_timeout.
    void start();
    /// SIGKILL to the server's process group and reap: a crash, for fault
    /// tests (after spec.before_kill, if any). No-op when not running.
    void kill();
    /// SIGTERM to the server's process group, wait up to 5 s, then
    /// SIGKILL. No-op when not running.
    void stop();
    /// kill() then start() on the same port and directory.
    void restart();

    bool running() const noexcept { return pid_ > 0; }
    std::uint16_t port() const noexcept { return port_; }
    const std::string& dir() const noexcept { return dir_; }
    /// The server's stdout and stderr so far.
    std::string log() const;

private:
    ServerSpec spec_;
    std::string dir_;
    std::uint16_t port_ = 0;
    pid_t pid_ = -1;
    bool initialised_ = false;
    bool started_ = false;  // started once: restarts keep the port

    // A server that exited during start-up (its log in what()).
    struct StartError : std::runtime_error {
        using std::runtime_error::runtime_error;
    };
    void start_once();

    // fork+exec of `args` in dir_ (as the spec's user), output to the log.
    pid_t spawn(const std::vector<std::string>& args) const;
};

/// A free loopback TCP port, picked at random under the kernel's ephemeral
/// range (so no bind(0) or connect() elsewhere takes it), checked by a bind
/// and released: another fixture could still take it before the server
/// does, in which case a first start() tries another port.
std::uint16_t free_loopback_port();

/// Connects to 127.0.0.1:port, sends `request`, and returns true if the
/// answer starts with `expect` (within 1 s). For ServerSpec::ready.
bool tcp_probe(std::uint16_t port, std::string_view request, std::string_view expect);

/// redis-server with no persistence, listening on the port and on the Unix
/// socket redis_socket_path(dir), answering PING. `extra` arguments follow
/// (and override): {"--appendonly", "yes", "--appendfsync", "always"} makes
/// what the server acknowledged survive a SIGKILL.
ServerSpec redis_spec(std::vector<std::string> extra = {});
/// The Unix socket path of a redis_spec() server in `dir`.
std::string redis_socket_path(const std::string& dir);

/// A started redis-server (throws from the constructor like start()).
class RedisServer : public ServerFixture {
public:
    explicit RedisServer(std::vector<std::string> extra = {})
        : ServerFixture(redis_spec(std::move(extra))) {
        start();
    }
    std::string socket_path() const { return redis_socket_path(dir()); }
};

/// The superuser and password of a postgres_spec() server.
inline constexpr const char* kPostgresUser = "corio";
inline constexpr const char* kPostgresPassword = "corio-test-pw";

/// Full path of a PostgreSQL 15 program (postgres, initdb, pg_isready).
std::string postgres_bin(std::string_view tool);

/// PostgreSQL 15: initdb into {dir}/data (superuser kPostgresUser, password
/// kPostgresPassword from {dir}/pwfile, scram-sha-256 for every
/// connection), listening on 127.0.0.1:port and a Unix socket in {dir}, run
/// as `nobody` when the tests run as root, fsync off. `extra` arguments
/// follow ("-c", "max_connections=20").
ServerSpec postgres_spec(std::vector<std::string> extra = {});

/// A started PostgreSQL server (writes the password file, then start()).
class PostgresServer : public ServerFixture {
public:
    explicit PostgresServer(std::vector<std::string> extra = {});
};

}  // namespace corio_test

namespace corio_test {

/// The user, password and database of a mariadb_spec() server.
inline constexpr const char* kMariaDbUser = "corio";
inline constexpr const char* kMariaDbPassword = "corio-test-pw";
inline constexpr const char* kMariaDbDatabase = "corio_test";

/// MariaDB (mariadbd): mariadb-install-db into {dir}/data, then the server
/// on 127.0.0.1:port and the socket {dir}/mysqld.sock, running as root
/// (--user=root) with password checks on; {dir}/init.sql (written by
/// MariaDbServer) creates kMariaDbUser with kMariaDbPassword and
/// kMariaDbDatabase at every start. No binary log, small InnoDB buffers,
/// commits written to the OS but not synced (they survive a kill of the
/// server, not of the machine). `extra` arguments follow ("--max-connections=20").
ServerSpec mariadb_spec(std::vector<std::string> extra = {});

/// A started MariaDB server (writes init.sql, then start()).
class MariaDbServer : public ServerFixture {
public:
    explicit MariaDbServer(std::vector<std::string> extra = {});
    std::string socket_path() const { return dir() + "/mysqld.sock"; }
};

/// The user and password of a rabbitmq_spec() server (vhost "/").
inline constexpr const char* kRabbitUser = "corio";
inline constexpr const char* kRabbitPassword = "corio-test-pw";

/// RabbitMQ (Debian's 3.10): node corio-<port>@localhost with its own
/// distribution port and its own epmd on a free port each (the epmd is
/// started in the foreground in the server's process group, so it dies with
/// it), Mnesia, logs, config, plugins file and HOME (the Erlang cookie) in
/// {dir}, listening on 127.0.0.1:port, user kRabbitUser. Ready when the
/// AMQP protocol header is answered by a frame (connection.start). Start-up
/// takes several seconds: start one per test binary. `extra_config`: more
/// lines of rabbitmq.conf (e.g. a TLS listener and its ssl_options).
ServerSpec rabbitmq_spec(const std::string& extra_config = {});

/// A started RabbitMQ server.
class RabbitMqServer : public ServerFixture {
public:
    explicit RabbitMqServer(const std::string& extra_config = {})
        : ServerFixture(rabbitmq_spec(extra_config)) {
        start();
    }
    /// "amqp://corio:corio-test-pw@127.0.0.1:PORT/".
    std::string url() const;
};

}  // namespace corio_test
