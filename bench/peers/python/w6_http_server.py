#!/usr/bin/python3
"""W6 HTTP hello world with aiohttp on 127.0.0.1:PORT: GET / -> 200 "Hello, World!"
(text/plain, web.Response(text=...)), keep-alive, one event loop, access log off.
--loop asyncio (default) or uvloop. Serves until SIGTERM (or SIGINT), then exits 0.
Prints nothing on stdout."""
import argparse
import asyncio
import resource

from aiohttp import web


async def hello(request):
    return web.Response(text="Hello, World!")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--loop", choices=("asyncio", "uvloop"), default="asyncio")
    args = ap.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    if args.loop == "uvloop":
        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    app = web.Application()
    app.router.add_get("/", hello)
    # run_app stops gracefully on SIGINT and SIGTERM and returns
    web.run_app(app, host="127.0.0.1", port=args.port, access_log=None, print=None,
                backlog=4096, shutdown_timeout=1)


if __name__ == "__main__":
    main()
