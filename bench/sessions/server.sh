#!/usr/bin/env bash
# Can one server hold SESSIONS conversations of 10 turns? Starts the release server on the demo
# database with [session] max_concurrent_sessions = MAX_SESSIONS (authentication off on
# loopback, the tenant's rate limit out of the way, every other setting the built-in default),
# then asks SESSIONS conversations of ten questions over HTTP with helios-loadgen: each request
# names its session id, turn 1 of every session first, then turn 2, and so on, so that all
# conversations are open at once. Reports the server's resident memory (VmRSS) before and
# after, its active-sessions gauge, and reads a sample of the sessions back through
# GET /api/v1/sessions/{id}.
#
#   bench/sessions/server.sh                          # 100,000 sessions, limit 100,000
#   MAX_SESSIONS=10000 bench/sessions/server.sh       # the default limit: see what it does
#
# The questions are cheap ones (small tables), so that a million answers take minutes; each is
# answered by the engine (the first line printed shows the ten answers of one conversation).
# Their turns are not the same as helios-bench-sessions' (which stores the README's
# conversations) but are stored the same way.
#
# Environment: SESSIONS (100000), MAX_SESSIONS (SESSIONS), RATE (requests/s offered, 4000; the
# requests that the server cannot take at once wait in the generator's queue, all are sent),
# CONNECTIONS (8), BUILD_DIR (build/release), WORK (build/bench/sessions).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
SESSIONS="${SESSIONS:-100000}"
MAX_SESSIONS="${MAX_SESSIONS:-$SESSIONS}"
RATE="${RATE:-4000}"
CONNECTIONS="${CONNECTIONS:-8}"
for n in "$SESSIONS" "$MAX_SESSIONS" "$RATE" "$CONNECTIONS"; do
  [[ "$n" =~ ^[1-9][0-9]*$ ]] || {
    echo "SESSIONS, MAX_SESSIONS, RATE and CONNECTIONS must be positive whole numbers" >&2
    exit 2
  }
done
# shellcheck source=bench/lib.sh
source "$root/bench/lib.sh"
bench_require python3 curl jq
build="${BUILD_DIR:-$root/build/release}"
work="${WORK:-$root/build/bench/sessions}"
mkdir -p "$work"
bench_build "$build" heliosdb-conversational-bi helios-loadgen
bin="$build/src/heliosdb-conversational-bi"
loadgen="$build/bench/loadgen/helios-loadgen"
db="$work/demo.db"
[ -f "$db" ] || "$bin" demo-data "$db" >/dev/null

questions=(
  "Which products are in the Books category?"
  "with a unit price above 20"
  "the 3 most expensive"
  "what about Electronics?"
  "How many employees are Sales Managers?"
  "by region"
  "only in Europe"
  "What is the average salary per region?"
  "and the maximum?"
  "How many customers are in Germany?"
)

# One request body per line: turn t of every session, then turn t+1. The session ids are
# random UUIDs, as the server makes them; a request naming an unknown id starts that session.
python3 - "$SESSIONS" "$work/bodies.txt" "$work/ids.txt" "${questions[@]}" <<'PY'
import json, sys, uuid
sessions, bodies, ids_path, questions = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4:]
ids = [str(uuid.uuid4()) for _ in range(sessions)]
with open(ids_path, "w") as f:
    f.write("\n".join(ids) + "\n")
with open(bodies, "w") as f:
    for q in questions:
        for i in ids:
            f.write(json.dumps({"session_id": i, "query": q}) + "\n")
PY

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
port="$(free_port)"
metrics_port="$(free_port)"
cat >"$work/server.toml" <<EOF
[server]
host = "127.0.0.1"
port = $port
[auth]
enabled = false
[metrics]
prometheus_port = $metrics_port
[session]
max_concurrent_sessions = $MAX_SESSIONS
[production.rate_limiting.tenants.default]
queries_per_minute = 100000000
burst_allowance = 100000000
[logging]
level = "warn"
EOF
DATABASE_URL="sqlite://$db" "$bin" --config "$work/server.toml" serve >"$work/server.log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true' EXIT
for _ in $(seq 1 200); do
  curl -sf "http://127.0.0.1:$port/ready" >/dev/null && break
  sleep 0.05
