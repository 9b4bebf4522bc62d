#!/usr/bin/python3
"""W6 load client: runs wrk against http://127.0.0.1:PORT/ and prints one JSON line
(requests, secs, req_per_s, p50_ms, p99_ms, errors = socket errors + non-2xx).

  w6_wrk.py --port P --conns 100 --secs 10 [--threads 2]
"""
import argparse
import json
import re
import subprocess
import sys

UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}


def ms(text):
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if not m:
        raise ValueError(f"unexpected latency {text!r}")
    return float(m.group(1)) * UNITS[m.group(2)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--conns", type=int, default=100)
    ap.add_argument("--secs", type=int, default=10)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    cmd = ["wrk", f"-t{a.threads}", f"-c{a.conns}", f"-d{a.secs}s", "--latency",
           f"http://127.0.0.1:{a.port}/"]
    out = subprocess.run(cmd, capture_output=True, text=True, check=False)
    sys.stderr.write(out.stdout + out.stderr)
    if out.returncode != 0:
        sys.exit(out.returncode)
    text = out.stdout
    res = {"workload": "w6_http", "client": "wrk", "conns": a.conns, "threads": a.threads}
    m = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s|m)", text)
    res["requests"] = int(m.group(1))
    res["secs"] = ms(m.group(2) + m.group(3)) / 1e3
    res["req_per_s"] = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
    for pct, key in (("50", "p50_ms"), ("99", "p99_ms")):
        res[key] = ms(re.search(rf"^\s+{pct}%\s+(\S+)", text, re.M).group(1))
    errors = 0
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    if m:
        errors += sum(int(x) for x in m.groups())
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    if m:
        errors += int(m.group(1))
    res["errors"] = errors
    print(json.dumps(res))


if __name__ == "__main__":
    main()
