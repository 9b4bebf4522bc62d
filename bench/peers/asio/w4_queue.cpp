// W4 queue: a minimal hand-written bounded async queue (Boost 1.74 has no channel) with
// put/get/task_done/join; P producers x K items, C consumers, capacity 1024.
// Waiting coroutines park on never-expiring steady_timers used as condition variables:
// cancel_one() wakes one waiter, cancel() wakes all.
#include "common.hpp"

#include <optional>
#include <vector>

namespace {

template <typename T>
class bounded_queue {
 public:
  bounded_queue(const asio::any_io_executor& ex, std::size_t capacity)
      : buf_(capacity),
        not_empty_(ex, asio::steady_timer::time_point::max()),
        not_full_(ex, asio::steady_timer::time_point::max()),
        all_done_(ex, asio::steady_timer::time_point::max()) {}

  awaitable<void> put(T v) {
    while (size_ == buf_.size()) {
      if (closed_) throw std::runtime_error("put on closed queue");
      ++putters_waiting_;
      co_await park(not_full_);
    }
    buf_[tail_] = std::move(v);
    if (++tail_ == buf_.size()) tail_ = 0;
    ++size_;
    ++unfinished_;
    if (getters_waiting_ != 0) {
      --getters_waiting_;
      not_empty_.cancel_one();
    }
  }

  // Returns std::nullopt once the queue is closed and empty.
  awaitable<std::optional<T>> get() {
    while (size_ == 0) {
      if (closed_) co_return std::nullopt;
      ++getters_waiting_;
      co_await park(not_empty_);
    }
    std::optional<T> v(std::move(buf_[head_]));
    if (++head_ == buf_.size()) head_ = 0;
    --size_;
    if (putters_waiting_ != 0) {
      --putters_waiting_;
      not_full_.cancel_one();
    }
    co_return v;
  }

  void task_done() {
    if (--unfinished_ == 0 && joiners_ != 0) {
      joiners_ = 0;
      all_done_.cancel();
    }
  }

  awaitable<void> join() {
    while (unfinished_ != 0) {
      ++joiners_;
      co_await park(all_done_);
    }
  }

  // Wake everybody; get() then returns nullopt once drained.
  void close() {
    closed_ = true;
    getters_waiting_ = putters_waiting_ = 0;
    not_empty_.cancel();
    not_full_.cancel();
  }

 private:
  static awaitable<void> park(asio::steady_timer& t) {
    boost::system::error_code ec;  // operation_aborted = woken
    co_await t.async_wait(asio::redirect_error(use_awaitable, ec));
  }

  std::vector<T> buf_;
  std::size_t head_ = 0, tail_ = 0, size_ = 0;
  std::size_t unfinished_ = 0;
  std::size_t getters_waiting_ = 0, putters_waiting_ = 0, joiners_ = 0;
  bool closed_ = false;
  asio::steady_timer not_empty_, not_full_, all_done_;
};

struct params {
  long capacity = 1024, producers = 4, k = 250000, consumers = 4;
};

awaitable<void> consumer(bounded_queue<long>& q, long& received, peer::latch& stopped) {
  long n = 0;
  while (auto item = co_await q.get()) {
    q.task_done();
    ++n;
  }
  received += n;
  stopped.count_down();
}

awaitable<void> producer(bounded_queue<long>& q, long k, peer::latch& done) {
  for (long i = 0; i < k; ++i) co_await q.put(i);
  done.count_down();
}

awaitable<void> run(const params& p, double& wall, long& received) {
  auto ex = co_await asio::this_coro::executor;
  bounded_queue<long> q(ex, static_cast<std::size_t>(p.capacity));
  peer::latch producers_done(ex, p.producers);
  peer::latch consumers_stopped(ex, p.consumers);

  auto t0 = peer::clock::now();
  for (long c = 0; c < p.consumers; ++c)
    asio::co_spawn(ex, consumer(q, received, consumers_stopped), asio::detached);
  for (long i = 0; i < p.producers; ++i)
    asio::co_spawn(ex, producer(q, p.k, producers_done), asio::detached);
  co_await producers_done.wait();
  co_await q.join();
  wall = peer::seconds(t0, peer::clock::now());

  q.close();  // stop the consumers
  co_await consumers_stopped.wait();
}

}  // namespace

int main(int argc, char** argv) {
  peer::flags fl(argc, argv);
  params p;
  p.capacity = fl.num("--capacity", p.capacity);
  p.producers = fl.num("--producers", p.producers);
  p.k = fl.num("--k", p.k);
  p.consumers = fl.num("--consumers", p.consumers);
  double wall = 0;
  long received = 0;
  peer::run_main(run(p, wall, received));
  long items = p.producers * p.k;
  if (received != items) {
    std::fprintf(stderr, "consumers received %ld items, expected %ld\n", received, items);
    return 1;
  }
  std::printf(
      "{\"workload\":\"w4_queue\",\"peer\":\"asio\",\"items\":%ld,\"wall_s\":%.9f,\"items_per_s\":%.1f,"
      "\"capacity\":%ld,\"producers\":%ld,\"consumers\":%ld}\n",
      items, wall, items / wall, p.capacity, p.producers, p.consumers);
  return 0;
}
