#!/usr/bin/env bash
# The performance suite: the release server on the SQLite demo database, loaded over HTTP by
# helios-loadgen (open loop: latency counts from each request's scheduled time), one scenario at
# a time, each figure the median of RUNS runs after a warm-up.
#
#   bench/suite.sh                    # every scenario
#   bench/suite.sh engine health      # some of them
#   RUNS=5 DURATION=20 RATE=1000 bench/suite.sh engine
#
# Scenarios (bench/RESULTS.md explains each and records the figures):
#   engine   POST /api/v1/query, semantic cache off: every answer is the built-in engine's.
#            The mix: questions of ten shapes whose SQL reads small or indexed tables, with
#            values taken from the demo database, so that most questions differ
#            (bench/questions.py prints them).
#   cache    the same mix with the semantic cache on, after a warm-up that filled it: every
#            answer is a cache hit (the cached query re-bound to the question's values and run).
#   health   GET /health.
# For each: the saturation throughput (closed loop, CONNECTIONS connections), then latency at a
# fixed RATE (open loop). For engine and cache, also the server's own part of each answer: the
# request's time in the server less the database's (the request log's latency_ms - db_ms),
# measured in a third run at OWN_RATE, low enough that no request waits for a core.
#
# Environment: RUNS (3), DURATION (seconds per run, 15), WARMUP (seconds, 5), RATE (1000),
# CONNECTIONS (16, saturation runs), RATE_CONNECTIONS (64, fixed-rate runs), OWN_RATE (100),
# WORKERS (16).
# Output: a table on stdout, and every run's JSON under build/bench/suite/.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
RUNS="${RUNS:-3}"
DURATION="${DURATION:-15}"
WARMUP="${WARMUP:-5}"
RATE="${RATE:-1000}"
CONNECTIONS="${CONNECTIONS:-16}"
RATE_CONNECTIONS="${RATE_CONNECTIONS:-64}"
WORKERS="${WORKERS:-16}"
OWN_RATE="${OWN_RATE:-100}"
scenarios=("$@")
[ ${#scenarios[@]} -gt 0 ] || scenarios=(engine cache health)
for s in "${scenarios[@]}"; do
  case "$s" in
    engine | cache | health) ;;
    *)
      echo "unknown scenario '$s' (engine, cache, health)" >&2
      exit 2
      ;;
  esac
done
for n in "$RUNS" "$DURATION" "$WARMUP" "$RATE" "$CONNECTIONS" "$RATE_CONNECTIONS" "$WORKERS" \
  "$OWN_RATE"; do
  [[ "$n" =~ ^[1-9][0-9]*$ ]] || {
    echo "RUNS, DURATION, WARMUP, RATE, CONNECTIONS, RATE_CONNECTIONS, OWN_RATE and WORKERS" \
      "must be positive whole numbers" >&2
    exit 2
  }
done
for tool in curl jq python3 sqlite3; do
  command -v "$tool" >/dev/null || { echo "$tool is not installed (scripts/setup.sh --test)" >&2; exit 1; }
done

build="$root/build/release"
work="$root/build/bench/suite"
mkdir -p "$work"
if [ ! -f "$build/CMakeCache.txt" ]; then
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DHELIOS_BUILD_TESTS=OFF \
    -DHELIOS_BUILD_WEB=OFF >/dev/null
fi
cmake --build "$build" --target heliosdb-conversational-bi helios-loadgen >/dev/null
bin="$build/src/heliosdb-conversational-bi"
loadgen="$build/bench/loadgen/helios-loadgen"
db="$work/demo.db"
[ -f "$db" ] || "$bin" demo-data "$db" >/dev/null
python3 "$root/bench/questions.py" "$db" >"$work/bodies.txt"

# shellcheck source=bench/lib.sh
source "$root/bench/lib.sh"
trap bench_stop_server EXIT

# start_server NAME CACHE: the server with the semantic cache on or off, logging JSON lines to
# $work/server-NAME.log.
start_server() {
  log="$work/server-$1.log"
  bench_start_server "$bin" "$work" "sqlite://$db" "$log" "$WORKERS" "[cache]" "enabled = $2"
  port="$bench_port"
  token="$bench_token"
}

# load NAME RATE CONNECTIONS PATH [loadgen args...]: one run; its JSON in $work/NAME.json.
load() {
  local name="$1" rate="$2" connections="$3" path="$4"
  shift 4
  "$loadgen" --rate "$rate" --connections "$connections" --warmup "${WARMUP}s" \
    --duration "${DURATION}s" --json "$work/$name.json" "$@" \
    "http://127.0.0.1:$port$path" >/dev/null
}

