// W8 executor: asio::thread_pool(4); from the loop thread, batches of 1000
// `co_await co_spawn(pool, blocking_call(), use_awaitable)`, each batch gathered.
#include "common.hpp"

namespace {

[[gnu::noinline]] int blocking() { return 1; }

awaitable<int> blocking_call() { co_return blocking(); }  // runs on a pool thread

struct params {
  long n = 100000, batch = 1000, threads = 4;
};

awaitable<void> call_on_pool(asio::thread_pool& pool, long& sum, peer::latch& done) {
  sum += co_await asio::co_spawn(pool, blocking_call(), use_awaitable);
  done.count_down();
}

awaitable<void> run_batch(asio::thread_pool& pool, long batch, peer::latch& done) {
  auto ex = co_await asio::this_coro::executor;
  long sum = 0;
  done.reset(static_cast<std::size_t>(batch));
  for (long i = 0; i < batch; ++i) asio::co_spawn(ex, call_on_pool(pool, sum, done), asio::detached);
  co_await done.wait();
  if (sum != batch) throw std::runtime_error("bad sum");
}

awaitable<void> run(const params& p, double& secs, long& calls) {
  auto ex = co_await asio::this_coro::executor;
  asio::thread_pool pool(static_cast<std::size_t>(p.threads));
  peer::latch done(ex, 0);
  co_await run_batch(pool, 16, done);  // warm-up

  long rounds = p.n / p.batch;
  auto t0 = peer::clock::now();
  for (long r = 0; r < rounds; ++r) co_await run_batch(pool, p.batch, done);
  secs = peer::seconds(t0, peer::clock::now());
  calls = rounds * p.batch;
  pool.join();
}

}  // namespace

int main(int argc, char** argv) {
  peer::flags fl(argc, argv);
  params p;
  p.n = fl.num("--n", p.n);
  p.batch = fl.num("--batch", p.batch);
  p.threads = fl.num("--threads", p.threads);
  double secs = 0;
  long calls = 0;
  peer::run_main(run(p, secs, calls));
  std::printf(
      "{\"workload\":\"w8_executor\",\"peer\":\"asio\",\"n\":%ld,\"batch\":%ld,\"threads\":%ld,"
      "\"run_in_executor_ops_s\":%.1f,\"secs\":%.9f}\n",
      calls, p.batch, p.threads, calls / secs, secs);
  return 0;
}
