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
#   llm      the language-model path: questions the built-in engine declines (checked against
#            the running server first), answered by a fake OpenAI-compatible model
#            (bench/fakellm/) LLM_DELAY_MS after each call arrives, with the semantic cache off so
#            that every question reaches it. LLM_IN_FLIGHT requests in flight: closed loop with
#            that many connections, then open loop at LLM_RATE (in flight x 1000 / delay); each
#            alongside a stream of engine questions at FAST_RATE, whose latency is also measured
#            alone. The fake's SQL reads a small table, so that the database's share stays small.
#            "Added" latency is the end-to-end latency less LLM_DELAY_MS. A first run sends the
#            open loop straight at the fake, without the server: the floor that the client, the
#            kernel and the fake add on this machine, included in every other figure.
#   mixed    70% cache hits (the engine mix, answered once before), 25% questions the engine
#            answers that miss the cache, 5% questions for the fake model. Every miss and model
#            question names a period no other question of the suite names ("in the last N
#            days", N counting up; such numbers are words of the cache's signature, not values),
#            so none is answered from the cache; the measured shares (from the request log) and
#            the cache's own counters are printed. Saturation: one closed loop over
#            MIXED_CONNECTIONS connections (enough to keep the cores busy while the model's
#            answers wait); latency at RATE: one open-loop generator per kind, at 70/25/5% of
#            RATE, so that each kind's latency is seen apart.
# For engine, cache and health: the saturation throughput (closed loop, CONNECTIONS connections),
# then latency at a fixed RATE (open loop). For engine and cache, also the server's own part of
# each answer: the request's time in the server less the database's (the request log's
# latency_ms - db_ms), measured in a third run at OWN_RATE, low enough that no request waits
# for a core.
#
# Environment: RUNS (3), DURATION (seconds per run, 15), WARMUP (seconds, 5), RATE (1000),
# CONNECTIONS (16, saturation runs), RATE_CONNECTIONS (64, fixed-rate runs), OWN_RATE (100),
# WORKERS (16), LLM_DELAY_MS (300), LLM_IN_FLIGHT (500), LLM_RATE (LLM_IN_FLIGHT x 1000 /
# LLM_DELAY_MS), LLM_CONNECTIONS (2 x LLM_IN_FLIGHT, open loop), FAST_RATE (200),
# MIXED_CONNECTIONS (256), BUILD (the build directory, build/release), WORK (where runs are
# kept, build/bench/suite).
# Output: a table per kind of scenario on stdout, and every run's JSON under WORK.
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
LLM_DELAY_MS="${LLM_DELAY_MS:-300}"
LLM_IN_FLIGHT="${LLM_IN_FLIGHT:-500}"
FAST_RATE="${FAST_RATE:-200}"
MIXED_CONNECTIONS="${MIXED_CONNECTIONS:-256}"
scenarios=("$@")
[ ${#scenarios[@]} -gt 0 ] || scenarios=(engine cache health llm mixed)
for s in "${scenarios[@]}"; do
  case "$s" in
    engine | cache | health | llm | mixed) ;;
    *)
      echo "unknown scenario '$s' (engine, cache, health, llm, mixed)" >&2
      exit 2
      ;;
  esac
done
for n in "$RUNS" "$DURATION" "$WARMUP" "$RATE" "$CONNECTIONS" "$RATE_CONNECTIONS" "$WORKERS" \
  "$OWN_RATE" "$LLM_DELAY_MS" "$LLM_IN_FLIGHT" "$FAST_RATE" "$MIXED_CONNECTIONS"; do
  [[ "$n" =~ ^[1-9][0-9]*$ ]] || {
    echo "RUNS, DURATION, WARMUP, RATE, CONNECTIONS, RATE_CONNECTIONS, OWN_RATE, WORKERS," \
      "LLM_DELAY_MS, LLM_IN_FLIGHT, FAST_RATE and MIXED_CONNECTIONS must be positive whole" \
      "numbers" >&2
    exit 2
  }
