#!/usr/bin/env bash
# Runs a private PostgreSQL or MariaDB server for the tests and benchmarks: its files in one
# directory, listening on a free loopback port, with a database "helios" and two roles; or a
# private Redis server (no persistence, a random password).
#
#   scripts/dbserver.sh start postgres|mariadb|redis DIR   create (first time) and start it
#   scripts/dbserver.sh stop  postgres|mariadb|redis DIR   stop it (fast shutdown); DIR is kept
#   scripts/dbserver.sh load-demo postgres|mariadb DIR BINARY
#                                                  load the demo data written by BINARY
#   scripts/dbserver.sh checksum postgres|mariadb DIR
#                                                  one line per table: name, rows, md5 of rows
#
# After start, DIR holds:
#   admin_url    owner of the database "helios" (creates tables, loads data)
#   reader_url   role helios_reader: SELECT on the tables of "helios" and nothing else, the
#                role docs/security.md tells deployments to use
#   port         the port, kept so that a restart listens on the same one
#   url          (redis) redis://:PASSWORD@127.0.0.1:PORT/0
# The passwords are random, made at creation and kept in those files (mode 0600).
# As root, PostgreSQL runs as the system user "postgres" (it refuses root) and MariaDB as root.
# The servers come from Debian's packages: scripts/setup.sh --test installs them.
set -euo pipefail

usage() {
  sed -n '2,21p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
  exit 2
}

