#!/usr/bin/python3
"""W4 queue: asyncio.Queue(1024), P producers x K items, C consumers, join."""
import argparse
import asyncio
import json
import time


async def main(cap, producers, k, consumers):
    q = asyncio.Queue(cap)
    received = [0] * consumers

    async def consumer(idx):
        get = q.get
        task_done = q.task_done
        n = 0
        try:
            while True:
                await get()
                task_done()
                n += 1
        finally:
            received[idx] = n

    async def producer():
        put = q.put
        for i in range(k):
            await put(i)

    create_task = asyncio.create_task
    t0 = time.perf_counter()
    cons = [create_task(consumer(c)) for c in range(consumers)]
    prods = [create_task(producer()) for _ in range(producers)]
    await asyncio.gather(*prods)
    await q.join()
    wall = time.perf_counter() - t0
    for c in cons:
        c.cancel()
    await asyncio.gather(*cons, return_exceptions=True)
    items = producers * k
    if sum(received) != items:
        raise SystemExit(f"consumers received {sum(received)} items, expected {items}")
    return {"items": items, "wall_s": wall, "items_per_s": items / wall,
            "capacity": cap, "producers": producers, "consumers": consumers}


def run(coro, loop_name):
    if loop_name == "uvloop":
        import uvloop
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            return runner.run(coro)
    return asyncio.run(coro)


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--loop", choices=("asyncio", "uvloop"), default="asyncio")
    ap.add_argument("--capacity", type=int, default=1024)
    ap.add_argument("--producers", type=int, default=4)
    ap.add_argument("--k", type=int, default=250_000, help="items per producer")
    ap.add_argument("--consumers", type=int, default=4)
    args = ap.parse_args()
    res = run(main(args.capacity, args.producers, args.k, args.consumers), args.loop)
    print(json.dumps({"workload": "w4_queue", "peer": args.loop, **res}), flush=True)
