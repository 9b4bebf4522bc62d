#!/usr/bin/python3
"""Benchmark records and report for bench/run.sh (stdlib only).

  report.py record RAW --workload W --peer P --round R --rc RC --stdout F
                   [--stderr F] [--time F] [--cmd CMD] [--extra KEY=NUM ...]
      Append one run to RAW (JSON lines). The run failed if RC != 0 or stdout has
      no JSON object line. --time is /usr/bin/time -f '%M %e %U %S %P' -o output.
  report.py render RAW
      Print the Markdown tables: per workload one row per peer with the median and
      min-max of each key metric, and the ratio of the medians against corio.
"""
import argparse
import json
import re
import statistics
import sys

# Key metrics per workload: (JSON key, label, higher_is_better, format).
METRICS = {
    "w1_spawn": [("ns_per_task", "ns/task", False, "num"),
                 ("bytes_per_task", "B/task", False, "num")],
    "w2_chain": [("task_ns_per_op", "spawn+await ns", False, "num"),
                 ("await_ns_per_op", "plain await ns", False, "num")],
    "w3_timers": [("overhead_ms", "overhead ms", False, "num")],
    "w4_queue": [("items_per_s", "items/s", True, "si")],
    "w8_executor": [("run_in_executor_ops_s", "run_in_executor ops/s", True, "si"),
                    ("to_thread_ops_s", "to_thread ops/s", True, "si")],
    "w5_echo_1k": [("msgs_per_s", "msgs/s", True, "si"),
                   ("mb_per_s", "MB/s", True, "num"),
                   ("msgs_per_cpu_s", "msgs/server-CPU-s", True, "si"),
                   ("user_ns_per_msg", "server user-space ns/msg", False, "num")],
    "w7_redis": [("set_ops_s", "SET ops/s", True, "si"), ("get_ops_s", "GET ops/s", True, "si"),
                 ("pipe_set_ops_s", "pipelined SET ops/s", True, "si"),
                 ("pipe_get_ops_s", "pipelined GET ops/s", True, "si")],
}
METRICS["w5_echo_64k"] = METRICS["w5_echo_1k"]
METRICS["w5_idle"] = [("msgs_per_s", "msgs/s", True, "si"),
                      ("msgs_per_cpu_s", "msgs/server-CPU-s", True, "si"),
                      ("kb_per_idle_conn", "KiB/idle conn", False, "num"),
                      ("idle_open_s", "open idle s", False, "num")]
METRICS["w6_c100"] = [("req_per_s", "req/s", True, "si"),
                      ("p50_ms", "p50 ms", False, "num"),
                      ("p99_ms", "p99 ms", False, "num"),
                      ("req_per_cpu_s", "req/server-CPU-s", True, "si"),
                      ("errors", "errors", False, "num")]
METRICS["w6_c1000"] = METRICS["w6_c100"]
METRICS["w9_process_pool"] = [("small_calls_per_s", "small calls/s", True, "si"),
                              ("cpu_wall_s_1worker", "CPU batch s, 1 worker", False, "num"),
                              ("cpu_wall_s_2workers", "CPU batch s, 2 workers", False, "num")]
TITLES = {
    "w1_spawn": "W1 spawn: parked tasks",
    "w2_chain": "W2 chain: spawn+await, plain await",
    "w3_timers": "W3 timers: concurrent sleeps (ideal wall 1.000 s)",
    "w4_queue": "W4 queue: bounded producer/consumer",
    "w8_executor": "W8 executor: thread pool",
    "w5_echo_1k": "W5 TCP echo, 1 KiB messages",
    "w5_echo_64k": "W5 TCP echo, 64 KiB messages",
    "w5_idle": "W5 idle: 1 KiB echo on the active connections while many idle ones stay open",
    "w9_process_pool": "W9 process pool: small calls on 2 workers; a CPU batch on 1 and 2 workers (per-call work differs between languages)",
    "w6_c100": "W6 HTTP hello world, wrk -c100",
    "w6_c1000": "W6 HTTP hello world, wrk -c1000",
    "w7_redis": "W7 Redis client: SET/GET from many tasks, then pipelines (redis-benchmark: -P 1, -P B)",
}
# Result keys that give a workload's parameters (shown under its title).
PARAMS = {
    "w1_spawn": ["n"], "w2_chain": ["n_task", "n_await"], "w3_timers": ["n"],
    "w4_queue": ["items"], "w8_executor": ["n", "batch", "threads"],
    "w5_echo_1k": ["conns", "size"], "w5_echo_64k": ["conns", "size"],
    "w5_idle": ["idle", "conns", "size"],
    "w9_process_pool": ["small_calls", "cpu_calls"],
    "w6_c100": ["conns", "threads"], "w6_c1000": ["conns", "threads"],
    "w7_redis": ["n", "tasks", "batch"],
}
BASELINE = "corio"


def g3(x):
    """3 significant digits, keeping trailing zeros (22.0, 1.00) but no bare point (149)."""
    return f"{x:#.3g}".rstrip(".")


