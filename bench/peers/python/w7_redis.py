#!/usr/bin/python3
"""W7 Redis client: redis.asyncio (redis-py), the same workload as bench/w7_redis.

N keys key:<i> = "xxx", T tasks (task t takes i = t, t+T, ...): SET then GET one
command awaited at a time, then SET and GET again (the keys exist) in pipelines of B
consecutive keys (no MULTI; batch j on task j mod T). Connections from one ConnectionPool of up to T.
"""
import argparse
import asyncio
import json
import resource
import time

import redis.asyncio as aioredis


async def main(port, n, tasks, batch):
    r = aioredis.Redis(host="127.0.0.1", port=port, max_connections=tasks)
    await r.flushall()

    async def plain(t, is_set):
        for i in range(t, n, tasks):
            key = f"key:{i}"
            if is_set:
                await r.set(key, "xxx")
            elif await r.get(key) != b"xxx":
                raise SystemExit(f"GET {key}: wrong value")

    async def piped(t, is_set):
        batches = (n + batch - 1) // batch
        for j in range(t, batches, tasks):
            pipe = r.pipeline(transaction=False)
            for i in range(j * batch, min(n, (j + 1) * batch)):
                if is_set:
                    pipe.set(f"key:{i}", "xxx")
                else:
                    pipe.get(f"key:{i}")
            replies = await pipe.execute()
            if not is_set and any(v != b"xxx" for v in replies):
                raise SystemExit("pipelined GET: wrong value")

    async def phase(body, is_set):
        t0 = time.perf_counter()
        await asyncio.gather(*(body(t, is_set) for t in range(tasks)))
        return n / (time.perf_counter() - t0)

    res = {"n": n, "tasks": tasks, "batch": batch}
    res["set_ops_s"] = await phase(plain, True)
    res["get_ops_s"] = await phase(plain, False)
    res["pipe_set_ops_s"] = await phase(piped, True)
    res["pipe_get_ops_s"] = await phase(piped, False)
    res["connections"] = len(r.connection_pool._available_connections) + len(
        r.connection_pool._in_use_connections)
    await r.close()
    res["rss_kb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return res


def run(coro, loop_name):
    if loop_name == "uvloop":
        import uvloop
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            return runner.run(coro)
    return asyncio.run(coro)


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--loop", choices=("asyncio", "uvloop"), default="asyncio")
    ap.add_argument("--port", type=int, default=6379)
    ap.add_argument("--n", type=int, default=200_000)
    ap.add_argument("--tasks", type=int, default=50)
    ap.add_argument("--batch", type=int, default=100)
    args = ap.parse_args()
    res = run(main(args.port, args.n, args.tasks, args.batch), args.loop)
    print(json.dumps({"workload": "w7_redis", "peer": args.loop, **res}), flush=True)
