// tests/support/server_fixture.cpp - see server_fixture.hpp.
#include "support/server_fixture.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace corio_test {
namespace {

namespace fs = std::filesystem;

std::string replace_all(std::string s, std::string_view from, std::string_view to) {
    for (std::size_t at = s.find(from); at != std::string::npos;
         at = s.find(from, at + to.size())) {
        s.replace(at, from.size(), to);
    }
    return s;
}

// A blocking loopback socket with send/receive timeouts, or -1.
int connect_loopback(std::uint16_t port) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return -1;
    }
    timeval tv{1, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
        ::close(fd);
        return -1;
    }
    return fd;
}

}  // namespace

namespace {

// Whether 127.0.0.1:port can be bound now (no SO_REUSEADDR: a port with
// connections in TIME_WAIT counts as taken).
bool can_bind(std::uint16_t port) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return false;
    }
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(port);
    bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    ::close(fd);
    return ok;
}

// The low end of the kernel's ephemeral port range (32768 by default).
unsigned ephemeral_low() {
    std::ifstream in("/proc/sys/net/ipv4/ip_local_port_range");
    unsigned low = 0;
    if (!(in >> low) || low < 2048) {
        return 0;
    }
    return low;
}

// A port bound to 0 and released (in the ephemeral range).
std::uint16_t any_free_port() {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
    }
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
        int e = errno;
        ::close(fd);
        throw std::runtime_error(std::string("bind: ") + std::strerror(e));
    }
    ::close(fd);
    return ntohs(a.sin_port);
}

bool address_in_use(const std::string& log) {
    return log.find("eaddrinuse") != std::string::npos ||
           log.find("Address already in use") != std::string::npos;
}

}  // namespace

// Ports under the ephemeral range: the kernel never hands those out to
// other processes' bind(0) or connect() (the tests run beside each other
// and open many), so the port stays free until the server takes it, and
// across a kill and restart.
std::uint16_t free_loopback_port() {
    // One generator per thread: fixtures may start servers from several.
    thread_local std::mt19937 rng(std::random_device{}() ^ static_cast<unsigned>(::getpid()));
    const unsigned low = ephemeral_low();
    if (low != 0) {
        const unsigned first = std::max(1024u, low > 12000 ? low - 12000 : 1024u);
        std::uniform_int_distribution<unsigned> pick(first, low - 1);
        for (int tries = 0; tries < 200; ++tries) {
            auto port = static_cast<std::uint16_t>(pick(rng));
            if (can_bind(port)) {
                return port;
            }
        }
    }
    return any_free_port();
}

bool tcp_probe(std::uint16_t port, std::string_view request, std::string_view expect) {
    int fd = connect_loopback(port);
    if (fd < 0) {
        return false;
    }
    bool ok = ::send(fd, request.data(), request.size(), MSG_NOSIGNAL) ==
              static_cast<ssize_t>(request.size());
    std::string got;
    while (ok && got.size() < expect.size()) {
        char buf[256];
        ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n <= 0) {
            break;
        }
        got.append(buf, static_cast<std::size_t>(n));
    }
    ::close(fd);
    return ok && got.compare(0, expect.size(), expect) == 0;
}

std::string ServerFixture::find_program(std::string_view program) {
    if (program.find('/') != std::string_view::npos) {
        return ::access(std::string(program).c_str(), X_OK) == 0 ? std::string(program) : "";
    }
    std::string path = ::getenv("PATH") ? ::getenv("PATH") : "";
    path += ":/usr/sbin:/usr/local/sbin:/sbin";
    std::stringstream dirs(path);
    for (std::string d; std::getline(dirs, d, ':');) {
        if (d.empty()) {
            continue;
        }
        std::string full = d + "/" + std::string(program);
        if (::access(full.c_str(), X_OK) == 0) {
            return full;
        }
    }
    return "";
}

ServerFixture::ServerFixture(ServerSpec spec) : spec_(std::move(spec)) {
    std::string templ = (fs::temp_directory_path() / ("corio-" + spec_.name + "-XXXXXX")).string();
    if (::mkdtemp(templ.data()) == nullptr) {
        throw std::runtime_error("mkdtemp " + templ + ": " + std::strerror(errno));
    }
    dir_ = templ;
    port_ = free_loopback_port();
}

ServerFixture::~ServerFixture() {
    stop();
    std::error_code ec;
    fs::remove_all(dir_, ec);
}

