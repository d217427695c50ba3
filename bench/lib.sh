# shellcheck shell=bash
# Shared by the benchmark scripts (bench/run.sh, bench/suite.sh): starting the release server
# for a benchmark on the production path — authentication on (a bench user logs in; every
# request carries its token) and rate limiting on, with the bench tenant's bucket large enough
# never to refuse — and stopping it; and starting the fake language model (bench/fakellm/)
# that the LLM scenarios point the server at.

# Lines added to the server's [server] section by bench_start_server (TOML allows a table only
# once, so they cannot come with the other lines), e.g. ("max_connections = 4096").
bench_server_lines=()
# Lines added to its [auth] section the same way, e.g. ("token_ttl_minutes = 120") for a run that
# outlasts the default token lifetime.
bench_auth_lines=()
# A command bench_start_server runs the server under, e.g. (valgrind --tool=callgrind ...), and
# how long it waits for the server to answer /health (seconds; a profiler slows start-up).
bench_server_wrapper=()
bench_start_wait=10

# The fake model's answer for the model scenarios: regions and their employees (5 and 50 rows,
# about 60 µs of SQLite), so that the figures are the server's and not the database's; its
# default, customers by country, scans 5,000 rows.
# shellcheck disable=SC2034 # read by the scripts that source this file
bench_model_sql="SELECT r.name AS region, COUNT(*) AS employees FROM employees e JOIN regions r ON r.region_id = e.region_id GROUP BY r.name ORDER BY employees DESC"
# Questions the built-in engine declines on the demo database, for the model to answer.
# shellcheck disable=SC2034
bench_model_questions=(
  "how are our clients spread over the nations of the world"
  "which customers are most likely to churn"
  "what is the weather like for our customers"
  "summarize our business"
  "which products pair well together"
  "what should we sell next year"
  "who are our happiest customers"
  "tell me something interesting about our data"
)

# bench_raise_fd_limit: every connection is a descriptor, and the LLM scenarios hold a thousand
# or more at once in the server, the fake model and the load generator; the soft limit is often
# 1,024, the hard one far higher. Raised for this shell and what it starts.
bench_raise_fd_limit() {
  ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
}

# bench_require TOOL...: exits the script when a tool the benchmark needs is not installed.
bench_require() {
  local tool
  for tool in "$@"; do
    command -v "$tool" >/dev/null || {
      echo "$tool is not installed (scripts/setup.sh --test)" >&2
      exit 1
    }
  done
}

# bench_build DIR TARGET...: configures DIR as a release build (without tests or the web chat)
# when it is not configured yet, then builds the targets.
bench_build() {
  local dir="$1" root
  shift
  root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
  if [ ! -f "$dir/CMakeCache.txt" ]; then
    cmake -S "$root" -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DHELIOS_BUILD_TESTS=OFF \
      -DHELIOS_BUILD_WEB=OFF >/dev/null
  fi
  cmake --build "$dir" --target "$@" >/dev/null
}

