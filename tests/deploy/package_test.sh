#!/usr/bin/env bash
# The Debian package, end to end, on this machine: builds it with cpack from a release build
# directory, installs it with dpkg -i, runs the installed binary the way its systemd unit would
# (systemd itself is not PID 1 in a container, so `systemctl start` cannot work), checks that it
# answers /health, the web chat, a logged-in question and /metrics, then removes and purges the
# package and checks that nothing of it is left.
#
#   tests/deploy/package_test.sh SOURCE_DIR BUILD_DIR CPACK [--web]
#
# BUILD_DIR is a configured and built release build directory (its CPackConfig.cmake and its
# binary src/heliosdb-conversational-bi) of the sources in SOURCE_DIR; CPACK is the cpack
# program; --web: the build has the web chat, so the package must serve it.
#
# Needs root (dpkg -i); without it the test is skipped (exit 77). It fails rather than touch
# anything when the package, the heliosdb user or group or their directories are already on the
# machine, or when the example configuration's ports (8080, 9090) are taken. Whatever happens,
# the EXIT trap stops the server, purges the package and removes what it made. What remains is
# dpkg's own record of the run (/var/log/dpkg.log, /var/lib/dpkg/status-old).
set -euo pipefail

(($# >= 3)) || {
  echo "usage: $0 SOURCE_DIR BUILD_DIR CPACK [--web]" >&2
  exit 2
}
source_dir="$1"
build_dir="$2"
cpack="$3"
web=0
[[ "${4:-}" == "--web" ]] && web=1

readonly pkg=heliosdb-conversational-bi
readonly unit_path=/lib/systemd/system/heliosdb-conversational-bi.service
readonly port=8080 metrics_port=9090
readonly made_dirs=(/etc/heliosdb /var/lib/heliosdb /var/log/heliosdb "/usr/share/$pkg")
readonly id_files=(/etc/passwd /etc/group /etc/shadow /etc/gshadow)

fail() {
  printf 'FAIL: %s\n' "$*" >&2
  exit 1
}
step() {
  printf '\n==> %s\n' "$*"
}

if ((EUID != 0)); then
  echo "SKIPPED: installing a Debian package needs root"
  exit 77
fi
for tool in dpkg dpkg-deb dpkg-query curl jq setpriv systemd-analyze flock objdump; do
  command -v "$tool" >/dev/null || fail "$tool is not installed (scripts/setup.sh --test)"
done
[[ -f "$build_dir/CPackConfig.cmake" ]] || fail "$build_dir has no CPackConfig.cmake"
built_binary="$build_dir/src/$pkg"
[[ -x "$built_binary" ]] || fail "$built_binary is not built"

# One run at a time on this machine, whichever build directory it comes from: the package, the
# user and the ports are machine-wide.
exec 9<"${BASH_SOURCE[0]}"
flock -w 300 9 || fail "another package test kept its lock for 5 minutes"

step "Checking that the machine has nothing of the package"
status="$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)"
[[ -z "$status" || "$status" == "not-installed" ]] ||
  fail "$pkg is on this machine (status $status); the test would remove it. Remove it first."
getent passwd heliosdb >/dev/null && fail "a user heliosdb exists; the test would delete it"
getent group heliosdb >/dev/null && fail "a group heliosdb exists; the test would delete it"
for d in "${made_dirs[@]}"; do
  [[ ! -e "$d" ]] || fail "$d exists; the test would delete it"
done
port_taken() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}
for p in "$port" "$metrics_port"; do
  port_taken "$p" && fail "port $p (in the example configuration) is taken on 127.0.0.1"
done