done
LLM_RATE="${LLM_RATE:-$(((LLM_IN_FLIGHT * 1000 + LLM_DELAY_MS / 2) / LLM_DELAY_MS))}"
LLM_CONNECTIONS="${LLM_CONNECTIONS:-$((LLM_IN_FLIGHT * 2))}"
for n in "$LLM_RATE" "$LLM_CONNECTIONS"; do
  [[ "$n" =~ ^[1-9][0-9]*$ ]] || {
    echo "LLM_RATE and LLM_CONNECTIONS must be positive whole numbers" >&2
    exit 2
  }
done
# shellcheck source=bench/lib.sh
source "$root/bench/lib.sh"
bench_require curl jq python3 sqlite3

build="${BUILD:-$root/build/release}"
work="${WORK:-$root/build/bench/suite}"
mkdir -p "$work"
bench_build "$build" heliosdb-conversational-bi helios-loadgen helios-fakellm
bin="$build/src/heliosdb-conversational-bi"
loadgen="$build/bench/loadgen/helios-loadgen"
fakellm="$build/bench/fakellm/helios-fakellm"
db="$work/demo.db"
[ -f "$db" ] || "$bin" demo-data "$db" >/dev/null
python3 "$root/bench/questions.py" "$db" >"$work/bodies.txt"

trap 'bench_stop_server; bench_stop_fakellm' EXIT
bench_raise_fd_limit

# The fake model's answer and the questions the engine declines (bench/lib.sh).
llm_sql="$bench_model_sql"
llm_questions=("${bench_model_questions[@]}")
for q in "${llm_questions[@]}"; do jq -cn --arg q "$q" '{query: $q}'; done >"$work/llm-bodies.txt"

# start_server NAME CACHE [TOML...]: the server with the semantic cache on or off, logging JSON
# lines to $work/server-NAME.log.
start_server() {
  local name="$1" cache="$2"
  shift 2
  log="$work/server-$name.log"
  bench_start_server "$bin" "$work" "sqlite://$db" "$log" "$WORKERS" "[cache]" "enabled = $cache" \
    "$@"
  port="$bench_port"
  token="$bench_token"
}

# start_llm_server NAME CACHE: the fake model, and the server with its [llm] section pointing at
# it; room for every request in flight (threads, model calls), no retries (a failed call shows
# as an error).
start_llm_server() {
  bench_start_fakellm "$fakellm" "$work/fakellm-$1.log" "$LLM_DELAY_MS" "$llm_sql"
  local room=$((LLM_CONNECTIONS + MIXED_CONNECTIONS + 1024))
  bench_server_lines=("max_connections = $room")
  start_server "$1" "$2" "[llm]" "provider = \"openai-compatible\"" "model = \"fake\"" \
    "base_url = \"http://127.0.0.1:$bench_fakellm_port/v1\"" "api_key_env = \"\"" \
    "max_retries = 0" "max_concurrent_requests = $room"
  bench_server_lines=()
}

stop_all() {
  bench_stop_server
  bench_stop_fakellm
}

# load NAME RATE CONNECTIONS PATH [loadgen args...]: one run; its JSON in $work/NAME.json.
load() {
  local name="$1" rate="$2" connections="$3" path="$4"
  shift 4
  "$loadgen" --rate "$rate" --connections "$connections" --warmup "${WARMUP}s" \
    --duration "${DURATION}s" --json "$work/$name.json" "$@" \
    "http://127.0.0.1:$port$path" >/dev/null
}

# errors_of NAME...: anything but a 2xx answer in those runs: errors, requests not sent or
# unfinished, other statuses.
errors_of() {
  local total=0 e
  for name in "$@"; do
    e=$(jq '.errors.total + .not_sent + .unfinished + (.responses - (.status_classes["2xx"] // 0))' \
      "$work/$name.json")
    total=$((total + e))
  done
  echo "$total"
}

# median FILE...: the median of the numbers in the files' first lines.
median() {
  sort -g | awk '{v[NR]=$1} END {if (NR == 0) print "nan"; else if (NR % 2) print v[(NR+1)/2]; else print (v[NR/2]+v[NR/2+1])/2}'
}
m() { printf '%s\n' "$@" | median; }

# percentiles: "p50 p99" of the numbers on stdin.
percentiles() {
  sort -g | awk '{v[NR]=$1} END {if (NR == 0) {print "nan nan"; exit} p50=v[int(NR*0.5)+(NR*0.5>int(NR*0.5))]; i=int(NR*0.99); if (i < NR*0.99) i++; if (i < 1) i = 1; print p50, v[i]}'
}

