#!/usr/bin/env bash
# Builds the tests of the code that threads share (the connection pools, the Redis client, the
# semantic cache's stores, the session stores, the rate limiters, the circuit breaker) with
# ThreadSanitizer into build/tsan and runs them. Only those test directories and the libraries
# they link are compiled, without the real binary (HELIOS_TEST_DIRS, HELIOS_TEST_WITH_BINARY in
# tests/CMakeLists.txt), so the build stays short. Prints a one-line summary; exits non-zero on
# a build failure, a failing test or any report of ThreadSanitizer (a report ends its test).
#
# Environment:
#   TEST_TIMEOUT   seconds a test may take (default 600, as scripts/test.sh)
#   TSAN_OPTIONS   further ThreadSanitizer options, appended to this script's own
set -euo pipefail

# GCC 12's ThreadSanitizer runtime stops with "unexpected memory mapping" on kernels that
# randomise mmap addresses with more than 28 bits (vm.mmap_rnd_bits; 32 on some distributions).
# Newer runtimes then run the process again without address randomisation; this script runs
# itself so (the build too: its test discovery runs the instrumented binaries).
if [[ -z "${HELIOS_TSAN_NO_ASLR:-}" ]] && setarch "$(uname -m)" -R true 2>/dev/null; then
  export HELIOS_TSAN_NO_ASLR=1
  exec setarch "$(uname -m)" -R bash "${BASH_SOURCE[0]}" "$@"
fi

# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# The test directories of tests/ built here. Their tests that read the demo database (which only
# the real binary writes) are left out; see DEMO_DB in tests/CMakeLists.txt.
DIRS=(db redis cache conversation ratelimit resilience)

timeout_secs="${TEST_TIMEOUT:-600}"
[[ "$timeout_secs" =~ ^[0-9]+$ ]] || die "TEST_TIMEOUT must be a number of seconds"
dir="$(build_dir tsan)"
log="$dir/ctest.log"

# Stop at the first report, with the stacks of both sides of a lock-order inversion. They also
# apply while building: test discovery runs the test binaries.
export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1${TSAN_OPTIONS:+:$TSAN_OPTIONS}"

started="$(now)"
step "Configuring and building ($dir)"
dirs_list="$(
  IFS=';'
  echo "${DIRS[*]}"
)"
targets=()
for d in "${DIRS[@]}"; do
  targets+=("helios_${d}_test")
done
if ! (configure_build tsan "-DHELIOS_TEST_DIRS=$dirs_list" -DHELIOS_TEST_WITH_BINARY=OFF &&
  build tsan "${targets[@]}"); then
  echo "tsan: BUILD FAILED after $(duration $(($(now) - started))); tests not run"
  exit 1
fi
built="$(now)"

# Left out: single-threaded tests that took half of the run under ThreadSanitizer (up to a
# minute each) for nothing it could find: those of the demo database writer (40,000 orders),
# and the timing of lookups in a cache of 10,000 entries.
skip='^(DemoData[A-Za-z]*Test\..*|CacheLookupTiming\..*)$'

step "Running the tests ($dir)"
status=0
echo "+ ctest --test-dir $dir --output-on-failure --parallel $HELIOS_JOBS --timeout $timeout_secs --exclude-regex '$skip'"
ctest --test-dir "$dir" --output-on-failure --parallel "$HELIOS_JOBS" \
  --timeout "$timeout_secs" --exclude-regex "$skip" 2>&1 | tee "$log" || status=$?
finished="$(now)"

# ctest's own summary, e.g. "100% tests passed, 0 tests failed out of 412".
result="$(grep -E '^[0-9]+% tests passed' "$log" | tail -n 1 || true)"
[[ -n "$result" ]] || result="no test results (ctest exit status $status)"
reports="$(grep -c 'WARNING: ThreadSanitizer' "$log" || true)"
times="build $(duration $((built - started))), tests $(duration $((finished - built)))"
step "Summary"
if ((status != 0 || reports != 0)); then
  echo "tsan: FAILED: $result; ThreadSanitizer reports: $reports ($times)"
  exit 1
fi
echo "tsan: ok: $result; ThreadSanitizer reports: 0 ($times)"
