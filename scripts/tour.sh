#!/usr/bin/env bash
# scripts/tour.sh - the main job: builds corio (Release) and runs the examples
# tour, which mirrors the asyncio tutorials' examples one by one and prints
# what each shows, with the elapsed times that prove the concurrency.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/deps.sh
ensure_packages "${CORIO_BUILD_PACKAGES[@]}"

cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)" --target corio_tour
exec build/release/examples/corio_tour "$@"
