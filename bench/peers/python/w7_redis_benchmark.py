#!/usr/bin/python3
"""W7 reference: redis-benchmark -c T -d 3 -t set,get with -P 1, then -P B, against
the same server; prints the same JSON keys as bench/w7_redis (set_ops_s, get_ops_s,
pipe_set_ops_s, pipe_get_ops_s)."""
import argparse
import csv
import io
import json
import subprocess


def bench(port, n, clients, pipeline):
    cmd = ["redis-benchmark", "-h", "127.0.0.1", "-p", str(port), "-c", str(clients),
           "-n", str(n), "-r", str(n), "-d", "3", "-t", "set,get", "-P", str(pipeline), "--csv"]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    rates = {}
    for row in csv.reader(io.StringIO(out)):
        if len(row) >= 2 and row[0] in ("SET", "GET"):
            rates[row[0]] = float(row[1])
    if set(rates) != {"SET", "GET"}:
        raise SystemExit(f"cannot read redis-benchmark's output: {out!r}")
    return rates, " ".join(cmd)


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--port", type=int, default=6379)
    ap.add_argument("--n", type=int, default=200_000)
    ap.add_argument("--tasks", type=int, default=50)
    ap.add_argument("--batch", type=int, default=100)
    args = ap.parse_args()
    one, cmd1 = bench(args.port, args.n, args.tasks, 1)
    many, cmd2 = bench(args.port, args.n, args.tasks, args.batch)
    print(json.dumps({"workload": "w7_redis", "peer": "redis-benchmark", "n": args.n,
                      "tasks": args.tasks, "batch": args.batch,
                      "set_ops_s": one["SET"], "get_ops_s": one["GET"],
                      "pipe_set_ops_s": many["SET"], "pipe_get_ops_s": many["GET"],
                      "commands": [cmd1, cmd2]}), flush=True)
