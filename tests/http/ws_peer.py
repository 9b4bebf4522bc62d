#!/usr/bin/python3
"""Python's websockets library as the peer of corio's WebSocket tests
(Debian python3-websockets).

server: an echo server on a free loopback port; prints "port N", echoes
    every message until the client closes, then prints the close code.
client PORT: talks to ws://127.0.0.1:PORT/ws and prints what comes back.
"""
import asyncio
import sys

import websockets


async def server():
    done = asyncio.get_running_loop().create_future()

    async def echo(ws, path=None):
        async for msg in ws:
            await ws.send(msg)
        done.set_result(ws.close_code)

    async with websockets.serve(echo, "127.0.0.1", 0) as srv:
        port = next(iter(srv.sockets)).getsockname()[1]
        print("port", port, flush=True)
        code = await done
    print("closed", code, flush=True)


async def client(port):
    async with websockets.connect(f"ws://127.0.0.1:{port}/ws") as ws:
        await ws.send("hello from python")
        print(await ws.recv())
        await ws.send(b"\x00\x01binary")
        print(repr(await ws.recv()))
        pong = await ws.ping(b"p")
        await asyncio.wait_for(pong, 5)
        print("pong")
        await ws.send("x" * 70000)
        print(len(await ws.recv()))
    print("closed", ws.close_code)


if __name__ == "__main__":
    if sys.argv[1] == "server":
        asyncio.run(server())
    else:
        asyncio.run(client(int(sys.argv[2])))