(($# >= 3)) || usage
action="$1"
engine="$2"
mkdir -p "$3"
dir="$(cd "$3" && pwd)"
binary="${4:-}"

die() {
  printf 'dbserver: %s\n' "$*" >&2
  exit 1
}

# A free TCP port on 127.0.0.1 (the kernel picks one; a race with another process taking it
# before the server binds is possible but unlikely, and the start then fails clearly).
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

random_password() {
  head -c 18 /dev/urandom | base64 | tr -d '/+=' | head -c 24
}

write_secret() {
  (umask 077 && printf '%s\n' "$2" >"$1")
}

port_of() {
  if [[ -s "$dir/port" ]]; then
    cat "$dir/port"
  else
    local p
    p="$(free_port)"
    printf '%s\n' "$p" >"$dir/port"
    printf '%s\n' "$p"
  fi
}

# --- PostgreSQL -----------------------------------------------------------------------------

pg_bindir() {
  local initdb
  initdb="$(ls -d /usr/lib/postgresql/*/bin/initdb 2>/dev/null | sort -V | tail -n 1)"
  [[ -n "$initdb" ]] || die "PostgreSQL is not installed (scripts/setup.sh --test installs it)"
  dirname "$initdb"
}

# Runs a PostgreSQL server program as a user it accepts.
pg_as_owner() {
  if ((EUID == 0)); then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

pg_start() {
  local bin port
  bin="$(pg_bindir)"
  port="$(port_of)"
  if [[ ! -s "$dir/data/PG_VERSION" ]]; then
    rm -rf "$dir/data"
    mkdir -p "$dir/data" "$dir/run"
    local admin_pw reader_pw
    admin_pw="$(random_password)"
    reader_pw="$(random_password)"
    write_secret "$dir/pwfile" "$admin_pw"
    if ((EUID == 0)); then
      chmod 0755 "$dir"
      chown -R postgres "$dir/data" "$dir/run" "$dir/pwfile"
    fi
    pg_as_owner "$bin/initdb" -D "$dir/data" -U helios_admin --pwfile="$dir/pwfile" \
      --auth=scram-sha-256 -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 ||
      die "initdb failed: $(tail -n 5 "$dir/initdb.log")"
    rm -f "$dir/pwfile"
    write_secret "$dir/admin_url" "postgresql://helios_admin:$admin_pw@127.0.0.1:$port/helios"
    write_secret "$dir/reader_url" "postgresql://helios_reader:$reader_pw@127.0.0.1:$port/helios"
    write_secret "$dir/reader_password" "$reader_pw"
    touch "$dir/.fresh"
  fi
  ((EUID == 0)) && chown -R postgres "$dir/data" "$dir/run"
  pg_as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/run/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$dir/run -c fsync=off -c max_connections=200" \
    start >/dev/null || die "PostgreSQL did not start: $(tail -n 5 "$dir/run/server.log")"
  if [[ -e "$dir/.fresh" ]]; then
    local admin reader_pw
    admin="$(cat "$dir/admin_url")"
    reader_pw="$(cat "$dir/reader_password")"
    psql "${admin%/helios}/postgres" -v ON_ERROR_STOP=1 -q -c "CREATE DATABASE helios OWNER helios_admin" >/dev/null
    psql "$admin" -v ON_ERROR_STOP=1 -q >/dev/null <<SQL
CREATE ROLE helios_reader LOGIN PASSWORD '$reader_pw';
REVOKE ALL ON DATABASE helios FROM PUBLIC;
GRANT CONNECT ON DATABASE helios TO helios_reader;
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO helios_reader;
ALTER DEFAULT PRIVILEGES FOR ROLE helios_admin IN SCHEMA public GRANT SELECT ON TABLES TO helios_reader;
SQL
    rm -f "$dir/.fresh"
  fi
}

pg_stop() {
  local bin
  bin="$(pg_bindir)"
  [[ -s "$dir/data/postmaster.pid" ]] || return 0
  pg_as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >/dev/null
}

# --- MariaDB --------------------------------------------------------------------------------

maria_client() {
  mariadb --no-defaults --socket="$dir/mysqld.sock" -uroot "$@"
}

maria_start() {
  command -v mariadbd >/dev/null 2>&1 || [[ -x /usr/sbin/mariadbd ]] ||
    die "MariaDB is not installed (scripts/setup.sh --test installs it)"
  local port user
  port="$(port_of)"
  user="$(id -un)"
  if [[ ! -d "$dir/data/mysql" ]]; then
    rm -rf "$dir/data"
    mkdir -p "$dir/data" "$dir/tmp"
    # Each server has its own tmpdir: in a shared /tmp, servers started at the same time (tests
    # in parallel) have been seen to lose each other's temporary tables during bootstrap.
    mariadb-install-db --no-defaults --datadir="$dir/data" --tmpdir="$dir/tmp" --user="$user" \
      --auth-root-authentication-method=normal --skip-test-db >"$dir/install.log" 2>&1 ||
      die "mariadb-install-db failed: $(tail -n 5 "$dir/install.log")"
    touch "$dir/.fresh"
  fi
  local mariadbd=/usr/sbin/mariadbd
  command -v mariadbd >/dev/null 2>&1 && mariadbd="$(command -v mariadbd)"
  mkdir -p "$dir/tmp"
  setsid "$mariadbd" --no-defaults --datadir="$dir/data" --tmpdir="$dir/tmp" --user="$user" \
    --port="$port" \
    --bind-address=127.0.0.1 --socket="$dir/mysqld.sock" --pid-file="$dir/mysqld.pid" \
    --log-error="$dir/server.log" --skip-name-resolve --innodb-flush-log-at-trx-commit=0 \
    --max-connections=200 --character-set-server=utf8mb4 --collation-server=utf8mb4_general_ci \
    </dev/null >/dev/null 2>&1 &
  local i
  for ((i = 0; i < 600; i++)); do
    if mariadb-admin --no-defaults --socket="$dir/mysqld.sock" -uroot ping >/dev/null 2>&1; then
      break
    fi
    sleep 0.1
  done
  ((i < 600)) || die "MariaDB did not start: $(tail -n 5 "$dir/server.log" 2>/dev/null)"
  if [[ -e "$dir/.fresh" ]]; then
    local admin_pw reader_pw
    admin_pw="$(random_password)"
    reader_pw="$(random_password)"
    maria_client <<SQL
CREATE DATABASE helios CHARACTER SET utf8mb4;
CREATE USER 'helios_admin'@'%' IDENTIFIED BY '$admin_pw';
GRANT ALL ON helios.* TO 'helios_admin'@'%';
CREATE USER 'helios_reader'@'%' IDENTIFIED BY '$reader_pw';
GRANT SELECT, SHOW VIEW ON helios.* TO 'helios_reader'@'%';
SQL
    write_secret "$dir/admin_url" "mariadb://helios_admin:$admin_pw@127.0.0.1:$port/helios"
    write_secret "$dir/reader_url" "mariadb://helios_reader:$reader_pw@127.0.0.1:$port/helios"
    rm -f "$dir/.fresh"
  fi
}

maria_stop() {
  [[ -S "$dir/mysqld.sock" ]] || return 0
  mariadb-admin --no-defaults --socket="$dir/mysqld.sock" -uroot shutdown >/dev/null 2>&1 || true
  local i
  for ((i = 0; i < 600; i++)); do
    [[ -S "$dir/mysqld.sock" ]] || return 0
    sleep 0.1
  done
  die "MariaDB did not stop"
}

# The admin URL's parts for the mariadb client (it takes no URL).
maria_admin_args() {
  local url rest user pass hostport port
  url="$(cat "$dir/admin_url")"
  rest="${url#*://}"
  user="${rest%%:*}"
  rest="${rest#*:}"
  pass="${rest%%@*}"
  hostport="${rest#*@}"
  hostport="${hostport%%/*}"
  port="${hostport##*:}"
  printf '%s\n' --no-defaults -h127.0.0.1 -P"$port" -u"$user" -p"$pass" helios
}

load_demo() {
  [[ -n "$binary" && -x "$binary" ]] || die "load-demo needs the server binary as its fourth argument"
  case "$engine" in
    postgres)
      "$binary" demo-data --sql postgresql | psql "$(cat "$dir/admin_url")" -v ON_ERROR_STOP=1 -q >/dev/null
      ;;
    mariadb)
      local args
      mapfile -t args < <(maria_admin_args)
      "$binary" demo-data --sql mysql | mariadb "${args[@]}" >/dev/null
      ;;
  esac
}

checksum() {
  case "$engine" in
    postgres)
      local admin tables t
      admin="$(cat "$dir/admin_url")"
      mapfile -t tables < <(psql "$admin" -At -v ON_ERROR_STOP=1 -c \
        "SELECT format('%I.%I', schemaname, tablename) FROM pg_tables
         WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1")
      for t in "${tables[@]}"; do
        psql "$admin" -At -v ON_ERROR_STOP=1 -c \
          "SELECT '$t ' || count(*) || ' ' || md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), '')) FROM $t x"
      done
      psql "$admin" -At -v ON_ERROR_STOP=1 -c \
        "SELECT 'roles ' || string_agg(rolname || ':' || rolsuper || rolcreaterole || rolcreatedb, ',' ORDER BY rolname) FROM pg_roles"
      ;;
    mariadb)
      local args tables t
      mapfile -t args < <(maria_admin_args)
      mapfile -t tables < <(mariadb "${args[@]}" -N -e "SHOW TABLES")
      for t in "${tables[@]}"; do
        printf '%s ' "$t"
        mariadb "${args[@]}" -N -e "CHECKSUM TABLE \`$t\` EXTENDED" | awk '{print $2}'
      done
      maria_client -N -e "SELECT CONCAT('users ', GROUP_CONCAT(CONCAT(user, '@', host) ORDER BY user, host)) FROM mysql.user"
      ;;
  esac
}

