#!/usr/bin/env bash
# scripts/tour.sh - the main job: builds corio (Release) and runs the examples
# tour, which mirrors the asyncio tutorials' examples one by one and prints
# what each shows, with the elapsed times that prove the concurrency. The
# Redis examples that need a server get one: a redis-server on a free
# loopback port in a temporary directory (REDIS_URL), stopped and removed
# when the tour ends. An exported REDIS_URL is used instead. Likewise the
# RabbitMQ examples get a rabbitmq-server (AMQP_URL): its own node name, AMQP,
# distribution and epmd ports and data directory, so it never meets another
# RabbitMQ on the machine; stopped (with its epmd) and removed at the end.
# An exported AMQP_URL is used instead.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/deps.sh
ensure_packages "${CORIO_BUILD_PACKAGES[@]}" redis-server rabbitmq-server

cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)" --target corio_tour

redis_pid="" redis_dir=""
stop_redis() {
    if [ -n "$redis_pid" ]; then
        kill "$redis_pid" 2>/dev/null || true
        wait "$redis_pid" 2>/dev/null || true
    fi
    [ -z "$redis_dir" ] || rm -rf "$redis_dir"
}
rabbit_pid="" epmd_pid="" rabbit_dir=""
stop_rabbitmq() {
    local pid
    for pid in $rabbit_pid $epmd_pid; do  # each leads its own process group
        kill -TERM -- "-$pid" 2>/dev/null || true
    done
    for pid in $rabbit_pid $epmd_pid; do
        for _ in $(seq 50); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL -- "-$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    [ -z "$rabbit_dir" ] || rm -rf "$rabbit_dir"
}
trap 'stop_redis; stop_rabbitmq' EXIT

# Answers the AMQP protocol header with a frame (connection.start)?
amqp_answers() {
    timeout 1 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1 && printf 'AMQP\0\0\011\01' >&3 &&
        [ \"\$(head -c 1 <&3 | od -An -tx1 | tr -d ' ')\" = 01 ]" 2>/dev/null
}

start_rabbitmq() {
    local ports port dist epmd_port
    ports=$(python3 -c 'import socket
socks = [socket.socket() for _ in range(3)]
for s in socks: s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))')
    read -r port dist epmd_port <<<"$ports"
    rabbit_dir=$(mktemp -d)
    printf '%s\n' 'loopback_users = none' 'default_user = corio' 'default_pass = corio-tour' \
        "listeners.tcp.default = 127.0.0.1:$port" >"$rabbit_dir/rabbitmq.conf"
    printf '[].\n' >"$rabbit_dir/enabled_plugins"
    local env=(HOME="$rabbit_dir" ERL_EPMD_PORT="$epmd_port" RABBITMQ_NODE_PORT="$port"
        RABBITMQ_DIST_PORT="$dist" RABBITMQ_NODENAME="corio-tour-$port@localhost"
        RABBITMQ_MNESIA_BASE="$rabbit_dir/mnesia" RABBITMQ_LOG_BASE="$rabbit_dir/log"
        RABBITMQ_CONFIG_FILE="$rabbit_dir/rabbitmq"
        RABBITMQ_ENABLED_PLUGINS_FILE="$rabbit_dir/enabled_plugins"
        RABBITMQ_PLUGINS_EXPAND_DIR="$rabbit_dir/plugins-expand")
    # Our own epmd, in the foreground (one the node started would outlive it).
    env "${env[@]}" setsid epmd -port "$epmd_port" >"$rabbit_dir/epmd.log" 2>&1 &
    epmd_pid=$!
    for _ in $(seq 50); do
        env "${env[@]}" epmd -names >/dev/null 2>&1 && break
        sleep 0.1
    done
    env "${env[@]}" setsid /usr/lib/rabbitmq/bin/rabbitmq-server >"$rabbit_dir/log.txt" 2>&1 &
    rabbit_pid=$!
    for _ in $(seq 600); do  # up to 60 s (about 5 s on an idle machine)
        if amqp_answers "$port"; then
            export AMQP_URL="amqp://corio:corio-tour@127.0.0.1:$port/"
            break
        fi
        kill -0 "$rabbit_pid" 2>/dev/null || break
        sleep 0.1
    done
    [ -n "${AMQP_URL:-}" ] || { echo "rabbitmq-server did not start:"; tail -n 20 "$rabbit_dir/log.txt"; }
}

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

if [ -z "${AMQP_URL:-}" ] && [ -x /usr/lib/rabbitmq/bin/rabbitmq-server ]; then
    echo "starting rabbitmq-server for the RabbitMQ examples..."
    start_rabbitmq
fi

rc=0
build/release/examples/corio_tour "$@" || rc=$?
exit "$rc"
