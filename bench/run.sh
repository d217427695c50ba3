#!/usr/bin/env bash
# Load test of POST /api/v1/query on the demo database, with wrk.
#   bench/run.sh                      # cheap mix, 16 connections, 20 s
#   MIX=heavy CONNECTIONS=8 DURATION=20 bench/run.sh
# Builds the release binary if needed, writes the demo database, starts the server on a free
# loopback port, warms it up, runs wrk, prints its figures and stops the server.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
MIX="${MIX:-cheap}"
CONNECTIONS="${CONNECTIONS:-16}"
DURATION="${DURATION:-20}"
THREADS="${THREADS:-2}"
build="$root/build/release"
work="$root/build/bench"
mkdir -p "$work"

command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)" >&2; exit 1; }
if [ ! -x "$build/src/heliosdb-conversational-bi" ]; then
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DHELIOS_BUILD_TESTS=OFF >/dev/null
fi
cmake --build "$build" --target heliosdb-conversational-bi >/dev/null
bin="$build/src/heliosdb-conversational-bi"
[ -f "$work/demo.db" ] || "$bin" demo-data "$work/demo.db" >/dev/null

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
log="$work/server.log"
HELIOSDB_WORKER_THREADS="${WORKERS:-16}" "$bin" serve --database "sqlite://$work/demo.db" --host 127.0.0.1 --port "$port" >"$log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  curl -sf "http://127.0.0.1:$port/health" >/dev/null && break
  sleep 0.1
done

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "binary: $("$bin" --version); workers: ${WORKERS:-16} (HELIOSDB_WORKER_THREADS); log: JSON lines to a file"
echo "mix: $MIX, wrk: $THREADS threads, $CONNECTIONS connections, ${DURATION}s (after a 5 s warm-up)"
MIX="$MIX" wrk -t"$THREADS" -c"$CONNECTIONS" -d5s -s "$root/bench/query.lua" \
  "http://127.0.0.1:$port" >/dev/null
MIX="$MIX" wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency -s "$root/bench/query.lua" \
  "http://127.0.0.1:$port" | sed -n '/^requests /,$p'