# --- Redis ----------------------------------------------------------------------------------

redis_start() {
  command -v redis-server >/dev/null || die "Redis is not installed (scripts/setup.sh --test installs it)"
  local port pw
  port="$(port_of)"
  if [[ ! -s "$dir/url" ]]; then
    pw="$(random_password)"
    write_secret "$dir/password" "$pw"
    write_secret "$dir/url" "redis://:$pw@127.0.0.1:$port/0"
  fi
  pw="$(cat "$dir/password")"
  # The configuration goes in a 0600 file so the password is not on a command line.
  (umask 077 && cat >"$dir/redis.conf" <<CONF
bind 127.0.0.1
port $port
requirepass $pw
daemonize yes
pidfile $dir/redis.pid
logfile $dir/redis.log
dir $dir
save ""
appendonly no
CONF
  )
  redis-server "$dir/redis.conf" || die "redis-server did not start (see $dir/redis.log)"
  local i
  for ((i = 0; i < 100; i++)); do
    if REDISCLI_AUTH="$pw" redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null | grep -q PONG; then
      return 0
    fi
    sleep 0.05
  done
  die "Redis did not answer on port $port (see $dir/redis.log)"
}

redis_stop() {
  [[ -s "$dir/redis.pid" ]] || return 0
  local pid i
  pid="$(cat "$dir/redis.pid")"
  kill "$pid" 2>/dev/null || true
  for ((i = 0; i < 200; i++)); do
    kill -0 "$pid" 2>/dev/null || {
      rm -f "$dir/redis.pid"
      return 0
    }
    sleep 0.05
  done
  kill -9 "$pid" 2>/dev/null || true
  rm -f "$dir/redis.pid"
}

case "$engine" in
  postgres | mariadb | redis) ;;
  *) die "unknown server '$engine' (postgres, mariadb or redis)" ;;
esac

case "$action:$engine" in
  start:postgres) pg_start ;;
  stop:postgres) pg_stop ;;
  start:mariadb) maria_start ;;
  stop:mariadb) maria_stop ;;
  start:redis) redis_start ;;
  stop:redis) redis_stop ;;
  load-demo:*) load_demo ;;
  checksum:*) checksum ;;
  *) usage ;;
esac
