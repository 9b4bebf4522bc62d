#!/usr/bin/env bash
# scripts/install_test.sh [BUILD_DIR] - installs corio into a temporary
# prefix, moves the installed tree elsewhere (so nothing may depend on the
# prefix it was installed with), then builds and runs a small consumer
# against it with -Wall -Wextra -Werror, twice:
#   1. CMake: find_package(corio <version> EXACT), one program per exported
#      target (corio::core - the README's example, extracted from
#      README.md -, corio::net, corio::http, corio::redis, corio::testing,
#      corio::corio); the version file must refuse corio 999.0;
#   2. pkg-config: the same programs, built with only the flags of their .pc
#      file (corio-core, corio-net, corio-http, corio-redis, corio-testing,
#      corio), linked statically (`pkg-config --static --libs`).
#
# BUILD_DIR is a configured and built corio build tree, which is reused (the
# ctest test "install.consumer" passes its own). Without it, the script runs
# the README's install sequence from nothing: `cmake --preset package`, build,
# install.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-}
start=$SECONDS
tmp=$(mktemp -d "${TMPDIR:-/tmp}/corio-install.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
say() { printf '== install test (%3d s): %s\n' $((SECONDS - start)) "$*"; }
fail() { printf 'install test FAILED: %s\n' "$*" >&2; exit 1; }

if [[ -z $build ]]; then
    say "configure and build the libraries (cmake --preset package)"
    (cd "$src" && cmake --preset package >/dev/null && cmake --build --preset package -j "$(nproc)")
    build=$src/build/package
fi
cache() { sed -n "s/^$1:[A-Z]*=//p" "$build/CMakeCache.txt"; }
cxx=$(cache CMAKE_CXX_COMPILER)
sanitize=$(cache CORIO_SANITIZE)
version=$(sed -n 's/^project(corio VERSION \([0-9.]*\).*/\1/p' "$src/CMakeLists.txt")
[[ -n $version ]] || fail "no version in CMakeLists.txt's project()"

# A sanitized corio needs the same runtime in the programs that link it.
flags=()
if [[ -n $sanitize ]]; then
    flags+=("-fsanitize=$sanitize" -fno-omit-frame-pointer)
    if [[ $sanitize == *undefined* && $("$cxx" --version) == *clang* ]]; then
        flags+=(-fno-sanitize=function)
    fi
fi

say "install $build into a temporary prefix, then move it"
cmake --install "$build" --prefix "$tmp/stage" >/dev/null
mv "$tmp/stage" "$tmp/moved"
prefix=$tmp/moved
if grep -rl "$tmp/stage" "$prefix" >/dev/null; then
    fail "installed files name the install prefix: $(grep -rl "$tmp/stage" "$prefix")"
fi
[[ -f $prefix/include/corio/version.hpp ]] || fail "corio/version.hpp is not installed"

# The README's C++ example: its first ```cpp block.
awk '/^```cpp$/ {on = 1; next} /^```$/ && on {exit} on' "$src/README.md" >"$tmp/readme_example.cpp"
grep -q 'corio::run' "$tmp/readme_example.cpp" || fail "no C++ example in README.md"

check_outputs() {  # DIR: run every program there, check what they print
    local dir=$1 out
    out=$("$dir/readme_example") || fail "$dir/readme_example exited with $?"
    [[ $out == $'too slow\n6' ]] || fail "$dir/readme_example printed: $out"
    for prog in use_net use_http use_redis use_testing use_process use_sql use_amqp use_corio; do
        out=$("$dir/$prog") || fail "$dir/$prog exited with $?: $out"
        printf '   %s\n' "$out"
    done
}

say "CMake consumer: find_package(corio $version EXACT), every exported target"
cmake -S "$src/tests/install/consumer" -B "$tmp/cmake" -G Ninja -DCMAKE_BUILD_TYPE= \
    -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_PREFIX_PATH="$prefix" \
    -DCMAKE_CXX_FLAGS="${flags[*]}" -DCMAKE_EXE_LINKER_FLAGS="${flags[*]}" \
    -DCORIO_EXPECTED_VERSION="$version" -DCORIO_README_EXAMPLE="$tmp/readme_example.cpp" >/dev/null
cmake --build "$tmp/cmake" -j "$(nproc)" >/dev/null || cmake --build "$tmp/cmake" -j 1
check_outputs "$tmp/cmake"

say "pkg-config consumer: one .pc per library"
pcdir=$(dirname "$(find "$prefix" -name corio-core.pc)")
export PKG_CONFIG_PATH=$pcdir
for pc in corio-core corio-net corio-http corio-redis corio-testing corio-process corio-sql corio-amqp corio; do
    [[ -f $pcdir/$pc.pc ]] || fail "$pc.pc is not installed"
    # shellcheck disable=SC2016 # a literal ${pcfiledir}
    grep -q '^prefix=${pcfiledir}/' "$pcdir/$pc.pc" || fail "$pc.pc is not relocatable"
    [[ $(pkg-config --modversion "$pc") == "$version" ]] || fail "$pc.pc: version is not $version"
done
grep -q '^Requires.private:.*openssl' "$pcdir/corio-net.pc" || fail "corio-net.pc: no openssl"
mkdir "$tmp/pc"
consumer=$src/tests/install/consumer
# Every library's Cflags come from corio-core (Requires); two programs are
# compiled with them (the README's with corio-core's, use_corio with the
# umbrella's), and the CMake consumer's objects of the others are linked
# with only their own .pc's libraries.
for pc in corio-net corio-http corio-redis corio-testing corio-process corio-sql corio-amqp corio; do
    [[ $(pkg-config --cflags "$pc") == "$(pkg-config --cflags corio-core)" ]] ||
        fail "$pc.pc: its Cflags differ from corio-core's"
done
pc_compile() {  # PACKAGE SOURCE PROGRAM [FLAGS...]
    local pkg=$1 source=$2 prog=$3
    shift 3
    # shellcheck disable=SC2046 # pkg-config's output is a list of flags
    "$cxx" -Wall -Wextra -Werror "${flags[@]}" "$@" $(pkg-config --cflags "$pkg") "$source" \
        -o "$tmp/pc/$prog" $(pkg-config --static --libs "$pkg")
}
pc_link() {  # PACKAGE PROGRAM: the CMake consumer's object, pkg-config's libraries
    local pkg=$1 prog=$2
    # shellcheck disable=SC2046
    "$cxx" "${flags[@]}" "$tmp/cmake/CMakeFiles/$prog.dir/$prog.cpp.o" -o "$tmp/pc/$prog" \
        $(pkg-config --static --libs "$pkg")
}
pc_compile corio-core "$tmp/readme_example.cpp" readme_example &
pc_compile corio "$consumer/use_corio.cpp" use_corio "-DCORIO_EXPECTED_VERSION=\"$version\"" &
pc_link corio-net use_net || fail "linking use_net with corio-net.pc"
pc_link corio-http use_http || fail "linking use_http with corio-http.pc"
pc_link corio-redis use_redis || fail "linking use_redis with corio-redis.pc"
pc_link corio-testing use_testing || fail "linking use_testing with corio-testing.pc"
pc_link corio-process use_process || fail "linking use_process with corio-process.pc"
pc_link corio-sql use_sql || fail "linking use_sql with corio-sql.pc"
pc_link corio-amqp use_amqp || fail "linking use_amqp with corio-amqp.pc"
wait %1 || fail "compiling the README's example with corio-core.pc"
wait %2 || fail "compiling use_corio with corio.pc"
check_outputs "$tmp/pc"

say "passed in $((SECONDS - start)) s"
