// Mirrors the tutorial's aioredis examples (《异步编程》 › 异步操作redis, examples
// 1 and 2): write a hash with hmset_dict, read it back with hgetall - once,
// then twice at once, both through one connection pool. Needs a Redis
// server: REDIS_URL (default redis://127.0.0.1:6379); the password, if any,
// goes in the URL (redis://:root!2345@127.0.0.1:6379).
//
//   async def execute(address, password):
//       redis = await aioredis.create_redis(address, password=password)
//       await redis.hmset_dict("car", key1=1, key2=2)
//       result = await redis.hgetall("car", encoding="utf8")
//       redis.close()
//       await redis.wait_closed()
//
//   asyncio.run(execute('redis://127.0.0.1:6379', "root!2345"))
//   tasks = [execute(...), execute(...)]
//   asyncio.run(asyncio.wait(tasks))
//
// In corio, a Pool is aioredis' create_redis_pool: the two executions share
// it, and their commands, issued in the same loop iteration, leave together.
#include <corio/corio.hpp>
#include <corio/redis.hpp>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>

namespace redis = corio::redis;

corio::Task<void> execute(redis::Pool& pool, std::string key) {
    std::map<std::string, int> fields{{"key1", 1}, {"key2", 2}};
    co_await pool.hset(key, fields);                                         // hmset_dict
    std::map<std::string, std::string> result = co_await pool.hgetall(key);  // hgetall
    std::printf("%s: {", key.c_str());
    const char* sep = "";
    for (const auto& [field, value] : result) {
        std::printf("%s'%s': '%s'", sep, field.c_str(), value.c_str());
        sep = ", ";
    }
    std::printf("}\n");
}

corio::Task<int> amain() {
    const char* env = std::getenv("REDIS_URL");
    std::string url = env ? env : "redis://127.0.0.1:6379";
    redis::PoolOptions options{redis::parse_url(url), 10};
    options.client.connect_attempts = 1;
    redis::Pool pool(options);
    try {
        std::printf("example 1: one execute()\n");
        co_await execute(pool, "car");
        std::printf("example 2: two at once\n");
        co_await corio::gather(execute(pool, "car:1"), execute(pool, "car:2"));
        co_await pool.del("car", "car:1", "car:2");
        std::printf("pool connections used: %zu\n", pool.size());
    } catch (const redis::ConnectionError& e) {
        std::fprintf(stderr,
                     "no Redis server: %s\n"
                     "start one (redis-server --port 6379 --save '') or set REDIS_URL\n",
                     e.what());
        co_return 1;
    }
    co_return 0;
}

int main() {
    return corio::run(amain());
}
