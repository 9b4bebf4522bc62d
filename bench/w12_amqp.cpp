// bench/w12_amqp.cpp - W12 (bench/README.md): 200,000 persistent messages
// of 1 KiB published with publisher confirms to a durable queue while 4
// consumers (prefetch 100) ack them one by one; one JSON line with
// publish_confirmed_per_s, consume_acked_per_s and end_to_end_p99_ms.
//
//   w12_amqp --port P --user U --password W --vhost V
//            [--n 200000] [--size 1024] [--consumers 4] [--prefetch 100] [--window 1000]
//            [--queue w12]
//
// The publisher keeps up to --window confirms in flight (a deque of the
// publishes' futures, awaited in order). Each body starts with the send
// time (steady_clock, ns, 16 hex digits); a consumer's latency sample is
// the time of its receipt minus that.
#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <corio/amqp.hpp>
#include <corio/corio.hpp>
#include <cstdio>
#include <cstring>
#include <deque>
#include <string>
#include <vector>

#include "bench_common.hpp"

namespace amqp = corio::amqp;
using corio::Task;

namespace {

std::string str_flag(int argc, char** argv, std::string_view name, std::string def) {
    for (int i = 1; i + 1 < argc; ++i) {
        if (name == argv[i]) {
            return argv[i + 1];
        }
    }
    return def;
}

std::uint64_t now_ns() {
    return static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(bench::clock::now().time_since_epoch())
            .count());
}

struct Run {
    long n = 0;
    long acked = 0;
    std::vector<double> latency_ms;
    bench::clock::time_point start, published, consumed;
    corio::Event done;
};

Task<void> publish(amqp::Channel ch, std::string queue, long n, std::size_t size, long window,
                   Run& run) {
    amqp::Properties persistent;
    persistent.delivery_mode = 2;
    std::string body(size, 'x');
    std::deque<corio::Future<void>> inflight;
    char stamp[17];
    for (long i = 0; i < n; ++i) {
        std::snprintf(stamp, sizeof stamp, "%016" PRIx64, now_ns());
        std::memcpy(body.data(), stamp, 16);
        inflight.push_back(ch.basic_publish(body, "", queue, persistent));
        if (static_cast<long>(inflight.size()) >= window) {
            co_await inflight.front();
            inflight.pop_front();
        }
    }
    for (auto& f : inflight) {
        co_await f;
    }
    run.published = bench::clock::now();
}

Task<void> consume(amqp::Channel ch, std::string queue, Run& run) {
    auto messages = ch.basic_consume(queue);
    while (auto m = co_await messages.next()) {
        std::uint64_t sent = std::strtoull(m->body.substr(0, 16).c_str(), nullptr, 16);
        run.latency_ms.push_back(static_cast<double>(now_ns() - sent) / 1e6);
        ch.basic_ack(m->delivery_tag);
        if (++run.acked == run.n) {
            run.consumed = bench::clock::now();
            run.done.set();
        }
    }
}

Task<int> amain(int argc, char** argv) {
    amqp::ConnectionOptions o;
    o.port = static_cast<std::uint16_t>(bench::flag(argc, argv, "--port", 5672));
    o.user = str_flag(argc, argv, "--user", "guest");
    o.password = str_flag(argc, argv, "--password", "guest");
    o.vhost = str_flag(argc, argv, "--vhost", "/");
    const long n = bench::flag(argc, argv, "--n", 200000);
    const auto size = static_cast<std::size_t>(bench::flag(argc, argv, "--size", 1024));
    const long consumers = bench::flag(argc, argv, "--consumers", 4);
    const auto prefetch = static_cast<std::uint16_t>(bench::flag(argc, argv, "--prefetch", 100));
    const long window = bench::flag(argc, argv, "--window", 1000);
    // Its own queue per process, so several clients can load one server at
    // once (the way docs/benchmarks.md probes the server's own limit).
    const std::string queue = str_flag(argc, argv, "--queue", "w12");

    auto pconn = co_await amqp::Connection::connect(o);
    auto pch = co_await pconn.channel();
    co_await pch.queue_delete(queue);
    amqp::QueueOptions durable;
    durable.durable = true;
    co_await pch.queue_declare(queue, durable);
    co_await pch.confirm_select();
    auto cconn = co_await amqp::Connection::connect(o);

    Run run;
    run.n = n;
    run.latency_ms.reserve(static_cast<std::size_t>(n));
    std::vector<corio::TaskHandle<void>> tasks;
    for (long c = 0; c < consumers; ++c) {
        auto ch = co_await cconn.channel();
        co_await ch.basic_qos(prefetch);
        tasks.push_back(corio::create_task(consume(ch, queue, run)));
    }
    run.start = bench::clock::now();
    co_await publish(pch, queue, n, size, window, run);
    co_await run.done.wait();
    co_await cconn.close();  // ends the consumers' iterations
    for (auto& t : tasks) {
        try {
            co_await t;
        } catch (const amqp::AmqpError&) {
        }
    }
    co_await pch.queue_delete(queue);
    co_await pconn.close();

    std::sort(run.latency_ms.begin(), run.latency_ms.end());
    const double p99 = run.latency_ms[static_cast<std::size_t>(0.99 * (run.latency_ms.size() - 1))];
    const double pub_s = bench::seconds_between(run.start, run.published);
    const double con_s = bench::seconds_between(run.start, run.consumed);
    std::printf(
        "{\"n\": %ld, \"size\": %zu, \"consumers\": %ld, \"prefetch\": %u, \"window\": %ld, "
        "\"publish_s\": %.3f, \"consume_s\": %.3f, \"publish_confirmed_per_s\": %.0f, "
        "\"consume_acked_per_s\": %.0f, \"end_to_end_p50_ms\": %.2f, \"end_to_end_p99_ms\": %.2f, "
        "\"rss_kb\": %ld}\n",
        n, size, consumers, static_cast<unsigned>(prefetch), window, pub_s, con_s, n / pub_s,
        n / con_s, run.latency_ms[run.latency_ms.size() / 2], p99, bench::rss_kb());
    co_return 0;
}

}  // namespace

int main(int argc, char** argv) {
    return corio::run(amain(argc, argv));
}