std::string ServerFixture::log() const {
    std::ifstream in(dir_ + "/server.log");
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

namespace {

constexpr uid_t kNobody = 65534;

bool drop_privileges(const ServerSpec& spec) {
    return spec.unprivileged && ::geteuid() == 0;
}

// Hands the directory tree to `nobody`.
void chown_tree(const std::string& dir) {
    std::error_code ec;
    ::chown(dir.c_str(), kNobody, kNobody);
    for (const auto& e : fs::recursive_directory_iterator(dir, ec)) {
        ::lchown(e.path().c_str(), kNobody, kNobody);
    }
}

std::string expand(const std::string& a, std::uint16_t port, const std::string& dir) {
    return replace_all(replace_all(a, "{port}", std::to_string(port)), "{dir}", dir);
}

}  // namespace

pid_t ServerFixture::spawn(const std::vector<std::string>& raw) const {
    std::string exe = find_program(raw.at(0));
    if (exe.empty()) {
        throw std::runtime_error(spec_.name + ": program '" + raw[0] +
                                 "' not found (scripts/deps.sh installs the test packages)");
    }
    // Everything the child needs is prepared before fork: after it, only
    // async-signal-safe calls.
    std::vector<std::string> args{exe};
    for (std::size_t i = 1; i < raw.size(); ++i) {
        args.push_back(expand(raw[i], port_, dir_));
    }
    std::vector<char*> argv;
    for (auto& a : args) {
        argv.push_back(a.data());
    }
    argv.push_back(nullptr);
    std::vector<std::string> env_strings;
    for (char** e = environ; *e != nullptr; ++e) {
        env_strings.emplace_back(*e);
    }
    bool drop = drop_privileges(spec_);
    if (drop) {
        env_strings.emplace_back("HOME=" + dir_);
        env_strings.emplace_back("USER=nobody");
    }
    for (const auto& e : spec_.env) {
        env_strings.push_back(expand(e, port_, dir_));
    }
    std::vector<char*> envp;
    for (auto& e : env_strings) {
        envp.push_back(e.data());
    }
    envp.push_back(nullptr);
    std::string log_path = dir_ + "/server.log";
    int log_fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0666);
    if (log_fd < 0) {
        throw std::runtime_error("open " + log_path + ": " + std::strerror(errno));
    }
    if (drop) {
        chown_tree(dir_);
    }
    pid_t parent = ::getpid();
    pid_t pid = ::fork();
    if (pid == 0) {
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (::getppid() != parent) {
            ::_exit(127);
        }
        ::setpgid(0, 0);
        ::dup2(log_fd, 1);
        ::dup2(log_fd, 2);
        if (::chdir(dir_.c_str()) != 0) {
            ::_exit(127);
        }
        if (drop &&
            (::setgroups(0, nullptr) != 0 || ::setgid(kNobody) != 0 || ::setuid(kNobody) != 0)) {
            ::_exit(127);
        }
        // The kernel's death signal is reset by setuid: set it again.
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        ::execve(argv[0], argv.data(), envp.data());
        ::_exit(127);
    }
    ::close(log_fd);
    if (pid < 0) {
        throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
    }
    return pid;
}

void ServerFixture::start() {
    if (running()) {
        return;
    }
    // The port may still be taken between free_loopback_port() and the
    // server's bind (by another test's fixture): a first start then tries
    // other ports. A restart keeps its port (the tests reconnect to it).
    for (int attempt = 1;; ++attempt) {
        try {
            start_once();
            started_ = true;
            return;
        } catch (const StartError& e) {
            if (started_ || attempt == 3 || !address_in_use(e.what())) {
                throw;
            }
            port_ = free_loopback_port();
        }
    }
}

void ServerFixture::start_once() {
    if (!initialised_) {
        for (const auto& cmd : spec_.init) {
            pid_t pid = spawn(cmd);
            int status = 0;
            while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
            }
            if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                throw std::runtime_error(spec_.name + ": '" + cmd.at(0) + "' failed:\n" + log());
            }
        }
        initialised_ = true;
    }
    pid_ = spawn([&] {
        std::vector<std::string> all{spec_.program};
        all.insert(all.end(), spec_.args.begin(), spec_.args.end());
        return all;
    }());
    auto deadline = std::chrono::steady_clock::now() + spec_.start_timeout;
    while (!spec_.ready(port_, dir_)) {
        int status = 0;
        if (::waitpid(pid_, &status, WNOHANG) == pid_) {
            pid_ = -1;
            throw StartError(spec_.name + " exited during start-up on port " +
                             std::to_string(port_) + ":\n" + log());
        }
        if (std::chrono::steady_clock::now() > deadline) {
            kill();
            throw std::runtime_error(spec_.name + " did not answer within " +
                                     std::to_string(spec_.start_timeout.count()) + " ms:\n" +
                                     log());
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
}

namespace {

// Waits (up to 10 s) until no process of group `pgid` is left: the
// server's children (PostgreSQL's backends, holding its shared memory)
// outlive their killed parent until init reaps them, and a restart before
// then finds the old shared memory segment still in use.
void wait_group_gone(pid_t pgid) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (::kill(-pgid, 0) == 0 && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
}

}  // namespace

void ServerFixture::kill() {
    if (!running()) {
        return;
    }
    if (!spec_.before_kill.empty()) {
        pid_t pid = spawn(spec_.before_kill);
        int status = 0;
        while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
        }
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            throw std::runtime_error(spec_.name + ": '" + spec_.before_kill.at(0) +
                                     "' before the kill failed:\n" + log());
        }
    }
    ::kill(-pid_, SIGKILL);
    ::kill(pid_, SIGKILL);
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    ::kill(-pid_, SIGKILL);  // a child forked while the first signal was on its way
    wait_group_gone(pid_);
    pid_ = -1;
}

