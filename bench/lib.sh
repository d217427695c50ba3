# shellcheck shell=bash
# Shared by the benchmark scripts (bench/run.sh, bench/suite.sh): starting the release server
# for a benchmark on the production path — authentication on (a bench user logs in; every
# request carries its token) and rate limiting on, with the bench tenant's bucket large enough
# never to refuse — and stopping it.

# bench_start_server BIN WORK DATABASE_URL LOG WORKERS [TOML...]: starts BIN serve on a free
# loopback port with its configuration in WORK/bench.toml (each further argument a line added
# to it, e.g. "[cache]" "enabled = false"), logging to LOG. Sets bench_port, bench_token and
# bench_server (the process); exits the script when the server does not come up.
bench_start_server() {
  local bin="$1" work="$2" database_url="$3" log="$4" workers="$5"
  shift 5
  bench_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  local password="bench-password-$RANDOM$RANDOM"
  rm -f "$work/users.json" "$log"
  printf '%s\n' "$password" | "$bin" user add bench --tenant bench --role analyst \
    --users-file "$work/users.json" --password-stdin >/dev/null
  {
    printf '%s\n' "[server]" "host = \"127.0.0.1\"" "port = $bench_port" \
      "[auth]" "users_file = \"$work/users.json\"" "[metrics]" "prometheus_port = 0" \
      "[production.rate_limiting.tenants.bench]" "queries_per_minute = 100000000" \
      "burst_allowance = 100000000"
    [ $# -eq 0 ] || printf '%s\n' "$@"
  } >"$work/bench.toml"
  JWT_SECRET="$(head -c 48 /dev/urandom | base64)" HELIOSDB_WORKER_THREADS="$workers" \
    DATABASE_URL="$database_url" "$bin" --config "$work/bench.toml" serve >"$log" 2>&1 &
  bench_server=$!
  for _ in $(seq 1 100); do
    curl -sf "http://127.0.0.1:$bench_port/health" >/dev/null && break
    sleep 0.1
  done
  bench_token="$(curl -sf "http://127.0.0.1:$bench_port/api/v1/auth/login" \
    -d "{\"username\": \"bench\", \"password\": \"$password\"}" | jq -r .token)"
  if [ -z "$bench_token" ] || [ "$bench_token" = null ]; then
    echo "the server did not start or the login failed; see $log" >&2
    exit 1
  fi
}

# bench_stop_server: stops the server bench_start_server started, if any.
bench_stop_server() {
  if [ -n "${bench_server:-}" ]; then
    kill "$bench_server" 2>/dev/null || true
    wait "$bench_server" 2>/dev/null || true
    bench_server=""
  fi
}
