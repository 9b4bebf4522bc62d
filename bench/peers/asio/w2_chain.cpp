// W2 chain: `co_await co_spawn(ex, trivial(), use_awaitable)` N_task times,
// then `co_await trivial()` N_await times.
#include "common.hpp"

namespace {

awaitable<int> trivial() { co_return 1; }

struct result {
  long n_task = 0, n_await = 0;
  double task_s = 0, await_s = 0;
  long acc = 0;
};

awaitable<void> run(result& r) {
  auto ex = co_await asio::this_coro::executor;
  long acc = 0;
  auto t0 = peer::clock::now();
  for (long i = 0; i < r.n_task; ++i) acc += co_await asio::co_spawn(ex, trivial(), use_awaitable);
  auto t1 = peer::clock::now();
  for (long i = 0; i < r.n_await; ++i) acc += co_await trivial();
  auto t2 = peer::clock::now();
  r.task_s = peer::seconds(t0, t1);
  r.await_s = peer::seconds(t1, t2);
  r.acc = acc;
}

}  // namespace

int main(int argc, char** argv) {
  peer::flags fl(argc, argv);
  result r;
  r.n_task = fl.num("--n-task", 1000000);
  r.n_await = fl.num("--n-await", 10000000);
  peer::run_main(run(r));
  if (r.acc != r.n_task + r.n_await) {
    std::fprintf(stderr, "bad acc %ld\n", r.acc);
    return 1;
  }
  std::printf(
      "{\"workload\":\"w2_chain\",\"peer\":\"asio\",\"n_task\":%ld,\"n_await\":%ld,"
      "\"task_ns_per_op\":%.3f,\"await_ns_per_op\":%.3f,\"task_s\":%.9f,\"await_s\":%.9f}\n",
      r.n_task, r.n_await, r.task_s / r.n_task * 1e9, r.await_s / r.n_await * 1e9, r.task_s,
      r.await_s);
  return 0;
}
