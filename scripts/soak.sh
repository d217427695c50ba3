#!/usr/bin/env bash
# The soak run: the release server under a steady, mixed load for minutes (or hours), failing
# when anything suggests it would not stay up for weeks: an error or timeout, resident memory
# that grows, descriptors or connections that pile up, or the process dying.
#
#   scripts/soak.sh                              # build/release, 180 s measured after the warm-up
#   scripts/soak.sh build/dev                    # another build directory
#   SOAK_SECONDS=3600 scripts/soak.sh            # an hour
#   SOAK_REDIS=1 scripts/soak.sh                 # sessions, cache and rate limits in Redis
#
# What runs: the server on the SQLite demo database in a production-like configuration
# (authentication on, with a JWT_SECRET drawn at random for the run and a user who logs in;
# per-tenant rate limiting on, with a bucket large enough never to refuse; the semantic cache
# on; sessions on; JSON request log at info; Prometheus metrics on their own port) and the
# fake OpenAI-compatible model (bench/fakellm/, answering SOAK_LLM_DELAY_MS after each call) as
# its language model. With SOAK_REDIS=1, a private redis-server on a free port in a temporary
# directory as well, and the server pointed at it.
#
# The load (helios-loadgen, open loop: each request is sent at its scheduled time, whatever the
# server is doing, one generator per stream so that each stream's latency is seen apart):
#   hits           55% of SOAK_RATE: bench/questions.py's questions, asked again and again:
#                  semantic cache hits once each was answered (and again after its entry's TTL)
#   engine         20%: new questions the engine answers (bench/soak/bodies.py engine), each a
#                  cache miss that adds a cache entry
#   conversations  20%: conversations of four turns, each in its own session, the follow-ups
#                  editing the previous answer (bench/soak/bodies.py conversations)
#   llm            5%: new questions the engine declines, answered by the fake model
#   health         SOAK_HEALTH_RATE/s of GET /health and GET /ready
#   metrics        one Prometheus scrape a second (GET /metrics on the metrics port)
# Every question without a session id opens a session, so the session store and the cache grow
# as they do in use. Questions are never repeated outside the hits stream, and the measured
# shares of who answered (cache, engine, model) are read back from the request log.
#
# Memory, honestly: the server holds state that grows up to a cap and then stays there, and
# the run must not mistake its filling for a leak, nor be tuned until a leak passes. So the
# caps are sized to be reached during the warm-up, and the run's configuration makes expiry
# happen during it:
#   - sessions expire after 1 minute idle (the smallest setting; an expired session is dropped
#     when its tenant next appends, so at about 170 new sessions a second the store holds about
#     10,000 from the first minute on); the per-tenant cap (50,000) is above that, so sessions
#     leave by expiry, as in use, not by eviction;
#   - the semantic cache holds at most 5,000 entries (every engine and model miss adds one or
#     two, about 100 a second here, so it is full within a minute) with a 120 s TTL, so the
#     hits' entries expire and are added again during the run;
#   - the follow-up memory (nl2sql/suggestions.h) is bounded by the code (4,096 entries), and
#     full within seconds at this rate;
#   - the engine's word memories (nl2sql/engine/lexicon.cc) are bounded too (4,096 words per
#     map and thread, 50,000 shared pertainyms; words with digits are not kept); they fill as
#     new words come, and that growth is measured, not excluded, since a server in use meets new
#     words all the time.
# The warm-up (SOAK_WARMUP, 120 s by default) is twice the session timeout: by its end every
# store is at its steady size. After it, resident memory (VmRSS) is compared with its value at
# the first sample; allocator fragmentation and thread churn (a keep-alive connection is closed
# after 100 requests, and threads above the pool's size exit after 30 s idle) are part of what
# is measured, not excluded. Growth of 300 bytes a request (3.5 MB a minute at 200/s) exceeds
# 10% of a baseline of about 110 MiB within the default run; slower growth shows in the
# reported slope (KiB a minute, a least-squares fit over the measured samples) and fails a
# longer run.
#
# Descriptors and TCP connections are compared less the model transport's, which is checked
# apart: it keeps an idle libcurl handle for every model call that ran at once (up to [llm]
# max_concurrent_requests), each with its connection to the model and a socket pair (three
# descriptors), so its count rises to the highest overlap of model calls so far and stays there:
# a stall of the machine that lets calls pile up raises it for good (seen: +3 handles after a
# 0.5 s stall), a high-water mark rather than a leak. The run fails when the server holds more
# connections to the model than the model ever had calls in flight at once. The rest may exceed
# its value after the warm-up by at most SLACK (8): each of the six generators' keep-alive
# connections is closed by the server after 100 requests and opened again, so a sample may fall
# between the close and the reopen, or see a closed socket's descriptor before its thread lets
# go of it; 6, rounded up. A leak of one descriptor per thousand requests adds 36 in the
# default run.
#
# Fails (exit 1, saying why) when: a generator reports any error, timeout, request not sent or
# unfinished, or any status but 2xx (this mix has no legitimate refusal: rate limits never
# refuse, every question is answerable); RSS at the end is over 110% of RSS after the warm-up;
# descriptors or TCP connections (less the model transport's) at the end exceed their value
# after the warm-up by more than SLACK; more connections to the model than its peak of calls;
# more than SLACK connections in CLOSE-WAIT (closed by the peer, never by the server); with
# Redis, more Redis clients than after the warm-up plus SLACK; or the server is not running and
# answering /health at the end. Prints a summary table and writes BUILD/soak/summary.json (with
# every sample), the generators' reports and the samples as CSV to BUILD/soak/; the server's log
# is copied there when the run fails.
#
# Environment: SOAK_SECONDS (measured part, 180), SOAK_WARMUP (120), SOAK_RATE (questions a
# second in all streams, 200: well inside what two shared cores take, bench/RESULTS.md),
# SOAK_SAMPLE_SECONDS (5), SOAK_HEALTH_RATE (5), SOAK_LLM_DELAY_MS (300), SOAK_WORKERS (the
# server's kept threads, 4), SOAK_REDIS (0; 1: Redis as well).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
SOAK_SECONDS="${SOAK_SECONDS:-180}"
SOAK_WARMUP="${SOAK_WARMUP:-120}"
SOAK_RATE="${SOAK_RATE:-200}"
SOAK_SAMPLE_SECONDS="${SOAK_SAMPLE_SECONDS:-5}"
SOAK_HEALTH_RATE="${SOAK_HEALTH_RATE:-5}"
SOAK_LLM_DELAY_MS="${SOAK_LLM_DELAY_MS:-300}"
SOAK_WORKERS="${SOAK_WORKERS:-4}"
SOAK_REDIS="${SOAK_REDIS:-0}"
for n in "$SOAK_SECONDS" "$SOAK_WARMUP" "$SOAK_RATE" "$SOAK_SAMPLE_SECONDS" "$SOAK_HEALTH_RATE" \
  "$SOAK_LLM_DELAY_MS" "$SOAK_WORKERS"; do
  [[ "$n" =~ ^[1-9][0-9]*$ ]] || {
    echo "SOAK_SECONDS, SOAK_WARMUP, SOAK_RATE, SOAK_SAMPLE_SECONDS, SOAK_HEALTH_RATE," \
      "SOAK_LLM_DELAY_MS and SOAK_WORKERS must be positive whole numbers" >&2
    exit 2
  }
