#!/usr/bin/python3
"""Tests the corio-demo executable from the outside: starts it on a free
port as a subprocess, hits every route with curl and /ws with Python's
websockets library, then stops it with a signal and expects exit status 0.

usage: demo_test.py CORIO_DEMO THREADS SIGNAL(TERM|INT)
"""
import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time

import websockets

DEMO, THREADS, SIGNAME = sys.argv[1], sys.argv[2], sys.argv[3]
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def curl(*args, data_file=None):
    """Runs curl; returns (status, headers text, body bytes)."""
    with tempfile.NamedTemporaryFile() as hdr:
        cmd = ["curl", "-sS", "--max-time", "20", "-D", hdr.name, "-o", "-"]
        cmd += list(args)
        out = subprocess.run(cmd, capture_output=True, timeout=30)
        if out.returncode != 0:
            failures.append(f"curl {args} failed: {out.stderr!r}")
            return 0, "", b""
        headers = open(hdr.name, encoding="latin-1").read()
        status = int(headers.split(" ", 2)[1])
        return status, headers.lower(), out.stdout


# --help and bad arguments, without a server.
r = subprocess.run([DEMO, "--help"], capture_output=True, text=True, timeout=10)
check(r.returncode == 0 and "usage: corio-demo" in r.stdout and "--threads" in r.stdout,
      f"--help: {r.returncode} {r.stdout!r}")
r = subprocess.run([DEMO, "--port", "70000"], capture_output=True, text=True, timeout=10)
check(r.returncode == 2 and "bad value for --port" in r.stderr, f"bad port: {r.returncode} {r.stderr!r}")
r = subprocess.run([DEMO, "--bogus", "1"], capture_output=True, text=True, timeout=10)
check(r.returncode == 2 and "unknown option --bogus" in r.stderr, f"bad option: {r.stderr!r}")

