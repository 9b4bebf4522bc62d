#!/usr/bin/python3
"""Plays a Dapr sidecar against a corio app hosting actors (no Dapr binary
here): serves the sidecar's actor state and reminder API in memory on
$DAPR_HTTP_PORT, starts the app (actors_dapr_host) with that port, then
calls the app as Dapr does - GET /dapr/config, PUT .../method/{m}, the
reminder callback PUT .../method/remind/{name}, DELETE /actors/{type}/{id},
GET /healthz - and checks what the app answered and what it stored through
the sidecar. Exits non-zero on any mismatch.

usage: dapr_sidecar.py ACTORS_DAPR_HOST
"""
import asyncio
import json
import os
import signal
import socket
import sys

import aiohttp
from aiohttp import web

HOST_EXE = sys.argv[1]
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Sidecar:
    """The sidecar's side of Dapr's actor API, in memory."""

    def __init__(self):
        self.state = {}  # (type, id) -> {key: value}
        self.transactions = []  # (type, id, operations)
        self.reminders = {}  # (type, id, name) -> body
        self.deleted_reminders = []
        self.app = web.Application()
        r = self.app.router
        r.add_get("/v1.0/actors/{type}/{id}/state/{key}", self.get_state)
        r.add_route("*", "/v1.0/actors/{type}/{id}/state", self.transaction)
        r.add_post("/v1.0/actors/{type}/{id}/reminders/{name}", self.create_reminder)
        r.add_put("/v1.0/actors/{type}/{id}/reminders/{name}", self.create_reminder)
        r.add_delete("/v1.0/actors/{type}/{id}/reminders/{name}", self.delete_reminder)

    @staticmethod
    def actor(request):
        return request.match_info["type"], request.match_info["id"]

    async def get_state(self, request):
        values = self.state.get(self.actor(request), {})
        key = request.match_info["key"]
        if key not in values:
            return web.Response(status=204)
        return web.Response(body=json.dumps(values[key]), content_type="application/json")

    async def transaction(self, request):
        if request.method not in ("POST", "PUT"):
            return web.Response(status=405)
        ops = await request.json()
        if not isinstance(ops, list):
            return web.Response(status=400, text="expected a list of operations")
        values = self.state.setdefault(self.actor(request), {})
        for op in ops:
            kind, req = op.get("operation"), op.get("request", {})
            if kind == "upsert":
                values[req["key"]] = req["value"]
            elif kind == "delete":
                values.pop(req["key"], None)
            else:
                return web.Response(status=400, text=f"unknown operation {kind!r}")
        self.transactions.append((*self.actor(request), ops))
        return web.Response(status=204)

    async def create_reminder(self, request):
        body = await request.json()
        self.reminders[(*self.actor(request), request.match_info["name"])] = body
        return web.Response(status=204)

    async def delete_reminder(self, request):
        key = (*self.actor(request), request.match_info["name"])
        self.reminders.pop(key, None)
        self.deleted_reminders.append(key)
        return web.Response(status=204)


async def wait_for_app(base, proc):
    async with aiohttp.ClientSession() as s:
        for _ in range(200):
            if proc.returncode is not None:
                raise RuntimeError(f"the app exited with {proc.returncode}")
            try:
                async with s.get(base + "/healthz") as r:
                    if r.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.05)
    raise RuntimeError("the app did not answer /healthz")


