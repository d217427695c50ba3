#!/usr/bin/env bash
# The server's own instructions per model answer, counted by callgrind (deterministic: the same
# on a busy or a quiet machine, unlike a timing). Starts the server of BUILD on the SQLite demo
# database under `valgrind --tool=callgrind`, with the fake model (helios-fakellm, answering
# after 1 ms) as its OpenAI-compatible provider and the semantic cache off, then asks the
# questions the built-in engine declines (bench/suite.sh's model questions) one at a time, ROUNDS
# times each with a different number so that no answer repeats. Only the query handler is
# counted (--toggle-collect on HttpServer::Impl::Query: reading the question, the engine
# declining it, the prompt, the HTTP call through libcurl, running the model's SQL, the answer's
# JSON), not HTTP parsing or start-up.
#
#   bench/callgrind_model.sh [BUILD] [ROUNDS]     # build/release, 5
#
# Prints instructions per answer and the heaviest functions (inclusive); the whole profile is
# in BUILD/callgrind-model/callgrind.out for callgrind_annotate. The prompt function is a lambda
# made in Application::OpenSource and shows under that name. A build with symbols
# (RelWithDebInfo) gives file and line names; Release gives function names.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="$(cd "${1:-$root/build/release}" 2>/dev/null && pwd)" || {
  echo "no build directory ${1:-build/release}" >&2
  exit 2
}
rounds="${2:-5}"
[[ "$rounds" =~ ^[1-9][0-9]*$ ]] || {
  echo "ROUNDS must be a positive whole number" >&2
  exit 2
}
# shellcheck source=bench/lib.sh
source "$root/bench/lib.sh"
bench_require valgrind callgrind_annotate curl jq python3
bench_build "$build" heliosdb-conversational-bi helios-fakellm || {
  echo "building the server and helios-fakellm in $build failed" >&2
  exit 1
}
bin="$build/src/heliosdb-conversational-bi"
work="$build/callgrind-model"
mkdir -p "$work"
rm -f "$work"/callgrind.out* "$work"/*.log
db="$work/demo.db"
[ -f "$db" ] || "$bin" demo-data "$db" >/dev/null

server=""
cleanup() {
  if [ -n "$server" ]; then
    kill "$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
  fi
  bench_stop_fakellm
}
trap cleanup EXIT
sql="SELECT r.name AS region, COUNT(*) AS employees FROM employees e JOIN regions r ON r.region_id = e.region_id GROUP BY r.name ORDER BY employees DESC"
bench_start_fakellm "$build/bench/fakellm/helios-fakellm" "$work/fakellm.log" 1 "$sql"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
password="bench-password-$RANDOM$RANDOM"
rm -f "$work/users.json"
printf '%s\n' "$password" | "$bin" user add bench --tenant bench --role analyst \
  --users-file "$work/users.json" --password-stdin >/dev/null
# shellcheck disable=SC2154 # bench_fakellm_port is set by bench_start_fakellm
cat >"$work/bench.toml" <<EOF
[server]
host = "127.0.0.1"
port = $port
[auth]
users_file = "$work/users.json"
[cache]
enabled = false
[llm]
provider = "openai-compatible"
model = "fake"
base_url = "http://127.0.0.1:$bench_fakellm_port/v1"
api_key_env = ""
max_retries = 0
[production.rate_limiting.tenants.bench]
queries_per_minute = 100000000
burst_allowance = 100000000
EOF
JWT_SECRET="$(head -c 48 /dev/urandom | base64)" DATABASE_URL="sqlite://$db" \
  valgrind --tool=callgrind --callgrind-out-file="$work/callgrind.out" \
  --toggle-collect='helios::server::HttpServer::Impl::Query*' \
  "$bin" --config "$work/bench.toml" serve >"$work/server.log" 2>&1 &
server=$!
for _ in $(seq 1 600); do # start-up under valgrind takes seconds
  curl -sf "http://127.0.0.1:$port/health" >/dev/null && break
  kill -0 "$server" 2>/dev/null || {
    echo "the server exited; see $work/server.log" >&2
    exit 1
  }
  sleep 0.5
done
token="$(curl -sf "http://127.0.0.1:$port/api/v1/auth/login" \
  -d "{\"username\": \"bench\", \"password\": \"$password\"}" | jq -r .token)"
if [ -z "$token" ] || [ "$token" = null ]; then
  echo "the login failed; see $work/server.log" >&2
  exit 1
fi

questions=(
  "how are our clients spread over the nations of the world"
  "which customers are most likely to churn"
  "what is the weather like for our customers"
  "summarize our business"
  "which products pair well together"
  "what should we sell next year"
  "who are our happiest customers"
  "tell me something interesting about our data"
)
answers=0
for r in $(seq 1 "$rounds"); do
  for q in "${questions[@]}"; do
    source="$(curl -s -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
      "http://127.0.0.1:$port/api/v1/query" -d "$(jq -cn --arg q "$q $r" '{query: $q}')" |
      jq -r '.source // .error.message // "no answer"')"
    [ "$source" = llm ] || {
      echo "\"$q $r\" was not answered by the model: $source" >&2
      exit 1
    }
    answers=$((answers + 1))
  done
done
kill "$server"
wait "$server" 2>/dev/null || true
server=""

total="$(callgrind_annotate "$work/callgrind.out" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}')"
echo "model answers: $answers; instructions in the query handler: $total; per answer: $((total / answers))"
echo "heaviest functions (inclusive, per answer):"
callgrind_annotate --inclusive=yes "$work/callgrind.out" 2>/dev/null |
  awk -v n="$answers" '/^ *[0-9,]+ \(/ && !/PROGRAM TOTALS/ {
      ir = $1; gsub(",", "", ir); name = $0; sub(/^ *[0-9,]+ \([ 0-9.]+%\) +/, "", name)
      sub(/^[^:]*:/, "", name); sub(/ \[.*$/, "", name)
      gsub(/\(anonymous namespace\)/, "{anonymous}", name); sub(/\(.*$/, "", name)
      if (!(name in seen)) { seen[name] = 1; printf "  %9d  %s\n", ir / n, name }
    }' | grep -v -E 'std::|httplib|clone|start_thread|0x0|_Function_handler|ConnectionPool' |
  head -n 30
