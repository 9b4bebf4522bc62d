// examples/actors/actors_over_http.cpp - two actor hosts in one program, each
// serving Dapr's app-side actor API on a loopback port. A table says which
// host each account lives on; a call made on the other host is forwarded
// over HTTP (HttpRemote) and runs there, one turn at a time, and the
// method's error comes back across.
//
// Python (Dapr):                            corio:
//   app = FastAPI(); DaprActor(app)           actors::add_actor_routes(app, rt)
//   (the sidecar forwards to the owner)       RuntimeOptions{.placement, .remote =
//                                                 std::make_shared<actors::HttpRemote>()}
#include <cstdio>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

#include "corio/actors.hpp"
#include "corio/corio.hpp"
#include "corio/http/client.hpp"
#include "corio/http/server.hpp"

using namespace std::chrono_literals;
using corio::Task;
namespace actors = corio::actors;
namespace web = corio::http::web;

struct Account : actors::Actor {
    Task<long> deposit(long amount) {
        long balance = co_await state().get_or<long>("balance", 0) + amount;
        state().set("balance", balance);
        co_return balance;
    }
    Task<long> withdraw(long amount) {
        long balance = co_await state().get_or<long>("balance", 0);
        if (amount > balance)
            throw std::runtime_error("insufficient funds: " + std::to_string(balance));
        state().set("balance", balance - amount);
        co_return balance - amount;
    }
};

// Placement as a fixed table: account id -> the host it lives on.
class Table final : public actors::Placement {
public:
    std::string self_;
    std::map<std::string, std::string>* homes = nullptr;
    const std::string& self() const noexcept override { return self_; }
    Task<void> start() override { co_return; }
    Task<void> stop() override { co_return; }
    Task<std::string> locate(const actors::ActorId& a, std::optional<std::string>, bool) override {
        co_return homes->at(a.id);
    }
    Task<bool> owns(const actors::ActorId& a) override { co_return homes->at(a.id) == self_; }
    Task<void> release(const actors::ActorId&) override { co_return; }
};

struct Host {
    std::string name;
    std::shared_ptr<Table> table = std::make_shared<Table>();
    std::unique_ptr<actors::Runtime> rt;
    web::Application app;
    std::optional<web::AppServer> server;

    Host(std::string n, std::map<std::string, std::string>& homes) : name(std::move(n)) {
        table->homes = &homes;
        actors::RuntimeOptions o;
        o.placement = table;
        o.remote = std::make_shared<actors::HttpRemote>();
        rt = std::make_unique<actors::Runtime>(std::move(o));
        rt->register_actor<Account>("Account")
            .method("deposit", &Account::deposit)
            .method("withdraw", &Account::withdraw);
        actors::add_actor_routes(app, *rt);
    }
    Task<void> start() {
        server.emplace(co_await web::serve(app, "127.0.0.1", 0));
        table->self_ = "127.0.0.1:" + std::to_string(server->port());
    }
    Task<void> stop() {
        co_await rt->stop();
        co_await server->shutdown(1s);
    }
};

Task<void> deposit(Host& on, Host& other, const char* who, long amount) {
    long balance = co_await on.rt->proxy("Account", who).call<long>("deposit", amount);
    const Host& ran = on.rt->is_active(actors::ActorId{"Account", who}) ? on : other;
    std::printf("host %s: %s deposits %ld -> balance %ld (the turn ran on host %s)\n",
                on.name.c_str(), who, amount, balance, ran.name.c_str());
}

Task<void> main_task() {
    std::map<std::string, std::string> homes;
    Host a("A", homes), b("B", homes);
    co_await a.start();
    co_await b.start();
    homes["alice"] = b.table->self();
    homes["bob"] = a.table->self();

    // What a Dapr sidecar reads first.
    corio::http::ClientSession session;
    corio::http::ClientResponse r =
        co_await session.get("http://" + b.table->self() + "/dapr/config");
    actors::Json config = co_await r.json("application/json");
    std::printf("host B's /dapr/config: entities %s, actorIdleTimeout %s\n",
                config.at("entities").dump().c_str(),
                config.at("actorIdleTimeout").get<std::string>().c_str());
    co_await session.close();

    co_await deposit(a, b, "alice", 100);  // forwarded to B
    co_await deposit(b, a, "alice", 20);   // local on B
    co_await deposit(b, a, "bob", 30);     // forwarded to A
    try {
        co_await a.rt->proxy("Account", "alice").call<long>("withdraw", 500L);
    } catch (const actors::ActorMethodError& e) {
        std::printf("host A: alice withdraws 500 -> ActorMethodError: %s\n", e.what());
    }
    std::printf("forwarded calls: host A %llu, host B %llu\n",
                static_cast<unsigned long long>(a.rt->stats().forwarded_calls),
                static_cast<unsigned long long>(b.rt->stats().forwarded_calls));
    co_await a.stop();
    co_await b.stop();
}

int main() {
    corio::run(main_task());
    return 0;
}
