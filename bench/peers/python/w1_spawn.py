#!/usr/bin/python3
"""W1 spawn: N tasks parked on one shared asyncio.Event, then woken and gathered."""
import argparse
import asyncio
import json
import time


def rss_kb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("VmRSS not found")


async def main(n):
    event = asyncio.Event()

    async def waiter():
        await event.wait()

    create_task = asyncio.create_task
    rss_before = rss_kb()
    t0 = time.perf_counter()
    tasks = [create_task(waiter()) for _ in range(n)]
    await asyncio.sleep(0)  # every task has now run up to its await and is parked
    t1 = time.perf_counter()
    rss_parked = rss_kb()
    t2 = time.perf_counter()
    event.set()
    await asyncio.gather(*tasks)
    t3 = time.perf_counter()
    spawn_park = t1 - t0
    wake_gather = t3 - t2
    total = spawn_park + wake_gather
    return {
        "n": n,
        "total_s": total,
        "ns_per_task": total / n * 1e9,
        "spawn_park_s": spawn_park,
        "wake_gather_s": wake_gather,
        "rss_before_kb": rss_before,
        "rss_parked_kb": rss_parked,
        "bytes_per_task": (rss_parked - rss_before) * 1024 / n,
    }


def run(coro, loop_name):
    if loop_name == "uvloop":
        import uvloop
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            return runner.run(coro)
    return asyncio.run(coro)


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--loop", choices=("asyncio", "uvloop"), default="asyncio")
    ap.add_argument("--n", type=int, default=200_000)
    args = ap.parse_args()
    res = run(main(args.n), args.loop)
    print(json.dumps({"workload": "w1_spawn", "peer": args.loop, **res}), flush=True)
