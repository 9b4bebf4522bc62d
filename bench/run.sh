#!/usr/bin/env bash
# bench/run.sh - run corio's benchmarks and their peers (workloads: bench/README.md).
#
#   bench/run.sh [--rounds N] [--only w1,w2,...] [--quick]
#
# Installs what is missing (apt-get), builds corio's benchmark programs (release preset) and
# the Asio peers, then runs every workload in interleaved rounds (round 1 of every peer, then
# round 2, ...):
#   W1-W4, W8: corio, asio, asyncio, uvloop, each under /usr/bin/time (peak RSS, CPU %);
#   W5: echo servers under `taskset -c 1`, the Asio client under `taskset -c 0`;
#   w5_idle (W5 with 10,000 idle connections held open beside 100 active ones; `--only w5`
#   does not include it, `--only w5_idle` selects it): same servers, same client;
#   W6: HTTP servers under `taskset -c 1` (corio on both backends, Boost.Beast, aiohttp on
#   asyncio and uvloop, nginx with one worker), wrk under `taskset -c 0` through
#   bench/peers/w6_wrk.py, at 100 and at 1000 connections.
#   W9: corio's process pool against Python's ProcessPoolExecutor (asyncio, uvloop),
#   in-process like W1-W4.
#   W7: a fresh redis-server under `taskset -c 1` per run, the client under `taskset -c 0`:
#   corio, redis.asyncio (asyncio and uvloop) and redis-benchmark (-P 1, then -P 100).
# Raw results: build/bench-results/<timestamp>/raw.jsonl; the Markdown report goes to stdout
# and to report.md beside it (bench/report.py renders it). Progress and logs go to stderr.
#
# Default: 3 rounds of every workload whose corio program exists in build/release/bench.
# --quick shrinks every run (smoke test, 1 round unless --rounds is given).
set -uo pipefail # no -e: a failed run is recorded and the script goes on

cd "$(dirname "$0")/.." || exit 1
CMDLINE=$0
for a in "$@"; do
    [[ $a =~ ^[A-Za-z0-9_./,=:+-]+$ ]] && CMDLINE+=" $a" || CMDLINE+=" $(printf %q "$a")"
done
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
PY=/usr/bin/python3
CORIO=build/release/bench
ASIO=build/peers-asio

log() { echo "[run.sh] $*" >&2; }
die() { log "error: $*"; exit 1; }
usage() { sed -n '2,/^[^#]/{/^#/s/^# \{0,1\}//p}' "$0" >&2; exit 2; }

ROUNDS="" ONLY="" QUICK=0
while (($#)); do
    case $1 in
        --rounds) ROUNDS=${2:-}; shift 2 || usage ;;
        --rounds=*) ROUNDS=${1#*=}; shift ;;
        --only) ONLY=${2:-}; shift 2 || usage ;;
        --only=*) ONLY=${1#*=}; shift ;;
        --quick) QUICK=1; shift ;;
        -h | --help) usage ;;
        *) log "unknown argument: $1"; usage ;;
    esac
done
[[ -z $ROUNDS ]] && { ((QUICK)) && ROUNDS=1 || ROUNDS=3; }
[[ $ROUNDS =~ ^[1-9][0-9]*$ ]] || die "--rounds needs a positive integer"
((ROUNDS < 3 && !QUICK)) && log "warning: bench/README.md asks for at least 3 rounds"
[[ -z $ONLY || ,$ONLY, =~ ^(,(w[1-9]|w1_spawn|w2_chain|w3_timers|w4_queue|w8_executor|w5_echo|w5_idle|w6_http|w7_redis|w9_process_pool))+,$ ]] ||
    die "--only takes a comma-separated list of w1, w2, w3, w4, w5, w5_idle, w6, w7, w8, w9 (or w1_spawn, ...)"

