// W5 echo client (the fixed client for every server): single-threaded Asio C++20
// coroutines; --conns connections with TCP_NODELAY, each loops "write --size bytes, read
// exactly --size bytes back" for --secs seconds; then stops issuing, lets in-flight
// exchanges finish and prints {"msgs_per_s","mb_per_s","msgs","secs",...} on one line.
//
// --idle N (W5 idle variant): first opens N extra connections, does one 1-byte round trip
// on each (so the server has accepted it and set up its per-connection state) and keeps
// them open and silent during the measured phase; afterwards one more 1-byte round trip on
// every idle connection checks that all of them are still open (failures count as errors).
// --server-pid PID adds the server's VmRSS before/after opening them and at the end, and
// its CPU time during the measured phase.
#include "common.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <memory>
#include <vector>

namespace {

using asio::ip::tcp;

struct params {
  std::string host = "127.0.0.1";
  std::string port;
  long conns = 50, size = 1024;
  double secs = 10.0;
  bool verify = false;  // --verify 1: compare every echoed byte (costs client CPU)
  long idle = 0;        // --idle N: idle connections held open during the measurement
  long server_pid = 0;  // --server-pid PID: read the server's VmRSS and CPU time
  double idle_timeout = 60.0;  // --idle-timeout S: limit for opening (or checking) them
};

struct state {
  bool stop = false;
  std::uint64_t msgs = 0;
  long errors = 0;
  long mismatches = 0;
  peer::clock::time_point end;
};

// Figures of the idle variant (only printed with --idle N > 0).
struct idle_figures {
  double open_s = 0, check_s = 0;
  long open_errors = 0, check_errors = 0;
  long rss_before = -1, rss_idle = -1, rss_end = -1;  // server VmRSS, KiB
  double cpu_active_s = -1;                            // server utime+stime, measured phase
};

// VmRSS of process `pid` in KiB, or -1.
long proc_rss_kb(long pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::strtol(line.c_str() + 6, nullptr, 10);
  }
  return -1;
}

// utime + stime of process `pid` in seconds, or -1.
double proc_cpu_s(long pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string s((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  auto p = s.rfind(')');
  if (p == std::string::npos) return -1;
  const char* c = s.c_str() + p + 1;  // " state ppid ..." = fields 3, 4, ...; utime 14, stime 15
  char* e = nullptr;
  unsigned long long v[13] = {};
  while (*c == ' ') ++c;
  ++c;  // state
  for (int i = 0; i < 13; ++i) {
    v[i] = std::strtoull(c, &e, 10);
    if (e == c) return -1;
    c = e;
  }
  return static_cast<double>(v[10] + v[11]) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

void raise_nofile() {
  rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &lim) != 0)
      std::fprintf(stderr, "w5_echo_client: setrlimit(RLIMIT_NOFILE): %s\n", std::strerror(errno));
  }
}

awaitable<void> exchange_loop(tcp::socket sock, std::size_t size, bool verify, state& st,
                              peer::latch& done) {
  std::vector<unsigned char> out(size), in(size);
  for (std::size_t i = 0; i < size; ++i) out[i] = static_cast<unsigned char>('a' + i % 26);
  try {
    for (std::uint64_t i = 0; !st.stop; ++i) {
      // tag first and last byte so a misbehaving server is noticed cheaply
      out.front() = out.back() = static_cast<unsigned char>(i);
      co_await asio::async_write(sock, asio::buffer(out), use_awaitable);
      co_await asio::async_read(sock, asio::buffer(in), use_awaitable);
      if (in.front() != out.front() || in.back() != out.back() ||
          (verify && std::memcmp(in.data(), out.data(), size) != 0))
        ++st.mismatches;
      ++st.msgs;
    }
  } catch (const std::exception& e) {
    if (st.errors++ == 0) std::fprintf(stderr, "w5_echo_client: connection error: %s\n", e.what());
  }
  boost::system::error_code ec;
  sock.shutdown(tcp::socket::shutdown_both, ec);
  sock.close(ec);
  st.end = peer::clock::now();
  done.count_down();
}

// ---- idle connections: kIdleWorkers coroutines walk the socket list, each (connect and)
// one 1-byte round trip per socket.
constexpr std::size_t kIdleWorkers = 64;

struct idle_pool {
  std::vector<tcp::socket> socks;
  std::size_t next = 0;
  long errors = 0;
  bool timed_out = false;
};

