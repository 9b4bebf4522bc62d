#!/usr/bin/env bash
# bench/w10.sh [--rounds N] [--selects N] [--no-pin] - W10 (bench/README.md): corio's SQL drivers
# against asyncpg and aiomysql (on uvloop); pgbench and mariadb-slap (10 clients, the same
# point query) show each server's own limit.
#
# Builds w10_sql and corio_test_server (release preset), starts a MariaDB and a
# PostgreSQL server from throw-away directories under `taskset -c 1` (corio_test_server:
# the test suite's server fixture), then runs every client under `taskset -c 0`, in
# interleaved rounds (round 1 of every client, then round 2, ...). Prints each run's JSON
# line and then the medians; the servers stop and their directories go when it ends.
# --no-pin: no taskset (on a machine whose cores other jobs share, a pinned server competes
# with them on its one core and every client reads as the server's limit).
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=3 SELECTS=100000 C0=(taskset -c 0) C1=(taskset -c 1)
while [[ $# -gt 0 ]]; do
    case $1 in
        --rounds) ROUNDS=$2; shift 2 ;;
        --selects) SELECTS=$2; shift 2 ;;
        --no-pin) C0=(env) C1=(env); shift ;;
        *) sed -n '2,/^[^#]/{/^#/s/^# \{0,1\}//p}' "$0" >&2; exit 2 ;;
    esac
done
PY=/usr/bin/python3
cmake --preset release >/dev/null
cmake --build --preset release --target w10_sql corio_test_server >&2

out=$(mktemp) results=$(mktemp)
"${C1[@]}" build/release/tests/support/corio_test_server mariadb postgres >"$out" 2>&1 </dev/null &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null; rm -f "$out" "$results"' EXIT
while ! grep -qx ready "$out"; do
    kill -0 $server 2>/dev/null || { cat "$out" >&2; exit 1; }
    sleep 0.2
done
while IFS= read -r line; do case $line in *=*) export "${line?}" ;; esac; done <"$out"
pg_port=${DATABASE_URL##*:}; pg_port=${pg_port%%/*}
pg=(--pg-port "$pg_port" --user corio --password "$MYSQL_PASSWORD" --db postgres --selects "$SELECTS")
my=(--my-port "$MYSQL_PORT" --user "$MYSQL_USER" --password "$MYSQL_PASSWORD" --db "$MYSQL_DB"
    --selects "$SELECTS")
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)" >&2

# pgbench: 10 clients, prepared, the same point query, for 10 s.
printf 'SELECT 1::int + 1;\n' >"$out.pgbench.sql"
pgbench_qps() {
    PGPASSWORD=$MYSQL_PASSWORD "${C0[@]}" pgbench -n -M prepared -c 10 -j 1 -T 10 \
        -f "$out.pgbench.sql" -h 127.0.0.1 -p "$pg_port" -U corio postgres 2>/dev/null |
        sed -n 's/^tps = \([0-9.]*\).*/{"pgbench_select_qps": \1}/p'
}
# mariadb-slap: 10 clients, SELECTS point queries in all.
slap_qps() {
    local t
    t=$("${C0[@]}" mariadb-slap -h 127.0.0.1 -P "$MYSQL_PORT" -u "$MYSQL_USER" \
        -p"$MYSQL_PASSWORD" --create-schema="$MYSQL_DB" --concurrency=10 --iterations=1 \
        --number-of-queries="$SELECTS" --query='SELECT 1 + 1' 2>/dev/null |
        sed -n 's/.*Average number of seconds to run all queries: \([0-9.]*\).*/\1/p')
    [[ -n $t ]] && $PY -c "import sys; print('{\"slap_select_qps\": %.1f}' % ($SELECTS / float(sys.argv[1])))" "$t"
}
for r in $(seq "$ROUNDS"); do
    for peer in corio-pg asyncpg pgbench corio-my aiomysql mariadb-slap; do
        case $peer in
            corio-pg) line=$("${C0[@]}" build/release/bench/w10_sql "${pg[@]}") ;;
            asyncpg) line=$("${C0[@]}" $PY bench/peers/python/w10_sql_pg.py "${pg[@]}") ;;
            corio-my) line=$("${C0[@]}" build/release/bench/w10_sql "${my[@]}") ;;
            aiomysql) line=$("${C0[@]}" $PY bench/peers/python/w10_sql_mysql.py "${my[@]}") ;;
            pgbench) line=$(pgbench_qps) ;;
            mariadb-slap) line=$(slap_qps) ;;
        esac
        echo "round $r $peer: $line" >&2
        echo "$peer $line" >>"$results"
    done
done
rm -f "$out.pgbench.sql"
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
$PY - "$results" <<'PY'
import json, statistics, sys
runs = {}
for line in open(sys.argv[1]):
    peer, _, js = line.partition(" ")
    try:
        for k, v in json.loads(js).items():
            runs.setdefault((peer, k), []).append(v)
    except ValueError:
        pass
print("| client | metric | median | runs |")
print("|---|---|--:|---|")
for (peer, k), vs in runs.items():
    print(f"| {peer} | {k} | {statistics.median(vs):,.0f} | {', '.join(f'{v:,.0f}' for v in vs)} |")
PY
