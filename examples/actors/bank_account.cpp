// Turn-based safety: 10,000 deposits of 1 made at once, by a handler that
// reads the balance, awaits something, and writes it back. On a plain shared
// object the awaits interleave and most deposits are lost; on an actor each
// deposit is a turn that runs to its end before the next begins, so all of
// them land. Python's asyncio has the same race without a Lock; Dapr's
// actors avoid it by the same turn-based rule.
#include <corio/actors.hpp>
#include <corio/corio.hpp>
#include <cstdio>

using namespace std::chrono_literals;
namespace actors = corio::actors;

struct Shared {
    long balance = 0;
};

corio::Task<void> unsafe_deposit(Shared& account, long amount) {
    long balance = account.balance;
    co_await corio::sleep(1ms);  // an audit-log write, say
    account.balance = balance + amount;
}

struct Account : actors::Actor {
    corio::Task<long> deposit(long amount) {
        long balance = co_await state().get_or<long>("balance", 0);
        co_await corio::sleep(1ms);  // the same await, inside a turn
        state().set("balance", balance + amount);
        co_return balance + amount;
    }
    corio::Task<long> balance() { co_return co_await state().get_or<long>("balance", 0); }
};

corio::Task<void> amain() {
    constexpr int kDeposits = 10000;
    Shared shared;
    {
        corio::TaskGroup tg;
        for (int i = 0; i < kDeposits; ++i)
            tg.create_task(unsafe_deposit(shared, 1));
        co_await tg.join();
    }
    std::printf("plain object: %d deposits, balance %ld\n", kDeposits, shared.balance);

    actors::Runtime rt;
    rt.register_actor<Account>("Account")
        .method("deposit", &Account::deposit)
        .method("balance", &Account::balance);
    auto account = rt.proxy("Account", "alice");
    auto t0 = corio::get_running_loop().time();
    {
        corio::TaskGroup tg;
        for (int i = 0; i < kDeposits; ++i)
            tg.create_task(account.call<long>("deposit", 1L));
        co_await tg.join();
    }
    auto took =
        std::chrono::duration_cast<std::chrono::seconds>(corio::get_running_loop().time() - t0);
    std::printf("actor: %d deposits, balance %ld (one turn at a time: %lld s of 1 ms awaits)\n",
                kDeposits, co_await account.call<long>("balance"),
                static_cast<long long>(took.count()));
    co_await rt.stop();
}

int main() {
    corio::run(amain());
}
