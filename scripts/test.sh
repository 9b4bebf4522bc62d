#!/usr/bin/env bash
# scripts/test.sh - builds and runs every test, from nothing, on Debian 12:
#   1. GCC, Debug: the whole suite (with install.consumer: install into a
#      temporary prefix, build a program against it; scripts/install_test.sh);
#   2. clang, AddressSanitizer + UndefinedBehaviorSanitizer: the whole suite;
#   3. clang, ThreadSanitizer: the tests labelled "threads" (every suite that
#      crosses threads, and the examples of examples/threads/), building only
#      those (target corio_threads_suite);
#   4. formatting (clang-format) and public headers that compile alone;
#   5. a short run of every libFuzzer target (scripts/fuzz.sh runs longer).
# Installs the packages it needs when they are missing.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/deps.sh
ensure_packages "${CORIO_TEST_PACKAGES[@]}"

jobs=$(nproc)
step() { printf '\n== %s ==\n' "$*"; }

step "format check"
git ls-files '*.hpp' '*.cpp' | grep -v '^bench/peers/' | xargs clang-format --dry-run -Werror

for preset in dev asan tsan; do
    step "$preset: configure and build"
    cmake --preset "$preset" >/dev/null
    if [ "$preset" = tsan ]; then  # only what it runs: the suites labelled "threads"
        cmake --build --preset "$preset" -j "$jobs" --target corio_threads_suite
    else
        cmake --build --preset "$preset" -j "$jobs"
    fi
    step "$preset: test"
    ctest --preset "$preset"
done

step "fuzz: a short run of every target"
bash scripts/fuzz.sh "${CORIO_FUZZ_SECONDS:-20}"

step "all tests passed"
