#!/usr/bin/env bash
# scripts/fuzz.sh [SECONDS] - builds the libFuzzer targets (clang, ASan +
# UBSan, the "fuzz" preset) and runs each for SECONDS (default 300), starting
# from its seed corpus fuzz/corpus/<name>/. New inputs go to
# build/fuzz/corpus/<name>/, crashes to build/fuzz/artifacts/. Exits non-zero
# when a target finds a crash or a mismatch.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/deps.sh
ensure_packages "${CORIO_TEST_PACKAGES[@]}"

secs=${1:-300}
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz -j "$(nproc)"
mkdir -p build/fuzz/artifacts
for bin in build/fuzz/fuzz/*_fuzz; do
    name=$(basename "$bin" _fuzz)
    work=build/fuzz/corpus/$name
    mkdir -p "$work"
    printf '\n== fuzz %s: %s s ==\n' "$name" "$secs"
    log=build/fuzz/$name.log
    rc=0
    "$bin" -max_total_time="$secs" -print_final_stats=1 -artifact_prefix=build/fuzz/artifacts/ \
        "$work" "fuzz/corpus/$name" >"$log" 2>&1 || rc=$?
    grep -v '^#[0-9]' "$log" | tail -n 25
    [ "$rc" -eq 0 ] || { echo "fuzz $name: failed (exit $rc; full log: $log)"; exit 1; }
done
