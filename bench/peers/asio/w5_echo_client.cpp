// W5 echo client (the fixed client for every server): single-threaded Asio C++20
// coroutines; --conns connections with TCP_NODELAY, each loops "write --size bytes, read
// exactly --size bytes back" for --secs seconds; then stops issuing, lets in-flight
// exchanges finish and prints {"msgs_per_s","mb_per_s","msgs","secs",...} on one line.
#include "common.hpp"

#include <vector>

namespace {

using asio::ip::tcp;

struct params {
  std::string host = "127.0.0.1";
  std::string port;
  long conns = 50, size = 1024;
  double secs = 10.0;
  bool verify = false;  // --verify 1: compare every echoed byte (costs client CPU)
};

struct state {
  bool stop = false;
  std::uint64_t msgs = 0;
  long errors = 0;
  long mismatches = 0;
  peer::clock::time_point end;
};

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

awaitable<void> run(const params& p, state& st, double& secs) {
  auto ex = co_await asio::this_coro::executor;
  tcp::resolver resolver(ex);
  auto endpoints = co_await resolver.async_resolve(p.host, p.port, use_awaitable);

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
  if (p.port.empty() || p.conns < 1 || p.size < 1 || p.secs <= 0) {
    std::fprintf(stderr, "usage: w5_echo_client --port P [--host H] [--conns 50] [--size 1024] [--secs 10]\n");
    return 2;
  }
  state st;
  double secs = 0;
  try {
    peer::run_main(run(p, st, secs));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "w5_echo_client: %s\n", e.what());
    return 1;
  }
  double msgs = static_cast<double>(st.msgs);
  std::printf(
      "{\"workload\":\"w5_echo\",\"client\":\"asio\",\"msgs_per_s\":%.1f,\"mb_per_s\":%.3f,\"msgs\":%llu,"
      "\"secs\":%.6f,\"conns\":%ld,\"size\":%ld,\"errors\":%ld,\"mismatches\":%ld}\n",
      msgs / secs, msgs * p.size / secs / 1e6, static_cast<unsigned long long>(st.msgs), secs, p.conns,
      p.size, st.errors, st.mismatches);
  return (st.errors || st.mismatches) ? 1 : 0;
}
