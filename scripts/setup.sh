#!/usr/bin/env bash
# Installs the Debian 12 packages the build needs.
#
#   scripts/setup.sh           what building and running the server needs
#   scripts/setup.sh --test    the same plus the tools the test and benchmark scripts use
#
# Does nothing (and needs no root) when every package is already installed. Otherwise runs
# apt-get as root, through sudo when not root.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# Compiler, build tools and the libraries the code links against. cpp-httplib's pkg-config
# file requires openssl, zlib and brotli, so their -dev packages are listed explicitly.
# Node.js bundles the web chat (npm installs its packages: web/package-lock.json).
# dpkg-dev (dpkg-shlibdeps) and file are what `cpack -G DEB` finds the package's dependencies
# and its debug symbols with.
build_packages=(
  build-essential cmake ninja-build ccache pkg-config git
  libcpp-httplib-dev libssl-dev zlib1g-dev libbrotli-dev
  nlohmann-json3-dev libtomlplusplus-dev libfmt-dev libspdlog-dev libcli11-dev
  libsqlite3-dev sqlite3
  libgtest-dev libgmock-dev
  libstemmer-dev wordnet-dev wordnet-base
  libargon2-dev libjwt-dev libpg-query-dev libcurl4-openssl-dev
  libpq-dev libmariadb-dev libhiredis-dev
  nodejs
  dpkg-dev file
)
# Google Benchmark is what the micro-benchmarks (bench/micro) are written with; the test
# script's release build builds them and runs each briefly.
# prometheus also brings promtool, which checks deploy/alerts.yml. The PostgreSQL and MariaDB
# servers (and their clients) are what the data-source tests run against (scripts/dbserver.sh);
# Redis and nginx are what the several-instances test runs (tests/cluster).
# Chromium (with a font to draw text) is the browser the web chat's tests drive (tests/web).
# tests/deploy checks the systemd unit with systemd-analyze (package systemd) and installs the
# Debian package, whose maintainer scripts need adduser.
test_packages=(curl jq wrk libbenchmark-dev prometheus python3 postgresql postgresql-client
  mariadb-server mariadb-client redis-server redis-tools nginx-light openssl chromium fonts-dejavu-core systemd
  adduser
  # scripts/soak.sh counts the server's connections with ss.
  iproute2
  # scripts/fuzz.sh: clang 16, libFuzzer and the sanitizer runtimes.
  clang-16 libclang-rt-16-dev)

packages=("${build_packages[@]}")
for arg in "$@"; do
  case "$arg" in
    --test) packages+=("${test_packages[@]}") ;;
    -h | --help)
      sed -n '2,8p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
      exit 0
      ;;
    *) die "unknown argument '$arg' (try --help)" ;;
  esac
done

step "Checking ${#packages[@]} Debian packages"
missing=()
for p in "${packages[@]}"; do
  status="$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)"
  [[ "$status" == "installed" ]] || missing+=("$p")
done
# Debian's nodejs comes without npm, which is its own package; a Node.js that ships npm itself
# needs none (and Debian's npm would conflict with it).
if ! command -v npm >/dev/null 2>&1; then
  missing+=(npm)
  packages+=(npm)
fi
if ((${#missing[@]} == 0)); then
  echo "All installed."
  exit 0
fi
echo "Missing: ${missing[*]}"

as_root=()
if ((EUID != 0)); then
  command -v sudo >/dev/null 2>&1 ||
    die "not root and sudo is not available: install as root: apt-get install ${missing[*]}"
  as_root=(sudo)
fi

apt_options=(-y -q -o Dpkg::Use-Pty=0 --no-install-recommends)
step "Installing the missing packages"
run "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
run "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install "${apt_options[@]}" \
  "${packages[@]}"