def num(x):
    """Thousands separators from 100 up, else 3 significant digits."""
    if abs(x) >= 100:
        return f"{x:,.0f}"
    return g3(x)


def si(x):
    for div, suffix in ((1e9, " G"), (1e6, " M"), (1e3, " K")):
        if abs(x) >= div:
            return f"{g3(x / div)}{suffix}"
    return g3(x)


def ratio_fmt(x):
    return f"{x:.0f}x" if x >= 100 else f"{x:.1f}x" if x >= 10 else f"{x:.2f}x"


def fmt(x, kind):
    return {"num": num, "si": si}[kind](x)


# ---------------------------------------------------------------- record

def parse_time(path):
    """Last line of /usr/bin/time -o output: '%M %e %U %S %P' (earlier lines: exit notes)."""
    try:
        with open(path) as f:
            lines = [ln.split() for ln in f if ln.strip()]
    except OSError:
        return {}
    fields = lines[-1] if lines else []
    if len(fields) != 5:
        return {}
    rss, wall, user, sys_, cpu = fields
    return {"max_rss_kb": int(rss), "elapsed_s": float(wall), "user_s": float(user),
            "sys_s": float(sys_), "cpu_pct": float(cpu.rstrip("%")) if cpu != "?%" else None}


def record(a):
    rec = {"workload": a.workload, "peer": a.peer, "round": a.round, "rc": a.rc, "cmd": a.cmd}
    result, error = None, None
    with open(a.stdout, errors="replace") as f:
        for line in f:
            if line.lstrip().startswith("{"):
                try:
                    result = json.loads(line)
                except ValueError:
                    pass
    if a.rc == 124:
        error = "timed out"
    elif a.rc != 0:
        error = f"exit status {a.rc}"
    elif not isinstance(result, dict):
        error = "no JSON line on stdout"
    if error and a.stderr:
        with open(a.stderr, errors="replace") as f:
            tail = [ln.strip() for ln in f if ln.strip()][-2:]
        if tail:
            error += ": " + " | ".join(tail)[:300]
    rec["ok"] = error is None
    if error:
        rec["error"] = error
    rec["result"] = result or {}
    if a.time:
        rec["time"] = parse_time(a.time)
    for kv in a.extra:
        key, _, value = kv.partition("=")
        rec[key] = float(value) if value else None
    # W5: server CPU and throughput per server-CPU-second, from the run's own figures:
    # w5_idle's client reads the server's CPU time around the measured phase itself (its
    # run also opens and checks the idle connections); otherwise the whole client run.
    res = rec["result"]
    if res.get("server_cpu_active_s") is not None and res.get("secs"):
        res["server_cpu_pct"] = 100.0 * res["server_cpu_active_s"] / res["secs"]
        if res["server_cpu_active_s"] > 0 and "msgs" in res:
            res["msgs_per_cpu_s"] = res["msgs"] / res["server_cpu_active_s"]
    elif "server_cpu_s" in rec and rec.get("wall_s"):
        rec["result"]["server_cpu_pct"] = 100.0 * rec["server_cpu_s"] / rec["wall_s"]
        if rec["server_cpu_s"] > 0 and "msgs" in rec["result"]:
            rec["result"]["msgs_per_cpu_s"] = rec["result"]["msgs"] / rec["server_cpu_s"]
        if rec["server_cpu_s"] > 0 and "requests" in rec["result"]:
            rec["result"]["req_per_cpu_s"] = rec["result"]["requests"] / rec["server_cpu_s"]
        # The server's own work per message, without the kernel's (send/recv dominate).
        if rec.get("server_user_s") is not None and rec["result"].get("msgs"):
            rec["result"]["user_ns_per_msg"] = 1e9 * rec["server_user_s"] / rec["result"]["msgs"]
    with open(a.raw, "a") as f:
        f.write(json.dumps(rec) + "\n")
    status = "ok" if rec["ok"] else "FAILED (" + error + ")"
    shown = ", ".join(f"{k}={fmt(rec['result'][k], kind)}" for k, _, _, kind in METRICS.get(a.workload, [])
                      if isinstance(rec["result"].get(k), (int, float)))
    print(f"  {a.workload} round {a.round} {a.peer}: {status} {shown}", file=sys.stderr)


# ---------------------------------------------------------------- render

def peak_rss_kb(rec):
    """Whole-process peak RSS: /usr/bin/time's %M, or the server's VmHWM for W5."""
    if rec.get("server_hwm_kb") is not None:
        return rec["server_hwm_kb"]
    return rec.get("time", {}).get("max_rss_kb")


def cpu_pct(rec):
    if "server_cpu_pct" in rec["result"]:
        return rec["result"]["server_cpu_pct"]
    return rec.get("time", {}).get("cpu_pct")


def values(runs, get):
    out = []
    for r in runs:
        v = get(r)
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            out.append(float(v))
    return out


def cell_median(vals, kind):
    return fmt(statistics.median(vals), kind) if vals else "-"


def cell_spread(vals, kind):
    return f"{fmt(min(vals), kind)}–{fmt(max(vals), kind)}" if vals else "-"