awaitable<void> idle_worker(idle_pool& pool, tcp::endpoint ep, bool connect, const char* what,
                            peer::latch& done) {
  while (!pool.timed_out && pool.next < pool.socks.size()) {
    std::size_t i = pool.next++;
    tcp::socket& s = pool.socks[i];
    try {
      if (connect) {
        co_await s.async_connect(ep, use_awaitable);
        s.set_option(tcp::no_delay(true));
      }
      unsigned char out = static_cast<unsigned char>('A' + i % 26), in = 0;
      co_await asio::async_write(s, asio::buffer(&out, 1), use_awaitable);
      co_await asio::async_read(s, asio::buffer(&in, 1), use_awaitable);
      if (in != out) throw std::runtime_error("wrong byte echoed");
    } catch (const std::exception& e) {
      if (pool.errors++ == 0)
        std::fprintf(stderr, "w5_echo_client: idle connection %zu (%s): %s\n", i, what, e.what());
    }
  }
  done.count_down();
}

// One pass over every idle socket; returns its duration. On timeout the sockets are
// closed (pending operations fail) and the ones never reached count as errors too.
awaitable<double> idle_pass(idle_pool& pool, tcp::endpoint ep, bool connect, double timeout_s) {
  auto ex = co_await asio::this_coro::executor;
  const char* what = connect ? "open" : "check";
  pool.next = 0;
  pool.errors = 0;
  pool.timed_out = false;
  std::size_t workers = std::min(kIdleWorkers, pool.socks.size());
  peer::latch done(ex, workers);
  asio::steady_timer watchdog(ex);
  watchdog.expires_after(std::chrono::duration_cast<peer::clock::duration>(
      std::chrono::duration<double>(timeout_s)));
  idle_pool* pp = &pool;
  auto in_pass = std::make_shared<bool>(true);  // guards a handler queued just before cancel()
  watchdog.async_wait([pp, in_pass, what, timeout_s](const boost::system::error_code& ec) {
    if (ec || !*in_pass) return;  // the pass finished in time
    std::fprintf(stderr, "w5_echo_client: idle connections (%s): timed out after %.0f s at %zu of %zu\n",
                 what, timeout_s, pp->next, pp->socks.size());
    pp->timed_out = true;
    pp->errors += static_cast<long>(pp->socks.size() - pp->next);
    boost::system::error_code ignored;
    for (auto& s : pp->socks) s.close(ignored);
  });
  auto t0 = peer::clock::now();
  for (std::size_t w = 0; w < workers; ++w)
    asio::co_spawn(ex, idle_worker(pool, ep, connect, what, done), asio::detached);
  co_await done.wait();
  auto t1 = peer::clock::now();
  *in_pass = false;
  watchdog.cancel();
  co_return peer::seconds(t0, t1);
}

awaitable<void> run(const params& p, state& st, double& secs, idle_figures& fig) {
  auto ex = co_await asio::this_coro::executor;
  tcp::resolver resolver(ex);
  auto endpoints = co_await resolver.async_resolve(p.host, p.port, use_awaitable);

  idle_pool idle;
  if (p.idle > 0) {
    idle.socks.reserve(static_cast<std::size_t>(p.idle));
    for (long i = 0; i < p.idle; ++i) idle.socks.emplace_back(ex);
    if (p.server_pid > 0) fig.rss_before = proc_rss_kb(p.server_pid);
    fig.open_s = co_await idle_pass(idle, endpoints.begin()->endpoint(), true, p.idle_timeout);
    fig.open_errors = idle.errors;
    if (idle.timed_out)  // the server stopped answering: the measured phase would hang too
      throw std::runtime_error("opening " + std::to_string(p.idle) + " idle connections timed out (" +
                               std::to_string(idle.errors) + " failed)");
    if (p.server_pid > 0) fig.rss_idle = proc_rss_kb(p.server_pid);
  }

  std::vector<tcp::socket> socks;
  socks.reserve(static_cast<std::size_t>(p.conns));
  for (long i = 0; i < p.conns; ++i) {
    tcp::socket s(ex);
    co_await asio::async_connect(s, endpoints, use_awaitable);
    s.set_option(tcp::no_delay(true));
    socks.push_back(std::move(s));
  }

  peer::latch done(ex, socks.size());
  asio::steady_timer deadline(ex);
  double cpu0 = (p.idle > 0 && p.server_pid > 0) ? proc_cpu_s(p.server_pid) : -1;
  auto t0 = peer::clock::now();
  for (auto& s : socks)
    asio::co_spawn(ex, exchange_loop(std::move(s), static_cast<std::size_t>(p.size), p.verify, st, done),
                   asio::detached);
  deadline.expires_at(t0 + std::chrono::duration_cast<peer::clock::duration>(
                               std::chrono::duration<double>(p.secs)));
  co_await deadline.async_wait(use_awaitable);
  st.stop = true;  // stop issuing; in-flight exchanges complete
  co_await done.wait();
  secs = peer::seconds(t0, st.end);
  if (cpu0 >= 0) {
    double cpu1 = proc_cpu_s(p.server_pid);
    if (cpu1 >= 0) fig.cpu_active_s = cpu1 - cpu0;
  }

  if (p.idle > 0) {
    fig.check_s = co_await idle_pass(idle, endpoints.begin()->endpoint(), false, p.idle_timeout);
    fig.check_errors = idle.errors;
    if (p.server_pid > 0) fig.rss_end = proc_rss_kb(p.server_pid);
    boost::system::error_code ec;
    for (auto& s : idle.socks) s.close(ec);
  }
}

}  // namespace

