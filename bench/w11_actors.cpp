// W11 actors (bench/README.md): 10,000 counter actors; 100 caller tasks each
// make 10,000 calls to random actors on one loop (local_calls_per_s), and
// the same between two processes on loopback (remote_calls_per_s): the
// program forks a host (a Runtime serving the actor endpoints) and calls its
// actors from a Runtime that hosts no type and whose placement puts every
// actor in the host, so each call is forwarded by HttpRemote (pipelined
// HTTP/1.1 PUTs over --connections connections). Each call is a turn that
// reads the counter from the actor's state and saves it. Prints one JSON line.
//
// usage: w11_actors [--actors A] [--callers C] [--calls N] [--connections K]
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "bench_common.hpp"
#include "corio/actors.hpp"
#include "corio/corio.hpp"
#include "corio/http/server.hpp"

namespace actors = corio::actors;
namespace web = corio::http::web;
using corio::Task;

namespace {

struct Counter : actors::Actor {
    Task<std::int64_t> add(std::int64_t n) {
        std::int64_t v = co_await state().get_or<std::int64_t>("v", 0) + n;
        state().set("v", v);
        co_return v;
    }
};

void register_counter(actors::Runtime& rt) {
    rt.register_actor<Counter>("Counter").method("add", &Counter::add);
}

Task<void> caller(std::vector<actors::ActorProxy>& proxies, long calls, unsigned seed,
                  std::int64_t& sum) {
    std::minstd_rand rng(seed);
    std::uniform_int_distribution<std::size_t> pick(0, proxies.size() - 1);
    for (long i = 0; i < calls; ++i)
        sum += co_await proxies[pick(rng)].call<std::int64_t>("add", std::int64_t{1});
}

// Runs `callers` tasks of `calls` calls each over `proxies`; returns calls/s.
Task<double> drive(std::vector<actors::ActorProxy>& proxies, long callers, long calls) {
    std::vector<std::int64_t> sums(static_cast<std::size_t>(callers), 0);
    std::vector<corio::TaskHandle<void>> tasks;
    auto t0 = bench::clock::now();
    for (long c = 0; c < callers; ++c)
        tasks.push_back(corio::create_task(caller(proxies, calls, static_cast<unsigned>(c + 1),
                                                  sums[static_cast<std::size_t>(c)])));
    co_await corio::gather(std::move(tasks));
    double s = bench::seconds_between(t0, bench::clock::now());
    co_return static_cast<double>(callers * calls) / s;
}

std::vector<actors::ActorProxy> make_proxies(actors::Runtime& rt, long actor_count) {
    std::vector<actors::ActorProxy> proxies;
    for (long i = 0; i < actor_count; ++i)
        proxies.push_back(rt.proxy("Counter", "c" + std::to_string(i)));
    return proxies;
}

// Every call landed once: the counters add up.
Task<void> check_total(std::vector<actors::ActorProxy>& proxies, long expected) {
    std::int64_t total = 0;
    for (auto& p : proxies)
        total += co_await p.call<std::int64_t>("add", std::int64_t{0});
    if (total != expected) {
        std::fprintf(stderr, "w11_actors: counters add up to %lld, not %ld\n",
                     static_cast<long long>(total), expected);
        std::exit(1);
    }
}

Task<double> local(long actor_count, long callers, long calls) {
    actors::Runtime rt;
    register_counter(rt);
    auto proxies = make_proxies(rt, actor_count);
    double rate = co_await drive(proxies, callers, calls);
    co_await check_total(proxies, callers * calls);
    co_await rt.stop();
    co_return rate;
}

// Every actor lives at `host`.
class HostPlacement final : public actors::Placement {
public:
    explicit HostPlacement(std::string host) : host_(std::move(host)) {}
    const std::string& self() const noexcept override { return self_; }
    Task<void> start() override { co_return; }
    Task<void> stop() override { co_return; }
    Task<std::string> locate(const actors::ActorId&, std::optional<std::string>, bool) override {
        co_return host_;
    }
    Task<bool> owns(const actors::ActorId&) override { co_return false; }
    Task<void> release(const actors::ActorId&) override { co_return; }

private:
    std::string self_ = "client", host_;
};

Task<void> host(int ready_fd) {
    actors::Runtime rt;
    register_counter(rt);
    web::Application app;
    actors::add_actor_routes(app, rt);
    web::AppServer server = co_await web::serve(app, "127.0.0.1", 0);
    std::uint16_t port = server.port();
    (void)!::write(ready_fd, &port, sizeof port);
    ::close(ready_fd);
    corio::Event never;
    co_await never.wait();  // serves until SIGTERM ends the process
}

Task<double> remote(std::uint16_t port, long actor_count, long callers, long calls,
                    long connections) {
    actors::RuntimeOptions o;
    o.placement = std::make_shared<HostPlacement>("127.0.0.1:" + std::to_string(port));
    o.remote = std::make_shared<actors::HttpRemote>(
        actors::HttpRemoteOptions{.connections_per_host = static_cast<std::size_t>(connections)});
    actors::Runtime rt(std::move(o));  // hosts nothing: every call is forwarded
    auto proxies = make_proxies(rt, actor_count);
    double rate = co_await drive(proxies, callers, calls);
    co_await check_total(proxies, callers * calls);
    co_await rt.stop();
    co_return rate;
}

}  // namespace

int main(int argc, char** argv) {
    const long actor_count = bench::flag(argc, argv, "--actors", 10000);
    const long callers = bench::flag(argc, argv, "--callers", 100);
    const long calls = bench::flag(argc, argv, "--calls", 10000);
    const long connections = bench::flag(argc, argv, "--connections", 8);
    double local_rate = corio::run(local(actor_count, callers, calls));

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
        std::fprintf(stderr, "w11_actors: the host process did not start\n");
        return 1;
    }
    ::close(fds[0]);
    double remote_rate = corio::run(remote(port, actor_count, callers, calls, connections));
    ::kill(pid, SIGTERM);
    ::waitpid(pid, nullptr, 0);
    std::printf(
        "{\"actors\": %ld, \"callers\": %ld, \"calls_per_caller\": %ld, "
        "\"connections\": %ld, \"local_calls_per_s\": %.0f, "
        "\"remote_calls_per_s\": %.0f, \"rss_kb\": %ld}\n",
        actor_count, callers, calls, connections, local_rate, remote_rate, bench::rss_kb());
    return 0;
}
