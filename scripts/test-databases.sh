#!/usr/bin/env bash
# Starts (or stops) the PostgreSQL and MariaDB servers the tests run against, each loaded with
# the demo data. CTest runs this as the setup and cleanup of the fixture "test_databases"
# (tests/CMakeLists.txt), so `ctest` alone starts them for the tests that need them.
#
#   scripts/test-databases.sh start DIR BINARY   servers in DIR/postgres and DIR/mariadb
#   scripts/test-databases.sh stop DIR
set -euo pipefail
(($# >= 2)) || {
  sed -n '2,8p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
  exit 2
}
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
mkdir -p "$2"
dir="$(cd "$2" && pwd)"
case "$1" in
  start)
    binary="${3:?the server binary is needed to write the demo data}"
    for engine in postgres mariadb; do
      # A server left running by an interrupted run is stopped first.
      "$here/dbserver.sh" stop "$engine" "$dir/$engine" || true
      "$here/dbserver.sh" start "$engine" "$dir/$engine"
      "$here/dbserver.sh" load-demo "$engine" "$dir/$engine" "$binary"
      echo "$engine: $(sed 's#://\([^:]*\):[^@]*@#://\1:***@#' "$dir/$engine/reader_url")"
    done
    ;;
  stop)
    status=0
    for engine in postgres mariadb; do
      "$here/dbserver.sh" stop "$engine" "$dir/$engine" || status=1
    done
    exit "$status"
    ;;
  *)
    echo "unknown action '$1' (start or stop)" >&2
    exit 2
    ;;
esac
