// W5 TCP echo server: one coroutine per connection, read up to 64 KiB and write it back
// until EOF; TCP_NODELAY, backlog 4096, single-threaded io_context. Serves until
// SIGTERM/SIGINT, then exits 0. Prints nothing on stdout. Raises RLIMIT_NOFILE to its hard
// limit (the W5 idle variant holds 10,100 connections).
#include "common.hpp"

#include <sys/resource.h>

#include <cerrno>
#include <memory>

namespace {

using asio::ip::tcp;
constexpr std::size_t kReadSize = 64 * 1024;

awaitable<void> session(tcp::socket sock) {
  boost::system::error_code ec;
  sock.set_option(tcp::no_delay(true), ec);
  // for_overwrite: not zeroed, so an idle connection touches only the pages a read fills
  auto buf = std::make_unique_for_overwrite<char[]>(kReadSize);
  for (;;) {
    std::size_t n = co_await sock.async_read_some(asio::buffer(buf.get(), kReadSize),
                                                  asio::redirect_error(use_awaitable, ec));
    if (ec) break;  // EOF or error
    co_await asio::async_write(sock, asio::buffer(buf.get(), n), asio::redirect_error(use_awaitable, ec));
    if (ec) break;
  }
  sock.close(ec);
}

awaitable<void> listener(tcp::acceptor& acceptor) {
  auto ex = co_await asio::this_coro::executor;
  for (;;) {
    boost::system::error_code ec;
    tcp::socket sock = co_await acceptor.async_accept(asio::redirect_error(use_awaitable, ec));
    if (ec) {
      if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
      continue;  // e.g. EMFILE, ECONNABORTED: keep serving
    }
    asio::co_spawn(ex, session(std::move(sock)), asio::detached);
  }
}

}  // namespace

int main(int argc, char** argv) {
  peer::flags fl(argc, argv);
  long port = fl.num("--port", -1);
  std::string host = fl.str("--host", "127.0.0.1");
  if (port < 0 || port > 65535) {
    std::fprintf(stderr, "usage: w5_echo_server --port P [--host 127.0.0.1]\n");
    return 2;
  }
  rlimit lim{};  // many idle connections need many fds
  if (::getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &lim) != 0)
      std::fprintf(stderr, "w5_echo_server: setrlimit(RLIMIT_NOFILE): %s\n", std::strerror(errno));
  }
  try {
    asio::io_context ctx(1);
    tcp::endpoint ep(asio::ip::make_address(host), static_cast<unsigned short>(port));
    tcp::acceptor acceptor(ctx);
    acceptor.open(ep.protocol());
    acceptor.set_option(asio::socket_base::reuse_address(true));
    acceptor.bind(ep);
    acceptor.listen(4096);

    asio::signal_set signals(ctx, SIGTERM, SIGINT);
    signals.async_wait([&](const boost::system::error_code&, int) {
      boost::system::error_code ec;
      acceptor.close(ec);
      ctx.stop();
    });
    asio::co_spawn(ctx, listener(acceptor), asio::detached);
    ctx.run();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "w5_echo_server: %s\n", e.what());
    return 1;
  }
  return 0;
}
