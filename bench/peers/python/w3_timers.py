#!/usr/bin/python3
"""W3 timers: N concurrent tasks, task i does `await asyncio.sleep(d[i] ms)`; gather all."""
import argparse
import asyncio
import json
import time


def delays_ms(n):
    d = [0] * n
    s = 42
    for i in range(n):
        s = (s * 1103515245 + 12345) % 2**31
        d[i] = s % 1001
    d[0] = 1000
    return d


async def main(delays):
    sleep = asyncio.sleep
    create_task = asyncio.create_task
    t0 = time.perf_counter()
    tasks = [create_task(sleep(x)) for x in delays]
    await asyncio.gather(*tasks)
    wall = time.perf_counter() - t0
    return {"n": len(delays), "wall_s": wall, "overhead_ms": (wall - 1.0) * 1000}


def run(coro, loop_name):
    if loop_name == "uvloop":
        import uvloop
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            return runner.run(coro)
    return asyncio.run(coro)


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--loop", choices=("asyncio", "uvloop"), default="asyncio")
    ap.add_argument("--n", type=int, default=100_000)
    args = ap.parse_args()
    secs = [ms / 1000.0 for ms in delays_ms(args.n)]  # untimed preparation
    res = run(main(secs), args.loop)
    print(json.dumps({"workload": "w3_timers", "peer": args.loop, **res}), flush=True)
