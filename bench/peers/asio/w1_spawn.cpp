// W1 spawn: N co_spawn'ed coroutines parked on one never-expiring steady_timer;
// cancel() wakes them all; a countdown latch gathers them.
#include "common.hpp"

namespace {

struct result {
  long n = 0;
  double spawn_park_s = 0, wake_gather_s = 0;
  long rss_before_kb = 0, rss_parked_kb = 0;
  long parked = 0;
};

awaitable<void> waiter(asio::steady_timer& event, peer::latch& done, long& parked) {
  ++parked;
  boost::system::error_code ec;  // operation_aborted when the event is "set"
  co_await event.async_wait(asio::redirect_error(use_awaitable, ec));
  done.count_down();
}

awaitable<void> run(result& r) {
  auto ex = co_await asio::this_coro::executor;
  asio::steady_timer event(ex, asio::steady_timer::time_point::max());
  peer::latch done(ex, static_cast<std::size_t>(r.n));

  r.rss_before_kb = peer::rss_kb();
  auto t0 = peer::clock::now();
  for (long i = 0; i < r.n; ++i) asio::co_spawn(ex, waiter(event, done, r.parked), asio::detached);
  co_await asio::post(ex, use_awaitable);  // yield once: every coroutine is now parked
  auto t1 = peer::clock::now();
  r.rss_parked_kb = peer::rss_kb();
  if (r.parked != r.n) throw std::runtime_error("not all coroutines parked");
  auto t2 = peer::clock::now();
  event.cancel();
  co_await done.wait();
  auto t3 = peer::clock::now();
  r.spawn_park_s = peer::seconds(t0, t1);
  r.wake_gather_s = peer::seconds(t2, t3);
}

}  // namespace

int main(int argc, char** argv) {
  peer::flags fl(argc, argv);
  result r;
  r.n = fl.num("--n", 200000);
  peer::run_main(run(r));
  double total = r.spawn_park_s + r.wake_gather_s;
  std::printf(
      "{\"workload\":\"w1_spawn\",\"peer\":\"asio\",\"n\":%ld,\"total_s\":%.9f,\"ns_per_task\":%.3f,"
      "\"spawn_park_s\":%.9f,\"wake_gather_s\":%.9f,\"rss_before_kb\":%ld,\"rss_parked_kb\":%ld,"
      "\"bytes_per_task\":%.3f}\n",
      r.n, total, total / r.n * 1e9, r.spawn_park_s, r.wake_gather_s, r.rss_before_kb,
      r.rss_parked_kb, (r.rss_parked_kb - r.rss_before_kb) * 1024.0 / r.n);
  return 0;
}
