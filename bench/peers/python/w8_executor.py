#!/usr/bin/python3
"""W8 executor: N trivial calls on a 4-thread pool in batches of 1000, via
loop.run_in_executor and via asyncio.to_thread (default executor = same pool)."""
import argparse
import asyncio
import json
import time
from concurrent.futures import ThreadPoolExecutor


def blocking():
    return 1


async def main(n, batch, threads):
    loop = asyncio.get_running_loop()
    pool = ThreadPoolExecutor(max_workers=threads)
    loop.set_default_executor(pool)
    gather = asyncio.gather
    run_in_executor = loop.run_in_executor
    to_thread = asyncio.to_thread
    rounds = n // batch

    # warm the pool: 16 concurrent calls
    await gather(*[run_in_executor(pool, blocking) for _ in range(16)])

    t0 = time.perf_counter()
    for _ in range(rounds):
        s = sum(await gather(*[run_in_executor(pool, blocking) for _ in range(batch)]))
        if s != batch:
            raise SystemExit(f"bad sum {s}")
    t1 = time.perf_counter()
    for _ in range(rounds):
        s = sum(await gather(*[to_thread(blocking) for _ in range(batch)]))
        if s != batch:
            raise SystemExit(f"bad sum {s}")
    t2 = time.perf_counter()
    done = rounds * batch
    return {
        "n": done,
        "batch": batch,
        "threads": threads,
        "run_in_executor_ops_s": done / (t1 - t0),
        "to_thread_ops_s": done / (t2 - t1),
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
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--batch", type=int, default=1000)
    ap.add_argument("--threads", type=int, default=4)
    args = ap.parse_args()
    res = run(main(args.n, args.batch, args.threads), args.loop)
    print(json.dumps({"workload": "w8_executor", "peer": args.loop, **res}), flush=True)