done
url="http://127.0.0.1:$port"

rss() { awk '/^VmRSS/ {print $2 * 1024}' "/proc/$server/status"; }
gauge() {
  curl -sf "http://127.0.0.1:$metrics_port/metrics" |
    awk '$1 ~ /active_sessions$/ && $1 !~ /^#/ {print $2}' | head -1
}

# One conversation first: every question answered, and the server's caches warm.
sid=""
for q in "${questions[@]}"; do
  body="$(jq -cn --arg q "$q" --arg s "$sid" 'if $s == "" then {query: $q} else {query: $q, session_id: $s} end')"
  reply="$(curl -s "$url/api/v1/query" -H 'Content-Type: application/json' -d "$body")"
  if [ -z "$sid" ]; then sid="$(jq -r .session_id <<<"$reply")"; fi
  printf '  %-45s -> %s\n' "$q" "$(jq -c '{turn, row_count, source, error: .error.code}' <<<"$reply")"
done
curl -s -X DELETE "$url/api/v1/sessions/$sid" >/dev/null
before="$(rss)"

requests=$((SESSIONS * ${#questions[@]}))
duration_ms=$(((requests * 1000 + RATE - 1) / RATE))
start=$(date +%s.%N)
"$loadgen" --rate "$RATE" --connections "$CONNECTIONS" --duration "${duration_ms}ms" \
  --timeout 900s -H "Content-Type: application/json" --bodies "$work/bodies.txt" \
  --json "$work/loadgen.json" "$url/api/v1/query" >"$work/loadgen.txt"
end=$(date +%s.%N)
sleep 6 # the gauge is refreshed every 5 s
after="$(rss)"
active="$(gauge)"

# A sample of the sessions read back: 1,000 spread over all of them.
python3 - "$url" "$work/ids.txt" "${#questions[@]}" <<'PY'
import http.client, json, sys, urllib.parse
url, ids_path, turns = sys.argv[1], sys.argv[2], int(sys.argv[3])
ids = open(ids_path).read().split()
host = urllib.parse.urlparse(url)
con = http.client.HTTPConnection(host.hostname, host.port, timeout=30)
stride = max(1, len(ids) // 1000)
found = intact = 0
counts = {}
for i in ids[::stride]:
    con.request("GET", f"/api/v1/sessions/{i}")
    r = con.getresponse()
    body = json.loads(r.read() or b"{}")
    if r.status != 200:
        continue
    found += 1
    counts[body["turn_count"]] = counts.get(body["turn_count"], 0) + 1
    if body["turn_count"] == turns and len(body["turns"]) == turns:
        intact += 1
sampled = len(ids[::stride])
print(f"sessions read back: {found} of {sampled} sampled found, {intact} with all {turns} turns; "
      f"turn counts seen: {dict(sorted(counts.items()))}")
PY

grep -E "^(requests|status|errors):" "$work/loadgen.txt"
python3 - "$before" "$after" "$SESSIONS" "$MAX_SESSIONS" "$active" "$start" "$end" "$requests" <<'PY'
import sys
before, after, sessions, limit = (int(x) for x in sys.argv[1:5])
active, start, end, requests = sys.argv[5], float(sys.argv[6]), float(sys.argv[7]), int(sys.argv[8])
print(f"{sessions:,} sessions x 10 turns, max_concurrent_sessions {limit:,}: {requests:,} requests "
      f"in {end - start:.0f} s ({requests / (end - start):,.0f}/s)")
print(f"server VmRSS before {before:,} B, after {after:,} B: +{after - before:,} B, "
      f"{(after - before) / sessions:,.0f} B per session started "
      f"({(after - before) / min(sessions, limit):,.0f} B per session kept)")
print(f"active_sessions gauge: {active}")
PY