int main(int argc, char** argv) {
  peer::flags fl(argc, argv);
  params p;
  p.host = fl.str("--host", p.host);
  p.port = fl.str("--port", "");
  p.conns = fl.num("--conns", p.conns);
  p.size = fl.num("--size", p.size);
  p.secs = fl.real("--secs", p.secs);
  p.verify = fl.num("--verify", 0) != 0;
  p.idle = fl.num("--idle", 0);
  p.server_pid = fl.num("--server-pid", 0);
  p.idle_timeout = fl.real("--idle-timeout", p.idle_timeout);
  if (p.port.empty() || p.conns < 1 || p.size < 1 || p.secs <= 0 || p.idle < 0 || p.idle_timeout <= 0) {
    std::fprintf(stderr,
                 "usage: w5_echo_client --port P [--host H] [--conns 50] [--size 1024] [--secs 10]\n"
                 "                      [--verify 1] [--idle N [--server-pid PID] [--idle-timeout 60]]\n");
    return 2;
  }
  if (p.idle > 0) raise_nofile();
  state st;
  idle_figures fig;
  double secs = 0;
  try {
    peer::run_main(run(p, st, secs, fig));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "w5_echo_client: %s\n", e.what());
    return 1;
  }
  double msgs = static_cast<double>(st.msgs);
  long errors = st.errors + fig.open_errors + fig.check_errors;
  std::string extra;
  if (p.idle > 0) {
    char buf[512];
    std::snprintf(buf, sizeof buf,
                  ",\"idle\":%ld,\"idle_open_s\":%.6f,\"idle_check_s\":%.6f,\"idle_open_errors\":%ld,"
                  "\"idle_check_errors\":%ld",
                  p.idle, fig.open_s, fig.check_s, fig.open_errors, fig.check_errors);
    extra += buf;
    if (p.server_pid > 0) {
      auto kb = [](long v) { return v >= 0 ? std::to_string(v) : std::string("null"); };
      extra += ",\"server_rss_before_idle_kb\":" + kb(fig.rss_before) +
               ",\"server_rss_idle_kb\":" + kb(fig.rss_idle) + ",\"server_rss_end_kb\":" + kb(fig.rss_end);
      if (fig.rss_before >= 0 && fig.rss_idle >= 0) {
        std::snprintf(buf, sizeof buf, ",\"kb_per_idle_conn\":%.3f",
                      static_cast<double>(fig.rss_idle - fig.rss_before) / static_cast<double>(p.idle));
        extra += buf;
      }
      if (fig.cpu_active_s >= 0) {
        std::snprintf(buf, sizeof buf, ",\"server_cpu_active_s\":%.3f", fig.cpu_active_s);
        extra += buf;
      }
    }
  }
  std::printf(
      "{\"workload\":\"%s\",\"client\":\"asio\",\"msgs_per_s\":%.1f,\"mb_per_s\":%.3f,\"msgs\":%llu,"
      "\"secs\":%.6f,\"conns\":%ld,\"size\":%ld,\"errors\":%ld,\"mismatches\":%ld%s}\n",
      p.idle > 0 ? "w5_idle" : "w5_echo", msgs / secs, msgs * p.size / secs / 1e6,
      static_cast<unsigned long long>(st.msgs), secs, p.conns, p.size, errors, st.mismatches, extra.c_str());
  return (errors || st.mismatches) ? 1 : 0;
}