# own_part LOG FROM: the server's own part (latency_ms - db_ms) of the successful answers logged in
# LOG from line FROM on, as "p50 p99" in milliseconds.
own_part() {
  tail -n +"$2" "$1" | jq -R -r 'fromjson? | select(.message == "request" and .status == 200 and .db_ms != null) | .latency_ms - .db_ms' |
    percentiles
}

# sources LOG FROM: the answers to questions logged from line FROM on, by who answered, as
# "cache engine llm failed" counts.
sources() {
  tail -n +"$2" "$1" | jq -R -r 'fromjson? | select(.message == "request" and .path == "/api/v1/query") | if .status == 200 then .source else "failed" end' |
    awk '{n[$1]++} END {printf "%d %d %d %d\n", n["cache"], n["engine"], n["llm"], n["failed"]}'
}

# metric NAME: the sum of a counter's series on the server's Prometheus endpoint.
metric() {
  curl -sf "http://127.0.0.1:$bench_metrics_port/metrics" |
    awk -v name="$1" '$1 == name || index($1, name "{") == 1 {s += $2} END {print s + 0}'
}

# unique_bodies KIND FIRST COUNT: COUNT request bodies of questions no other in the suite asks:
# KIND "engine" (the built-in engine answers them from the employees table) or "llm" (the
# engine declines them). Each names a period of N days, N counting up from FIRST.
unique_bodies() {
  python3 - "$@" <<'EOF'
import json, sys
kind, first, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
templates = {
    "engine": ["How many employees were hired in the last {} days?",
               "Which employees were hired in the last {} days?",
               "What is the average salary of employees hired in the last {} days?"],
    "llm": ["which customers are most likely to churn in the last {} days",
            "what should we sell next based on the last {} days"],
}[kind]
for i in range(count):
    print(json.dumps({"query": templates[i % len(templates)].format(first + i)}))
EOF
}
next_n=1  # the next N of unique_bodies: no N is used twice in a run of the suite

# mixed_bodies FILE COUNT: COUNT bodies in the mixed proportions, in a fixed interleaving (of
# every 20: 14 hits, 5 misses, 1 for the model), the misses and model questions new.
mixed_bodies() {
  local file="$1" count="$2"
  local misses=$((count / 4 + 1)) llms=$((count / 20 + 1))
  unique_bodies engine "$next_n" "$misses" >"$file.engine"
  next_n=$((next_n + misses))
  unique_bodies llm "$next_n" "$llms" >"$file.llm"
  next_n=$((next_n + llms))
  python3 - "$work/bodies.txt" "$file.engine" "$file.llm" "$count" >"$file" <<'EOF'
import sys
hits, engine, llm = (open(p).read().split("\n")[:-1] for p in sys.argv[1:4])
h = e = l = 0
for i in range(int(sys.argv[4])):
    if i % 20 == 10:
        print(llm[l]); l += 1
    elif i % 4 == 1:
        print(engine[e]); e += 1
    else:
        print(hits[h % len(hits)]); h += 1
EOF
  rm -f "$file.engine" "$file.llm"
}

printf '%s\n' "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(free -g | awk '/^Mem:/ {print $2}') GiB"
echo "binary: $("$bin" --version | head -n 1); workers $WORKERS; log: JSON lines to a file"
echo "runs: $RUNS x ${DURATION}s after ${WARMUP}s warm-up; saturation: closed loop, $CONNECTIONS connections; latency: open loop at $RATE/s, $RATE_CONNECTIONS connections"
echo "question mix: $(wc -l <"$work/bodies.txt") questions (bench/questions.py)"

