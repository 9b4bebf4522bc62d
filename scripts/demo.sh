#!/usr/bin/env bash
# scripts/demo.sh - the web layer live: builds corio-demo (Release) and starts
# it; arguments go to corio-demo (--host, --port, --threads, --access-log,
# --help). Ctrl-C stops it.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/deps.sh
ensure_packages "${CORIO_BUILD_PACKAGES[@]}"

cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)" --target corio_demo
exec build/release/src/demo/corio-demo "$@"
