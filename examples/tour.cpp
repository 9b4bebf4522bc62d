// examples/tour.cpp - the examples tour: runs every example in
// manifest.hpp, in order, each as its own program, under a heading that
// names what it shows and the tutorial example it mirrors.
//
//   corio_tour            run them all
//   corio_tour NAME...    run only these
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "manifest.hpp"

extern char** environ;

namespace {

std::string self_dir() {
    char buf[PATH_MAX];
    ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
    if (n <= 0) {
        return ".";
    }
    std::string path(buf, static_cast<std::size_t>(n));
    return path.substr(0, path.rfind('/'));
}

int run(const std::string& path) {
    std::fflush(stdout);
    char* argv[] = {const_cast<char*>(path.c_str()), nullptr};
    pid_t pid;
    if (int err = ::posix_spawn(&pid, path.c_str(), nullptr, nullptr, argv, environ)) {
        std::fprintf(stderr, "cannot start %s: %s\n", path.c_str(), std::strerror(err));
        return -1;
    }
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0) {
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

bool wanted(const char* name, int argc, char** argv) {
    if (argc <= 1) {
        return true;
    }
    for (int i = 1; i < argc; ++i) {
        if (std::strcmp(argv[i], name) == 0) {
            return true;
        }
    }
    return false;
}

}  // namespace

int main(int argc, char** argv) {
    const std::string dir = self_dir();
    int index = 0;
    int failures = 0;
    for (const example::Entry& e : example::kTour) {
        ++index;
        if (!wanted(e.name, argc, argv)) {
            continue;
        }
        std::printf("\n== %d. %s: %s\n   (mirrors %s)\n\n", index, e.name, e.title, e.seed);
        if (e.needs_redis && std::getenv("REDIS_URL") == nullptr) {
            std::printf(
                "   not run: it needs a Redis server (REDIS_URL=redis://HOST:PORT);\n"
                "   scripts/tour.sh starts one when it can install redis-server\n");
            continue;
        }
        if (e.needs_db != nullptr) {
            const bool mariadb = std::strcmp(e.needs_db, "mariadb") == 0;
            if (std::getenv(mariadb ? "MYSQL_PORT" : "DATABASE_URL") == nullptr) {
                std::printf(
                    "   not run: it needs a %s server (%s);\n"
                    "   scripts/tour.sh starts one when it can install it\n",
                    mariadb ? "MariaDB" : "PostgreSQL",
                    mariadb ? "MYSQL_HOST, MYSQL_PORT, MYSQL_USER, MYSQL_PASSWORD, MYSQL_DB"
                            : "DATABASE_URL=postgresql://USER:PASSWORD@HOST:PORT/DB");
                continue;
            }
        }
        if (e.needs_rabbitmq && std::getenv("AMQP_URL") == nullptr) {
            std::printf(
                "   not run: it needs a RabbitMQ server "
                "(AMQP_URL=amqp://USER:PASSWORD@HOST:PORT/);\n"
                "   scripts/tour.sh starts one when it can install rabbitmq-server\n");
            continue;
        }
        int rc = run(dir + "/" + e.dir + "/" + e.name);
        if (rc != 0) {
            std::printf("!! %s exited with status %d\n", e.name, rc);
            ++failures;
        }
    }
    if (argc <= 1) {
        std::printf("\n== Not programs: tutorial text that the docs answer\n");
        for (const example::DocNote& n : example::kDocNotes) {
            std::printf("   %s\n     %s\n     -> %s\n", n.seed, n.what, n.where);
        }
    }
    std::printf("\n== tour finished: %d example(s) failed\n", failures);
    return failures == 0 ? 0 : 1;
}
