// Mirrors the tutorial 《python进阶之异步编程（基础篇）》, "✨ 异步的核心思路" (the core idea of
// async; no code in the seed, only two flow charts we do not have): an e-commerce order goes
// through many steps, each taking time, so the response time (RT) of a synchronous handler is the
// sum of them all. The async idea: keep the core steps on the main path and take the others off it.
// Here the order is created (0.2 s) and paid (0.3 s); then come the non-core steps: an SMS to the
// buyer (0.5 s), loyalty points (0.3 s), an analytics record (0.4 s).
//
//   Synchronously, every step is on the path: the user waits 1.70 s.
//   With corio, the handler awaits the core steps and starts the others as
//   background tasks: the user waits 0.50 s, and the background steps, which
//   overlap each other, are done at 1.00 s.
//
// Each step is a sleep standing for I/O (a database write, a call to the SMS
// gateway). The synchronous version sleeps with blocking_sleep; both versions
// print deterministic times under test (virtual time).
#include <chrono>
#include <corio/corio.hpp>
#include <cstdio>
#include <vector>

#include "support/clock.hpp"

using namespace std::chrono_literals;

namespace {

struct Step {
    const char* done;  // what the step prints when it is done
    std::chrono::milliseconds takes;
};

constexpr Step kCore[] = {{"order created", 200ms}, {"payment taken", 300ms}};
constexpr Step kNonCore[] = {
    {"SMS sent", 500ms}, {"loyalty points added", 300ms}, {"analytics written", 400ms}};

// -- synchronous: one step after the other ---------------------------------------

void place_order_sync() {
    example::Stopwatch clock;
    for (const Step& s : kCore) {
        example::blocking_sleep(s.takes);
        std::printf("  %s at %.2f s\n", s.done, clock.seconds());
    }
    for (const Step& s : kNonCore) {
        example::blocking_sleep(s.takes);
        std::printf("  %s at %.2f s\n", s.done, clock.seconds());
    }
    std::printf("  response sent: the user waited %.2f s\n", clock.seconds());
}

// -- asynchronous: core steps awaited, the rest in the background ------------------

corio::TimePoint start;

double elapsed() {
    return std::chrono::duration<double>(corio::get_running_loop().time() - start).count();
}

corio::Task<> step(const Step& s) {
    co_await corio::sleep(s.takes);
    std::printf("  %s at %.2f s\n", s.done, elapsed());
}

corio::Task<> place_order_async() {
    start = corio::get_running_loop().time();
    for (const Step& s : kCore) {
        co_await step(s);
    }
    std::vector<corio::TaskHandle<void>> background;
    for (const Step& s : kNonCore) {
        background.push_back(corio::create_task(step(s)));
    }
    std::printf("  response sent: the user waited %.2f s\n", elapsed());

    // A server would go on serving; this program waits for the background work.
    co_await corio::gather(background);
    std::printf("  background work done at %.2f s\n", elapsed());
}

}  // namespace

int main() {
    std::puts("synchronous:");
    place_order_sync();
    std::puts("asynchronous:");
    corio::run(place_order_async());
}
