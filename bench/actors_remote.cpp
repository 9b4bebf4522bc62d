// Remote actor calls per second between two processes on loopback: the
// program forks a host (a Runtime serving the actor endpoints) and calls
// its actors from the parent through a Runtime whose placement puts every
// actor in the host, so each call is forwarded by HttpRemote (one PUT per
// call, over a keep-alive pool). `--callers` tasks call at once, spread
// over `--actors` actors. Prints one JSON line.
//
// usage: actors_remote [--calls N] [--callers C] [--actors A] [--connections K]
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "bench_common.hpp"
#include "corio/actors/http.hpp"
#include "corio/corio.hpp"
#include "corio/http/server.hpp"

namespace actors = corio::actors;
namespace web = corio::http::web;
using corio::Task;

namespace {

struct Counter : actors::Actor {
    int n = 0;
    Task<int> add(int d) { co_return n += d; }
};

// Every actor lives at `host`.
class HostPlacement final : public actors::Placement {
public:
    HostPlacement(std::string self, std::string host)
        : self_(std::move(self)), host_(std::move(host)) {}
    const std::string& self() const noexcept override { return self_; }
    Task<void> start() override { co_return; }
    Task<void> stop() override { co_return; }
    Task<std::string> locate(const actors::ActorId&, std::optional<std::string>, bool) override {
        co_return host_;
    }
    Task<bool> owns(const actors::ActorId&) override { co_return false; }
    Task<void> release(const actors::ActorId&) override { co_return; }

private:
    std::string self_, host_;
};

Task<void> host(int ready_fd) {
    actors::Runtime rt;
    rt.register_actor<Counter>("Counter").method("add", &Counter::add);
    web::Application app;
    actors::add_actor_routes(app, rt);
    web::AppServer server = co_await web::serve(app, "127.0.0.1", 0);
    std::uint16_t port = server.port();
    (void)!::write(ready_fd, &port, sizeof port);
    ::close(ready_fd);
    corio::Event never;
    co_await never.wait();  // serves until SIGTERM kills the process
}

struct Result {
    long calls = 0;
    double seconds = 0;
};

Task<Result> client(std::uint16_t port, long calls, long callers, long n_actors, long connections) {
    actors::RuntimeOptions o;
    o.placement = std::make_shared<HostPlacement>("client", "127.0.0.1:" + std::to_string(port));
    o.remote = std::make_shared<actors::HttpRemote>(
        actors::HttpRemoteOptions{.connections_per_host = static_cast<std::size_t>(connections)});
    actors::Runtime rt(std::move(o));
    rt.register_actor<Counter>("Counter").method("add", &Counter::add);
    std::vector<actors::ActorProxy> proxies;
    for (long i = 0; i < n_actors; ++i)
        proxies.push_back(rt.proxy("Counter", "c" + std::to_string(i)));
    // Warm up: every connection opened, every actor activated.
    {
        // (call() takes its arguments by reference: they must outlive the
        // tasks.)
        const int zero = 0;
        std::vector<corio::TaskHandle<int>> warm;
        for (long i = 0; i < std::max(callers, n_actors); ++i)
            warm.push_back(corio::create_task(proxies[i % n_actors].call<int>("add", zero)));
        for (auto& t : warm)
            co_await t;
    }
    long next = 0;
    auto worker = [&](long id) -> Task<void> {
        while (next < calls) {
            ++next;
            co_await proxies[(id + next) % n_actors].call<int>("add", 1);
        }
    };
    auto t0 = bench::clock::now();
    std::vector<corio::TaskHandle<void>> tasks;
    for (long i = 0; i < callers; ++i)
        tasks.push_back(corio::create_task(worker(i)));
    for (auto& t : tasks)
        co_await t;
    auto t1 = bench::clock::now();
    // Every call reached its actor: the counters add up to the calls made.
    long total = 0;
    for (auto& p : proxies)
        total += co_await p.call<int>("add", 0);
    if (total != next)
        std::fprintf(stderr, "actors_remote: the actors counted %ld calls of %ld\n", total, next);
    co_await rt.stop();
    co_return Result{total == next ? next : -1, bench::seconds_between(t0, t1)};
}

}  // namespace

int main(int argc, char** argv) {
    long calls = bench::flag(argc, argv, "--calls", 400000);
    long callers = bench::flag(argc, argv, "--callers", 512);
    long n_actors = bench::flag(argc, argv, "--actors", 1000);
    long connections = bench::flag(argc, argv, "--connections", 8);
    int fds[2];
    if (::pipe(fds) != 0)
        return 1;
    pid_t pid = ::fork();
    if (pid == 0) {
        ::close(fds[0]);
        corio::run(host(fds[1]));
        ::_exit(0);
    }
    ::close(fds[1]);
    std::uint16_t port = 0;
    if (::read(fds[0], &port, sizeof port) != sizeof port) {
        std::fprintf(stderr, "actors_remote: the host did not start\n");
        return 1;
    }
    ::close(fds[0]);
    Result r = corio::run(client(port, calls, callers, n_actors, connections));
    ::kill(pid, SIGTERM);
    ::waitpid(pid, nullptr, 0);
    std::printf(
        "{\"bench\": \"actors_remote\", \"calls\": %ld, \"callers\": %ld, \"actors\": %ld, "
        "\"connections\": %ld, \"seconds\": %.3f, \"calls_per_s\": %.0f}\n",
        r.calls, callers, n_actors, connections, r.seconds, r.calls / r.seconds);
    return 0;
}
