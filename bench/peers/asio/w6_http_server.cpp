// W6 HTTP hello world with Boost.Beast: one C++20 coroutine per connection
// (read a request, answer GET / with 200 "Hello, World!" as text/plain, keep-alive),
// single-threaded io_context, backlog 4096, Date and Server headers as Beast's
// examples send them (Beast adds none by itself: the Date header is formatted once
// per second like nginx and corio do). Serves until SIGTERM/SIGINT, then exits 0.
#include "common.hpp"

#include <sys/resource.h>

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <ctime>

namespace {

namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;

// The Date header, formatted again when the second changes.
std::string date_header() {
  static std::time_t last = 0;
  static std::string text;
  std::time_t now = std::time(nullptr);
  if (now != last) {
    last = now;
    char buf[64];
    std::tm tm{};
    ::gmtime_r(&now, &tm);
    std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    text = buf;
  }
  return text;
}

awaitable<void> session(tcp::socket sock) {
  boost::system::error_code ec;
  sock.set_option(tcp::no_delay(true), ec);
  beast::flat_buffer buf;
  for (;;) {
    http::request<http::string_body> req;
    co_await http::async_read(sock, buf, req, asio::redirect_error(use_awaitable, ec));
    if (ec) break;  // EOF, reset or a malformed request
    http::response<http::string_body> res;
    res.version(req.version());
    res.keep_alive(req.keep_alive());
    res.set(http::field::server, "Beast");
    res.set(http::field::date, date_header());
    if (req.method() == http::verb::get && req.target() == "/") {
      res.result(http::status::ok);
      res.set(http::field::content_type, "text/plain");
      res.body() = "Hello, World!";
    } else {
      res.result(http::status::not_found);
    }
    res.prepare_payload();
    co_await http::async_write(sock, res, asio::redirect_error(use_awaitable, ec));
    if (ec || !res.keep_alive()) break;
  }
  sock.shutdown(tcp::socket::shutdown_send, ec);
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
  if (port < 0 || port > 65535) {
    std::fprintf(stderr, "usage: w6_http_server --port P\n");
    return 2;
  }
  rlimit lim{};  // -c1000 needs more than 1024 fds
  if (::getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &lim);
  }
  try {
    asio::io_context ctx(1);
    tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port));
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
    std::fprintf(stderr, "w6_http_server: %s\n", e.what());
    return 1;
  }
  return 0;
}
