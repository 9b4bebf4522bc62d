# scripts/deps.sh - sourced by the other scripts: installs Debian packages
# that are missing, non-interactively, running `apt-get update` once first.
# Needs root (or sudo) only when something is actually missing.

corio_apt() {
    if [ "$(id -u)" -eq 0 ]; then
        DEBIAN_FRONTEND=noninteractive apt-get "$@"
    else
        sudo DEBIAN_FRONTEND=noninteractive apt-get "$@"
    fi
}

# ensure_packages PKG... : installs the packages that are not installed yet.
ensure_packages() {
    local missing=()
    local p
    for p in "$@"; do
        if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
            missing+=("$p")
        fi
    done
    if [ "${#missing[@]}" -eq 0 ]; then
        return 0
    fi
    echo "corio: installing ${missing[*]}" >&2
    if [ -z "${CORIO_APT_UPDATED:-}" ]; then
        corio_apt update -q </dev/null
        export CORIO_APT_UPDATED=1
    fi
    corio_apt install -y -q --no-install-recommends "${missing[@]}" </dev/null
}

# What building corio needs (GCC build; the sanitizer builds add clang).
# node-llhttp ships llhttp's C sources, which corio::http compiles; liburing-dev
# gives the io_uring backend.
CORIO_BUILD_PACKAGES=(g++ cmake ninja-build libssl-dev node-llhttp liburing-dev)
# python3: the TLS tests run a peer written with Python's ssl module.
# curl, python3-aiohttp, python3-websockets: the HTTP and WebSocket tests' peers.
# redis-server: the corio::redis tests start their own (tests/support/server_fixture.hpp).
CORIO_TEST_PACKAGES=(g++ cmake ninja-build libssl-dev node-llhttp liburing-dev clang libclang-rt-14-dev
                     libgtest-dev libgmock-dev libbenchmark-dev clang-format python3
                     curl python3-aiohttp python3-websockets redis-server)
# pkg-config: the install test builds a program with the installed .pc files.
CORIO_TEST_PACKAGES+=(pkg-config)
# nlohmann-json3-dev: corio::http's JSON (a public dependency of corio::http).
CORIO_BUILD_PACKAGES+=(nlohmann-json3-dev)
CORIO_TEST_PACKAGES+=(nlohmann-json3-dev)
# zlib1g-dev: corio::http's WebSocket permessage-deflate (a private dependency).
CORIO_BUILD_PACKAGES+=(zlib1g-dev)
CORIO_TEST_PACKAGES+=(zlib1g-dev)
# chromium: the corio-demo /chat page is tested in headless Chromium.
CORIO_TEST_PACKAGES+=(chromium)
# postgresql (15, with psql): the real-server fixture's PostgreSQL.
CORIO_TEST_PACKAGES+=(postgresql)
# libpq-dev: corio::sql's PostgreSQL driver (libpq's asynchronous API).
CORIO_BUILD_PACKAGES+=(libpq-dev)
CORIO_TEST_PACKAGES+=(libpq-dev)
# libmariadb-dev: corio::sql's MariaDB/MySQL driver (Connector/C); mariadb-server:
# its tests start their own mariadbd.
CORIO_BUILD_PACKAGES+=(libmariadb-dev pkg-config)
CORIO_TEST_PACKAGES+=(libmariadb-dev mariadb-server)
# rabbitmq-server (3.10): the corio::amqp tests start their own; python3-aioamqp
# (and python3-uvloop for W12's peer): the AMQP interop test's and benchmark's peer.
CORIO_TEST_PACKAGES+=(rabbitmq-server python3-aioamqp python3-uvloop)
