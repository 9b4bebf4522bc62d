// corio_test_server KIND... - starts real servers through the test fixture
// (server_fixture.hpp) for programs outside the test suite: scripts/tour.sh
// runs the tour's database and RabbitMQ examples against them. For each
// KIND (mariadb, postgres, rabbitmq) it prints the environment that names the server ("K=V" lines,
// the variables the examples read), then "ready", and serves until SIGTERM
// or SIGINT, or until its parent exits; then it stops every server and
// removes its directory (exit status 0). A server that cannot start is
// reported on stderr with exit status 1.
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <exception>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "support/server_fixture.hpp"

namespace {

std::unique_ptr<corio_test::ServerFixture> start(const std::string& kind) {
    if (kind == "mariadb") {
        auto s = std::make_unique<corio_test::MariaDbServer>();
        std::printf(
            "MYSQL_HOST=127.0.0.1\nMYSQL_PORT=%u\nMYSQL_USER=%s\nMYSQL_PASSWORD=%s\n"
            "MYSQL_DB=%s\n",
            s->port(), corio_test::kMariaDbUser, corio_test::kMariaDbPassword,
            corio_test::kMariaDbDatabase);
        return s;
    }
    if (kind == "postgres") {
        auto s = std::make_unique<corio_test::PostgresServer>();
        std::printf("DATABASE_URL=postgresql://%s:%s@127.0.0.1:%u/postgres\n",
                    corio_test::kPostgresUser, corio_test::kPostgresPassword, s->port());
        return s;
    }
    if (kind == "rabbitmq") {
        auto s = std::make_unique<corio_test::RabbitMqServer>();
        std::printf("AMQP_URL=%s\n", s->url().c_str());
        return s;
    }
    throw std::runtime_error("unknown server kind '" + kind + "' (mariadb, postgres, rabbitmq)");
}

}  // namespace

int main(int argc, char** argv) {
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    sigprocmask(SIG_BLOCK, &stop, nullptr);  // taken by sigtimedwait below
    const pid_t parent = getppid();
    std::vector<std::unique_ptr<corio_test::ServerFixture>> servers;
    try {
        for (int i = 1; i < argc; ++i) {
            servers.push_back(start(argv[i]));
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "corio_test_server: %s\n", e.what());
        return 1;
    }
    std::printf("ready\n");
    std::fflush(stdout);
    const timespec second{1, 0};
    while (sigtimedwait(&stop, nullptr, &second) < 0 && getppid() == parent) {
    }
    return 0;  // the servers stop in their destructors
}
