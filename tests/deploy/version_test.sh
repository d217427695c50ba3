#!/usr/bin/env bash
# `--version` prints the version, the git revision and the build date, and the build date is
# reproducible: cmake/version.cmake takes it from SOURCE_DATE_EPOCH or the commit of HEAD, never
# from the clock.
#
#   tests/deploy/version_test.sh BINARY SOURCE_DIR CMAKE
set -euo pipefail

(($# == 3)) || {
  echo "usage: $0 BINARY SOURCE_DIR CMAKE" >&2
  exit 2
}
binary="$1"
source_dir="$2"
cmake="$3"

fail() {
  printf 'FAIL: %s\n' "$*" >&2
  exit 1
}

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# The binary's output: exactly two lines.
"$binary" --version >"$tmp/version.txt"
cat "$tmp/version.txt"
(($(wc -l <"$tmp/version.txt") == 2)) || fail "--version printed other than two lines"
sed -n 1p "$tmp/version.txt" |
  grep -qE '^heliosdb-conversational-bi [0-9]+\.[0-9]+\.[0-9]+ \(revision ([0-9a-f]{7,40}(-modified)?|unknown)\)$' ||
  fail "the first line is not 'heliosdb-conversational-bi VERSION (revision REVISION)'"
sed -n 2p "$tmp/version.txt" |
  grep -qE '^built ([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z|unknown)$' ||
  fail "the second line is not 'built YYYY-MM-DDTHH:MM:SSZ'"
[[ "$("$binary" -V)" == "$(cat "$tmp/version.txt")" ]] || fail "-V differs from --version"

# stamp DIR OUT [VAR=VALUE...]: runs cmake/version.cmake for the sources in DIR.
stamp() {
  local dir="$1" out="$2"
  shift 2
  env -u SOURCE_DATE_EPOCH "$@" "$cmake" -DSOURCE_DIR="$dir" -DVERSION=1.2.3 -DOUT="$out" \
    -P "$source_dir/cmake/version.cmake"
}
date_in() {
  sed -n 's/^#define HELIOS_BUILD_DATE "\(.*\)"$/\1/p' "$1"
}

stamp "$source_dir" "$tmp/epoch.h" SOURCE_DATE_EPOCH=1700000000
[[ "$(date_in "$tmp/epoch.h")" == 2023-11-14T22:13:20Z ]] ||
  fail "SOURCE_DATE_EPOCH=1700000000 gave build date '$(date_in "$tmp/epoch.h")'"

# Outside a git checkout, and without SOURCE_DATE_EPOCH, there is no date to give.
mkdir "$tmp/no-git"
stamp "$tmp/no-git" "$tmp/no-git.h" GIT_CEILING_DIRECTORIES="$tmp"
grep -qx '#define HELIOS_BUILD_DATE "unknown"' "$tmp/no-git.h" ||
  fail "without git or SOURCE_DATE_EPOCH the build date is not 'unknown': $(cat "$tmp/no-git.h")"
grep -qx '#define HELIOS_GIT_REVISION "unknown"' "$tmp/no-git.h" ||
  fail "without git the revision is not 'unknown'"

# In the checkout, two stamps a second apart are identical: the date is the commit's.
stamp "$source_dir" "$tmp/first.h"
sleep 1.1
stamp "$source_dir" "$tmp/second.h"
cmp -s "$tmp/first.h" "$tmp/second.h" ||
  fail "the header changed between two builds a second apart: $(diff "$tmp/first.h" "$tmp/second.h")"
if grep -q '#define HELIOS_GIT_REVISION "unknown"' "$tmp/first.h"; then
  echo "(the sources are not a git checkout: the commit date is not checked)"
else
  grep -qE '^#define HELIOS_BUILD_DATE "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z"$' "$tmp/first.h" ||
    fail "a git checkout gave no build date: $(cat "$tmp/first.h")"
fi

echo "PASS: --version shows version, revision and a reproducible build date"