# bench_start_server BIN WORK DATABASE_URL LOG WORKERS [TOML...]: starts BIN serve on a free
# loopback port with its configuration in WORK/bench.toml (each further argument a line added
# to it, e.g. "[cache]" "enabled = false"; bench_server_lines go into [server], bench_auth_lines
# into [auth]), logging to LOG.
# Sets bench_port, bench_metrics_port (its Prometheus endpoint), bench_token and bench_server
# (the process); exits the script when the server does not come up.
bench_start_server() {
  local bin="$1" work="$2" database_url="$3" log="$4" workers="$5"
  shift 5
  bench_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  local password="bench-password-$RANDOM$RANDOM"
  rm -f "$work/users.json" "$log"
  printf '%s\n' "$password" | "$bin" user add bench --tenant bench --role analyst \
    --users-file "$work/users.json" --password-stdin >/dev/null
  {
    printf '%s\n' "[server]" "host = \"127.0.0.1\"" "port = $bench_port"
    [ ${#bench_server_lines[@]} -eq 0 ] || printf '%s\n' "${bench_server_lines[@]}"
    printf '%s\n' "[auth]" "users_file = \"$work/users.json\""
    [ ${#bench_auth_lines[@]} -eq 0 ] || printf '%s\n' "${bench_auth_lines[@]}"
    printf '%s\n' "[metrics]" "prometheus_port = 0" \
      "[production.rate_limiting.tenants.bench]" "queries_per_minute = 100000000" \
      "burst_allowance = 100000000"
    [ $# -eq 0 ] || printf '%s\n' "$@"
  } >"$work/bench.toml"
  JWT_SECRET="$(head -c 48 /dev/urandom | base64)" HELIOSDB_WORKER_THREADS="$workers" \
    DATABASE_URL="$database_url" "${bench_server_wrapper[@]}" "$bin" --config "$work/bench.toml" \
    serve >"$log" 2>&1 &
  bench_server=$!
  for _ in $(seq 1 $((bench_start_wait * 10))); do
    curl -sf "http://127.0.0.1:$bench_port/health" >/dev/null && break
    kill -0 "$bench_server" 2>/dev/null || break
    sleep 0.1
  done
  bench_token="$(curl -sf "http://127.0.0.1:$bench_port/api/v1/auth/login" \
    -d "{\"username\": \"bench\", \"password\": \"$password\"}" | jq -r .token)"
  if [ -z "$bench_token" ] || [ "$bench_token" = null ]; then
    echo "the server did not start or the login failed; see $log" >&2
    exit 1
  fi
  # shellcheck disable=SC2034 # read by the scripts that source this file
  # The log may hold lines that are not JSON (a profiler's own, run as a wrapper of the server):
  # each line is read on its own and those are skipped.
  bench_metrics_port="$(jq -R -r 'fromjson? | select(.message == "metrics listening") | .port' \
    "$log" | head -n 1)"
}

# bench_stop_server: stops the server bench_start_server started, if any.
bench_stop_server() {
  if [ -n "${bench_server:-}" ]; then
    kill "$bench_server" 2>/dev/null || true
    wait "$bench_server" 2>/dev/null || true
    bench_server=""
  fi
}

# bench_start_fakellm BIN LOG DELAY_MS [SQL]: starts the fake model BIN (helios-fakellm) on a free
# loopback port, answering every chat completion DELAY_MS after it arrived with SQL (its own
# default when not given); its output in LOG. Sets bench_fakellm_port and bench_fakellm (the
# process); exits the script when it does not come up.
# The fake stands for a service on other machines, but here it shares the cores with a server
# that may run hundreds of threads, and the scheduler shares a core per thread: its one thread
# would answer tens of milliseconds late, counted as the server's. So it runs at a higher
# priority where that is allowed (nice -10, as root); its own lateness is in its stats.
bench_start_fakellm() {
  local bin="$1" log="$2" delay="$3" sql="${4:-}"
  local args=(--port 0 --delay-ms "$delay") nice=()
  [ -z "$sql" ] || args+=(--sql "$sql")
  if nice -n -10 true 2>/dev/null; then nice=(nice -n -10); fi
  "${nice[@]}" "$bin" "${args[@]}" >"$log" 2>&1 &
  bench_fakellm=$!
  bench_fakellm_port=""
  for _ in $(seq 1 100); do
    bench_fakellm_port="$(sed -n 's|^helios-fakellm listening on http://[0-9.]*:\([0-9]*\)/.*|\1|p' "$log")"
    [ -z "$bench_fakellm_port" ] || break
    sleep 0.05
  done
  if [ -z "$bench_fakellm_port" ] || ! curl -sf "http://127.0.0.1:$bench_fakellm_port/health" >/dev/null; then
    echo "the fake model did not start; see $log" >&2
    exit 1
  fi
}

# bench_fakellm_stats [reset]: the fake model's counters as JSON (requests, answered,
# max_in_flight, late_max_us, ...); with "reset", restarts its maxima first.
bench_fakellm_stats() {
  if [ "${1:-}" = reset ]; then
    curl -sf -X POST "http://127.0.0.1:$bench_fakellm_port/stats/reset"
  else
    curl -sf "http://127.0.0.1:$bench_fakellm_port/stats"
  fi
}

# bench_stop_fakellm: stops the fake model bench_start_fakellm started, if any.
bench_stop_fakellm() {
  if [ -n "${bench_fakellm:-}" ]; then
    kill "$bench_fakellm" 2>/dev/null || true
    wait "$bench_fakellm" 2>/dev/null || true
    bench_fakellm=""
  fi
}
