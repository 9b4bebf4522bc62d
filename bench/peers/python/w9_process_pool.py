#!/usr/bin/python3
"""W9 process pool: (a) N calls of add(a, b) on 2 worker processes, submitted
from asyncio with run_in_executor and all awaited; (b) 64 CPU-bound calls of
about 20 ms each on 1 worker, then on 2."""
import argparse
import asyncio
import json
import time
from concurrent.futures import ProcessPoolExecutor


def add(a, b):
    return a + b


def crunch(rounds):
    h = 1469598103934665603
    for i in range(rounds):
        h = ((h ^ i) * 1099511628211) & 0xFFFFFFFFFFFFFFFF
    return h


async def cpu_batch(workers, calls, rounds):
    loop = asyncio.get_running_loop()
    with ProcessPoolExecutor(max_workers=workers) as pool:
        await asyncio.gather(*[loop.run_in_executor(pool, add, i, 0) for i in range(workers)])
        t0 = time.perf_counter()
        await asyncio.gather(*[loop.run_in_executor(pool, crunch, rounds) for _ in range(calls)])
        return time.perf_counter() - t0


async def main(n, cpu, rounds):
    loop = asyncio.get_running_loop()
    with ProcessPoolExecutor(max_workers=2) as pool:
        await asyncio.gather(loop.run_in_executor(pool, add, 1, 1),
                             loop.run_in_executor(pool, add, 1, 1))
        t0 = time.perf_counter()
        results = await asyncio.gather(*[loop.run_in_executor(pool, add, i, 1) for i in range(n)])
        per_s = n / (time.perf_counter() - t0)
        if sum(results) != n * (n + 1) // 2:
            raise SystemExit("bad sum")
    one = await cpu_batch(1, cpu, rounds)
    two = await cpu_batch(2, cpu, rounds)
    return {"small_calls": n, "small_calls_per_s": per_s, "cpu_calls": cpu,
            "cpu_wall_s_1worker": one, "cpu_wall_s_2workers": two}


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--n", type=int, default=100000)
    p.add_argument("--cpu", type=int, default=64)
    # Python is ~100x slower per round: about 20 ms per call.
    p.add_argument("--rounds", type=int, default=200000)
    p.add_argument("--loop", choices=("asyncio", "uvloop"), default="asyncio")
    a = p.parse_args()
    if a.loop == "uvloop":
        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    print(json.dumps(asyncio.run(main(a.n, a.cpu, a.rounds))))
