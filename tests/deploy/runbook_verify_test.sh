#!/usr/bin/env bash
# Runs the "## Verify" section of docs/runbook.md, exactly as written there, against a local
# instance: the demo SQLite database, authentication on with a generated JWT_SECRET, and an
# analyst user added with the real `user add` command. Fails when the section has no bash
# block, when any of its commands fails, or when the same commands do NOT fail against a port
# where nothing listens or with a wrong password (so the section cannot pass vacuously).
#
#   tests/deploy/runbook_verify_test.sh BINARY RUNBOOK
set -euo pipefail

(($# == 2)) || {
  echo "usage: $0 BINARY RUNBOOK" >&2
  exit 2
}
binary="$(realpath -m "$1")"
runbook="$2"

fail() {
  printf 'FAIL: %s\n' "$*" >&2
  exit 1
}

for tool in curl jq openssl; do
  command -v "$tool" >/dev/null || fail "$tool is not installed (scripts/setup.sh --test)"
done
[[ -x "$binary" ]] || fail "$binary is not an executable"
[[ -f "$runbook" ]] || fail "$runbook does not exist"

tmp="$(mktemp -d)"
server_pid=""
cleanup() {
  local rc=$?
  set +e
  if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid"
    wait "$server_pid"
  fi
  if ((rc != 0)) && [[ -f "$tmp/server.log" ]]; then
    echo "--- server log" >&2
    tail -n 40 "$tmp/server.log" >&2
  fi
  # What the server and the runbook's commands printed, for the suite's secrets scan.
  if [[ -n "${HELIOS_TEST_CAPTURE_DIR:-}" ]]; then
    mkdir -p "$HELIOS_TEST_CAPTURE_DIR/output"
    for f in "$tmp"/server.log "$tmp"/*.out; do
      [[ -f "$f" ]] && cp "$f" "$HELIOS_TEST_CAPTURE_DIR/output/runbook-$$-$(basename "$f")"
    done
  fi
  rm -rf "$tmp"
  exit "$rc"
}
trap cleanup EXIT

# The ```bash blocks between the "## Verify" heading and the next level-2 heading.
awk '
  /^## / { in_section = ($0 ~ /^## Verify[[:space:]]*$/); next }
  in_section && /^```bash[[:space:]]*$/ { in_block = 1; blocks++; next }
  in_block && /^```[[:space:]]*$/ { in_block = 0; next }
  in_block { print }
  END { if (blocks == 0) exit 3 }
' "$runbook" >"$tmp/verify.sh" || fail "no \`\`\`bash block under '## Verify' in $runbook"
grep -qE '^[[:space:]]*[^#[:space:]]' "$tmp/verify.sh" ||
  fail "the bash blocks under '## Verify' in $runbook hold no command"
echo "--- the Verify section ($(grep -cE '^[[:space:]]*[^#[:space:]]' "$tmp/verify.sh") lines of commands)"

# The binary on PATH under its installed name, as the runbook's BI_BIN default expects.
mkdir "$tmp/bin"
ln -s "$binary" "$tmp/bin/heliosdb-conversational-bi"

# A local instance: demo data, authentication on, a user added as the runbook says.
mkdir "$tmp/state"
"$binary" demo-data "$tmp/state/retail.db" >/dev/null
password="runbook-$(openssl rand -hex 12)"
(cd "$tmp/state" &&
  printf '%s\n' "$password" |
  "$binary" user add runbook-check --tenant operations --role analyst --password-stdin \
    --users-file users.json >/dev/null) || fail "user add failed"
cat >"$tmp/state/conversational-bi.toml" <<'EOF'
[server]
host = "127.0.0.1"
port = 0
shutdown_timeout_secs = 5

[auth]
enabled = true
users_file = "users.json"

[metrics]
enabled = true
prometheus_port = 0
EOF
jwt_secret="$(openssl rand -base64 48)"
# The secrets handed over, for the suite's secrets scan (scripts/scan_secrets.py).
if [[ -n "${HELIOS_TEST_CAPTURE_DIR:-}" ]]; then
  mkdir -p "$HELIOS_TEST_CAPTURE_DIR/secrets"
  (umask 077 && printf '%s\n' "$jwt_secret" "$password" \
    >>"$HELIOS_TEST_CAPTURE_DIR/secrets/runbook-$$.txt")
fi
(cd "$tmp/state" && exec env JWT_SECRET="$jwt_secret" DATABASE_URL= REDIS_URL= \
  "$binary" --config conversational-bi.toml serve --database sqlite://retail.db) \
  >"$tmp/server.log" 2>&1 &
server_pid=$!

# Both listeners bind port 0; their ports are in the start-up log lines.
port=""
metrics_port=""
for _ in $(seq 1 300); do
  port="$(jq -Rr 'fromjson? | select(.message == "listening") | .port' "$tmp/server.log" | head -n 1)"
  metrics_port="$(jq -Rr 'fromjson? | select(.message == "metrics listening") | .port' \
    "$tmp/server.log" | head -n 1)"
  [[ -n "$port" && -n "$metrics_port" ]] && break
  kill -0 "$server_pid" 2>/dev/null || fail "the server exited at start-up"
  sleep 0.1
done
[[ -n "$port" && -n "$metrics_port" ]] || fail "the server did not start listening in 30 s"
echo "--- server on 127.0.0.1:$port, metrics on 127.0.0.1:$metrics_port"

# run_verify NAME VAR=VALUE...: the extracted commands under bash -euo pipefail, with only the
# section's own variables set (everything else from the environment is dropped but PATH/HOME).
run_verify() {
  local name="$1"
  shift
  env -i PATH="$tmp/bin:$PATH" HOME="$tmp" TMPDIR="$tmp" "$@" \
    bash -euo pipefail "$tmp/verify.sh" >"$tmp/$name.out" 2>&1
}

run_verify good HOST="http://127.0.0.1:$port" METRICS="http://127.0.0.1:$metrics_port" \
  BI_USER=runbook-check BI_PASSWORD="$password" || {
  cat "$tmp/good.out" >&2
  fail "the Verify section failed against a healthy local instance"
}
cat "$tmp/good.out"
grep -q '^verify: OK$' "$tmp/good.out" || fail "the Verify section did not run to its end"

# It must be able to fail: with a wrong password, and (once the instance is stopped) against
# its port, where nothing listens any more.
if run_verify wrong HOST="http://127.0.0.1:$port" METRICS="http://127.0.0.1:$metrics_port" \
  BI_USER=runbook-check BI_PASSWORD="not-$password"; then
  fail "the Verify section passed with a wrong password"
fi
echo "--- as expected, it fails with a wrong password: $(tail -n 1 "$tmp/wrong.out")"
kill -TERM "$server_pid"
wait "$server_pid" || fail "the server did not stop cleanly on SIGTERM"
server_pid=""
if run_verify dead HOST="http://127.0.0.1:$port" METRICS="http://127.0.0.1:$metrics_port" \
  BI_USER=runbook-check BI_PASSWORD="$password"; then
  fail "the Verify section passed against a port where nothing listens"
fi
echo "--- as expected, it fails where nothing listens: $(tail -n 1 "$tmp/dead.out")"

echo "PASS: the runbook's Verify section passes against a local instance and can fail"
