#!/usr/bin/env bash
# Installs the dependencies, builds the server and its web chat (release), writes the demo
# retail database and serves it on 127.0.0.1 (the web chat at http://127.0.0.1:PORT/). Runs in
# the foreground; Ctrl-C stops the server.
#
# The demo runs with authentication off, which the server allows only on a loopback address
# (it warns at start). README.md shows how to run with users and tokens.
#
# Environment:
#   PORT           port to listen on (default 8080)
#   METRICS_PORT   port of the Prometheus metrics listener (default 9090)
#   DATABASE_URL   serve this database instead of the demo one (then no demo data is written),
#                  e.g. sqlite:///srv/data/shop.db
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

port="${PORT:-8080}"
if [[ ! "$port" =~ ^[0-9]+$ ]] || ((port < 1 || port > 65535)); then
  die "PORT must be a number from 1 to 65535"
fi
metrics_port="${METRICS_PORT:-9090}"
if [[ ! "$metrics_port" =~ ^[0-9]+$ ]] || ((metrics_port < 1 || metrics_port > 65535)) ||
  ((metrics_port == port)); then
  die "METRICS_PORT must be a number from 1 to 65535, other than PORT"
fi
host=127.0.0.1

step "Dependencies"
bash "$HELIOS_ROOT/scripts/setup.sh"

step "Building the server and the web chat (release)"
configure_build release
build release heliosdb-conversational-bi helios_web
binary="$(build_dir release)/src/heliosdb-conversational-bi"
[[ -x "$binary" ]] || die "the build did not produce $binary"

if [[ -n "${DATABASE_URL:-}" ]]; then
  ask_db=""  # the command line reads DATABASE_URL too
  source_name="the database in DATABASE_URL"
  step "Using DATABASE_URL (no demo data written)"
else
  demo_db="$(build_dir demo)/retail.db"
  database="sqlite://$demo_db"
  ask_db="--database $(printf %q "$database") "
  source_name="$demo_db"
  if [[ -f "$demo_db" ]]; then
    step "Demo database already there: $demo_db"
  else
    step "Writing the demo database"
    mkdir -p "$(dirname "$demo_db")"
    run "$binary" demo-data "$demo_db"
  fi
fi

# The demo's configuration: the built-in defaults, with authentication off on loopback.
demo_config="$(build_dir demo)/demo.toml"
mkdir -p "$(dirname "$demo_config")"
cat >"$demo_config" <<EOF
# Written by scripts/demo.sh: a local demo on loopback, without authentication.
[server]
host = "$host"
port = $port

[auth]
enabled = false

[nl2sql]
# Examples for a language model, if one is configured (docs/llm.md).
examples_file = "$HELIOS_ROOT/examples/retail.jsonl"
learned_examples_file = "$(build_dir demo)/learned-examples.jsonl"

[metrics]
prometheus_port = $metrics_port
EOF

url="http://$host:$port"
cat <<EOF

==> Starting the server on $url, serving $source_name

Open $url/ in a browser to chat with your data (the web chat), or try the API from
another terminal:

  curl -s $url/health

  curl -s -X POST $url/api/v1/query \\
       -H 'Content-Type: application/json' \\
       -d '{"query": "How many customers are there?"}'

  A follow-up question continues the conversation: send the "session_id" of the previous
  answer, e.g. -d '{"session_id": "<id>", "query": "only in Germany"}'

  Prometheus metrics: curl -s http://$host:$metrics_port/metrics

Or ask on the command line, without the server:

  $binary ask $ask_db"How many customers are there?"

Press Ctrl-C to stop the server.

EOF

serve_args=(--config "$demo_config" serve)
# The server reads DATABASE_URL itself; keeping it off the command line keeps a password in
# it out of the process list.
[[ -n "${DATABASE_URL:-}" ]] || serve_args+=(--database "$database")
# exec: the server itself receives Ctrl-C (SIGINT) or SIGTERM and shuts down cleanly.
exec "$binary" "${serve_args[@]}"
