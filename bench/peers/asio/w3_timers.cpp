// W3 timers: N concurrent coroutines, coroutine i waits d[i] ms on its own steady_timer.
#include "common.hpp"

#include <vector>

namespace {

std::vector<int> delays_ms(long n) {
  std::vector<int> d(static_cast<std::size_t>(n));
  std::uint64_t s = 42;
  for (long i = 0; i < n; ++i) {
    s = (s * 1103515245ULL + 12345ULL) % (1ULL << 31);
    d[i] = static_cast<int>(s % 1001);
  }
  if (n > 0) d[0] = 1000;
  return d;
}

awaitable<void> sleeper(int ms, peer::latch& done) {
  asio::steady_timer t(co_await asio::this_coro::executor, std::chrono::milliseconds(ms));
  co_await t.async_wait(use_awaitable);
  done.count_down();
}

awaitable<void> run(const std::vector<int>& d, double& wall) {
  auto ex = co_await asio::this_coro::executor;
  peer::latch done(ex, d.size());
  auto t0 = peer::clock::now();
  for (int ms : d) asio::co_spawn(ex, sleeper(ms, done), asio::detached);
  co_await done.wait();
  wall = peer::seconds(t0, peer::clock::now());
}

}  // namespace

int main(int argc, char** argv) {
  peer::flags fl(argc, argv);
  long n = fl.num("--n", 100000);
  auto d = delays_ms(n);  // untimed preparation
  double wall = 0;
  peer::run_main(run(d, wall));
  std::printf("{\"workload\":\"w3_timers\",\"peer\":\"asio\",\"n\":%ld,\"wall_s\":%.9f,\"overhead_ms\":%.3f}\n",
              n, wall, (wall - 1.0) * 1000.0);
  return 0;
}
