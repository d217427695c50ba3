#!/usr/bin/env bash
# Installs the web chat's npm packages (web/package-lock.json, exactly) into web/node_modules,
# unless the lock file has not changed since the last install. The build runs this before it
# bundles the page (cmake target helios_web); it needs the npm registry only when it installs.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../web"

command -v npm >/dev/null 2>&1 || {
  echo "error: npm is not installed (scripts/setup.sh installs it)" >&2
  exit 1
}
want="$(sha256sum package-lock.json | cut -d' ' -f1)"
marker=node_modules/.installed-lock-sha256
if [[ -f "$marker" && "$(cat "$marker")" == "$want" ]]; then
  exit 0
fi
# A lock is never rewritten here: `npm ci` installs it exactly or fails.
npm ci --no-audit --no-fund --loglevel=error
echo "$want" >"$marker"