port = free_port()
base = f"http://127.0.0.1:{port}"
proc = subprocess.Popen([DEMO, "--port", str(port), "--threads", THREADS, "--access-log"],
                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
try:
    banner = proc.stdout.readline()
    check(f"serving on {base}" in banner, f"banner: {banner!r}")
    deadline = time.monotonic() + 15
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if time.monotonic() > deadline or proc.poll() is not None:
                raise SystemExit(f"corio-demo did not start: {proc.poll()}")
            time.sleep(0.05)

    # The seeds' aiohttp app.
    s, h, b = curl(base + "/")
    check((s, b) == (200, b"<h1>Index</h1>") and "content-type: text/html" in h, f"/: {s} {b!r}")
    s, h, b = curl(base + "/hello/corio")
    check((s, b) == (200, b"<h1>hello, corio!</h1>"), f"/hello: {s} {b!r}")
    s, h, b = curl(base + "/hello/%3Cb%3E")
    check((s, b) == (200, b"<h1>hello, &lt;b&gt;!</h1>"), f"/hello escaped: {s} {b!r}")
    s, h, b = curl(base + "/nope")
    check(s == 404, f"/nope: {s}")

    # The JSON items API.
    s, h, b = curl(base + "/items")
    check((s, json.loads(b or b"null")) == (200, []), f"empty list: {s} {b!r}")
    jh = ["-H", "Content-Type: application/json"]
    s, h, b = curl(*jh, "-d", '{"name": "pen", "price": 1.5, "tags": ["office"]}', base + "/items")
    check(s == 201 and "application/json" in h, f"create: {s} {h!r}")
    check(json.loads(b or b"null") == {"id": 1, "name": "pen", "price": 1.5, "tags": ["office"]},
          f"created: {b!r}")
    s, h, b = curl(*jh, "-d", '{"name": "cup", "price": 3}', base + "/items")
    check(s == 201 and json.loads(b)["id"] == 2, f"create 2: {s} {b!r}")
    s, h, b = curl(*jh, "-d", '{"name": "", "price": -1, "color": "red"}', base + "/items")
    detail = json.loads(b or b"{}").get("detail", [])
    locs = sorted(tuple(d["loc"]) for d in detail)
    check(s == 422 and locs == [("body", "color"), ("body", "name"), ("body", "price")],
          f"invalid: {s} {b!r}")
    s, h, b = curl(*jh, "-d", '{"price": 2}', base + "/items")
    detail = json.loads(b or b"{}").get("detail", [])
    check(s == 422 and [d["type"] for d in detail] == ["missing"], f"missing name: {s} {b!r}")
    s, h, b = curl(*jh, "-d", '{"name": "x",', base + "/items")
    detail = json.loads(b or b"{}").get("detail", [])
    check(s == 422 and detail and detail[0]["type"] == "json_invalid", f"malformed: {s} {b!r}")
    s, h, b = curl(base + "/items")
    check(s == 200 and [i["name"] for i in json.loads(b)] == ["pen", "cup"], f"list: {s} {b!r}")
    s, h, b = curl(base + "/items/2")
    check(s == 200 and json.loads(b)["name"] == "cup", f"get: {s} {b!r}")
    for path in ("/items/99", "/items/abc", "/items/1/x"):
        s, h, b = curl(base + path)
        check(s == 404 and "application/json" in h and json.loads(b or b"{}").get("detail"),
              f"{path}: {s} {b!r}")

    # /echo: the body back, as sent, streamed.
    payload = os.urandom(700 * 1024)
    with tempfile.NamedTemporaryFile() as f:
        f.write(payload)
        f.flush()
        s, h, b = curl("--data-binary", "@" + f.name, "-H", "Content-Type: application/x-test",
                       base + "/echo")
        check(s == 200 and b == payload and "transfer-encoding: chunked" in h
              and "content-type: application/x-test" in h, f"/echo: {s} {len(b)} {h!r}")
        s, h, b = curl("--data-binary", "@" + f.name, "-H", "Transfer-Encoding: chunked",
                       base + "/echo")
        check(s == 200 and b == payload, f"/echo chunked: {s} {len(b)}")
    with tempfile.NamedTemporaryFile() as f:
        f.write(b"x" * (2 * 1024 * 1024))
        f.flush()
        s, h, b = curl("--data-binary", "@" + f.name, base + "/echo")
        check(s == 413, f"/echo over the body limit: {s}")
    s, h, b = curl("-X", "POST", base + "/echo")
    check((s, b) == (200, b""), f"/echo empty: {s} {b!r}")

    # /chat uses /ws from the browser.
    s, h, b = curl(base + "/chat")
    check(s == 200 and b"new WebSocket" in b and b"/ws" in b, f"/chat: {s}")

    # /ws with Python's websockets library.
    async def ws_session():
        async with websockets.connect(f"ws://127.0.0.1:{port}/ws") as ws:
            await ws.send("hello")
            check(await asyncio.wait_for(ws.recv(), 10) == "hello", "ws text echo")
            await ws.send(b"\x00\x01binary")
            check(await asyncio.wait_for(ws.recv(), 10) == b"\x00\x01binary", "ws binary echo")
            big = "é" * 100000
            await ws.send(big)
            check(await asyncio.wait_for(ws.recv(), 10) == big, "ws large echo")
            pong = await ws.ping(b"hb")
            await asyncio.wait_for(pong, 10)
        check(ws.close_code == 1000, f"ws close code {ws.close_code}")

    asyncio.run(ws_session())
finally:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM if SIGNAME == "TERM" else signal.SIGINT)
    try:
        out, err = proc.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        failures.append("did not stop within 20 s of the signal")

check(proc.returncode == 0, f"exit status {proc.returncode}, stderr {err!r}")
check("corio-demo: stopped" in out, f"stdout: {out!r}")
check('127.0.0.1 - - [' in out and '"GET /hello/corio HTTP/1.1" 200 22 "-" "curl/' in out,
      f"access log: {out!r}")
check('"POST /items HTTP/1.1" 422 ' in out, "access log of a 422")
if failures:
    print(f"{len(failures)} failure(s)")
    sys.exit(1)
print("ok")
