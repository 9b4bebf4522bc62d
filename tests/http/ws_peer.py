#!/usr/bin/python3
"""Python's websockets library as the peer of corio's WebSocket tests
(Debian python3-websockets). It negotiates permessage-deflate by default.

server [nct]: an echo server on a free loopback port; prints "port N",
    echoes every message until the client closes, then prints the
    Sec-WebSocket-Extensions it answered and the close code. With "nct":
    permessage-deflate with no context takeover both ways and an 11-bit
    server window.
client PORT: talks to ws://127.0.0.1:PORT/ws and prints what comes back,
    starting with the Sec-WebSocket-Extensions the server answered.
client-nct PORT: the same, offering no context takeover both ways and a
    10-bit server window.
"""
import asyncio
import sys

import websockets
from websockets.extensions.permessage_deflate import (
    ClientPerMessageDeflateFactory, ServerPerMessageDeflateFactory)


async def server(nct):
    done = asyncio.get_running_loop().create_future()
    ext = []

    async def echo(ws, path=None):
        ext.append(ws.response_headers.get("Sec-WebSocket-Extensions"))
        async for msg in ws:
            await ws.send(msg)
        done.set_result(ws.close_code)

    kw = {}
    if nct:
        kw["extensions"] = [ServerPerMessageDeflateFactory(
            server_no_context_takeover=True, client_no_context_takeover=True,
            server_max_window_bits=11)]
        kw["compression"] = None
    async with websockets.serve(echo, "127.0.0.1", 0, **kw) as srv:
        port = next(iter(srv.sockets)).getsockname()[1]
        print("port", port, flush=True)
        code = await done
    print("ext", ext[0], flush=True)
    print("closed", code, flush=True)


async def client(port, nct):
    kw = {}
    if nct:
        kw["extensions"] = [ClientPerMessageDeflateFactory(
            server_no_context_takeover=True, client_no_context_takeover=True,
            server_max_window_bits=10, client_max_window_bits=True)]
        kw["compression"] = None
    async with websockets.connect(f"ws://127.0.0.1:{port}/ws", **kw) as ws:
        print("ext", ws.response_headers.get("Sec-WebSocket-Extensions"))
        await ws.send("hello from python")
        print(await ws.recv())
        await ws.send(b"\x00\x01binary")
        print(repr(await ws.recv()))
        pong = await ws.ping(b"p")
        await asyncio.wait_for(pong, 5)
        print("pong")
        await ws.send("x" * 70000)
        print(len(await ws.recv()))
        # The same message twice (a back-reference with context takeover),
        # then a large one of varied text.
        for _ in range(2):
            await ws.send("hello from python")
            print(await ws.recv())
        text = "".join(f"line {i}: {i * i}\n" for i in range(30000))
        await ws.send(text)
        print(await ws.recv() == text)
    print("closed", ws.close_code)


if __name__ == "__main__":
    if sys.argv[1] == "server":
        asyncio.run(server(len(sys.argv) > 2 and sys.argv[2] == "nct"))
    else:
        asyncio.run(client(int(sys.argv[2]), sys.argv[1] == "client-nct"))