done
[[ "$SOAK_REDIS" =~ ^[01]$ ]] || {
  echo "SOAK_REDIS must be 0 or 1" >&2
  exit 2
}
((SOAK_RATE >= 20)) || {
  echo "SOAK_RATE must be at least 20 (the model's stream gets 5% of it)" >&2
  exit 2
}
((SOAK_SECONDS >= 3 * SOAK_SAMPLE_SECONDS)) || {
  echo "SOAK_SECONDS must be at least three samples (3 x SOAK_SAMPLE_SECONDS)" >&2
  exit 2
}
readonly SLACK=8
readonly RSS_LIMIT_PERCENT=110

# shellcheck source=bench/lib.sh
source "$root/bench/lib.sh"
bench_require curl jq python3 ss
[ "$SOAK_REDIS" = 0 ] || bench_require redis-server redis-cli

build="$(cd "${1:-$root/build/release}" 2>/dev/null && pwd)" || {
  echo "no build directory ${1:-build/release} (scripts/test.sh builds build/release)" >&2
  exit 2
}
work="$build/soak"
mkdir -p "$work"
rm -f "$work"/*.json "$work"/*.csv "$work"/server.log
bench_build "$build" heliosdb-conversational-bi helios-loadgen helios-fakellm || {
  echo "building the server, helios-loadgen and helios-fakellm in $build failed" \
    "(cmake --build $build shows why)" >&2
  exit 1
}
bin="$build/src/heliosdb-conversational-bi"
loadgen="$build/bench/loadgen/helios-loadgen"
fakellm="$build/bench/fakellm/helios-fakellm"
db="$work/demo.db"
[ -f "$db" ] || "$bin" demo-data "$db" >/dev/null

tmp="$(mktemp -d -t helios-soak.XXXXXX)"
generators=()
redis_pid=""
stop_generators() {
  local pid
  for pid in "${generators[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${generators[@]}"; do wait "$pid" 2>/dev/null || true; done
  generators=()
}
cleanup() {
  stop_generators
  bench_stop_server
  bench_stop_fakellm
  if [ -n "$redis_pid" ]; then
    kill "$redis_pid" 2>/dev/null || true
    wait "$redis_pid" 2>/dev/null || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
bench_raise_fd_limit
started=$(date +%s)

# Each stream's rate: its share of SOAK_RATE (per cent), in whole requests a second, at least 1.
rate_of() { local r=$((SOAK_RATE * $1 / 100)); echo $((r > 0 ? r : 1)); }
hits_rate=$(rate_of 55)
engine_rate=$(rate_of 20)
conv_rate=$(rate_of 20)
llm_rate=$(rate_of 5)
# Model calls in flight: about rate x delay; room for four times that.
llm_connections=$(((llm_rate * SOAK_LLM_DELAY_MS * 4 + 999) / 1000 + 8))

# --- Request bodies: the warm-up's and the measured part's, never the same question twice
# (outside the hits), so that the second generator of a stream does not start over.
python3 "$root/bench/questions.py" "$db" >"$tmp/hits.txt"
bodies() { python3 "$root/bench/soak/bodies.py" "$db" "$@"; }
warm_n() { echo $(($1 * SOAK_WARMUP + $1)); }
run_n() { echo $(($1 * SOAK_SECONDS + $1)); }
bodies engine 0 "$(warm_n "$engine_rate")" >"$tmp/engine-warmup.txt"
bodies engine "$(warm_n "$engine_rate")" "$(run_n "$engine_rate")" >"$tmp/engine-run.txt"
bodies llm 0 "$(warm_n "$llm_rate")" >"$tmp/llm-warmup.txt"
bodies llm "$(warm_n "$llm_rate")" "$(run_n "$llm_rate")" >"$tmp/llm-run.txt"
# Conversations: groups of conv_rate, so the turns of one are a second apart; the measured
# part's ids start after the warm-up's last.
run_id="$(head -c 6 /dev/urandom | od -An -tx1 | tr -d ' \n')"
bodies conversations 0 "$(warm_n "$conv_rate")" "$conv_rate" "soak-$run_id" >"$tmp/conv-warmup.txt"
conv_next=$(($(wc -l <"$tmp/conv-warmup.txt") / 4))
bodies conversations "$conv_next" "$(run_n "$conv_rate")" "$conv_rate" "soak-$run_id" \
  >"$tmp/conv-run.txt"
printf '%s\n' /health /ready >"$tmp/health-paths.txt"

# --- Services.
if [ "$SOAK_REDIS" = 1 ]; then
  redis_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])')
  redis-server --port "$redis_port" --bind 127.0.0.1 --dir "$tmp" --save "" --appendonly no \
    --logfile "$tmp/redis.log" &
  redis_pid=$!
  for _ in $(seq 1 100); do
    redis-cli -p "$redis_port" ping 2>/dev/null | grep -q PONG && break
    sleep 0.05
  done
  redis-cli -p "$redis_port" ping 2>/dev/null | grep -q PONG || {
    echo "redis-server did not start; see $tmp/redis.log" >&2
    exit 1
  }
  export REDIS_URL="redis://127.0.0.1:$redis_port/0"
fi
# The fake's answer: regions and their employees (5 and 50 rows), so that the model's share of
# the load is the server's path and not SQLite's.
llm_sql="SELECT r.name AS region, COUNT(*) AS employees FROM employees e"
llm_sql+=" JOIN regions r ON r.region_id = e.region_id GROUP BY r.name ORDER BY employees DESC"
bench_start_fakellm "$fakellm" "$tmp/fakellm.log" "$SOAK_LLM_DELAY_MS" "$llm_sql"
# Tokens must outlive the run (the generators log in once).
bench_auth_lines=("token_ttl_minutes = $(((SOAK_WARMUP + SOAK_SECONDS) / 60 + 30))")
log="$tmp/server.log"
bench_start_server "$bin" "$tmp" "sqlite://$db" "$log" "$SOAK_WORKERS" \
  "[cache]" "enabled = true" "max_size = 5000" "ttl_seconds = 120" \
  "[session]" "max_concurrent_sessions = 50000" "session_timeout_minutes = 1" \
  "cleanup_interval_minutes = 1" \
  "[llm]" "provider = \"openai-compatible\"" "model = \"fake\"" \
  "base_url = \"http://127.0.0.1:$bench_fakellm_port/v1\"" "api_key_env = \"\"" \
  "max_retries = 0" \
  "[logging]" "level = \"info\""
bench_auth_lines=()
unset REDIS_URL
server_pid="$bench_server"
[ -n "$bench_metrics_port" ] || {
  echo "the server did not log its metrics port; see $log" >&2
  exit 1
}

# --- Sampling.
samples="$work/samples.csv"
columns=(phase t_s rss_kib fds sockets tcp model_tcp close_wait threads active_sessions
  redis_clients redis_used_kib sqlite_kib)
(IFS=,; echo "${columns[*]}") >"$samples"
# sample PHASE: one line of the server's resources; fails when the server is gone.
sample() {
  local status rss threads fds sockets tcp model_tcp close_wait sessions redis_clients=""
  local redis_kib=""
  status="$(cat "/proc/$server_pid/status" 2>/dev/null)" || return 1
  rss=$(awk '/^VmRSS:/ {print $2}' <<<"$status")
  threads=$(awk '/^Threads:/ {print $2}' <<<"$status")
  fds=$(find "/proc/$server_pid/fd" -mindepth 1 2>/dev/null | wc -l)
  sockets=$(find "/proc/$server_pid/fd" -mindepth 1 -lname 'socket:*' 2>/dev/null | wc -l)
  # Every TCP socket of the process but its listeners: accepted, to the model, to Redis.
  # CLOSE-WAIT apart too: a peer that hung up on a socket nobody closes is the classic leak.
  local ss_out
  ss_out="$(ss -Htanp 2>/dev/null | grep "pid=$server_pid," | grep -v '^LISTEN' || true)"
  tcp=$(grep -c . <<<"$ss_out" || true)
  close_wait=$(grep -c '^CLOSE-WAIT' <<<"$ss_out" || true)
  model_tcp=$(awk -v peer="127.0.0.1:$bench_fakellm_port" '$5 == peer {n++} END {print n + 0}' \
    <<<"$ss_out")
  local scrape sqlite_kib
  scrape="$(curl -sf "http://127.0.0.1:$bench_metrics_port/metrics" || true)"
  sessions=$(awk '$1 == "active_sessions" {print $2}' <<<"$scrape")
  sqlite_kib=$(awk '$1 == "sqlite_memory_bytes" {print int($2 / 1024)}' <<<"$scrape")
  if [ "$SOAK_REDIS" = 1 ]; then
    redis_clients=$(redis-cli -p "$redis_port" info clients | tr -d '\r' |
      awk -F: '$1 == "connected_clients" {print $2}')
    redis_kib=$(redis-cli -p "$redis_port" info memory | tr -d '\r' |
      awk -F: '$1 == "used_memory" {print int($2 / 1024)}')
  fi
  local row=("$1" $(($(date +%s) - phase_start)) "$rss" "$fds" "$sockets" "$tcp" "$model_tcp"
    "$close_wait" "$threads" "${sessions:-}" "$redis_clients" "$redis_kib" "${sqlite_kib:-}")
  (IFS=,; echo "${row[*]}") >>"$samples"
}

# load PHASE NAME RATE CONNECTIONS URL [loadgen args...]: one generator in the background.
load() {
  local phase="$1" name="$2" rate="$3" connections="$4" url="$5" seconds="$SOAK_WARMUP"
  shift 5
  [ "$phase" = warmup ] || seconds="$SOAK_SECONDS"
  "$loadgen" --rate "$rate" --connections "$connections" --duration "${seconds}s" --timeout 10s \
    --json "$work/$phase-$name.json" "$@" "$url" >"$tmp/$phase-$name.out" 2>&1 &
  generators+=($!)
}

# phase NAME: the six streams for the phase's length, sampling every SOAK_SAMPLE_SECONDS while
# all of them run; fails when the server dies.
phase() {
  local p="$1" api="http://127.0.0.1:$bench_port"
  local auth=(-H "Authorization: Bearer $bench_token" -H "Content-Type: application/json")
  local suffix=warmup
  [ "$p" = warmup ] || suffix=run
  phase_start=$(date +%s)
  load "$p" hits "$hits_rate" 8 "$api/api/v1/query" "${auth[@]}" --bodies "$tmp/hits.txt"
  load "$p" engine "$engine_rate" 8 "$api/api/v1/query" "${auth[@]}" \
    --bodies "$tmp/engine-$suffix.txt"
  load "$p" conversations "$conv_rate" 8 "$api/api/v1/query" "${auth[@]}" \
    --bodies "$tmp/conv-$suffix.txt"
  load "$p" llm "$llm_rate" "$llm_connections" "$api/api/v1/query" "${auth[@]}" --timeout 30s \
    --bodies "$tmp/llm-$suffix.txt"
  load "$p" health "$SOAK_HEALTH_RATE" 2 "$api" --paths "$tmp/health-paths.txt"
  load "$p" metrics 1 1 "http://127.0.0.1:$bench_metrics_port/metrics"
  local next=$((phase_start + SOAK_SAMPLE_SECONDS)) pid running
  while :; do
    sleep "$(awk -v n="$next" -v now="$(date +%s.%N)" 'BEGIN {d = n - now; print (d > 0 ? d : 0)}')"
    next=$((next + SOAK_SAMPLE_SECONDS))
    running=1
    for pid in "${generators[@]}"; do kill -0 "$pid" 2>/dev/null || running=0; done
    ((running)) || break
    if ! sample "$p"; then
      echo "the server (pid $server_pid) is gone; stopping the load" >&2
      server_died=true
      failures+=("the server (pid $server_pid) died $(($(date +%s) - phase_start)) s into the $p phase")
      stop_generators
      break
    fi
  done
  for pid in "${generators[@]}"; do wait "$pid" || true; done
  generators=()
}

echo "soak: ${SOAK_WARMUP} s warm-up, then ${SOAK_SECONDS} s measured; $SOAK_RATE questions/s" \
  "(hits $hits_rate, engine $engine_rate, conversations $conv_rate, model $llm_rate)," \
  "health $SOAK_HEALTH_RATE/s, metrics 1/s; model delay $SOAK_LLM_DELAY_MS ms;" \
  "redis: $([ "$SOAK_REDIS" = 1 ] && echo on || echo off); server pid $server_pid"
failures=()
server_died=false
phase warmup
run_from=$(($(wc -l <"$log") + 1))
[ "$server_died" = true ] || phase run
run_lines=$(($(wc -l <"$log") - run_from + 1))

# --- Verdict.
server_alive=true
if ! kill -0 "$server_pid" 2>/dev/null ||
  ! curl -sf "http://127.0.0.1:$bench_port/health" >/dev/null; then
  server_alive=false
  failures+=("the server is not running or not answering /health at the end")
fi

# Errors of every generator report, warm-up included: anything but a 2xx answer.
streams=(hits engine conversations llm health metrics)
errors_total=0
for p in warmup run; do
  for s in "${streams[@]}"; do
    f="$work/$p-$s.json"
    if [ ! -s "$f" ]; then
      # Stopped with the server: that failure is reported once, above.
      if [ "$server_died" = false ]; then
        out="$({ tail -n 3 "$tmp/$p-$s.out" || true; } 2>/dev/null | tr '\n' ' ')"
        failures+=("no report from the $s generator ($p): $out")
      fi
      errors_total=$((errors_total + 1))
      continue
    fi
    e=$(jq '.errors.total + .not_sent + .unfinished + (.responses - (.status_classes["2xx"] // 0))' "$f")
    if ((e > 0)); then
      failures+=("$s ($p): $e failed requests: $(jq -c '{errors, not_sent, unfinished, status}' "$f")")
    fi
    errors_total=$((errors_total + e))
  done
done

# The first sample of the measured part is the baseline, its last the end.
# pick first|last COLUMN: that sample's value of a column of samples.csv (0 when empty).
pick() {
  awk -F, -v which="$1" -v name="$2" '
    NR == 1 {for (i = 1; i <= NF; i++) if ($i == name) c = i; next}
    $1 == "run" {if (!seen) {f = $c; seen = 1}; l = $c}
    END {v = (which == "first" ? f : l); print (v == "" ? 0 : v)}' "$samples"
}
declare -A base end
for what in rss_kib fds tcp model_tcp close_wait threads active_sessions redis_clients \
  redis_used_kib sqlite_kib; do
  base[$what]="$(pick first "$what")"
  end[$what]="$(pick last "$what")"
done
# Descriptors and connections less the model transport's: it keeps an idle libcurl handle for
# each model call that ran at once (up to [llm] max_concurrent_requests), each holding its
# connection to the model and a socket pair, 3 descriptors; so its count rises to the highest
# overlap of model calls seen and stays (a stall of the machine raises it), which is no leak.
# What the transport holds is checked on its own: no more connections to the model than calls
# the model ever had in flight at once.
base_fds_other=$((base[fds] - 3 * base[model_tcp]))
end_fds_other=$((end[fds] - 3 * end[model_tcp]))
base_tcp_other=$((base[tcp] - base[model_tcp]))
end_tcp_other=$((end[tcp] - end[model_tcp]))
# shellcheck disable=SC2119 # no argument: the counters, not a reset
fake_stats="$(bench_fakellm_stats 2>/dev/null || echo '{}')"
model_peak=$(jq '.max_in_flight // 0' <<<"$fake_stats")
sample_count=$(awk -F, '$1 == "run"' "$samples" | wc -l)
# Least-squares slope of RSS over the measured samples, KiB a minute.
slope=$(awk -F, '$1 == "run" {n++; x += $2; y += $3; xx += $2 * $2; xy += $2 * $3}
  END {d = n * xx - x * x; print (n > 1 && d != 0 ? (n * xy - x * y) / d * 60 : 0)}' "$samples")
max_rss=$(awk -F, '$1 == "run" && $3 > m {m = $3} END {print m + 0}' "$samples")
if ((sample_count < 2)); then
  failures+=("only $sample_count samples in the measured part (the server or a generator stopped early)")
else
  if ((end[rss_kib] * 100 > base[rss_kib] * RSS_LIMIT_PERCENT)); then
    failures+=("RSS grew from ${base[rss_kib]} KiB after the warm-up to ${end[rss_kib]} KiB (over ${RSS_LIMIT_PERCENT}%)")
  fi
  if ((end_fds_other > base_fds_other + SLACK)); then
    failures+=("open descriptors (less the model transport's) grew from $base_fds_other to $end_fds_other (more than $SLACK)")
  fi
  if ((end_tcp_other > base_tcp_other + SLACK)); then
    failures+=("TCP connections (less the model transport's) grew from $base_tcp_other to $end_tcp_other (more than $SLACK)")
  fi
  if ((end[model_tcp] > model_peak)); then
    failures+=("${end[model_tcp]} connections to the model at the end, more than the $model_peak calls it ever had at once")
  fi
  if ((end[close_wait] > SLACK)); then
    failures+=("${end[close_wait]} connections in CLOSE-WAIT at the end (closed by the peer, never by the server)")
  fi
  if [ "$SOAK_REDIS" = 1 ] && ((end[redis_clients] > base[redis_clients] + SLACK)); then
    failures+=("Redis clients grew from ${base[redis_clients]} to ${end[redis_clients]} (more than $SLACK)")
  fi
fi

# Who answered the measured part's questions (the request log), and the server's failures.
read -r by_cache by_engine by_llm by_failed < <(tail -n +"$run_from" "$log" |
  jq -rR 'fromjson? | select(.message == "request" and .path == "/api/v1/query") |
    if .status == 200 then .source else "failed" end' |
  awk '{n[$1]++} END {printf "%d %d %d %d\n", n["cache"], n["engine"], n["llm"], n["failed"]}')
query_errors="$(curl -sf "http://127.0.0.1:$bench_metrics_port/metrics" 2>/dev/null |
  awk '$1 ~ /^query_errors_total\{/ {print}' | tr '\n' ' ' || true)"
wall=$(($(date +%s) - started))

mib() { awk -v k="$1" 'BEGIN {printf "%.1f", k / 1024}'; }
pct() { awk -v a="$1" -v b="$2" 'BEGIN {if (a > 0) printf "%+.1f%%", (b - a) * 100 / a; else print "-"}'; }
echo
printf '| resource | after warm-up | end | change | limit |\n| --- | --- | --- | --- | --- |\n'
printf '| RSS (MiB) | %s | %s | %s | +%d%% (max during the run %s MiB; slope %+.0f KiB/min) |\n' \
  "$(mib "${base[rss_kib]}")" "$(mib "${end[rss_kib]}")" "$(pct "${base[rss_kib]}" "${end[rss_kib]}")" \
  $((RSS_LIMIT_PERCENT - 100)) "$(mib "$max_rss")" "$slope"
printf '| open descriptors (less the model transport'"'"'s) | %s (%s) | %s (%s) | %+d | +%d |\n' \
  "${base[fds]}" "$base_fds_other" "${end[fds]}" "$end_fds_other" $((end_fds_other - base_fds_other)) \
  "$SLACK"
printf '| TCP connections (less the model transport'"'"'s) | %s (%s) | %s (%s) | %+d | +%d |\n' \
  "${base[tcp]}" "$base_tcp_other" "${end[tcp]}" "$end_tcp_other" $((end_tcp_other - base_tcp_other)) \
  "$SLACK"
printf '| connections to the model | %s | %s | %+d | at most %s (its calls at once, highest) |\n' \
  "${base[model_tcp]}" "${end[model_tcp]}" $((end[model_tcp] - base[model_tcp])) "$model_peak"
printf '| in CLOSE-WAIT | %s | %s | %+d | %d |\n' "${base[close_wait]}" "${end[close_wait]}" \
  $((end[close_wait] - base[close_wait])) "$SLACK"
printf '| threads | %s | %s | %+d | (reported) |\n' "${base[threads]}" "${end[threads]}" \
  $((end[threads] - base[threads]))
printf '| active sessions (gauge) | %s | %s | %+d | (reported) |\n' "${base[active_sessions]}" \
  "${end[active_sessions]}" $((end[active_sessions] - base[active_sessions]))
printf '| SQLite memory (MiB; page caches, schemas, statements) | %s | %s | %s | (reported) |\n' \
  "$(mib "${base[sqlite_kib]}")" "$(mib "${end[sqlite_kib]}")" \
  "$(pct "${base[sqlite_kib]}" "${end[sqlite_kib]}")"
if [ "$SOAK_REDIS" = 1 ]; then
  printf '| Redis clients | %s | %s | %+d | +%d |\n' "${base[redis_clients]}" "${end[redis_clients]}" \
    $((end[redis_clients] - base[redis_clients])) "$SLACK"
  printf '| Redis used memory (MiB) | %s | %s | %s | (reported) |\n' "$(mib "${base[redis_used_kib]}")" \
    "$(mib "${end[redis_used_kib]}")" "$(pct "${base[redis_used_kib]}" "${end[redis_used_kib]}")"
fi
echo
printf '| stream (measured part) | asked/s | responses | errors | p50 (ms) | p99 (ms) | max (ms) |\n'
printf '| --- | --- | --- | --- | --- | --- | --- |\n'
for s in "${streams[@]}"; do
  f="$work/run-$s.json"
  [ -s "$f" ] || continue
  jq -r --arg s "$s" '[$s, .rate_asked, .responses,
      .errors.total + .not_sent + .unfinished + (.responses - (.status_classes["2xx"] // 0)),
      (.latency_ms.p50, .latency_ms.p99, .latency_ms.max | . * 100 | round / 100)]
    | "| " + (map(tostring) | join(" | ")) + " |"' "$f"
done
answered=$((by_cache + by_engine + by_llm))
echo
echo "answered in the measured part (request log): cache $by_cache, engine $by_engine," \
  "model $by_llm, failed $by_failed; $run_lines log lines"
echo "errors in all generators, warm-up included: $errors_total; wall time ${wall} s"

# numbers NAME=NUMBER...: a JSON object of those numbers.
numbers() {
  local kv fields=()
  for kv in "$@"; do fields+=("\"${kv%%=*}\": ${kv#*=}"); done
  (IFS=,; echo "{${fields[*]}}")
}
verdict=pass
((${#failures[@]} == 0)) || verdict=fail
jq -n --arg verdict "$verdict" --argjson seconds "$SOAK_SECONDS" --argjson warmup "$SOAK_WARMUP" \
  --argjson rate "$SOAK_RATE" --argjson sample_seconds "$SOAK_SAMPLE_SECONDS" \
  --argjson redis "$SOAK_REDIS" --argjson llm_delay_ms "$SOAK_LLM_DELAY_MS" \
  --argjson workers "$SOAK_WORKERS" --argjson slack "$SLACK" \
  --argjson rss_limit_percent "$RSS_LIMIT_PERCENT" --argjson wall_s "$wall" \
  --argjson errors "$errors_total" --argjson server_alive "$server_alive" \
  --argjson slope "$slope" --argjson max_rss "$max_rss" \
  --argjson other "$(numbers fds_after_warmup="$base_fds_other" fds_end="$end_fds_other" \
    tcp_after_warmup="$base_tcp_other" tcp_end="$end_tcp_other" model_calls_peak="$model_peak")" \
  --argjson rates "$(numbers hits="$hits_rate" engine="$engine_rate" conversations="$conv_rate" \
    llm="$llm_rate" health="$SOAK_HEALTH_RATE" metrics=1)" \
  --argjson answered "$(numbers cache="$by_cache" engine="$by_engine" llm="$by_llm" \
    failed="$by_failed" total="$answered")" \
  --argjson fakellm "$fake_stats" --arg query_errors "$query_errors" \
  --rawfile samples "$samples" \
  --slurpfile reports <(for p in warmup run; do for s in "${streams[@]}"; do
    f="$work/$p-$s.json"
    if [ -s "$f" ]; then jq -c --arg p "$p" --arg s "$s" '{phase: $p, stream: $s, rate_asked, responses,
      errors: .errors.total, not_sent, unfinished, status, latency_ms}' "$f"; fi
  done; done) \
  '
  ($samples | split("\n") | map(select(length > 0)) | map(split(","))) as $rows |
  ($rows[0]) as $head |
  ($rows[1:] | map([$head, .] | transpose | map({(.[0]): (if .[0] == "phase" then .[1]
    else (.[1] | if . == "" then null else tonumber end) end)}) | add)) as $s |
  ($s | map(select(.phase == "run"))) as $run |
  {verdict: $verdict, failures: $ARGS.positional,
   config: {seconds: $seconds, warmup_seconds: $warmup, rate: $rate, rates: $rates,
            sample_seconds: $sample_seconds, redis: ($redis == 1), llm_delay_ms: $llm_delay_ms,
            workers: $workers, slack: $slack, rss_limit_percent: $rss_limit_percent},
   after_warmup: ($run | first), end: ($run | last),
   rss_max_kib: $max_rss, rss_slope_kib_per_min: $slope, less_model_transport: $other,
   errors: $errors, server_alive: $server_alive, answered: $answered,
   query_errors_metric: $query_errors, fakellm: $fakellm, wall_seconds: $wall_s,
   streams: $reports, samples: $s}' --args "${failures[@]}" >"$work/summary.json"
echo "summary: $work/summary.json"

if [ "$verdict" = fail ]; then
  cp "$log" "$work/server.log"
  echo
  echo "SOAK FAILED:" >&2
  printf '  %s\n' "${failures[@]}" >&2
  echo "  (server log: $work/server.log; samples: $samples)" >&2
  exit 1
fi
echo "SOAK PASSED"
