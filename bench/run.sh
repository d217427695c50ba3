#!/usr/bin/env bash
# Load test of POST /api/v1/query on the demo database, with wrk.
#   bench/run.sh                      # cheap mix, 16 connections, 20 s, SQLite
#   MIX=heavy CONNECTIONS=8 DURATION=20 bench/run.sh
#   DATABASE=postgres POOL_SIZE=8 bench/run.sh   # the demo on a PostgreSQL server of its own
#   DATABASE=mariadb POOL_SIZE=8 bench/run.sh    # ... or MariaDB (scripts/dbserver.sh)
# Builds the release binary if needed, writes the demo database, starts the server on a free
# loopback port with authentication and rate limiting on (a bench user, a token, a tenant limit
# high enough never to refuse), warms it up, runs wrk, prints its figures and stops the server.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
MIX="${MIX:-cheap}"
CONNECTIONS="${CONNECTIONS:-16}"
DURATION="${DURATION:-20}"
THREADS="${THREADS:-2}"
DATABASE="${DATABASE:-sqlite}"
POOL_SIZE="${POOL_SIZE:-8}"
build="$root/build/release"
work="$root/build/bench"
mkdir -p "$work"

command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)" >&2; exit 1; }
if [ ! -x "$build/src/heliosdb-conversational-bi" ]; then
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DHELIOS_BUILD_TESTS=OFF >/dev/null
fi
cmake --build "$build" --target heliosdb-conversational-bi >/dev/null
bin="$build/src/heliosdb-conversational-bi"
case "$DATABASE" in
  sqlite)
    [ -f "$work/demo.db" ] || "$bin" demo-data "$work/demo.db" >/dev/null
    database_url="sqlite://$work/demo.db"
    ;;
  postgres | mariadb)
    "$root/scripts/dbserver.sh" start "$DATABASE" "$work/$DATABASE" >/dev/null
    "$root/scripts/dbserver.sh" load-demo "$DATABASE" "$work/$DATABASE" "$bin"
    database_url="$(cat "$work/$DATABASE/reader_url")"
    ;;
  *) echo "DATABASE must be sqlite, postgres or mariadb" >&2; exit 2 ;;
esac
stop_database() {
  if [ "$DATABASE" != sqlite ]; then
    "$root/scripts/dbserver.sh" stop "$DATABASE" "$work/$DATABASE" || true
  fi
}

log="$work/server.log"
# shellcheck source=bench/lib.sh
source "$root/bench/lib.sh"
trap 'bench_stop_server; stop_database' EXIT
bench_start_server "$bin" "$work" "$database_url" "$log" "${WORKERS:-16}" \
  "[database]" "pool_size = $POOL_SIZE"
port="$bench_port"
export TOKEN="$bench_token"

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "binary: $("$bin" --version); workers: ${WORKERS:-16} (HELIOSDB_WORKER_THREADS); log: JSON lines to a file"
echo "database: $DATABASE, pool_size $POOL_SIZE"
echo "mix: $MIX, wrk: $THREADS threads, $CONNECTIONS connections, ${DURATION}s (after a 5 s warm-up)"
MIX="$MIX" wrk -t"$THREADS" -c"$CONNECTIONS" -d5s -s "$root/bench/query.lua" \
  "http://127.0.0.1:$port" >/dev/null
MIX="$MIX" wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency -s "$root/bench/query.lua" \
  "http://127.0.0.1:$port" | sed -n '/^requests /,$p'