# ------------------------------------------------------------------ install, build
ensure_packages() {
    local p missing=()
    for p in g++ cmake ninja-build libboost-dev python3 python3-uvloop time util-linux coreutils \
        wrk nginx-light python3-aiohttp redis-server redis-tools python3-redis; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
    done
    ((${#missing[@]})) || return 0
    local sudo=""
    [[ $(id -u) == 0 ]] || sudo=sudo
    log "installing: ${missing[*]}"
    if ! $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 ||
        ! $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
            "${missing[@]}" >&2; then
        die "apt-get install failed"
    fi
}
ensure_packages

OUT=build/bench-results/$(date +%Y%m%d-%H%M%S)
mkdir -p "$OUT/logs" || die "cannot create $OUT"
RAW=$OUT/raw.jsonl
: >"$RAW"

log "building corio's benchmarks (release preset) and the Asio peers; log: $OUT/build.log"
# Only the benchmark programs (whichever of them the project defines), so that work in
# progress elsewhere in the tree cannot stop a run; the whole tree if none is found.
build_corio() {
    cmake --preset release || return
    local t known targets=()
    known=$(cmake --build --preset release --target help)
    for t in w1_spawn w2_chain w3_timers w4_queue w8_executor w5_echo_server w6_http_server w7_redis w9_process_pool; do
        grep -q "^$t: " <<<"$known" && targets+=("$t")
    done
    cmake --build --preset release ${targets[@]:+--target "${targets[@]}"}
}
build_corio >"$OUT/build.log" 2>&1 || { tail -40 "$OUT/build.log" >&2; die "corio release build failed"; }
asio_gen=()
[[ -f $ASIO/CMakeCache.txt ]] || asio_gen=(-G Ninja)
if [[ -n $ONLY && ,$ONLY, =~ ^(,(w7|w7_redis))+,$ ]]; then
    log "W7 only: it has no Asio peer to build"
else
    {
        cmake -S bench/peers/asio -B "$ASIO" -DCMAKE_BUILD_TYPE=Release "${asio_gen[@]}" &&
            cmake --build "$ASIO" -j2
    } >>"$OUT/build.log" 2>&1 || { tail -40 "$OUT/build.log" >&2; die "Asio peers build failed"; }
fi

# ------------------------------------------------------------------ workloads
ALL=(w1_spawn w2_chain w3_timers w4_queue w8_executor w5_echo w5_idle w6_http w7_redis w9_process_pool)
corio_prog() {
    case $1 in
        w5_*) echo "$CORIO/w5_echo_server" ;;
        w6_*) echo "$CORIO/w6_http_server" ;;
        *) echo "$CORIO/$1" ;;
    esac
}
WORKLOADS=()
if [[ -n $ONLY ]]; then
    IFS=, read -ra want <<<"$ONLY"
    for x in "${want[@]}"; do
        match=""
        # the short name (w5) selects the first workload of that number (w5_echo, not w5_idle)
        for w in "${ALL[@]}"; do [[ -z $match && ($w == "$x" || ${w%%_*} == "$x") ]] && match=$w; done
        [[ -n $match ]] || die "unknown workload '$x' (known: ${ALL[*]}, or w1..w9)"
        [[ -x $(corio_prog "$match") ]] || log "warning: $(corio_prog "$match") missing; running the peers only"
        WORKLOADS+=("$match")
    done
else
    for w in "${ALL[@]}"; do [[ -x $(corio_prog "$w") ]] && WORKLOADS+=("$w"); done
fi
((${#WORKLOADS[@]})) || die "no workload to run"

# Flags that only shrink runs (--quick); every peer takes the same ones.
quick_flags() {
    ((QUICK)) || return 0
    case $1 in
        w1_spawn | w3_timers) echo "--n 10000" ;;
        w2_chain) echo "--n-task 100000 --n-await 1000000" ;;
        w4_queue) echo "--k 25000" ;;
        w8_executor) echo "--n 10000" ;;
        w7_redis) echo "--n 20000" ;;
        w9_process_pool) echo "--n 10000 --cpu 8" ;;
    esac
}
LIMIT=600 # seconds per in-process run before it counts as failed
((QUICK)) && LIMIT=120

record() { "$PY" bench/report.py record "$RAW" "$@"; }

# run_inproc WORKLOAD PEER ROUND CMD...: one in-process run under /usr/bin/time.
run_inproc() {
    local w=$1 peer=$2 round=$3 rc
    shift 3
    local base=$OUT/logs/$w.$peer.r$round
    timeout -k 5 "$LIMIT" /usr/bin/time -f '%M %e %U %S %P' -o "$base.time" "$@" \
        >"$base.out" 2>"$base.err"
    rc=$?
    record --workload "$w" --peer "$peer" --round "$round" --rc "$rc" --stdout "$base.out" \
        --stderr "$base.err" --time "$base.time" --cmd "$*"
}

