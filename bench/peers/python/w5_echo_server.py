#!/usr/bin/python3
"""W5 TCP echo server on 127.0.0.1:PORT. Default: asyncio streams
(reader.read(65536) / writer.write / await writer.drain()); --protocol: asyncio.Protocol.
Serves until SIGTERM (or SIGINT), then exits with status 0. Prints nothing on stdout.
Raises RLIMIT_NOFILE to its hard limit (the W5 idle variant holds 10,100 connections)."""
import argparse
import asyncio
import resource
import signal
import socket
import sys

READ_SIZE = 65536

# live connections, so that SIGTERM can close them and let their handlers finish
_writers = set()
_handlers = set()
_transports = set()


def set_nodelay(sock):
    if sock is not None:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


async def handle(reader, writer):
    set_nodelay(writer.get_extra_info("socket"))
    task = asyncio.current_task()
    _writers.add(writer)
    _handlers.add(task)
    read = reader.read
    write = writer.write
    drain = writer.drain
    try:
        while True:
            data = await read(READ_SIZE)
            if not data:
                break
            write(data)
            await drain()
    except (ConnectionError, OSError):
        pass
    finally:
        _writers.discard(writer)
        _handlers.discard(task)
        writer.close()


class EchoProtocol(asyncio.Protocol):
    __slots__ = ("transport",)

    def connection_made(self, transport):
        self.transport = transport
        _transports.add(transport)
        set_nodelay(transport.get_extra_info("socket"))

    def connection_lost(self, exc):
        _transports.discard(self.transport)

    def data_received(self, data):
        self.transport.write(data)

    def eof_received(self):
        return False  # close the transport

    # back-pressure: stop reading while the peer is not consuming our writes
    def pause_writing(self):
        self.transport.pause_reading()

    def resume_writing(self):
        self.transport.resume_reading()


async def main(host, port, protocol):
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    if protocol:
        server = await loop.create_server(EchoProtocol, host, port, backlog=4096, reuse_address=True)
    else:
        server = await asyncio.start_server(handle, host, port, backlog=4096, reuse_address=True)
    await stop.wait()
    server.close()
    for w in list(_writers):
        w.transport.abort()  # handlers see EOF and return
    for t in list(_transports):
        t.abort()
    if _handlers:
        await asyncio.gather(*list(_handlers), return_exceptions=True)
    await asyncio.sleep(0)  # let connection_lost callbacks run


def raise_nofile():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        except (ValueError, OSError) as e:
            print(f"w5_echo_server.py: setrlimit(RLIMIT_NOFILE): {e}", file=sys.stderr)


def run(coro, loop_name):
    if loop_name == "uvloop":
        import uvloop
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            return runner.run(coro)
    return asyncio.run(coro)


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--loop", choices=("asyncio", "uvloop"), default="asyncio")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--protocol", action="store_true", help="use asyncio.Protocol instead of streams")
    args = ap.parse_args()
    raise_nofile()
    run(main(args.host, args.port, args.protocol), args.loop)
