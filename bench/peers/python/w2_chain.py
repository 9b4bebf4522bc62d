#!/usr/bin/python3
"""W2 chain: `await create_task(trivial())` N_task times, then `await trivial()` N_await times."""
import argparse
import asyncio
import json
import time


async def trivial():
    return 1


async def main(n_task, n_await):
    create_task = asyncio.create_task
    acc = 0
    t0 = time.perf_counter()
    for _ in range(n_task):
        acc += await create_task(trivial())
    t1 = time.perf_counter()
    for _ in range(n_await):
        acc += await trivial()
    t2 = time.perf_counter()
    if acc != n_task + n_await:
        raise SystemExit(f"bad acc {acc}")
    return {
        "n_task": n_task,
        "n_await": n_await,
        "task_ns_per_op": (t1 - t0) / n_task * 1e9,
        "await_ns_per_op": (t2 - t1) / n_await * 1e9,
        "task_s": t1 - t0,
        "await_s": t2 - t1,
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
    ap.add_argument("--n-task", type=int, default=1_000_000)
    ap.add_argument("--n-await", type=int, default=10_000_000)
    args = ap.parse_args()
    res = run(main(args.n_task, args.n_await), args.loop)
    print(json.dumps({"workload": "w2_chain", "peer": args.loop, **res}), flush=True)
