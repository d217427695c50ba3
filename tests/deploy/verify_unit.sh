#!/usr/bin/env bash
# Checks the systemd unit in deploy/ with `systemd-analyze verify`, and that it keeps the
# settings the runbook asks for and runs what the package installs.
#
#   tests/deploy/verify_unit.sh UNIT BINARY INSTALLED_BINARY
#
# UNIT is deploy/heliosdb-conversational-bi.service; INSTALLED_BINARY the path its ExecStart must
# run (where the package puts the binary). verify fails a unit whose ExecStart program does not
# exist, so it checks a copy whose ExecStart runs BINARY, the built one, instead. Any message
# from verify (an unknown or deprecated directive, a bad value) fails the test: verify reports
# those on stderr but still exits 0.
set -euo pipefail

(($# == 3)) || {
  echo "usage: $0 UNIT BINARY INSTALLED_BINARY" >&2
  exit 2
}
unit="$1"
binary="$2"
installed_binary="$3"

fail() {
  printf 'FAIL: %s\n' "$*" >&2
  exit 1
}
command -v systemd-analyze >/dev/null ||
  fail "systemd-analyze is not installed (package systemd: scripts/setup.sh --test)"
[[ -f "$unit" ]] || fail "no unit $unit"
[[ -x "$binary" ]] || fail "$binary is not built"

# Settings that must stay: "Key=value" lines matched exactly.
for line in \
  "Type=exec" \
  "User=heliosdb" \
  "Group=heliosdb" \
  "WorkingDirectory=/var/lib/heliosdb" \
  "EnvironmentFile=/etc/heliosdb/conversational-bi.env" \
  "ExecStart=$installed_binary --config /etc/heliosdb/conversational-bi.toml serve" \
  "Restart=always" \
  "RestartSec=10" \
  "NoNewPrivileges=true" \
  "PrivateTmp=true" \
  "ProtectSystem=strict" \
  "ProtectHome=true" \
  "ReadWritePaths=/var/lib/heliosdb /var/log/heliosdb" \
  "LimitNOFILE=65536" \
  "MemoryMax=16G" \
  "CPUQuota=800%" \
  "WantedBy=multi-user.target"; do
  grep -qxF "$line" "$unit" || fail "$unit lacks the line: $line"
done
(($(grep -c '^ExecStart=' "$unit") == 1)) || fail "$unit must have exactly one ExecStart="

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
name="$(basename "$unit")"

# verify_copy FILE: verify's messages about FILE, empty when it has none.
verify_copy() {
  local out
  out="$(systemd-analyze verify "$1" 2>&1)" || {
    printf '%s\n(exit status non-zero)' "$out"
    return 0
  }
  printf '%s' "$out"
}

mkdir "$tmp/unit"
sed "s|^ExecStart=$installed_binary |ExecStart=$binary |" "$unit" >"$tmp/unit/$name"
grep -q "^ExecStart=$binary " "$tmp/unit/$name" || fail "could not point ExecStart at $binary"
messages="$(verify_copy "$tmp/unit/$name")"
[[ -z "$messages" ]] || fail "systemd-analyze verify $name: $messages"

# The check above can fail: a deprecated directive in an otherwise identical copy is reported.
mkdir "$tmp/bad"
sed 's/^MemoryMax=/MemoryLimit=/' "$tmp/unit/$name" >"$tmp/bad/$name"
messages="$(verify_copy "$tmp/bad/$name")"
[[ "$messages" == *MemoryLimit* ]] ||
  fail "systemd-analyze verify no longer reports a deprecated MemoryLimit= ($messages)"

echo "PASS: $name verifies cleanly and keeps its settings"