cleanup() {
  local rc=$?
  set +e
  if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
    kill -KILL "$server_pid"
    wait "$server_pid" 2>/dev/null
  fi
  if ((installed)); then
    if dpkg-query -W "$pkg" >/dev/null 2>&1; then
      echo "cleanup: purging $pkg"
      dpkg --purge "$pkg" >/dev/null 2>&1 </dev/null
    fi
    # In case the maintainer scripts failed half-way: none of this existed before the test.
    rm -rf "${made_dirs[@]}"
    getent passwd heliosdb >/dev/null && userdel heliosdb
    getent group heliosdb >/dev/null && groupdel heliosdb
    rm -f /var/lib/systemd/deb-systemd-helper-enabled/$pkg.service.dsh-also
    rm -f /etc/systemd/system/multi-user.target.wants/$pkg.service
    if dpkg-query -W "$pkg" >/dev/null 2>&1; then
      dpkg --purge "$pkg" >/dev/null 2>&1 </dev/null ||
        echo "cleanup: WARNING: could not purge $pkg: dpkg --purge $pkg" >&2
    fi
    local f name
    for f in "${id_files[@]}"; do
      name="$(basename "$f")"
      if [[ -e "$tmp/ids/$name-" ]] && cmp -s "$f" "$tmp/ids/$name"; then
        cp -p "$tmp/ids/$name-" "$f-"
      fi
    done
  fi
  rm -rf "$tmp"
  exit "$rc"
}

tmp="$(mktemp -d)"
installed=0
server_pid=""
trap cleanup EXIT
trap 'exit 130' INT TERM

# The state of the user databases and of the places the package writes, to compare afterwards.
snapshot() {
  # Some of these do not exist (find then exits non-zero).
  { find /etc /lib/systemd /usr/lib/systemd /var/lib/systemd /usr/bin /usr/share/$pkg \
    /usr/lib/debug /var/lib/heliosdb /var/log/heliosdb -xdev 2>/dev/null || true; } |
    LC_ALL=C sort
}
snapshot >"$tmp/before.list"
mkdir "$tmp/ids"
for f in "${id_files[@]}"; do
  cp -p "$f" "$tmp/ids/$(basename "$f")"
  # adduser and deluser leave copies of the previous file in these backups.
  if [[ -e "$f-" ]]; then cp -p "$f-" "$tmp/ids/$(basename "$f")-"; fi
done

step "Building the package (cpack -G DEB)"
"$cpack" -G DEB --config "$build_dir/CPackConfig.cmake" -B "$tmp/out" >"$tmp/cpack.log" 2>&1 ||
  {
    cat "$tmp/cpack.log"
    fail "cpack failed"
  }
