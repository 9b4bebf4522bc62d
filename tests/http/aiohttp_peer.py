#!/usr/bin/python3
"""aiohttp as the peer of corio's HTTP tests (Debian python3-aiohttp).

client PORT: hits a corio server with aiohttp's ClientSession (one
    keep-alive connection) and prints one line per answer.
server: serves a small aiohttp app on a free loopback port, prints
    "port N", and runs until stdin closes.
"""
import asyncio
import sys

import aiohttp
from aiohttp import web


async def client(port):
    base = f"http://127.0.0.1:{port}"
    conn = aiohttp.TCPConnector(limit=1)
    async with aiohttp.ClientSession(connector=conn) as s:
        async with s.get(base + "/") as r:
            print(r.status, r.headers["Content-Type"], await r.text())
        async with s.get(base + "/hello/aiohttp?x=1") as r:
            print(r.status, await r.text())
        async with s.post(base + "/echo", data=b"x" * 100000) as r:
            body = await r.read()
            print(r.status, len(body), body == b"x" * 100000)

        async def gen():
            for part in (b"chunk1 ", b"chunk2"):
                yield part

        async with s.post(base + "/echo", data=gen()) as r:
            print(r.status, await r.text())
        async with s.get(base + "/missing") as r:
            print(r.status, await r.text())
        async with s.delete(base + "/") as r:
            print(r.status, r.headers["Allow"])
        async with s.head(base + "/hello/x") as r:
            print(r.status, r.headers["Content-Length"], await r.read())


async def server():
    async def index(request):
        return web.Response(text="<h1>Index</h1>", content_type="text/html")

    async def hello(request):
        return web.Response(text=f"hello, {request.match_info['name']}!")

    async def echo(request):
        return web.Response(body=await request.read())

    async def status(request):
        return web.Response(text="teapot", status=418)

    async def found(request):
        raise web.HTTPFound("/hello/redirected")

    async def permanent(request):
        raise web.HTTPPermanentRedirect("/echo")

    async def echo_chunked(request):
        body = await request.read()
        te = request.headers.get("Transfer-Encoding", "-")
        return web.Response(text=f"{te} {len(body)} {body[:12].decode()}")

    app = web.Application()
    app.router.add_get("/found", found)
    app.router.add_post("/permanent", permanent)
    app.router.add_post("/echo_te", echo_chunked)
    app.router.add_get("/", index)
    app.router.add_get("/hello/{name}", hello)
    app.router.add_post("/echo", echo)
    app.router.add_get("/status", status)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    print("port", port, flush=True)
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.read)
    await runner.cleanup()


if __name__ == "__main__":
    if sys.argv[1] == "client":
        asyncio.run(client(int(sys.argv[2])))
    else:
        asyncio.run(server())