def render_workload(workload, recs):
    metrics = METRICS.get(workload, [])
    peers = list(dict.fromkeys(r["peer"] for r in recs))  # first-seen order
    ok = {p: [r for r in recs if r["peer"] == p and r["ok"]] for p in peers}
    total = {p: sum(1 for r in recs if r["peer"] == p) for p in peers}
    # Drop metrics no peer reported (e.g. to_thread for a runtime without one).
    metrics = [m for m in metrics if any(values(ok[p], lambda r, k=m[0]: r["result"].get(k)) for p in peers)]
    base = {}
    for key, _, _, _ in metrics:
        vals = values(ok.get(BASELINE, []), lambda r, k=key: r["result"].get(k))
        base[key] = statistics.median(vals) if vals else None
    server = workload.startswith(("w5", "w6"))

    out = [f"### {TITLES.get(workload, workload)}", ""]
    params = []
    for key in PARAMS.get(workload, []):
        seen = {r["result"].get(key) for p in peers for r in ok[p]} - {None}
        if seen:
            params.append(f"{key} = " + " / ".join(num(v) if v >= 100 else str(v) for v in sorted(seen)))
    if server:
        secs = {round(r["result"]["secs"]) for p in peers for r in ok[p] if "secs" in r["result"]}
        params.append("client run ≈ " + " / ".join(f"{s} s" for s in sorted(secs)))
    if params:
        out += ["Parameters: " + ", ".join(params) + ".", ""]
    head = ["peer", "runs ok"]
    for _, label, higher, _ in metrics:
        head += [f"{label} {'↑' if higher else '↓'}", "min–max", "× corio"]
    head += ["server peak RSS MB" if server else "peak RSS MB", "server CPU %" if server else "CPU %"]
    out.append("| " + " | ".join(head) + " |")
    out.append("|" + "|".join("---" if i == 0 else "--:" for i in range(len(head))) + "|")
    for p in peers:
        row = [p, f"{len(ok[p])}/{total[p]}"]
        for key, _, _, kind in metrics:
            vals = values(ok[p], lambda r, k=key: r["result"].get(k))
            ratio = "-"
            if vals and base[key]:
                ratio = ratio_fmt(statistics.median(vals) / base[key])
            row += [cell_median(vals, kind), cell_spread(vals, kind), ratio]
        rss = [v / 1024 for v in values(ok[p], peak_rss_kb)]
        row += [f"{statistics.median(rss):.1f}" if rss else "-",
                f"{statistics.median(values(ok[p], cpu_pct)):.0f}" if values(ok[p], cpu_pct) else "-"]
        out.append("| " + " | ".join(row) + " |")
    out.append("")
    failed = [r for r in recs if not r["ok"]]
    for r in failed:
        out.append(f"- FAILED: {r['peer']} round {r['round']}: {r.get('error', '?')}  ")
    if failed:
        out.append("")
    return out


def render(a):
    recs = []
    with open(a.raw) as f:
        for n, line in enumerate(f, 1):
            if line.strip():
                try:
                    recs.append(json.loads(line))
                except ValueError:
                    print(f"{a.raw}:{n}: bad JSON line skipped", file=sys.stderr)
    workloads = list(dict.fromkeys(r["workload"] for r in recs))
    out = ["Medians over the rounds; min–max is the spread; × corio = peer median / corio median "
           "of the same run (↓ lower is better, so > 1 means corio is faster; ↑ higher is better, "
           "so < 1 means corio is faster). Peak RSS: /usr/bin/time %M (W5: the server's VmHWM). "
           "W5 server CPU % = server utime+stime over the client run's wall time "
           "(w5_idle: over the measured phase only; KiB/idle conn = growth of the server's VmRSS "
           "while the idle connections were opened, / their number). "
           "CPU % well under 100 for a CPU-bound single-loop run (W1, W2, W4) means something "
           "else had the CPU: treat that run's figures with care.", ""]
    for w in workloads:
        out += render_workload(w, [r for r in recs if r["workload"] == w])
    out += ["<details><summary>Commands</summary>", "", "```"]
    for cmd in dict.fromkeys(re.sub(r"--server-pid \d+", "--server-pid PID", re.sub(r"--port \d+", "--port P", r["cmd"]))
                             for r in recs if r.get("cmd")):
        out.append(cmd)
    out += ["```", "", "</details>"]
    print("\n".join(out))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="mode", required=True)
    r = sub.add_parser("record")
    r.add_argument("raw")
    r.add_argument("--workload", required=True)
    r.add_argument("--peer", required=True)
    r.add_argument("--round", type=int, required=True)
    r.add_argument("--rc", type=int, required=True)
    r.add_argument("--stdout", required=True)
    r.add_argument("--stderr")
    r.add_argument("--time")
    r.add_argument("--cmd", default="")
    r.add_argument("--extra", action="append", default=[])
    g = sub.add_parser("render")
    g.add_argument("raw")
    a = ap.parse_args()
    record(a) if a.mode == "record" else render(a)


if __name__ == "__main__":
    main()
