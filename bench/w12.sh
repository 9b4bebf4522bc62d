#!/usr/bin/env bash
# bench/w12.sh [--rounds N] [--n N] [--no-pin] - W12 (bench/README.md): corio's AMQP client
# against aioamqp on uvloop, on one RabbitMQ, and a probe of the server's own limit.
#
# Builds w12_amqp and corio_test_server (release preset), starts a RabbitMQ on its own node
# and ports from a throw-away directory under `taskset -c 1` (corio_test_server: the test
# suite's server fixture), then runs the clients under `taskset -c 0` in interleaved rounds:
#   corio      one w12_amqp (N messages);
#   aioamqp    bench/peers/w12_aioamqp.py on uvloop (the same workload);
#   corio-x2   two w12_amqp at once, N/2 messages each on their own queues: their summed
#              rates show what the server gives to more than one client. If one corio
#              client already gets as much, that client is at the server's limit.
# Prints each run's JSON line and then the medians; the server stops and its directory goes
# when it ends. --no-pin: no taskset.
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=3 N=200000 C0=(taskset -c 0) C1=(taskset -c 1)
while [[ $# -gt 0 ]]; do
    case $1 in
        --rounds) ROUNDS=$2; shift 2 ;;
        --n) N=$2; shift 2 ;;
        --no-pin) C0=(env) C1=(env); shift ;;
        *) sed -n '2,/^[^#]/{/^#/s/^# \{0,1\}//p}' "$0" >&2; exit 2 ;;
    esac
done
PY=/usr/bin/python3
cmake --preset release >/dev/null
cmake --build --preset release --target w12_amqp corio_test_server >&2

out=$(mktemp) results=$(mktemp)
"${C1[@]}" build/release/tests/support/corio_test_server rabbitmq >"$out" 2>&1 </dev/null &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null; rm -f "$out" "$results" "$out".x*' EXIT
while ! grep -qx ready "$out"; do
    kill -0 $server 2>/dev/null || { cat "$out" >&2; exit 1; }
    sleep 0.2
done
url=$(sed -n 's/^AMQP_URL=//p' "$out")  # amqp://user:password@127.0.0.1:port/
creds=${url#amqp://}; creds=${creds%%@*}
port=${url##*:}; port=${port%%/*}
args=(--port "$port" --user "${creds%%:*}" --password "${creds#*:}" --vhost /)
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)" >&2

# Two corio clients at once on queues of their own; one JSON line with their summed rates.
corio_x2() {
    local half=$((N / 2))
    "${C0[@]}" build/release/bench/w12_amqp "${args[@]}" --n "$half" --queue w12a >"$out.xa" &
    local a=$!
    "${C0[@]}" build/release/bench/w12_amqp "${args[@]}" --n "$half" --queue w12b >"$out.xb"
    wait $a
    $PY - "$out.xa" "$out.xb" <<'PY'
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:])
n = a["n"] + b["n"]
print(json.dumps({"publish_confirmed_per_s": round(n / max(a["publish_s"], b["publish_s"])),
                  "consume_acked_per_s": round(n / max(a["consume_s"], b["consume_s"]))}))
PY
}
for r in $(seq "$ROUNDS"); do
    for peer in corio aioamqp corio-x2; do
        case $peer in
            corio) line=$("${C0[@]}" build/release/bench/w12_amqp "${args[@]}" --n "$N") ;;
            aioamqp) line=$("${C0[@]}" $PY bench/peers/w12_aioamqp.py "${args[@]}" --n "$N" \
                --loop uvloop) ;;
            corio-x2) line=$(corio_x2) ;;
        esac
        echo "round $r $peer: $line" >&2
        echo "$peer $line" >>"$results"
    done
done
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
$PY - "$results" <<'PY'
import json, statistics, sys
runs = {}
for line in open(sys.argv[1]):
    peer, _, js = line.partition(" ")
    try:
        for k, v in json.loads(js).items():
            if k.endswith("_per_s") or k.endswith("_ms") or k == "rss_kb":
                runs.setdefault((peer, k), []).append(v)
    except ValueError:
        pass
print("| client | metric | median | runs |")
print("|---|---|--:|---|")
for (peer, k), vs in runs.items():
    print(f"| {peer} | {k} | {statistics.median(vs):,.1f} | {', '.join(f'{v:,.1f}' for v in vs)} |")
PY
