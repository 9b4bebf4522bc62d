#!/usr/bin/python3
"""W12 AMQP: aioamqp on uvloop, the same workload as bench/w12_amqp.

N persistent messages of SIZE bytes published with publisher confirms to a
fresh durable queue "w12" (up to WINDOW publishes awaiting their confirms at
once), while C consumers (one channel each on a second connection, prefetch
P) ack them one by one. Each body starts with the send time
(time.monotonic_ns, 16 hex digits); the latency sample is receipt minus that.

usage: w12_aioamqp.py --port P --user U --password W --vhost V
                      [--n 200000] [--size 1024] [--consumers 4] [--prefetch 100] [--window 1000]
                      [--loop uvloop|asyncio]

aioamqp 0.15's Channel.basic_server_ack resolves only the waiter of the tag it
names and ignores the ack's `multiple` flag, which RabbitMQ sets when it
confirms several publishes at once: the waiters of the earlier tags would
never resolve. The peer installs an ack handler that resolves every waiting
tag up to the acked one when `multiple` is set (the spec's meaning); nothing
else of aioamqp is changed.
"""
import argparse
import asyncio
import json
import resource
import time

import aioamqp
import aioamqp.channel


async def _basic_server_ack(self, frame):
    tag = frame.delivery_tag
    tags = [tag]
    if frame.multiple:
        prefix = "basic_server_ack_"
        tags = sorted(int(k[len(prefix):]) for k in self._futures
                      if k.startswith(prefix) and int(k[len(prefix):]) <= tag)
    for t in tags:
        fut = self._futures.pop(f"basic_server_ack_{t}", None)
        if fut is not None and not fut.done():
            fut.set_result(True)


aioamqp.channel.Channel.basic_server_ack = _basic_server_ack


async def main(a):
    _, pproto = await aioamqp.connect("127.0.0.1", a.port, login=a.user,
                                      password=a.password, virtualhost=a.vhost)
    _, cproto = await aioamqp.connect("127.0.0.1", a.port, login=a.user,
                                      password=a.password, virtualhost=a.vhost)
    pch = await pproto.channel()
    await pch.queue_delete("w12")
    await pch.queue_declare("w12", durable=True)
    await pch.confirm_select()

    latencies = []
    acked = 0
    done = asyncio.Event()
    consumed_at = [0.0]

    async def on_message(ch, body, envelope, properties):
        nonlocal acked
        latencies.append((time.monotonic_ns() - int(body[:16], 16)) / 1e6)
        await ch.basic_client_ack(envelope.delivery_tag)
        acked += 1
        if acked == a.n:
            consumed_at[0] = time.perf_counter()
            done.set()

    for _ in range(a.consumers):
        ch = await cproto.channel()
        await ch.basic_qos(prefetch_count=a.prefetch)
        await ch.basic_consume(on_message, queue_name="w12")

    filler = b"x" * (a.size - 16)
    props = {"delivery_mode": 2}

    async def publish_one():
        body = b"%016x" % time.monotonic_ns() + filler
        await pch.publish(body, "", "w12", properties=props)

    start = time.perf_counter()
    pending = set()
    for _ in range(a.n):
        pending.add(asyncio.ensure_future(publish_one()))
        if len(pending) >= a.window:
            finished, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            for f in finished:
                f.result()
    if pending:
        await asyncio.gather(*pending)
    published_at = time.perf_counter()
    await done.wait()
    await pch.queue_delete("w12")
    await cproto.close()
    await pproto.close()

    latencies.sort()
    pub_s = published_at - start
    con_s = consumed_at[0] - start
    print(json.dumps({
        "workload": "W12", "peer": "aioamqp-" + a.loop,
        "n": a.n, "size": a.size, "consumers": a.consumers, "prefetch": a.prefetch,
        "window": a.window, "publish_s": round(pub_s, 3), "consume_s": round(con_s, 3),
        "publish_confirmed_per_s": round(a.n / pub_s),
        "consume_acked_per_s": round(a.n / con_s),
        "end_to_end_p50_ms": round(latencies[len(latencies) // 2], 2),
        "end_to_end_p99_ms": round(latencies[int(0.99 * (len(latencies) - 1))], 2),
        "rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    }))


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, default=5672)
    p.add_argument("--user", default="guest")
    p.add_argument("--password", default="guest")
    p.add_argument("--vhost", default="/")
    p.add_argument("--n", type=int, default=200000)
    p.add_argument("--size", type=int, default=1024)
    p.add_argument("--consumers", type=int, default=4)
    p.add_argument("--prefetch", type=int, default=100)
    p.add_argument("--window", type=int, default=1000)
    p.add_argument("--loop", choices=["uvloop", "asyncio"], default="uvloop")
    args = p.parse_args()
    if args.loop == "uvloop":
        import uvloop
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            runner.run(main(args))
    else:
        asyncio.run(main(args))