debs=("$tmp"/out/"${pkg}"_*.deb)
[[ ${#debs[@]} -eq 1 && -f "${debs[0]}" ]] || fail "cpack made no single $pkg .deb: ${debs[*]}"
deb="${debs[0]}"
ls "$tmp"/out/"${pkg}"-dbgsym_*.ddeb >/dev/null 2>&1 || fail "cpack made no -dbgsym .ddeb"

step "Checking the package's control data and contents"
field() {
  dpkg-deb -f "$deb" "$1"
}
[[ "$(field Package)" == "$pkg" ]] || fail "Package: $(field Package)"
depends="$(field Depends)"
echo "Depends: $depends"
for lib in adduser libc6 libstdc++6 libsqlite3-0 libcurl4 libssl3 libpq5 libmariadb3; do
  [[ ", $depends," == *", $lib"[\ ,]* ]] || fail "Depends lacks $lib (dpkg-shlibdeps)"
done
dpkg-deb -e "$deb" "$tmp/control"
for script in postinst prerm postrm; do
  [[ -x "$tmp/control/$script" ]] || fail "the package has no executable $script"
done
diff <(sort "$tmp/control/conffiles") \
  <(printf '%s\n' /etc/heliosdb/conversational-bi.env /etc/heliosdb/conversational-bi.toml) ||
  fail "the conffiles are not the two files in /etc/heliosdb"
dpkg-deb -c "$deb" >"$tmp/contents"
expect_entry() {
  grep -qE "^$1 +root/root +[0-9]+ [-0-9]+ [:0-9]+ \\.$2\$" "$tmp/contents" ||
    fail "the package lacks $2 with mode $1: $(grep -F ".$2" "$tmp/contents" || echo absent)"
}
expect_entry -rwxr-xr-x /usr/bin/$pkg
expect_entry -rw-r----- /etc/heliosdb/conversational-bi.env
expect_entry -rw-r--r-- /etc/heliosdb/conversational-bi.toml
expect_entry -rw-r--r-- $unit_path
if ((web)); then
  expect_entry -rw-r--r-- /usr/share/$pkg/web/index.html
fi
# The debug symbols went to the .ddeb: the packaged binary is stripped and points at them.
dpkg-deb -x "$deb" "$tmp/root"
sections="$(objdump -h "$tmp/root/usr/bin/$pkg")" || fail "objdump could not read the packaged binary"
grep -q '\.gnu_debuglink' <<<"$sections" ||
  fail "the packaged binary has no .gnu_debuglink to its symbols"
if grep -qE '\.symtab|\.debug_info' <<<"$sections"; then
  fail "the packaged binary still carries its symbols"
fi
# The example configuration as it is in the sources, the unit and the environment file.
for pair in etc/heliosdb/conversational-bi.toml:config/conversational-bi.toml \
  etc/heliosdb/conversational-bi.env:deploy/conversational-bi.env \
  "${unit_path#/}:deploy/$pkg.service"; do
  cmp -s "$tmp/root/${pair%%:*}" "$source_dir/${pair#*:}" ||
    fail "the package's /${pair%%:*} is not $source_dir/${pair#*:}"
done
# The package's paths that are on the machine already (directories such as /usr/bin).
(cd "$tmp/root" && find . -mindepth 1 -path ./usr/share/$pkg -prune -o -print) | cut -c2- |
  while IFS= read -r path; do
    if [[ -e "$path" || -L "$path" ]]; then echo "$path"; fi
  done >"$tmp/package-existing.list"

step "Installing it (dpkg -i)"
installed=1
dpkg -i "$deb" </dev/null || fail "dpkg -i failed"
[[ "$(dpkg-query -W -f='${db:Status-Status}' "$pkg")" == "installed" ]] ||
  fail "dpkg does not list $pkg as installed"

step "Checking the user, the directories and the secrets' permissions"
IFS=: read -r _ _ uid gid _ home shell < <(getent passwd heliosdb) || fail "no user heliosdb"
((uid < 1000)) || fail "heliosdb is not a system user (uid $uid)"
[[ "$(getent group heliosdb | cut -d: -f3)" == "$gid" ]] || fail "heliosdb's group is not heliosdb"
[[ "$home" == /var/lib/heliosdb ]] || fail "heliosdb's home is $home"
[[ "$shell" == /usr/sbin/nologin ]] || fail "heliosdb's shell is $shell, not nologin"
expect_stat() {
  local got
  got="$(stat -c '%U:%G %a' "$1")"
  [[ "$got" == "$2" ]] || fail "$1 is $got, not $2"
}
expect_stat /var/lib/heliosdb "heliosdb:heliosdb 750"
expect_stat /var/log/heliosdb "heliosdb:heliosdb 750"
expect_stat /etc/heliosdb/conversational-bi.env "root:heliosdb 640"
expect_stat /etc/heliosdb/conversational-bi.toml "root:root 644"
expect_stat /usr/bin/$pkg "root:root 755"
[[ -f $unit_path ]] || fail "$unit_path is not installed"
readonly wants_link=/etc/systemd/system/multi-user.target.wants/$pkg.service
[[ ! -e "$wants_link" && ! -L "$wants_link" ]] || fail "installing the package enabled the unit"

step "Checking the installed unit (systemd-analyze verify) and what it runs"
verify_out="$(systemd-analyze verify "$unit_path" 2>&1)" || fail "verify: $verify_out"
[[ -z "$verify_out" ]] || fail "systemd-analyze verify reports: $verify_out"
unit_value() {
  local v
  v="$(sed -n "s/^$1=//p" "$unit_path")"
  [[ -n "$v" && "$v" != *$'\n'* ]] || fail "the unit has no single $1="
  printf '%s' "$v"
}
exec_start="$(unit_value ExecStart)"
[[ "$exec_start" != *[\"\'\\\$%]* ]] || fail "ExecStart needs quoting this test does not do"
read -r -a command <<<"$exec_start"
workdir="$(unit_value WorkingDirectory)"
env_file="$(unit_value EnvironmentFile)"
user="$(unit_value User)"
group="$(unit_value Group)"
umask_value="$(unit_value UMask)"
[[ "${command[0]}" == /usr/bin/$pkg ]] || fail "ExecStart runs ${command[0]}"
[[ -d "$workdir" ]] || fail "the unit's WorkingDirectory $workdir does not exist"

step "The installed binary is this build's"
installed_version="$(/usr/bin/$pkg --version)"
echo "$installed_version"
[[ "$installed_version" == "$("$built_binary" --version)" ]] ||
  fail "the installed binary's --version differs from the build's"

# Replaces the shell by a command run as the unit runs its ExecStart: as User/Group with their
# groups and NoNewPrivileges, in WorkingDirectory, with the UMask, only the EnvironmentFile's
# variables and what systemd itself sets. Call it in a subshell: `(exec_as_service ...)`, or
# `exec_as_service ... &`, whose $! is then the command's own process.
exec_as_service() {
  local env=(PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8
    "HOME=$home" "USER=$user" "LOGNAME=$user" "SHELL=$shell")
  local line
  while IFS= read -r line || [[ -n "$line" ]]; do
    [[ "$line" =~ ^[A-Za-z_][A-Za-z0-9_]*= ]] && env+=("$line")
  done <"$env_file"
  cd "$workdir"
  umask "$umask_value"
  exec setpriv --reuid="$user" --regid="$group" --init-groups --no-new-privs \
    env -i "${env[@]}" "$@"
}

step "Configuring it as an administrator would"
# The secret goes into the conffile in place, so that it keeps its owner and mode.
secret="$(head -c 48 /dev/urandom | base64 | tr -d '\n')"
sed "s|^JWT_SECRET=.*|JWT_SECRET=$secret|" "$env_file" >"$tmp/env.new"
cat "$tmp/env.new" >"$env_file"
grep -qx "JWT_SECRET=$secret" "$env_file" || fail "could not set JWT_SECRET in $env_file"
(exec_as_service /usr/bin/$pkg demo-data demo.db) || fail "demo-data as heliosdb failed"
password="package-test-$RANDOM-$RANDOM"
printf '%s\n' "$password" |
  (exec_as_service /usr/bin/$pkg --config /etc/heliosdb/conversational-bi.toml user add admin \
    --tenant package-test --role admin --password-stdin) ||
  fail "user add as heliosdb failed"
expect_stat "$workdir/users.json" "heliosdb:heliosdb 600"
[[ "$(stat -c %U:%G "$workdir/demo.db")" == heliosdb:heliosdb ]] || fail "demo.db is not heliosdb's"

step "Running the service's command: ${command[*]}"
exec_as_service "${command[@]}" >"$tmp/server.log" 2>&1 &
server_pid=$!
url="http://127.0.0.1:$port"
for _ in $(seq 1 300); do
  curl -sf "$url/health" >"$tmp/health.json" 2>/dev/null && break
  kill -0 "$server_pid" 2>/dev/null || {
    cat "$tmp/server.log"
    fail "the server exited before answering /health"
  }
  sleep 0.2
done
[[ -s "$tmp/health.json" ]] || {
  cat "$tmp/server.log"
  fail "no answer from $url/health within a minute"
}
cat "$tmp/health.json"
echo
[[ "$(jq -r .status "$tmp/health.json")" == alive ]] || fail "/health status is not alive"
# Readiness includes the database: the demo database in the state directory.
curl -sf "$url/ready" >"$tmp/ready.json" || fail "/ready: $(curl -s "$url/ready")"
[[ "$(jq -r .status "$tmp/ready.json")" == ok ]] || fail "/ready: $(cat "$tmp/ready.json")"
[[ "$(jq -r .version "$tmp/health.json")" == "$(head -n 1 <<<"$installed_version")" ]] ||
  fail "/health reports another version"
[[ "$(ps -o user= -p "$server_pid")" == heliosdb ]] ||
  fail "the server runs as $(ps -o user= -p "$server_pid"), not heliosdb"
if ((!web)) && grep -q '"message":"serving the web chat"' "$tmp/server.log"; then
  fail "the server found a web chat the build does not have"
fi
if ((web)); then
  grep -q "\"web_root\":\"/usr/share/$pkg/web\"" "$tmp/server.log" ||
    fail "the server does not serve the installed web chat: $(cat "$tmp/server.log")"
  # Read whole before searching: under pipefail, grep -q leaving at its first match makes a
  # curl still writing fail with a broken pipe.
  curl -sf "$url/" >"$tmp/index.html" || fail "GET / failed"
  grep -qi '<html' "$tmp/index.html" || fail "GET / is not the web chat"
fi
token="$(curl -sf -X POST "$url/api/v1/auth/login" -H 'Content-Type: application/json' \
  -d "{\"username\": \"admin\", \"password\": \"$password\"}" | jq -r .token)" ||
  fail "login failed"
[[ -n "$token" && "$token" != null ]] || fail "login gave no token"
curl -sf "$url/api/v1/query" -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
  -d '{"query": "How many customers are there?"}' >"$tmp/answer.json" ||
  fail "the question was not answered: $(cat "$tmp/answer.json")"
jq -e '(.sql | length > 0) and (.row_count == 1)' "$tmp/answer.json" >/dev/null ||
  fail "unexpected answer: $(cat "$tmp/answer.json")"
curl -sf "http://127.0.0.1:$metrics_port/metrics" >"$tmp/metrics.txt" ||
  fail "no metrics on port $metrics_port"
grep -q '^# TYPE ' "$tmp/metrics.txt" || fail "the metrics on port $metrics_port are not Prometheus text"

step "Stopping it (SIGTERM, as systemctl stop does)"
kill -TERM "$server_pid"
server_status=0
wait "$server_pid" || server_status=$?
server_pid=""
((server_status == 0)) || fail "the server exited with status $server_status on SIGTERM"

step "Reinstalling keeps the edited configuration (conffiles) and the enabled unit"
systemctl enable "$pkg.service" || fail "systemctl enable failed"
[[ -L "$wants_link" ]] || fail "systemctl enable made no $wants_link"
dpkg -i "$deb" </dev/null || fail "dpkg -i over the installed package failed"
grep -qx "JWT_SECRET=$secret" "$env_file" || fail "reinstalling replaced the edited $env_file"
expect_stat "$env_file" "root:heliosdb 640"
[[ -L "$wants_link" ]] || fail "reinstalling disabled the unit"

step "Removing it (dpkg -r)"
dpkg -r "$pkg" </dev/null || fail "dpkg -r failed"
[[ "$(dpkg-query -W -f='${db:Status-Status}' "$pkg")" == config-files ]] ||
  fail "after dpkg -r, $pkg is not in state config-files"
for f in /usr/bin/$pkg $unit_path /usr/share/$pkg; do
  [[ ! -e "$f" ]] || fail "dpkg -r left $f"
done
# Configuration, state and the user stay until a purge.
grep -qx "JWT_SECRET=$secret" "$env_file" || fail "dpkg -r removed the edited configuration"
[[ -f /var/lib/heliosdb/users.json ]] || fail "dpkg -r removed the state directory"
getent passwd heliosdb >/dev/null || fail "dpkg -r removed the user heliosdb"

step "Purging it (dpkg --purge)"
dpkg --purge "$pkg" </dev/null || fail "dpkg --purge failed"
dpkg-query -W "$pkg" >/dev/null 2>&1 && fail "dpkg still knows $pkg after the purge"
getent passwd heliosdb >/dev/null && fail "the purge left the user heliosdb"
getent group heliosdb >/dev/null && fail "the purge left the group heliosdb"
[[ ! -L "$wants_link" ]] || fail "the purge left the unit enabled ($wants_link)"
for d in "${made_dirs[@]}"; do
  [[ ! -e "$d" ]] || fail "the purge left $d"
done
ls /var/lib/dpkg/info/"$pkg".* >/dev/null 2>&1 && fail "the purge left dpkg's files of $pkg"
# Every path of the package that was not there before is gone.
(cd "$tmp/root" && find . -mindepth 1 -path ./usr/share/$pkg -prune -o -print) | cut -c2- |
  while IFS= read -r path; do
    if [[ -e "$path" || -L "$path" ]] && ! grep -qxF "$path" "$tmp/package-existing.list"; then
      fail "the purge left $path"
    fi
  done
for f in "${id_files[@]}"; do
  cmp -s "$f" "$tmp/ids/$(basename "$f")" || fail "$f differs from before the test"
done
snapshot >"$tmp/after.list"
diff "$tmp/before.list" "$tmp/after.list" || fail "files differ from before the test (above)"
installed=0
for f in "${id_files[@]}"; do
  name="$(basename "$f")"
  if [[ -e "$tmp/ids/$name-" ]]; then cp -p "$tmp/ids/$name-" "$f-"; fi
done

echo
echo "PASS: the package installs, runs as heliosdb, answers, and leaves nothing behind"