void ServerFixture::stop() {
    if (!running()) {
        return;
    }
    ::kill(-pid_, SIGTERM);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    int status = 0;
    while (std::chrono::steady_clock::now() < deadline) {
        if (::waitpid(pid_, &status, WNOHANG) == pid_) {
            wait_group_gone(pid_);
            pid_ = -1;
            return;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    kill();
}

void ServerFixture::restart() {
    kill();
    start();
}

std::string redis_socket_path(const std::string& dir) {
    return dir + "/redis.sock";
}

ServerSpec redis_spec(std::vector<std::string> extra) {
    ServerSpec spec{
        .name = "redis",
        .program = "redis-server",
        .args = {"--port", "{port}", "--bind", "127.0.0.1", "--dir", "{dir}", "--save", "",
                 "--appendonly", "no", "--unixsocket", "{dir}/redis.sock", "--unixsocketperm",
                 "700", "--daemonize", "no", "--protected-mode", "no"},
        .ready = [](std::uint16_t port,
                    const std::string&) { return tcp_probe(port, "PING\r\n", "+PONG"); },
    };
    spec.args.insert(spec.args.end(), extra.begin(), extra.end());
    return spec;
}

std::string postgres_bin(std::string_view tool) {
    return "/usr/lib/postgresql/15/bin/" + std::string(tool);
}

ServerSpec postgres_spec(std::vector<std::string> extra) {
    ServerSpec spec{
        .name = "postgres",
        .program = postgres_bin("postgres"),
        .args = {"-D", "{dir}/data", "-p", "{port}", "-c", "listen_addresses=127.0.0.1", "-k",
                 "{dir}", "-c", "fsync=off", "-c", "full_page_writes=off"},
        // pg_isready answers 0 only once the server accepts connections.
        .ready =
            [](std::uint16_t port, const std::string&) {
                std::string cmd =
                    postgres_bin("pg_isready") + " -q -h 127.0.0.1 -p " + std::to_string(port);
                return std::system(cmd.c_str()) == 0;
            },
        .start_timeout = std::chrono::milliseconds(30000),
        .init = {{postgres_bin("initdb"), "-D", "{dir}/data", "-U", kPostgresUser, "-A",
                  "scram-sha-256", "--pwfile", "{dir}/pwfile", "-E", "UTF8", "--no-sync"}},
        .unprivileged = true,
    };
    spec.args.insert(spec.args.end(), extra.begin(), extra.end());
    return spec;
}

PostgresServer::PostgresServer(std::vector<std::string> extra)
    : ServerFixture(postgres_spec(std::move(extra))) {
    std::ofstream(dir() + "/pwfile") << kPostgresPassword << "\n";
    start();
}

}  // namespace corio_test

namespace corio_test {

ServerSpec mariadb_spec(std::vector<std::string> extra) {
    ServerSpec spec{
        .name = "mariadb",
        .program = "mariadbd",
        .args = {"--no-defaults", "--datadir={dir}/data", "--port={port}",
                 "--bind-address=127.0.0.1", "--socket={dir}/mysqld.sock", "--user=root",
                 "--pid-file={dir}/mysqld.pid", "--init-file={dir}/init.sql", "--skip-log-bin",
                 "--innodb-buffer-pool-size=16M", "--innodb-log-file-size=8M",
                 "--skip-innodb-doublewrite", "--innodb-flush-log-at-trx-commit=2",
                 "--skip-name-resolve", "--character-set-server=utf8mb4",
                 "--collation-server=utf8mb4_general_ci", "--tmpdir={dir}"},
        // The greeting alone comes before init.sql has run: ask for a
        // query as the test user.
        .ready =
            [](std::uint16_t port, const std::string&) {
                std::string cmd = "mariadb --no-defaults --connect-timeout=2 -h 127.0.0.1 -P " +
                                  std::to_string(port) + " -u " + kMariaDbUser + " -p" +
                                  kMariaDbPassword + " -e 'SELECT 1' " + kMariaDbDatabase +
                                  " >/dev/null 2>&1";
                return std::system(cmd.c_str()) == 0;
            },
        .start_timeout = std::chrono::milliseconds(30000),
        .init = {{"mariadb-install-db", "--no-defaults", "--datadir={dir}/data", "--user=root",
                  "--auth-root-authentication-method=normal", "--skip-test-db",
                  "--skip-name-resolve"}},
        // Temporary tables in the directory: two bootstraps at once in
        // /tmp collide on their names.
        .env = {"TMPDIR={dir}"},
    };
    spec.args.insert(spec.args.end(), extra.begin(), extra.end());
    return spec;
}

MariaDbServer::MariaDbServer(std::vector<std::string> extra)
    : ServerFixture(mariadb_spec(std::move(extra))) {
    std::ofstream(dir() + "/init.sql")
        << "CREATE USER IF NOT EXISTS '" << kMariaDbUser << "'@'%' IDENTIFIED BY '"
        << kMariaDbPassword << "';\n"
        << "GRANT ALL PRIVILEGES ON *.* TO '" << kMariaDbUser << "'@'%' WITH GRANT OPTION;\n"
        << "CREATE DATABASE IF NOT EXISTS " << kMariaDbDatabase << ";\n";
    start();
}

ServerSpec rabbitmq_spec(const std::string& extra_config) {
    const std::string dist = std::to_string(free_loopback_port());
    const std::string epmd = std::to_string(free_loopback_port());
    // epmd runs in the foreground in the server's process group (an epmd
    // the node started itself would daemonise and outlive it); the node
    // finds it on ERL_EPMD_PORT.
    // PR_SET_PDEATHSIG reaches only the shell; should the test process die,
    // a watcher takes the whole group (node, epmd) down with it.
    const std::string script =
        "export HOME={dir}; "
        "t=$PPID; (while kill -0 $t 2>/dev/null; do sleep 1; done; kill -KILL 0) & "
        "epmd -port $ERL_EPMD_PORT & "
        "until epmd -names >/dev/null 2>&1; do sleep 0.05; done; "
        "exec /usr/lib/rabbitmq/bin/rabbitmq-server";
    const std::string config = std::string("loopback_users.guest = false\\n") +
                               "default_user = " + kRabbitUser + "\\n" +
                               "default_pass = " + kRabbitPassword + "\\n" +
                               "listeners.tcp.default = 127.0.0.1:{port}\\n" + extra_config;
    ServerSpec spec{
        .name = "rabbitmq",
        .program = "sh",
        .args = {"-c", script},
        .ready =
            [](std::uint16_t port, const std::string&) {
                return tcp_probe(port, std::string_view("AMQP\x00\x00\x09\x01", 8), "\x01");
            },
        .start_timeout = std::chrono::milliseconds(120000),
        .init = {{"sh", "-c",
                  "printf '" + config +
                      "' > {dir}/rabbitmq.conf && printf '[].\\n' > "
                      "{dir}/enabled_plugins"}},
        .unprivileged = false,
        .env = {"RABBITMQ_NODE_PORT={port}", "RABBITMQ_DIST_PORT=" + dist, "ERL_EPMD_PORT=" + epmd,
                "RABBITMQ_NODENAME=corio-{port}@localhost", "RABBITMQ_MNESIA_BASE={dir}/mnesia",
                "RABBITMQ_LOG_BASE={dir}/log", "RABBITMQ_CONFIG_FILE={dir}/rabbitmq",
                "RABBITMQ_ENABLED_PLUGINS_FILE={dir}/enabled_plugins",
                "RABBITMQ_PLUGINS_EXPAND_DIR={dir}/plugins-expand"},
        // RabbitMQ answers queue.declare-ok before Mnesia's transaction log
        // holds the durable queue's definition on disk: a SIGKILL soon
        // after can lose the queue and, with it, messages already
        // confirmed. The fault tests test clients, so the log is synced
        // first (bounded: a stuck CLI must not hang a test).
        .before_kill = {"sh", "-c",
                        "HOME={dir} timeout 60 /usr/lib/rabbitmq/bin/rabbitmqctl -q eval "
                        "'ok = mnesia:sync_log().'"},
    };
    return spec;
}

std::string RabbitMqServer::url() const {
    return std::string("amqp://") + kRabbitUser + ":" + kRabbitPassword +
           "@127.0.0.1:" + std::to_string(port()) + "/";
}

}  // namespace corio_test
