#!/usr/bin/python3
"""Tests corio-demo's /chat page in a real browser: starts corio-demo on a
free port and headless Chromium, loads /chat through the DevTools protocol
(driven with Python's websockets library), types a message, submits it, and
waits for the page to show the echo that came back over /ws. Then SIGTERM,
exit status 0.

usage: chat_browser_test.py CORIO_DEMO CHROMIUM
"""
import asyncio
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

import websockets

DEMO, CHROMIUM = sys.argv[1], sys.argv[2]
MESSAGE = "hello from chromium, é"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(pred, what, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = pred()
        if value:
            return value
        time.sleep(0.05)
    raise SystemExit(f"timed out waiting for {what}")


def can_connect(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


class Cdp:
    """A minimal DevTools protocol client over one page target."""

    def __init__(self, ws):
        self.ws = ws
        self.next_id = 0

    async def call(self, method, **params):
        self.next_id += 1
        my_id = self.next_id
        await self.ws.send(json.dumps({"id": my_id, "method": method, "params": params}))
        while True:
            msg = json.loads(await asyncio.wait_for(self.ws.recv(), 30))
            if msg.get("id") == my_id:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})

    async def evaluate(self, expression):
        r = await self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        return r.get("result", {}).get("value")

    async def wait_for(self, expression, what, timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if await self.evaluate(expression):
                return
            await asyncio.sleep(0.05)
        log = await self.evaluate("document.getElementById('log') ? document.getElementById('log').innerText : document.body.innerHTML")
        raise SystemExit(f"timed out waiting for {what}; page log: {log!r}")


async def drive(page_ws_url, chat_url):
    async with websockets.connect(page_ws_url, max_size=None) as ws:
        cdp = Cdp(ws)
        await cdp.call("Page.enable")
        await cdp.call("Page.navigate", url=chat_url)
        await cdp.wait_for("document.readyState === 'complete' && "
                           "document.getElementById('send') !== null && "
                           "!document.getElementById('send').disabled", "the WebSocket to open")
        title = await cdp.evaluate("document.title")
        if title != "corio chat":
            raise SystemExit(f"unexpected title {title!r}")
        await cdp.evaluate(f"document.getElementById('msg').value = {json.dumps(MESSAGE)};"
                           "document.getElementById('form').requestSubmit(); true")
        await cdp.wait_for("document.getElementById('log').innerText.includes("
                           + json.dumps("echo: " + MESSAGE) + ")", "the echo")
        log = await cdp.evaluate("document.getElementById('log').innerText")
        lines = [l for l in log.splitlines() if l.strip()]
        expected = ["connected", "me: " + MESSAGE, "echo: " + MESSAGE]
        if lines != expected:
            raise SystemExit(f"page log {lines!r}, expected {expected!r}")


port = free_port()
demo = subprocess.Popen([DEMO, "--port", str(port)], stdout=subprocess.PIPE,
                        stderr=subprocess.PIPE, text=True)
profile = tempfile.mkdtemp(prefix="corio-chromium-")
browser = None
try:
    wait_until(lambda: can_connect(port) or demo.poll() is not None, "corio-demo")
    if demo.poll() is not None:
        raise SystemExit(f"corio-demo exited: {demo.returncode}")
    browser = subprocess.Popen(
        [CHROMIUM, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-extensions", "--disable-dev-shm-usage", "--remote-debugging-port=0",
         "--remote-debugging-address=127.0.0.1", f"--user-data-dir={profile}", "about:blank"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    active = os.path.join(profile, "DevToolsActivePort")
    wait_until(lambda: os.path.exists(active) and open(active).read().strip(), "DevTools", 60)
    devtools_port = int(open(active).read().split()[0])

    def page_target():
        with urllib.request.urlopen(f"http://127.0.0.1:{devtools_port}/json/list", timeout=5) as r:
            for t in json.load(r):
                if t.get("type") == "page" and t.get("webSocketDebuggerUrl"):
                    return t["webSocketDebuggerUrl"]
        return None

    page = wait_until(page_target, "a page target")
    asyncio.run(drive(page, f"http://127.0.0.1:{port}/chat"))
finally:
    if browser is not None:
        browser.kill()
        browser.wait()
    shutil.rmtree(profile, ignore_errors=True)
    if demo.poll() is None:
        demo.send_signal(signal.SIGTERM)
    try:
        demo.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        demo.kill()
        demo.communicate()

if demo.returncode != 0:
    raise SystemExit(f"corio-demo exit status {demo.returncode}")
print("ok")
