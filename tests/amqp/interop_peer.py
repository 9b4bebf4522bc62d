#!/usr/bin/python3
"""The interop test's peer, written with aioamqp (a client nobody here wrote).

usage: interop_peer.py PORT USER PASSWORD FROM_QUEUE TO_QUEUE N

Consumes N messages from FROM_QUEUE (acking each) and prints them as one
JSON list (body, properties, headers); then publishes N messages with
properties and headers of several types to TO_QUEUE, then closes (the server has them by then: one TCP stream, in order).
"""
import asyncio
import datetime
import decimal
import json
import sys

import aioamqp


def plain(value):
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, (decimal.Decimal, datetime.datetime)):
        return str(value)
    return value


async def main(port, user, password, src, dst, n):
    transport, protocol = await aioamqp.connect(
        "127.0.0.1", port, login=user, password=password, virtualhost="/")
    channel = await protocol.channel()
    await channel.queue_declare(src)
    await channel.queue_declare(dst)
    got = []
    done = asyncio.Event()

    async def on_message(ch, body, envelope, properties):
        got.append({
            "body": body.decode(),
            "routing_key": envelope.routing_key,
            "content_type": properties.content_type,
            "delivery_mode": properties.delivery_mode,
            "correlation_id": properties.correlation_id,
            "reply_to": properties.reply_to,
            "message_id": properties.message_id,
            "expiration": properties.expiration,
            "headers": plain(properties.headers),
        })
        await ch.basic_client_ack(envelope.delivery_tag)
        if len(got) == n:
            done.set()

    await channel.basic_consume(on_message, queue_name=src)
    await asyncio.wait_for(done.wait(), 30)
    for i in range(n):
        await channel.basic_publish(
            payload=("from python %d" % i).encode(), exchange_name="", routing_key=dst,
            properties={
                "content_type": "text/plain",
                "delivery_mode": 2,
                "correlation_id": "py-%d" % i,
                "reply_to": "py-replies",
                "message_id": "py-msg-%d" % i,
                "headers": {"lang": "python", "n": i, "flag": True, "pi": 3.5,
                            "nested": {"k": "v"}, "list": [1, "two"]},
            })
    print(json.dumps(got))
    await protocol.close()
    transport.close()


if __name__ == "__main__":
    a = sys.argv
    asyncio.run(main(int(a[1]), a[2], a[3], a[4], a[5], int(a[6])))
