// bench/w7_redis.cpp - W7 (BENCH.md): the Redis client against redis-server.
// N keys key:<i> with the value "xxx", T tasks, task t taking i = t, t+T, ...:
// non-pipelined SET then GET (one await per command: automatic pipelining
// is all that batches them), then SET and GET again (the keys exist, as
// bench/README.md has it and as redis-benchmark's -P 100 run finds them
// after its -P 1 run) in pipelines of B consecutive keys (batch j on task
// j mod T). Connections from a Pool of up to T, each shared
// connection carrying up to --max-pipeline commands (the pool's default: 64;
// 1 gives a connection per busy command, as the pool did before).
//
//   w7_redis --port P --n 200000 --tasks 50 --batch 100 [--max-pipeline M]
// prints {"set_ops_s":..., "get_ops_s":..., "pipe_set_ops_s":..., "pipe_get_ops_s":...}
#include <corio/corio.hpp>
#include <corio/redis.hpp>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>

#include "bench_common.hpp"

namespace redis = corio::redis;

namespace {

struct Params {
    long n, tasks, batch;
};

corio::Task<void> plain(redis::Pool& pool, Params p, long t, bool set) {
    for (long i = t; i < p.n; i += p.tasks) {
        std::string key = "key:" + std::to_string(i);
        if (set) {
            co_await pool.set(key, "xxx");
        } else if (co_await pool.get(key) != "xxx") {
            throw std::runtime_error("GET " + key + ": wrong value");
        }
    }
}

corio::Task<void> piped(redis::Pool& pool, Params p, long t, bool set) {
    const long batches = (p.n + p.batch - 1) / p.batch;
    for (long j = t; j < batches; j += p.tasks) {
        auto lease = co_await pool.acquire();
        redis::Pipeline pipe(*lease);
        for (long i = j * p.batch; i < std::min(p.n, (j + 1) * p.batch); ++i) {
            std::string key = "key:" + std::to_string(i);
            if (set) {
                pipe.execute("SET", key, "xxx");
            } else {
                pipe.execute("GET", key);
            }
        }
        for (const redis::Reply& r : co_await pipe.run()) {
            if (!set && r.as_string() != "xxx") {
                throw std::runtime_error("pipelined GET: wrong value");
            }
        }
    }
}

template <class F>
corio::Task<double> phase(redis::Pool& pool, Params p, bool set, F body) {
    auto start = bench::clock::now();
    std::vector<corio::Task<void>> tasks;
    for (long t = 0; t < p.tasks; ++t) {
        tasks.push_back(body(pool, p, t, set));
    }
    co_await corio::gather(std::move(tasks));
    co_return static_cast<double>(p.n) / bench::seconds_between(start, bench::clock::now());
}

corio::Task<void> amain(long port, Params p, long max_pipeline) {
    redis::ClientOptions client;
    client.port = static_cast<std::uint16_t>(port);
    redis::PoolOptions options{client, static_cast<std::size_t>(p.tasks)};
    if (max_pipeline > 0) {
        options.max_pipeline = static_cast<std::size_t>(max_pipeline);
    }
    redis::Pool pool(options);
    co_await pool.execute("FLUSHALL");
    double set_ops = co_await phase(pool, p, true, plain);
    double get_ops = co_await phase(pool, p, false, plain);
    std::size_t plain_connections = pool.size();
    double pipe_set = co_await phase(pool, p, true, piped);
    double pipe_get = co_await phase(pool, p, false, piped);
    std::printf(
        "{\"n\": %ld, \"tasks\": %ld, \"batch\": %ld, \"plain_connections\": %zu, "
        "\"connections\": %zu, \"set_ops_s\": %.0f, "
        "\"get_ops_s\": %.0f, \"pipe_set_ops_s\": %.0f, \"pipe_get_ops_s\": %.0f, "
        "\"rss_kb\": %ld}\n",
        p.n, p.tasks, p.batch, plain_connections, pool.size(), set_ops, get_ops, pipe_set, pipe_get,
        bench::rss_kb());
}

}  // namespace

int main(int argc, char** argv) {
    long port = bench::flag(argc, argv, "--port", 6379);
    Params p{bench::flag(argc, argv, "--n", 200000), bench::flag(argc, argv, "--tasks", 50),
             bench::flag(argc, argv, "--batch", 100)};
    long max_pipeline = bench::flag(argc, argv, "--max-pipeline", 0);
    corio::run(amain(port, p, max_pipeline));
}
