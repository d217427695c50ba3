# shellcheck shell=bash
# Helpers shared by the scripts in this folder. Sourced, never run on its own.
#
# After sourcing, the current directory is the repository root and these are set:
#   HELIOS_ROOT   the repository root (found from this file's location)
#   HELIOS_JOBS   parallel jobs for the build and the tests (the number of CPUs)
# ccache keeps its cache inside build/ so that nothing is left outside the clone.

HELIOS_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$HELIOS_ROOT" || exit 1

HELIOS_JOBS="$(nproc 2>/dev/null || getconf _NPROCESSORS_ONLN 2>/dev/null || echo 2)"
if [[ ! "$HELIOS_JOBS" =~ ^[0-9]+$ ]] || ((HELIOS_JOBS < 1)); then
  HELIOS_JOBS=2
fi

export CCACHE_DIR="$HELIOS_ROOT/build/ccache"
export CCACHE_MAXSIZE="${CCACHE_MAXSIZE:-2G}"
# Paths under the clone are hashed relative to it, so a second clone reuses the cache.
export CCACHE_BASEDIR="$HELIOS_ROOT"

# Prints a step heading.
step() {
  printf '\n==> %s\n' "$*"
}

# Prints a command (quoted so that it can be pasted into a shell), then runs it.
run() {
  printf '+'
  printf ' %q' "$@"
  printf '\n'
  "$@"
}

die() {
  printf 'error: %s\n' "$*" >&2
  exit 1
}

# Seconds since the epoch, for timing the steps.
now() {
  date +%s
}

# "1m 05s" for a number of seconds.
duration() {
  printf '%dm %02ds' $(($1 / 60)) $(($1 % 60))
}

# The build directory of a build kind: build/release, build/asan or build/tsan.
build_dir() {
  printf '%s/build/%s' "$HELIOS_ROOT" "$1"
}

# configure_build KIND [CMAKE_ARG...]: runs CMake for build/KIND (release, asan or tsan) with any
# further arguments. Re-running is cheap and picks up new source files and changed options.
configure_build() {
  local kind="$1"
  shift
  local extra=("$@")
  local dir
  dir="$(build_dir "$kind")"
  local args=(-S "$HELIOS_ROOT" -B "$dir" -G Ninja -DHELIOS_BUILD_TESTS=ON)
  case "$kind" in
    release)
      # -O2 rather than CMake's -O3: quicker to compile, and GCC 12 at -O3 reports bogus
      # -Wrestrict errors inside std::string.
      args+=(-DCMAKE_BUILD_TYPE=Release "-DCMAKE_CXX_FLAGS_RELEASE=-O2 -DNDEBUG"
        "-DCMAKE_C_FLAGS_RELEASE=-O2 -DNDEBUG" -DHELIOS_SANITIZE=OFF)
      ;;
    asan)
      # Debug (-O0 -g): with the sanitizers, -O1 more than doubles the compile time while the
      # suite runs only about a fifth faster, so -O0 gives the shortest build plus run.
      args+=(-DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG=-g -DCMAKE_C_FLAGS_DEBUG=-g
        -DHELIOS_SANITIZE=ON)
      ;;
    tsan)
      # Debug (-O0 -g) as for asan: for the concurrency tests of scripts/tsan.sh, -O1 took about
      # 40% more compile time and the tests, which mostly wait for Redis, ran no faster. Without
      # the web chat, which no test of this build uses.
      args+=(-DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG=-g -DCMAKE_C_FLAGS_DEBUG=-g
        -DHELIOS_SANITIZE=OFF -DHELIOS_TSAN=ON -DHELIOS_BUILD_WEB=OFF)
      ;;
    *)
      die "unknown build kind '$kind' (release, asan or tsan)"
      ;;
  esac
  mkdir -p "$CCACHE_DIR"
  run cmake "${args[@]}" "${extra[@]}"
}

# build KIND [TARGET...]: builds the given targets (everything when none) in build/KIND.
build() {
  local kind="$1"
  shift
  local args=(--build "$(build_dir "$kind")" --parallel "$HELIOS_JOBS")
  (($# == 0)) || args+=(--target "$@")
  run cmake "${args[@]}"
}

# The sanitizers' run-time options: report leaks, stop at the first error of either kind.
sanitizer_env() {
  export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1"
  export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
}
