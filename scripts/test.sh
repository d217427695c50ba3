#!/usr/bin/env bash
# Installs the dependencies, then builds and runs every test twice: the release build
# (build/release), then a build with AddressSanitizer and UndefinedBehaviorSanitizer
# (build/asan). After each suite, scripts/scan_secrets.py looks for the secrets the tests
# handed to the product in everything the suite captured (HELIOS_TEST_CAPTURE_DIR: the output
# of every process the tests ran, in-process servers' logs and responses, ctest's log of every
# test). Then the soak run (scripts/soak.sh: the release server under a steady mixed load),
# the concurrency tests built with ThreadSanitizer (scripts/tsan.sh, build/tsan), and the
# libFuzzer targets (scripts/fuzz.sh, build/fuzz), which replay their saved crashes and each run
# for FUZZ_SECONDS. Exits non-zero if any build or test fails, after running everything it can.
#
# Environment:
#   TEST_TIMEOUT   seconds a test may take before it fails, for tests that set no limit of
#                  their own (default 600; GoogleTest cases have a 600 s limit in the build)
#   FUZZ_SECONDS   seconds each fuzz target runs (default 20 here; scripts/fuzz.sh alone runs
#                  30, and longer by setting it)
#   SOAK_SECONDS   seconds the soak run measures after its warm-up (default 120 here;
#                  scripts/soak.sh alone runs 180, and longer by setting it)
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

timeout_secs="${TEST_TIMEOUT:-600}"
[[ "$timeout_secs" =~ ^[0-9]+$ ]] || die "TEST_TIMEOUT must be a number of seconds"

started="$(now)"
step "Dependencies"
bash "$HELIOS_ROOT/scripts/setup.sh" --test

summary=()
failed=0

# suite KIND: configures, builds and runs the ctest suite of build/KIND; records one summary
# line and sets failed=1 on any failure.
suite() {
  local kind="$1"
  local dir log t0 t1 t2 result
  dir="$(build_dir "$kind")"
  log="$dir/ctest.log"
  t0="$(now)"
  step "Configuring and building ($kind)"
  # The release build also builds the micro-benchmarks, which the suite runs briefly.
  local options=()
  [[ "$kind" == release ]] && options+=(-DHELIOS_BUILD_BENCH=ON)
  if ! (configure_build "$kind" "${options[@]}" && build "$kind"); then
    summary+=("$kind: BUILD FAILED after $(duration $(($(now) - t0))); tests not run")
    failed=1
    return
  fi
  t1="$(now)"
  step "Running the tests ($kind)"
  local status=0
  # What the tests capture for the secrets scan: a fresh directory each run.
  local capture="$dir/capture"
  rm -rf "$capture"
  mkdir -p "$capture"
  echo "+ ctest --test-dir $dir --output-on-failure --parallel $HELIOS_JOBS --timeout $timeout_secs"
  HELIOS_TEST_CAPTURE_DIR="$capture" ctest --test-dir "$dir" --output-on-failure \
    --parallel "$HELIOS_JOBS" --timeout "$timeout_secs" 2>&1 | tee "$log" || status=$?
  t2="$(now)"
  # ctest's own summary, e.g. "98% tests passed, 2 tests failed out of 120".
  result="$(grep -E '^[0-9]+% tests passed' "$log" | tail -n 1 || true)"
  [[ -n "$result" ]] || result="no test results (ctest exit status $status)"
  if ((status != 0)); then
    failed=1
    summary+=("$kind: FAILED: $result (build $(duration $((t1 - t0))), tests $(duration $((t2 - t1))))")
  else
    summary+=("$kind: ok: $result (build $(duration $((t1 - t0))), tests $(duration $((t2 - t1))))")
  fi
  step "Scanning what the tests captured for their secrets ($kind)"
  if python3 "$HELIOS_ROOT/scripts/scan_secrets.py" "$capture" \
    "$dir/Testing/Temporary/LastTest.log"; then
    summary+=("$kind secrets scan: ok: no secret in the logs, responses or output of the tests")
  else
    summary+=("$kind secrets scan: FAILED (see above)")
    failed=1
  fi
}

suite release

t0="$(now)"
step "Soak run (release build)"
if SOAK_SECONDS="${SOAK_SECONDS:-120}" bash "$HELIOS_ROOT/scripts/soak.sh" "$(build_dir release)"; then
  summary+=("soak: ok: ${SOAK_SECONDS:-120}s of mixed load after the warm-up ($(duration $(($(now) - t0))))")
else
  summary+=("soak: FAILED (see above) ($(duration $(($(now) - t0))))")
  failed=1
fi

# Only the sanitizer build reads these; they also apply while it builds, because test
# discovery runs the test binaries.
sanitizer_env
suite asan

t0="$(now)"
if bash "$HELIOS_ROOT/scripts/tsan.sh"; then
  summary+=("tsan: ok: the concurrency tests under ThreadSanitizer ($(duration $(($(now) - t0))))")
else
  summary+=("tsan: FAILED (see above) ($(duration $(($(now) - t0))))")
  failed=1
fi

t0="$(now)"
if FUZZ_SECONDS="${FUZZ_SECONDS:-20}" bash "$HELIOS_ROOT/scripts/fuzz.sh"; then
  summary+=("fuzz: ok: 8 targets, saved crashes replayed, ${FUZZ_SECONDS:-20}s each ($(duration $(($(now) - t0))))")
else
  summary+=("fuzz: FAILED (build, a saved crash, or a new one; see above) ($(duration $(($(now) - t0))))")
  failed=1
fi

step "Summary"
printf '  %s\n' "${summary[@]}"
total="$(duration $(($(now) - started)))"
if ((failed != 0)); then
  echo "TESTS FAILED (total $total)"
  exit 1
fi
echo "ALL TESTS PASSED (total $total)"
