// Shared helpers for the Boost.Asio (1.74, C++20 coroutines) peer programs.
#pragma once

#include <utility>  // must precede Boost 1.74's Asio coroutine headers under g++ 12

#include <boost/asio.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <string_view>

namespace asio = boost::asio;
using asio::awaitable;
using asio::use_awaitable;

namespace peer {

using clock = std::chrono::steady_clock;

inline double seconds(clock::time_point a, clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

// VmRSS of this process in KiB, from /proc/self/status.
inline long rss_kb() {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::strtol(line.c_str() + 6, nullptr, 10);
  }
  return -1;
}

// Minimal "--name value" / "--name=value" flag parsing; flags only shrink runs.
class flags {
 public:
  flags(int argc, char** argv) : argc_(argc), argv_(argv) {}

  long num(std::string_view name, long def) const {
    const char* v = find(name);
    return v ? std::strtol(v, nullptr, 10) : def;
  }
  double real(std::string_view name, double def) const {
    const char* v = find(name);
    return v ? std::strtod(v, nullptr) : def;
  }
  std::string str(std::string_view name, std::string def) const {
    const char* v = find(name);
    return v ? std::string(v) : def;
  }

 private:
  const char* find(std::string_view name) const {
    for (int i = 1; i < argc_; ++i) {
      std::string_view a = argv_[i];
      if (a == name) {
        if (i + 1 >= argc_) {
          std::fprintf(stderr, "missing value for %s\n", argv_[i]);
          std::exit(2);
        }
        return argv_[i + 1];
      }
      if (a.size() > name.size() && a.substr(0, name.size()) == name && a[name.size()] == '=')
        return argv_[i] + name.size() + 1;
    }
    return nullptr;
  }
  int argc_;
  char** argv_;
};

// Countdown latch used as "gather": count_down() N times, wait() resumes once it reaches 0.
// The waiter parks on a never-expiring steady_timer that cancel() wakes.
class latch {
 public:
  latch(const asio::any_io_executor& ex, std::size_t n)
      : count_(n), timer_(ex, asio::steady_timer::time_point::max()) {}

  void reset(std::size_t n) { count_ = n; }
  void count_down() {
    if (--count_ == 0) timer_.cancel();
  }
  awaitable<void> wait() {
    while (count_ != 0) {
      boost::system::error_code ec;
      co_await timer_.async_wait(asio::redirect_error(use_awaitable, ec));
    }
  }

 private:
  std::size_t count_;
  asio::steady_timer timer_;
};

// Run a top-level coroutine on a single-threaded io_context; rethrow its exception.
template <typename F>
void run_main(F&& f) {
  asio::io_context ctx(1);
  std::exception_ptr err;
  asio::co_spawn(ctx, std::forward<F>(f), [&](std::exception_ptr e) { err = e; });
  ctx.run();
  if (err) std::rethrow_exception(err);
}

}  // namespace peer