header=""
# table KIND: prints the table header of a kind of scenario when the previous one was another.
table() {
  [ "$header" != "$1" ] || return 0
  header="$1"
  echo
  case "$1" in
    basic)
      printf '| scenario | saturation (responses/s) | p50 at %s/s | p99 at %s/s | p99.9 at %s/s | errors | own part p50 at %s/s | own part p99 |\n' \
        "$RATE" "$RATE" "$RATE" "$OWN_RATE"
      echo '| --- | --- | --- | --- | --- | --- | --- | --- |'
      ;;
    llm)
      echo "LLM path: fake model answering after $LLM_DELAY_MS ms; latency end to end, added = latency - $LLM_DELAY_MS ms; engine questions at $FAST_RATE/s alongside (16 connections)"
      echo '| load | answers/s | in flight at the model (max) | p50 | p99 | p99.9 | added p50 | added p99 | added p99 in the server (log) | the model late, mean / max | errors | engine stream p50 / p99 alone | engine stream p50 / p99 meanwhile |'
      echo '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |'
      ;;
    mixed)
      echo "mixed: 70% cache hits, 25% engine (cache misses), 5% fake model ($LLM_DELAY_MS ms); latency open loop at $RATE/s in all, one generator per kind"
      echo '| saturation (responses/s, closed loop) | measured mix at saturation (hit/engine/llm) | hits p50 / p99 | engine p50 / p99 | llm p50 / p99 (added p99) | measured mix at the rate (hit/engine/llm) | cache hits / lookups (server) | errors |'
      echo '| --- | --- | --- | --- | --- | --- | --- | --- |'
      ;;
  esac
}

# share C E L F: "c% / e% / l%" of the answered, and the failed count when any.
share() {
  awk -v c="$1" -v e="$2" -v l="$3" -v f="$4" 'BEGIN {t = c + e + l; if (t == 0) {print "-"; exit}
    printf "%.1f%% / %.1f%% / %.1f%%%s", 100*c/t, 100*e/t, 100*l/t, (f > 0 ? sprintf(" (%d failed)", f) : "")}'
}

run_basic() {
  local scenario="$1"
  case "$scenario" in
    engine) start_server engine false ;;
    cache) start_server cache true ;;
    health) start_server health false ;;
  esac
  local args=() path=/health
  if [ "$scenario" != health ]; then
    path=/api/v1/query
    args=(-H "Authorization: Bearer $token" -H "Content-Type: application/json" --bodies "$work/bodies.txt")
    if [ "$scenario" = cache ]; then
      # Every question of the mix answered once, so that the runs below all hit.
      load "$scenario-fill" 200 4 "$path" "${args[@]}" >/dev/null
    fi
  fi
  local sat=() p50=() p99=() p999=() errors=0 own50=() own99=() from a b
  for run in $(seq 1 "$RUNS"); do
    load "$scenario-saturation-$run" 0 "$CONNECTIONS" "$path" "${args[@]}"
    sat+=("$(jq .achieved_rate "$work/$scenario-saturation-$run.json")")
    load "$scenario-rate-$run" "$RATE" "$RATE_CONNECTIONS" "$path" "${args[@]}"
    local f="$work/$scenario-rate-$run.json"
    p50+=("$(jq .latency_ms.p50 "$f")")
    p99+=("$(jq .latency_ms.p99 "$f")")
    p999+=("$(jq .latency_ms.p99_9 "$f")")
    errors=$((errors + $(errors_of "$scenario-saturation-$run" "$scenario-rate-$run")))
    if [ "$scenario" != health ]; then
      # The server's own part, at a rate low enough that requests do not wait for a core.
      from=$(($(wc -l <"$log") + 1))
      load "$scenario-own-$run" "$OWN_RATE" 4 "$path" "${args[@]}"
      read -r a b < <(own_part "$log" "$from")
      own50+=("$a")
      own99+=("$b")
    fi
  done
  local own="| - | -"
  if [ "$scenario" != health ]; then
    own="$(printf '| %.3f ms | %.3f ms' "$(m "${own50[@]}")" "$(m "${own99[@]}")")"
  fi
  printf '| %s | %.0f | %.2f ms | %.2f ms | %.2f ms | %s %s |\n' "$scenario" "$(m "${sat[@]}")" \
    "$(m "${p50[@]}")" "$(m "${p99[@]}")" "$(m "${p999[@]}")" "$errors" "$own"
  stop_all
}

