#!/usr/bin/env bash
# bench/peers/nginx/w6_nginx.sh --dir DIR --port P: nginx as the W6 reference,
# configured from w6.conf in DIR (created), in the foreground (master + one
# worker); SIGTERM stops it (nginx's fast shutdown).
set -euo pipefail
dir="" port=""
while (($#)); do
    case $1 in
        --dir) dir=$2; shift 2 ;;
        --port) port=$2; shift 2 ;;
        *) echo "usage: w6_nginx.sh --dir DIR --port P" >&2; exit 2 ;;
    esac
done
[[ -n $dir && -n $port ]] || { echo "usage: w6_nginx.sh --dir DIR --port P" >&2; exit 2; }
mkdir -p "$dir/tmp"
dir=$(cd "$dir" && pwd)
sed "s/@PORT@/$port/" "$(dirname "$0")/w6.conf" >"$dir/nginx.conf"
exec nginx -p "$dir/" -c "$dir/nginx.conf"
