#!/usr/bin/env bash
# scripts/tour.sh - the main job: builds corio (Release) and runs the examples
# tour, which mirrors the asyncio tutorials' examples one by one and prints
# what each shows, with the elapsed times that prove the concurrency. The
# Redis examples that need a server get one: a redis-server on a free
# loopback port in a temporary directory (REDIS_URL), stopped and removed
# when the tour ends. An exported REDIS_URL is used instead. The SQL and
# RabbitMQ examples get a MariaDB, a PostgreSQL and a RabbitMQ server the same
# way, started by corio_test_server (the test suite's server fixture: free
# ports, RabbitMQ on its own node, distribution and epmd ports) unless
# MYSQL_PORT / DATABASE_URL / AMQP_URL are exported.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/deps.sh
ensure_packages "${CORIO_BUILD_PACKAGES[@]}" redis-server mariadb-server postgresql rabbitmq-server

cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)" --target corio_tour corio_test_server

redis_pid="" redis_dir=""
stop_redis() {
    if [ -n "$redis_pid" ]; then
        kill "$redis_pid" 2>/dev/null || true
        wait "$redis_pid" 2>/dev/null || true
    fi
    [ -z "$redis_dir" ] || rm -rf "$redis_dir"
}
db_pid="" db_out=""
stop_servers() {
    stop_redis
    if [ -n "$db_pid" ]; then
        kill "$db_pid" 2>/dev/null || true  # it stops its servers and removes their directories
        wait "$db_pid" 2>/dev/null || true
    fi
    [ -z "$db_out" ] || rm -f "$db_out"
}
trap stop_servers EXIT

if [ -z "${REDIS_URL:-}" ] && command -v redis-server >/dev/null; then
    redis_dir=$(mktemp -d)
    for _ in 1 2 3 4 5 6 7 8 9 10; do
        port=$((20000 + RANDOM % 40000))
        redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no \
            --dir "$redis_dir" >"$redis_dir/log" 2>&1 &
        redis_pid=$!
        for _ in $(seq 50); do  # up to 5 s for it to answer
            if [ "$(redis-cli -p "$port" ping 2>/dev/null)" = PONG ] || ! kill -0 "$redis_pid" 2>/dev/null; then
                break
            fi
            sleep 0.1
        done
        if [ "$(redis-cli -p "$port" ping 2>/dev/null)" = PONG ]; then
            export REDIS_URL="redis://127.0.0.1:$port"
            break
        fi
        kill "$redis_pid" 2>/dev/null || true  # that port was taken: another one
        wait "$redis_pid" 2>/dev/null || true
        redis_pid=""
    done
fi

db_kinds=()
[ -n "${MYSQL_PORT:-}" ] || ! command -v mariadbd >/dev/null || db_kinds+=(mariadb)
[ -n "${DATABASE_URL:-}" ] || ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 ||
    db_kinds+=(postgres)
[ -n "${AMQP_URL:-}" ] || [ ! -x /usr/lib/rabbitmq/bin/rabbitmq-server ] || db_kinds+=(rabbitmq)
if [ ${#db_kinds[@]} -gt 0 ]; then
    db_out=$(mktemp)
    build/release/tests/support/corio_test_server "${db_kinds[@]}" >"$db_out" 2>&1 </dev/null &
    db_pid=$!
    while ! grep -qx ready "$db_out" && kill -0 "$db_pid" 2>/dev/null; do
        sleep 0.2
    done
    if grep -qx ready "$db_out"; then
        while IFS= read -r line; do
            case $line in *=*) export "${line?}" ;; esac
        done <"$db_out"
    else
        echo "tour: no servers for the SQL and RabbitMQ examples:" >&2
        cat "$db_out" >&2
        db_pid=""
    fi
fi

rc=0
build/release/examples/corio_tour "$@" || rc=$?
exit "$rc"