# llm_added_in_server LOG FROM SINCE: p99 of (latency_ms - delay) of the model's answers logged
# from line FROM on at or after SINCE (Unix seconds; the warm-up left out): the server's own
# view, without the client's and the kernel's share.
llm_added_in_server() {
  tail -n +"$2" "$1" | jq -r --argjson d "$LLM_DELAY_MS" --argjson since "$3" 'select(.message == "request" and .status == 200 and .source == "llm" and (.timestamp[0:19] + "Z" | fromdateiso8601) >= $since) | .latency_ms - $d' |
    percentiles | awk '{print $2}'
}

# shellcheck disable=SC2086 # the by_ lists hold numbers separated by spaces, split on purpose
run_llm() {
  start_llm_server llm false
  local path=/api/v1/query
  local auth=(-H "Authorization: Bearer $token" -H "Content-Type: application/json")
  # Every question must reach the model: the engine declines it and the server says so.
  for q in "${llm_questions[@]}"; do
    local who
    who=$(curl -sf "http://127.0.0.1:$port$path" "${auth[@]}" -d "$(jq -cn --arg q "$q" '{query: $q}')" |
      jq -r .source)
    if [ "$who" != llm ]; then
      echo "llm: \"$q\" was answered by '$who', not the model: replace it in bench/suite.sh" >&2
      exit 1
    fi
  done
  local fast=(--bodies "$work/bodies.txt")
  local llm=(--bodies "$work/llm-bodies.txt" --timeout 30s)
  # The floor: the same open loop straight at the fake model, with a body of a prompt's size
  # (about 5 KB), no server between. What the client, the kernel and the fake add on this
  # machine is in every figure below too.
  jq -cn --arg s "$(printf 'Answer with one SQLite query over these tables. %.0s' $(seq 1 100))" \
    '{model: "fake", messages: [{role: "system", content: $s}, {role: "user", content: "which customers are most likely to churn"}], max_tokens: 500, temperature: 0.1}' \
    >"$work/llm-prompt.txt"
  # Per load: answers/s, max in flight, p50, p99, p99.9, server-side added p99, errors, the
  # fast stream's p50 and p99.
  local f stats
  declare -A by_rate by_inflight by_late_mean by_late_max by_p50 by_p99 by_p999 by_server by_fast50 by_fast99 by_errors
  local alone50=() alone99=()
  for run in $(seq 1 "$RUNS"); do
    bench_fakellm_stats reset >/dev/null
    "$loadgen" --rate "$LLM_RATE" --connections "$LLM_CONNECTIONS" --warmup "${WARMUP}s" \
      --duration "${DURATION}s" --json "$work/llm-floor-$run.json" \
      -H "Content-Type: application/json" --bodies "$work/llm-prompt.txt" \
      "http://127.0.0.1:$bench_fakellm_port/v1/chat/completions" >/dev/null
    stats="$(bench_fakellm_stats)"
    f="$work/llm-floor-$run.json"
    by_rate[floor]+="$(jq .achieved_rate "$f") "
    by_inflight[floor]+="$(jq .max_in_flight <<<"$stats") "
    by_late_mean[floor]+="$(jq '.late_mean_us / 1000' <<<"$stats") "
    by_late_max[floor]+="$(jq '.late_max_us / 1000' <<<"$stats") "
    by_p50[floor]+="$(jq .latency_ms.p50 "$f") "
    by_p99[floor]+="$(jq .latency_ms.p99 "$f") "
    by_p999[floor]+="$(jq .latency_ms.p99_9 "$f") "
    by_errors[floor]=$((${by_errors[floor]:-0} + $(errors_of "llm-floor-$run")))

    load "llm-fast-alone-$run" "$FAST_RATE" 16 "$path" "${auth[@]}" "${fast[@]}"
    alone50+=("$(jq .latency_ms.p50 "$work/llm-fast-alone-$run.json")")
    alone99+=("$(jq .latency_ms.p99 "$work/llm-fast-alone-$run.json")")
    # Counted with the closed loop's, which it precedes.
    by_errors[closed]=$((${by_errors[closed]:-0} + $(errors_of "llm-fast-alone-$run")))
    for mode in closed open; do
      local name="llm-$mode-$run" from pid since
      bench_fakellm_stats reset >/dev/null
      from=$(($(wc -l <"$log") + 1))
      since=$(($(date +%s) + WARMUP + 1))
      load "llm-fast-$mode-$run" "$FAST_RATE" 16 "$path" "${auth[@]}" "${fast[@]}" &
      pid=$!
      if [ "$mode" = closed ]; then
        load "$name" 0 "$LLM_IN_FLIGHT" "$path" "${auth[@]}" "${llm[@]}"
      else
        load "$name" "$LLM_RATE" "$LLM_CONNECTIONS" "$path" "${auth[@]}" "${llm[@]}"
      fi
      wait "$pid"
      f="$work/$name.json"
      stats="$(bench_fakellm_stats)"
      echo "$stats" >"$work/$name-fakellm.json"
      by_rate[$mode]+="$(jq .achieved_rate "$f") "
      by_inflight[$mode]+="$(jq .max_in_flight <<<"$stats") "
      by_late_mean[$mode]+="$(jq '.late_mean_us / 1000' <<<"$stats") "
      by_late_max[$mode]+="$(jq '.late_max_us / 1000' <<<"$stats") "
      by_p50[$mode]+="$(jq .latency_ms.p50 "$f") "
      by_p99[$mode]+="$(jq .latency_ms.p99 "$f") "
      by_p999[$mode]+="$(jq .latency_ms.p99_9 "$f") "
      by_server[$mode]+="$(llm_added_in_server "$log" "$from" "$since") "
      by_fast50[$mode]+="$(jq .latency_ms.p50 "$work/llm-fast-$mode-$run.json") "
      by_fast99[$mode]+="$(jq .latency_ms.p99 "$work/llm-fast-$mode-$run.json") "
      by_errors[$mode]=$((${by_errors[$mode]:-0} + $(errors_of "$name" "llm-fast-$mode-$run")))
    done
  done
  local a50 a99
  a50=$(m "${alone50[@]}")
  a99=$(m "${alone99[@]}")
  for mode in floor closed open; do
    local what server="-" fast_alone="-" fast_meanwhile="-"
    case "$mode" in
      floor) what="no server: straight at the fake, open loop at $LLM_RATE/s, $LLM_CONNECTIONS connections" ;;
      closed) what="closed loop, $LLM_IN_FLIGHT connections" ;;
      open) what="open loop at $LLM_RATE/s, $LLM_CONNECTIONS connections" ;;
    esac
    if [ "$mode" != floor ]; then
      server="$(printf '%.2f ms' "$(m ${by_server[$mode]})")"
      fast_alone="$(printf '%.2f / %.2f ms' "$a50" "$a99")"
      fast_meanwhile="$(printf '%.2f / %.2f ms' "$(m ${by_fast50[$mode]})" "$(m ${by_fast99[$mode]})")"
    fi
    local q50 q99
    q50=$(m ${by_p50[$mode]})
    q99=$(m ${by_p99[$mode]})
    printf '| %s | %.0f | %s | %.1f ms | %.1f ms | %.1f ms | %.2f ms | %.2f ms | %s | %.2f / %.2f ms | %s | %s | %s |\n' \
      "$what" "$(m ${by_rate[$mode]})" "$(m ${by_inflight[$mode]})" "$q50" "$q99" "$(m ${by_p999[$mode]})" \
      "$(awk -v v="$q50" -v d="$LLM_DELAY_MS" 'BEGIN {print v - d}')" \
      "$(awk -v v="$q99" -v d="$LLM_DELAY_MS" 'BEGIN {print v - d}')" "$server" \
      "$(m ${by_late_mean[$mode]})" "$(m ${by_late_max[$mode]})" "${by_errors[$mode]}" "$fast_alone" \
      "$fast_meanwhile"
  done
  stop_all
}

