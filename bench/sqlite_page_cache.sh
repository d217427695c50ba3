#!/usr/bin/env bash
# What bounding each pooled SQLite connection's page cache costs: three queries on a demo
# database, each run ROUNDS times on one connection (as a pooled connection runs the questions
# it serves), with SQLite's own default cache (2,000 KiB) and with the server's (256 KiB,
# SqliteOptions::page_cache_kib). The first run of each query fills the caches and is left out
# (as is the PRAGMA's own time); prints the median of the others, in milliseconds.
#
#   bench/sqlite_page_cache.sh DB [ROUNDS]       # DB: e.g. BUILD/test-data/demo.db; 7 rounds
#
# The database is opened read-only; its file is read once beforehand so that both sizes find
# it in the operating system's cache.
set -euo pipefail
db="${1:-}"
rounds="${2:-7}"
if [ -z "$db" ] || [ ! -f "$db" ]; then
  echo "usage: bench/sqlite_page_cache.sh DB [ROUNDS] (DB: an SQLite demo database file)" >&2
  exit 2
fi
if ! [[ "$rounds" =~ ^[1-9][0-9]*$ ]] || ((rounds < 2)); then
  echo "ROUNDS must be a whole number of at least 2" >&2
  exit 2
fi
command -v sqlite3 >/dev/null || {
  echo "needs the sqlite3 shell (Debian package sqlite3)" >&2
  exit 2
}
for t in orders order_items products; do
  sqlite3 -readonly "$db" "SELECT 1 FROM $t LIMIT 1" >/dev/null 2>&1 || {
    echo "$db has no table $t: give the product's demo database" >&2
    exit 2
  }
done
cat "$db" >/dev/null

declare -A queries=(
  [join]="SELECT p.category_id, SUM(oi.quantity * oi.unit_price) FROM order_items oi
          JOIN orders o ON o.order_id = oi.order_id JOIN products p ON p.product_id = oi.product_id
          GROUP BY p.category_id"
  [filter]="SELECT COUNT(*), SUM(total_amount) FROM orders WHERE status = 'cancelled'"
  [by_month]="SELECT strftime('%Y-%m', order_date), SUM(total_amount) FROM orders GROUP BY 1"
)

# Median of the run times (ms) after the first, for one query at one cache size.
measure() {
  local kib="$1" sql="$2" script="" i
  script=".timer on"$'\n'"PRAGMA cache_size = -$kib;"$'\n'
  for ((i = 0; i < rounds; i++)); do script+="$sql;"$'\n'; done
  sqlite3 -readonly "$db" <<<"$script" |
    awk '/^Run Time:/ {print $4 * 1000}' | tail -n +3 | sort -n |
    awk '{v[NR] = $1} END {if (NR == 0) exit 1; printf "%.1f", (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'
}

printf '%-10s %16s %16s\n' query "2000 KiB (ms)" "256 KiB (ms)"
for q in join filter by_month; do
  printf '%-10s %16s %16s\n' "$q" "$(measure 2000 "${queries[$q]}")" "$(measure 256 "${queries[$q]}")"
done
