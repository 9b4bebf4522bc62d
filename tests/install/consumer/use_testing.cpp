// corio::testing from an installed corio: an hour of sleep on virtual time.
#include <chrono>
#include <corio/corio.hpp>
#include <corio/testing/virtual_time.hpp>
#include <cstdio>

using namespace std::chrono_literals;

corio::Task<double> amain() {
    corio::EventLoop& loop = corio::get_running_loop();
    const corio::TimePoint start = loop.time();
    co_await corio::sleep(1h);
    co_return std::chrono::duration<double>(loop.time() - start).count();
}

int main() {
    const double slept = corio::testing::run_virtual(amain());
    std::printf("testing: slept %.0f s of virtual time\n", slept);
    return slept >= 3600.0 && slept < 3601.0 ? 0 : 1;
}
