#!/usr/bin/env bash
# The server's own instructions per model answer, counted by callgrind (deterministic: the same
# on a busy or a quiet machine, unlike a timing). Starts the server of BUILD on the SQLite demo
# database under `valgrind --tool=callgrind`, with the fake model (helios-fakellm, answering
# after 1 ms) as its OpenAI-compatible provider and the semantic cache off, then asks the
# questions the built-in engine declines (bench/lib.sh's bench_model_questions) one at a time, ROUNDS
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

bench_start_fakellm "$build/bench/fakellm/helios-fakellm" "$work/fakellm.log" 1 "$bench_model_sql"

# shellcheck disable=SC2034 # read by bench_start_server
bench_server_wrapper=(valgrind --tool=callgrind --callgrind-out-file="$work/callgrind.out"
  --toggle-collect='helios::server::HttpServer::Impl::Query*')
# shellcheck disable=SC2034
bench_start_wait=300 # start-up under valgrind takes seconds
# shellcheck disable=SC2154 # bench_fakellm_port is set by bench_start_fakellm
bench_start_server "$bin" "$work" "sqlite://$db" "$work/server.log" 4 "[cache]" "enabled = false" \
  "[llm]" "provider = \"openai-compatible\"" "model = \"fake\"" \
  "base_url = \"http://127.0.0.1:$bench_fakellm_port/v1\"" "api_key_env = \"\"" \
  "max_retries = 0"

answers=0
for r in $(seq 1 "$rounds"); do
  for q in "${bench_model_questions[@]}"; do
    body="$(jq -cn --arg q "$q $r" '{query: $q}')"
    source="$(curl -s -H "Authorization: Bearer $bench_token" \
      -H 'Content-Type: application/json' "http://127.0.0.1:$bench_port/api/v1/query" -d "$body" |
      jq -r '.source // .error.message // "no answer"')"
    [ "$source" = llm ] || {
      echo "\"$q $r\" was not answered by the model: $source" >&2
      exit 1
    }
    answers=$((answers + 1))
  done
done
bench_stop_server # callgrind writes its profile as the server exits

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