async def scenario(base, sidecar):
    async with aiohttp.ClientSession() as s:

        async def put(path, body=None, headers=None):
            data = None if body is None else json.dumps(body)
            async with s.put(base + path, data=data, headers=headers) as r:
                return r.status, await r.text(), r.headers

        # /dapr/config: what Dapr reads first.
        async with s.get(base + "/dapr/config") as r:
            check(r.status == 200, f"/dapr/config status {r.status}")
            config = await r.json()
        check(config.get("entities") == ["Counter"], f"entities {config.get('entities')}")
        check(config.get("actorIdleTimeout") == "10m0s",
              f"actorIdleTimeout {config.get('actorIdleTimeout')}")
        check(config.get("actorScanInterval") == "30s",
              f"actorScanInterval {config.get('actorScanInterval')}")
        check(config.get("drainRebalancedActors") is True, "drainRebalancedActors")
        check(config.get("reentrancy") == {"enabled": False}, f"reentrancy {config.get('reentrancy')}")

        # A method: its state goes to the sidecar in one transaction.
        status, text, _ = await put("/actors/Counter/c1/method/add", 5)
        check((status, text) == (200, "5"), f"add 5: {status} {text}")
        status, text, _ = await put("/actors/Counter/c1/method/add", 3)
        check((status, text) == (200, "8"), f"add 3: {status} {text}")
        check(sidecar.state.get(("Counter", "c1"), {}).get("v") == 8,
              f"state after add: {sidecar.state.get(('Counter', 'c1'))}")
        check(sidecar.transactions and sidecar.transactions[-1][2]
              == [{"operation": "upsert", "request": {"key": "v", "value": 8}}],
              f"last transaction: {sidecar.transactions[-1:]}")

        # State the sidecar already has is read through GET .../state/{key}.
        sidecar.state[("Counter", "c2")] = {"v": 40}
        status, text, _ = await put("/actors/Counter/c2/method/add", 2)
        check((status, text) == (200, "42"), f"add on stored state: {status} {text}")

        # The reentrancy id comes back.
        status, _, headers = await put("/actors/Counter/c2/method/add", 0,
                                       {"Dapr-Reentrancy-Id": "abc"})
        check(headers.get("Dapr-Reentrancy-Id") == "abc", "Dapr-Reentrancy-Id echoed")

        # Errors.
        status, text, headers = await put("/actors/Counter/c1/method/nosuch", 1)
        check(status == 404, f"unknown method: {status}")
        status, text, headers = await put("/actors/Nope/c1/method/add", 1)
        check(status == 404, f"unknown type: {status}")
        status, text, headers = await put("/actors/Counter/c1/method/fail", "out of cheese")
        check(status == 500, f"failing method: {status}")
        check(headers.get("X-DaprErrorResponseHeader") == "true", "error header")
        check(json.loads(text).get("message") == "out of cheese", f"error body {text}")
        status, text, _ = await put("/actors/Counter/c1/method/add", "x")
        check(status == 400, f"bad argument: {status}")

        # A reminder registered by an actor method reaches the sidecar...
        status, text, _ = await put("/actors/Counter/c1/method/set_reminder",
                                    ["wake", {"n": 1}, 9000, 60000])
        check(status == 200, f"set_reminder: {status} {text}")
        reg = sidecar.reminders.get(("Counter", "c1", "wake"))
        check(reg is not None, "reminder registered with the sidecar")
        if reg:
            check(reg.get("data") == {"n": 1}, f"reminder data {reg}")
            check(reg.get("period") == "0h1m0s0ms", f"reminder period {reg}")
            due = reg.get("dueTime", "")
            check(due.startswith("0h0m") and due.endswith("ms"), f"reminder dueTime {due}")
        # ...and the sidecar fires it through the app's callback.
        status, text, _ = await put("/actors/Counter/c1/method/remind/wake",
                                    {"data": {"n": 1}, "dueTime": "0h0m9s0ms",
                                     "period": "PT1M"})
        check(status == 200, f"remind callback: {status} {text}")
        reminded = sidecar.state.get(("Counter", "c1"), {}).get("reminded")
        check(reminded == {"name": "wake", "data": {"n": 1}, "due_ms": 9000,
                           "period_ms": 60000}, f"reminder seen by the actor: {reminded}")
        status, text, _ = await put("/actors/Counter/c1/method/forget", "wake")
        check(status == 200 and ("Counter", "c1", "wake") in sidecar.deleted_reminders
              and ("Counter", "c1", "wake") not in sidecar.reminders,
              f"reminder deleted: {status} {sidecar.deleted_reminders}")

        # DELETE deactivates: on_deactivate runs and its state is saved.
        async with s.delete(base + "/actors/Counter/c1") as r:
            check(r.status == 200, f"DELETE status {r.status}")
        check(sidecar.state.get(("Counter", "c1"), {}).get("deactivations") == 1,
              f"on_deactivate observed: {sidecar.state.get(('Counter', 'c1'))}")
        # The next call activates it again from the sidecar's state.
        status, text, _ = await put("/actors/Counter/c1/method/add", 1)
        check((status, text) == (200, "9"), f"add after reactivation: {status} {text}")

        async with s.get(base + "/healthz") as r:
            check(r.status == 200, f"/healthz {r.status}")


async def main():
    sidecar = Sidecar()
    runner = web.AppRunner(sidecar.app)
    await runner.setup()
    dapr_port = free_port()
    await web.TCPSite(runner, "127.0.0.1", dapr_port).start()
    app_port = free_port()
    env = dict(os.environ, DAPR_HTTP_PORT=str(dapr_port))
    proc = await asyncio.create_subprocess_exec(HOST_EXE, str(app_port), env=env)
    base = f"http://127.0.0.1:{app_port}"
    try:
        await wait_for_app(base, proc)
        await asyncio.wait_for(scenario(base, sidecar), 60)
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
        try:
            code = await asyncio.wait_for(proc.wait(), 20)
        except asyncio.TimeoutError:
            proc.kill()
            code = await proc.wait()
        await runner.cleanup()
    check(code == 0, f"the app exited with {code}")
    # Stopping deactivated c1 again (on_deactivate ran once more).
    check(sidecar.state.get(("Counter", "c1"), {}).get("deactivations") == 2,
          f"deactivated at shutdown: {sidecar.state.get(('Counter', 'c1'))}")


if __name__ == "__main__":
    asyncio.run(main())
    if failures:
        print(f"{len(failures)} check(s) failed", flush=True)
        sys.exit(1)
    print("ok: the app answered as Dapr expects", flush=True)