run_inproc_workload() {
    local w=$1 r q
    q=$(quick_flags "$w")
    for ((r = 1; r <= ROUNDS; r++)); do
        # shellcheck disable=SC2086  # $q is a list of flags
        {
            [[ -x $CORIO/$w ]] && run_inproc "$w" corio "$r" "$CORIO/$w" $q
            [[ -x $ASIO/$w ]] && run_inproc "$w" asio "$r" "$ASIO/$w" $q
            run_inproc "$w" asyncio "$r" "$PY" "bench/peers/python/$w.py" --loop asyncio $q
            run_inproc "$w" uvloop "$r" "$PY" "bench/peers/python/$w.py" --loop uvloop $q
        }
    done
}

# ------------------------------------------------------------------ W5 servers
SERVER_PID=""
proc_field() { awk -v i="$2" '{ sub(/.*\) /, ""); print $(i - 2) }' "/proc/$1/stat" 2>/dev/null; }
alive() { local s; s=$(proc_field "$1" 3) && [[ -n $s && $s != Z ]]; }
# PID and its descendants (nginx's worker is a child of its master).
tree() {
    local c
    echo "$1"
    for c in $(cat /proc/"$1"/task/*/children 2>/dev/null); do tree "$c"; done
}
cpu_ticks() { local p; for p in $(tree "$1"); do cat "/proc/$p/stat"; done 2>/dev/null |
    awk '{ sub(/.*\) /, ""); t += $12 + $13 } END { print t + 0 }'; }
user_ticks() { local p; for p in $(tree "$1"); do cat "/proc/$p/stat"; done 2>/dev/null |
    awk '{ sub(/.*\) /, ""); t += $12 } END { print t + 0 }'; }
free_port() { "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
listening() { grep -q "^ *[0-9]*: 0100007F:$(printf %04X "$1") 00000000:0000 0A " /proc/net/tcp; }
# wait_listening PORT: until $SERVER_PID listens on PORT, exits, or 10 s pass.
wait_listening() {
    local i
    for ((i = 0; i < 100; i++)); do
        listening "$1" && return
        alive "$SERVER_PID" || return
        sleep 0.1
    done
}
stop_server() {
    [[ -n $SERVER_PID ]] || return 0
    local i
    kill -TERM "$SERVER_PID" 2>/dev/null
    for ((i = 0; i < 50; i++)); do alive "$SERVER_PID" || break; sleep 0.1; done
    alive "$SERVER_PID" && { log "server $SERVER_PID ignored SIGTERM; killing it"; kill -KILL "$SERVER_PID" 2>/dev/null; }
    wait "$SERVER_PID" 2>/dev/null
    SERVER_RC=$?
    SERVER_PID=""
}
trap stop_server EXIT
trap 'log "interrupted"; exit 130' INT TERM

# run_w5 RECORD NAME ROUND SECS CLIENT_FLAGS SERVER_CMD...: a fresh server, one client run
# ($CLIENT: W5's Asio client, or W6's wrk) against it, recorded as workload RECORD. CLIENT_FLAGS (one word list) go to the client
# besides --port and --secs; with --idle the client also gets --server-pid (it reads the
# server's VmRSS and CPU time itself).
run_w5() {
    local w=$1 name=$2 round=$3 secs=$4 cflags=$5 port rc c0 c1 u0 u1 t0 t1 hwm limit
    shift 5
    local base=$OUT/logs/$w.$name.r$round
    port=$(free_port)
    taskset -c 1 "$@" --port "$port" >"$base.server.out" 2>"$base.server.err" &
    SERVER_PID=$!
    wait_listening "$port"
    limit=$((secs + 60))
    if [[ " $cflags " == *" --idle "* ]]; then
        cflags+=" --server-pid $SERVER_PID"
        limit=$((limit + 150)) # two passes over the idle connections, each stopped by the client after 60 s
    fi
    local cmd="taskset -c 1 $* --port $port; taskset -c 0 $CLIENT --port $port $cflags --secs $secs"
    if ! listening "$port"; then
        stop_server
        : >"$base.out"
        echo "server did not listen on port $port (exit status ${SERVER_RC:-?})" >>"$base.server.err"
        record --workload "$w" --peer "$name" --round "$round" --rc 1 --stdout "$base.out" \
            --stderr "$base.server.err" --cmd "$cmd"
        return
    fi
    c0=$(cpu_ticks "$SERVER_PID")
    u0=$(user_ticks "$SERVER_PID")
    t0=$(date +%s%N)
    # shellcheck disable=SC2086  # $cflags is a word list
    timeout -k 5 "$limit" taskset -c 0 $CLIENT --port "$port" $cflags \
        --secs "$secs" >"$base.out" 2>"$base.err"
    rc=$?
    t1=$(date +%s%N)
    c1=$(cpu_ticks "$SERVER_PID")
    u1=$(user_ticks "$SERVER_PID")
    hwm=$(awk '/^VmHWM:/ { print $2 }' "/proc/$SERVER_PID/status" 2>/dev/null)
    if ! alive "$SERVER_PID"; then
        ((rc == 0)) && rc=1
        echo "server died during the client run" >>"$base.err"
    fi
    stop_server
    ((SERVER_RC == 0)) || log "note: $name server exited with status $SERVER_RC after SIGTERM"
    record --workload "$w" --peer "$name" --round "$round" --rc "$rc" --stdout "$base.out" \
        --stderr "$base.err" --cmd "$cmd" \
        --extra "server_cpu_s=$(awk -v a="${c0:-0}" -v b="${c1:-0}" -v hz="$(getconf CLK_TCK)" 'BEGIN { print (b - a) / hz }')" \
        --extra "server_user_s=$(awk -v a="${u0:-0}" -v b="${u1:-0}" -v hz="$(getconf CLK_TCK)" 'BEGIN { print (b - a) / hz }')" \
        --extra "wall_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print (b - a) / 1e9 }')" \
        --extra "server_hwm_kb=$hwm" --extra "server_exit=$SERVER_RC"
}

# run_w5_workload WORKLOAD: every echo server through WORKLOAD's client variants.
run_w5_workload() {
    local names=() cmds=() variants=() v rec secs cflags r i
    # corio on each backend (CORIO_BACKEND), streams and Protocol style.
    names+=(corio) cmds+=("env CORIO_BACKEND=epoll $CORIO/w5_echo_server")
    if grep -aq -- '--protocol' "$CORIO/w5_echo_server" 2>/dev/null; then
        names+=(corio-protocol) cmds+=("env CORIO_BACKEND=epoll $CORIO/w5_echo_server --protocol")
    fi
    if [[ $(uname -r) == [6-9].* ]]; then
        names+=(corio-uring corio-uring-protocol)
        cmds+=("env CORIO_BACKEND=io_uring $CORIO/w5_echo_server"
            "env CORIO_BACKEND=io_uring $CORIO/w5_echo_server --protocol")
    fi
    names+=(asio asyncio asyncio-protocol uvloop uvloop-protocol)
    cmds+=("$ASIO/w5_echo_server"
        "$PY bench/peers/python/w5_echo_server.py --loop asyncio"
        "$PY bench/peers/python/w5_echo_server.py --loop asyncio --protocol"
        "$PY bench/peers/python/w5_echo_server.py --loop uvloop"
        "$PY bench/peers/python/w5_echo_server.py --loop uvloop --protocol")
    if [[ ! -x $CORIO/w5_echo_server ]]; then  # drop corio's entries
        local keep_n=() keep_c=()
        for i in "${!names[@]}"; do
            [[ ${names[$i]} == corio* ]] || { keep_n+=("${names[$i]}"); keep_c+=("${cmds[$i]}"); }
        done
        names=("${keep_n[@]}") cmds=("${keep_c[@]}")
    fi
    # variant: "RECORD SECS CLIENT_FLAGS..."
    case $1 in
        w5_echo)
            if ((QUICK)); then
                variants=("w5_echo_1k 2 --size 1024" "w5_echo_64k 1 --size 65536")
            else
                variants=("w5_echo_1k 10 --size 1024" "w5_echo_64k 5 --size 65536")
            fi ;;
        w5_idle)
            if ((QUICK)); then
                variants=("w5_idle 2 --idle 2000 --conns 100 --size 1024")
            else
                variants=("w5_idle 10 --idle 10000 --conns 100 --size 1024")
            fi ;;
    esac
    for v in "${variants[@]}"; do
        read -r rec secs cflags <<<"$v"
        for ((r = 1; r <= ROUNDS; r++)); do
            for i in "${!names[@]}"; do
                # shellcheck disable=SC2086  # the command is a word list
                run_w5 "$rec" "${names[$i]}" "$r" "$secs" "$cflags" ${cmds[$i]}
            done
        done
    done
}

# run_w6_workload: every HTTP server at 100 and at 1000 connections.
run_w6_workload() {
    local names=() cmds=() variants=() v rec secs cflags r i
    if [[ -x $CORIO/w6_http_server ]]; then
        names+=(corio) cmds+=("env CORIO_BACKEND=epoll $CORIO/w6_http_server")
        if [[ $(uname -r) == [6-9].* ]]; then
            names+=(corio-uring) cmds+=("env CORIO_BACKEND=io_uring $CORIO/w6_http_server")
        fi
    fi
    names+=(beast aiohttp aiohttp-uvloop nginx)
    cmds+=("$ASIO/w6_http_server"
        "$PY bench/peers/python/w6_http_server.py --loop asyncio"
        "$PY bench/peers/python/w6_http_server.py --loop uvloop"
        "bench/peers/nginx/w6_nginx.sh --dir $OUT/logs/nginx")
    if ((QUICK)); then
        variants=("w6_c100 2 --conns 100" "w6_c1000 2 --conns 1000")
    else
        variants=("w6_c100 10 --conns 100" "w6_c1000 5 --conns 1000")
    fi
    for v in "${variants[@]}"; do
        read -r rec secs cflags <<<"$v"
        for ((r = 1; r <= ROUNDS; r++)); do
            for i in "${!names[@]}"; do
                # shellcheck disable=SC2086  # the command is a word list
                run_w5 "$rec" "${names[$i]}" "$r" "$secs" "$cflags" ${cmds[$i]}
            done
        done
    done
}

# ------------------------------------------------------------------ W7 redis
# run_w7 PEER ROUND CMD...: a fresh redis-server (no persistence, taskset -c 1) on a free
# port, one client run (taskset -c 0, under /usr/bin/time) against it.
run_w7() {
    local peer=$1 round=$2 port dir
    shift 2
    port=$(free_port)
    dir=$OUT/logs/w7_redis.$peer.r$round.server
    mkdir -p "$dir"
    taskset -c 1 redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no \
        --dir "$dir" >"$dir/log" 2>&1 &
    SERVER_PID=$!
    wait_listening "$port"
    # shellcheck disable=SC2046  # quick_flags is a word list
    run_inproc w7_redis "$peer" "$round" taskset -c 0 "$@" --port "$port" $(quick_flags w7_redis)
    stop_server
}

run_w7_workload() {
    local r
    for ((r = 1; r <= ROUNDS; r++)); do
        [[ -x $CORIO/w7_redis ]] && run_w7 corio "$r" "$CORIO/w7_redis"
        run_w7 redis.asyncio "$r" "$PY" bench/peers/python/w7_redis.py --loop asyncio
        run_w7 redis.asyncio-uvloop "$r" "$PY" bench/peers/python/w7_redis.py --loop uvloop
        run_w7 redis-benchmark "$r" "$PY" bench/peers/python/w7_redis_benchmark.py
    done
}

# ------------------------------------------------------------------ run, report
LOAD_BENCH=$(cut -d' ' -f1-3 /proc/loadavg)
log "results: $OUT; workloads: ${WORKLOADS[*]}; rounds: $ROUNDS$( ((QUICK)) && echo ' (quick)')"
for w in "${WORKLOADS[@]}"; do
    log "== $w"
    case $w in
        w5_*) CLIENT="$ASIO/w5_echo_client" run_w5_workload "$w" ;;
        w6_*) CLIENT="$PY bench/peers/w6_wrk.py" run_w6_workload ;;
        w7_redis) run_w7_workload ;;
        *) run_inproc_workload "$w" ;;
    esac
done

dirty=$(git status --porcelain 2>/dev/null | grep -q . && echo ", uncommitted changes")
{
    echo "## corio benchmark run $(date '+%Y-%m-%d %H:%M:%S %Z')"
    echo
    echo "- command: \`$CMDLINE\`"
    echo "- rounds: $ROUNDS, interleaved$( ((QUICK)) && echo '; **--quick: shrunken runs, a smoke test, not results**')"
    echo "- machine: $(nproc) CPUs, $(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'),"\
        "kernel $(uname -sr)"
    echo "- load average: $LOAD_START at start, $LOAD_BENCH before the first benchmark"
    echo "- corio commit: $(git rev-parse --short HEAD 2>/dev/null || echo '?')$dirty"
    echo "- toolchain: $(g++ --version | head -1), Boost $(sed -n 's/^#define BOOST_LIB_VERSION "\(.*\)"/\1/p' /usr/include/boost/version.hpp | tr _ .)," \
        "$("$PY" -c 'import sys, uvloop; print(f"Python {sys.version.split()[0]}, uvloop {uvloop.__version__}")')"
    echo
    "$PY" bench/report.py render "$RAW"
} >"$OUT/report.md"
cat "$OUT/report.md"
log "report: $OUT/report.md; raw: $RAW"