run_mixed() {
  start_llm_server mixed true
  local path=/api/v1/query
  local auth=(-H "Authorization: Bearer $token" -H "Content-Type: application/json")
  # Every question of the hit set answered once, so that it hits from now on.
  load mixed-fill 200 4 "$path" "${auth[@]}" --bodies "$work/bodies.txt"
  local seconds=$((WARMUP + DURATION))
  local sat=() sat_mix=() hit50=() hit99=() eng50=() eng99=() llm50=() llm99=() rate_mix=()
  local failed=0 hits_before lookups_before hits=0 lookups=0 c e l f
  for run in $(seq 1 "$RUNS"); do
    # Enough bodies for 6,000 responses a second without using one twice.
    mixed_bodies "$work/mixed-bodies-$run.txt" $((6000 * seconds))
    local from
    from=$(($(wc -l <"$log") + 1))
    load "mixed-saturation-$run" 0 "$MIXED_CONNECTIONS" "$path" "${auth[@]}" --timeout 30s \
      --bodies "$work/mixed-bodies-$run.txt"
    sat+=("$(jq .achieved_rate "$work/mixed-saturation-$run.json")")
    read -r c e l f < <(sources "$log" "$from")
    sat_mix+=("$(share "$c" "$e" "$l" "$f")")

    # One generator per kind, at its share of RATE, each with bodies enough for its whole run.
    local hit_rate=$((RATE * 70 / 100)) engine_rate=$((RATE * 25 / 100)) llm_rate=$((RATE * 5 / 100))
    local engine_count=$((engine_rate * seconds * 2)) llm_count=$((llm_rate * seconds * 2 + 1))
    unique_bodies engine "$next_n" "$engine_count" >"$work/mixed-engine-$run.txt"
    next_n=$((next_n + engine_count))
    unique_bodies llm "$next_n" "$llm_count" >"$work/mixed-llm-$run.txt"
    next_n=$((next_n + llm_count))
    from=$(($(wc -l <"$log") + 1))
    hits_before=$(metric cache_hits_total)
    lookups_before=$(metric cache_requests_total)
    local pids=()
    load "mixed-hits-$run" "$hit_rate" 48 "$path" "${auth[@]}" --bodies "$work/bodies.txt" &
    pids+=($!)
    load "mixed-engine-$run" "$engine_rate" 16 "$path" "${auth[@]}" \
      --bodies "$work/mixed-engine-$run.txt" &
    pids+=($!)
    load "mixed-llm-$run" "$llm_rate" $((llm_rate + 16)) "$path" "${auth[@]}" --timeout 30s \
      --bodies "$work/mixed-llm-$run.txt"
    for pid in "${pids[@]}"; do wait "$pid"; done
    hits=$((hits + $(metric cache_hits_total) - hits_before))
    lookups=$((lookups + $(metric cache_requests_total) - lookups_before))
    read -r c e l f < <(sources "$log" "$from")
    rate_mix+=("$(share "$c" "$e" "$l" "$f")")
    hit50+=("$(jq .latency_ms.p50 "$work/mixed-hits-$run.json")")
    hit99+=("$(jq .latency_ms.p99 "$work/mixed-hits-$run.json")")
    eng50+=("$(jq .latency_ms.p50 "$work/mixed-engine-$run.json")")
    eng99+=("$(jq .latency_ms.p99 "$work/mixed-engine-$run.json")")
    llm50+=("$(jq .latency_ms.p50 "$work/mixed-llm-$run.json")")
    llm99+=("$(jq .latency_ms.p99 "$work/mixed-llm-$run.json")")
    failed=$((failed + $(errors_of "mixed-saturation-$run" "mixed-hits-$run" "mixed-engine-$run" \
      "mixed-llm-$run")))
  done
  local l99
  l99=$(m "${llm99[@]}")
  printf '| %.0f | %s | %.2f / %.2f ms | %.2f / %.2f ms | %.1f / %.1f ms (%.1f ms) | %s | %s / %s | %s |\n' \
    "$(m "${sat[@]}")" "$(IFS=';'; echo "${sat_mix[*]}")" "$(m "${hit50[@]}")" "$(m "${hit99[@]}")" \
    "$(m "${eng50[@]}")" "$(m "${eng99[@]}")" "$(m "${llm50[@]}")" "$l99" \
    "$(awk -v v="$l99" -v d="$LLM_DELAY_MS" 'BEGIN {print v - d}')" \
    "$(IFS=';'; echo "${rate_mix[*]}")" "$hits" "$lookups" "$failed"
  stop_all
}

for scenario in "${scenarios[@]}"; do
  case "$scenario" in
    engine | cache | health)
      table basic
      run_basic "$scenario"
      ;;
    llm)
      table llm
      run_llm
      ;;
    mixed)
      table mixed
      run_mixed
      ;;
  esac
done
