#!/usr/bin/python3
"""Capture real HTTP/1.1 and WebSocket client bytes for corio's codec tests.

Runs a tiny loopback server that records every byte each connection sends,
answers just enough for the client to go on (200 "ok" per request, 101 and a
close frame for WebSocket), and drives curl and Python's aiohttp client
against it. The captures are written to tests/http/data/ and committed: the
unit tests read them and never need the network.

Needs: curl and python3-aiohttp (Debian), run with /usr/bin/python3:
    /usr/bin/python3 scripts/capture_http_requests.py
"""

import asyncio
import base64
import hashlib
import os
import socket
import subprocess
import sys
import threading

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "http", "data")
GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def read_head(conn, buf):
    while b"\r\n\r\n" not in buf:
        chunk = conn.recv(65536)
        if not chunk:
            return None, buf
        buf += chunk
    end = buf.index(b"\r\n\r\n") + 4
    return buf[:end], buf[end:]


def read_exact_body(conn, buf, n):
    while len(buf) < n:
        chunk = conn.recv(65536)
        if not chunk:
            break
        buf += chunk
    return buf[n:]


def read_chunked_body(conn, buf):
    while b"0\r\n\r\n" not in buf:
        chunk = conn.recv(65536)
        if not chunk:
            break
        buf += chunk
    return buf[buf.index(b"0\r\n\r\n") + 5:] if b"0\r\n\r\n" in buf else b""


class RecordingSocket:
    """A socket whose received bytes are all kept in `raw`."""

    def __init__(self, sock):
        self.sock = sock
        self.raw = bytearray()

    def recv(self, n):
        data = self.sock.recv(n)
        self.raw.extend(data)
        return data

    def sendall(self, data):
        self.sock.sendall(data)


class Recorder:
    """Accepts connections; records each one's bytes under the current name."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.port = self.sock.getsockname()[1]
        self.name = None
        self.captured = {}
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while True:
            conn, _ = self.sock.accept()
            threading.Thread(target=self.handle, args=(conn, self.name), daemon=True).start()

    def handle(self, sock, name):
        conn = RecordingSocket(sock)
        buf = b""
        try:
            while True:
                head, buf = read_head(conn, buf)
                if head is None:
                    break
                lower = head.lower()
                if b"upgrade: websocket" in lower:
                    self.websocket(conn, head, buf)
                    break
                if b"transfer-encoding: chunked" in lower:
                    buf = read_chunked_body(conn, buf)
                else:
                    n = 0
                    for line in lower.split(b"\r\n"):
                        if line.startswith(b"content-length:"):
                            n = int(line.split(b":")[1])
                    buf = read_exact_body(conn, buf, n)
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        finally:
            sock.close()
            self.captured[name] = bytes(conn.raw)

    def websocket(self, conn, head, buf):
        key = [l.split(b":", 1)[1].strip() for l in head.split(b"\r\n")
               if l.lower().startswith(b"sec-websocket-key:")][0]
        accept = base64.b64encode(hashlib.sha1(key + GUID).digest())
        conn.sendall(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                     b"Connection: Upgrade\r\nSec-WebSocket-Accept: " + accept + b"\r\n\r\n")
        # Read frames until the client's close frame (opcode 8) has arrived.
        data = bytearray(buf)
        while True:
            i, closed = 0, False
            while i + 2 <= len(data):
                op, n = data[i] & 0x0F, data[i + 1] & 0x7F
                h = 2 + (2 if n == 126 else 8 if n == 127 else 0) + 4
                if i + h > len(data):
                    break
                if n == 126:
                    n = int.from_bytes(data[i + 2:i + 4], "big")
                elif n == 127:
                    n = int.from_bytes(data[i + 2:i + 10], "big")
                if i + h + n > len(data):
                    break
                closed = closed or op == 8
                i += h + n
            if closed:
                break
            chunk = conn.recv(65536)
            if not chunk:
                return
            data.extend(chunk)
        conn.sendall(b"\x88\x02\x03\xe8")  # close 1000


def run_curl(rec, name, *args, stdin=None):
    rec.name = name
    subprocess.run(["curl", "-s", "-o", "/dev/null", *args], input=stdin, check=True)


async def aiohttp_clients(rec, base):
    import aiohttp

    async with aiohttp.ClientSession() as s:
        rec.name = "aiohttp_get.http"
        async with s.get(base + "/search", params={"q": "corio http", "page": "2"},
                         headers={"X-Trace": "1"}) as r:
            await r.read()
    async with aiohttp.ClientSession() as s:
        rec.name = "aiohttp_post_json.http"
        async with s.post(base + "/items", json={"name": "widget", "price": 3.5}) as r:
            await r.read()
    async with aiohttp.ClientSession() as s:
        rec.name = "aiohttp_chunked.http"

        async def gen():
            for part in (b"first,", b"second,", b"third"):
                yield part

        async with s.post(base + "/upload", data=gen()) as r:
            await r.read()
    async with aiohttp.ClientSession() as s:
        rec.name = "aiohttp_websocket.bin"
        async with s.ws_connect(base + "/ws") as ws:
            await ws.send_str("hello \u00e9")
            await ws.send_bytes(b"\x00\x01\x02")
            await ws.ping(b"are you there")
            await ws.send_str("x" * 200)
            await ws.close(code=1000, message=b"done")


def main():
    rec = Recorder()
    base = f"http://127.0.0.1:{rec.port}"
    run_curl(rec, "curl_get.http", base + "/hello/world?x=1&y=%20z", "-H", "X-Custom: a b")
    run_curl(rec, "curl_post_form.http", base + "/form", "-d", "name=corio&lang=c%2B%2B")
    run_curl(rec, "curl_chunked.http", base + "/upload", "-H", "Transfer-Encoding: chunked",
             "--data-binary", "@-", stdin=b"chunked body from curl\n")
    run_curl(rec, "curl_http10.http", "--http1.0", base + "/old")
    run_curl(rec, "curl_expect.http", base + "/big", "-H", "Expect: 100-continue",
             "--data-binary", "@-", "--expect100-timeout", "0.2", stdin=b"y" * 2000)
    asyncio.run(aiohttp_clients(rec, base))
    rec.name = None
    # Wait for the handler threads to store their captures.
    for _ in range(100):
        if len([k for k in rec.captured if k]) >= 9:
            break
        threading.Event().wait(0.05)
    os.makedirs(OUT, exist_ok=True)
    for name, data in sorted(rec.captured.items()):
        if not name:
            continue
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(data)
        print(f"{name}: {len(data)} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