# median FILE...: the median of the numbers in the files' first lines.
median() {
  sort -g | awk '{v[NR]=$1} END {if (NR == 0) print "nan"; else if (NR % 2) print v[(NR+1)/2]; else print (v[NR/2]+v[NR/2+1])/2}'
}

# own_part LOG FROM: the server's own part (latency_ms - db_ms) of the successful answers logged in
# LOG from line FROM on, as "p50 p99" in milliseconds.
own_part() {
  tail -n +"$2" "$1" | jq -r 'select(.message == "request" and .status == 200 and .db_ms != null) | .latency_ms - .db_ms' |
    sort -g | awk '{v[NR]=$1} END {if (NR == 0) {print "nan nan"; exit} p50=v[int(NR*0.5)+(NR*0.5>int(NR*0.5))]; i=int(NR*0.99); if (i < NR*0.99) i++; if (i < 1) i = 1; print p50, v[i]}'
}

printf '%s\n' "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(free -g | awk '/^Mem:/ {print $2}') GiB"
echo "binary: $("$bin" --version | head -n 1); workers $WORKERS; log: JSON lines to a file"
echo "runs: $RUNS x ${DURATION}s after ${WARMUP}s warm-up; saturation: closed loop, $CONNECTIONS connections; latency: open loop at $RATE/s, $RATE_CONNECTIONS connections"
echo "question mix: $(wc -l <"$work/bodies.txt") questions (bench/questions.py)"
echo
printf '| scenario | saturation (responses/s) | p50 at %s/s | p99 at %s/s | p99.9 at %s/s | errors | own part p50 at %s/s | own part p99 |\n' \
  "$RATE" "$RATE" "$RATE" "$OWN_RATE"
echo '| --- | --- | --- | --- | --- | --- | --- | --- |'
for scenario in "${scenarios[@]}"; do
  case "$scenario" in
    engine) start_server engine false ;;
    cache) start_server cache true ;;
    health) start_server health false ;;
  esac
  args=()
  path=/health
  if [ "$scenario" != health ]; then
    path=/api/v1/query
    args=(-H "Authorization: Bearer $token" -H "Content-Type: application/json" --bodies "$work/bodies.txt")
    if [ "$scenario" = cache ]; then
      # Every question of the mix answered once, so that the runs below all hit.
      load "$scenario-fill" 200 4 "$path" "${args[@]}" >/dev/null
    fi
  fi
  sat=() p50=() p99=() p999=() errors=0 own50=() own99=()
  for run in $(seq 1 "$RUNS"); do
    load "$scenario-saturation-$run" 0 "$CONNECTIONS" "$path" "${args[@]}"
    sat+=("$(jq .achieved_rate "$work/$scenario-saturation-$run.json")")
    load "$scenario-rate-$run" "$RATE" "$RATE_CONNECTIONS" "$path" "${args[@]}"
    f="$work/$scenario-rate-$run.json"
    p50+=("$(jq .latency_ms.p50 "$f")")
    p99+=("$(jq .latency_ms.p99 "$f")")
    p999+=("$(jq .latency_ms.p99_9 "$f")")
    # Anything but a 2xx answer: errors, requests not sent or unfinished, other statuses.
    for s in saturation rate; do
      e=$(jq '.errors.total + .not_sent + .unfinished + (.responses - (.status_classes["2xx"] // 0))' \
        "$work/$scenario-$s-$run.json")
      errors=$((errors + e))
    done
    if [ "$scenario" != health ]; then
      # The server's own part, at a rate low enough that requests do not wait for a core.
      from=$(($(wc -l <"$log") + 1))
      load "$scenario-own-$run" "$OWN_RATE" 4 "$path" "${args[@]}"
      read -r a b < <(own_part "$log" "$from")
      own50+=("$a")
      own99+=("$b")
    fi
  done
  m() { printf '%s\n' "$@" | median; }
  own="| - | -"
  if [ "$scenario" != health ]; then
    own="$(printf '| %.3f ms | %.3f ms' "$(m "${own50[@]}")" "$(m "${own99[@]}")")"
  fi
  printf '| %s | %.0f | %.2f ms | %.2f ms | %.2f ms | %s %s |\n' "$scenario" "$(m "${sat[@]}")" \
    "$(m "${p50[@]}")" "$(m "${p99[@]}")" "$(m "${p999[@]}")" "$errors" "$own"
  bench_stop_server
done
