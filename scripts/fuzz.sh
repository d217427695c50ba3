#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/, clang 16 with ASan and UBSan) into build/fuzz, replays
# every saved crash in fuzz/regressions/<target>/, then runs each target for a bounded time
# starting from its seed corpus in fuzz/corpus/<target>/. Exits non-zero on the first build
# failure, regression or new crash; a crashing input is left in build/fuzz/artifacts/<target>/
# (minimise it with `<binary> -minimize_crash=1 -runs=10000 <file>`, then save it under
# fuzz/regressions/<target>/).
#
# Environment:
#   FUZZ_SECONDS    seconds each target runs (default 30); set it higher for a longer run,
#                   e.g. FUZZ_SECONDS=3600 scripts/fuzz.sh
#   FUZZ_TARGETS    space-separated targets to run (default: all, see TARGETS below)
#   FUZZ_BUILD_DIR  the build directory (default build/fuzz)
#   FUZZ_JOBS       build jobs (default: the number of CPUs)
# Inputs the fuzzers find are kept in <build dir>/corpus/<target>/, so a later run resumes
# from them; the seed corpora in the repository are never written to.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

TARGETS=(query_request config sql_guard_postgres sql_guard_mysql sql_guard_sqlite engine
  question_shape jwt)

seconds="${FUZZ_SECONDS:-30}"
if [[ ! "$seconds" =~ ^[0-9]+$ ]] || ((seconds == 0)); then
  die "FUZZ_SECONDS must be a positive number of seconds"
fi
dir="${FUZZ_BUILD_DIR:-$(build_dir fuzz)}"
jobs="${FUZZ_JOBS:-$HELIOS_JOBS}"
read -r -a targets <<<"${FUZZ_TARGETS:-${TARGETS[*]}}"

command -v clang++-16 >/dev/null || die "clang++-16 not found (apt-get install clang-16 libclang-rt-16-dev)"

step "Configuring and building ($dir)"
mkdir -p "$CCACHE_DIR"
# -O1 with debug information: the usual trade-off for fuzzing between speed and readable stacks.
run env CC=clang-16 CXX=clang++-16 cmake -S "$HELIOS_ROOT" -B "$dir" -G Ninja \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g" \
  "-DCMAKE_C_FLAGS_RELWITHDEBINFO=-O1 -g" -DHELIOS_FUZZ=ON -DHELIOS_BUILD_TESTS=OFF \
  -DHELIOS_BUILD_WEB=OFF
run cmake --build "$dir" --parallel "$jobs" --target "${targets[@]/#/fuzz_}"

export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:symbolize=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"

summary=()
failed=0
for target in "${targets[@]}"; do
  binary="$dir/fuzz/fuzz_$target"
  seeds="$HELIOS_ROOT/fuzz/corpus/$target"
  regressions="$HELIOS_ROOT/fuzz/regressions/$target"
  work="$dir/corpus/$target"
  artifacts="$dir/artifacts/$target"
  log="$dir/logs/$target.log"
  [[ -x "$binary" ]] || die "no fuzz target $target"
  [[ -d "$seeds" ]] || die "no seed corpus $seeds"
  mkdir -p "$work" "$artifacts" "$(dirname "$log")"

  if [[ -d "$regressions" ]] && compgen -G "$regressions/*" >/dev/null; then
    step "Regressions: $target"
    if ! run "$binary" -runs=1 "$regressions"/*; then
      summary+=("$target: a saved regression crashes again")
      failed=1
      continue
    fi
  fi

  step "Fuzzing $target for ${seconds}s (log: $log)"
  # The first directory receives new inputs; the seeds are only read.
  if run "$binary" "$work" "$seeds" -max_total_time="$seconds" -timeout=30 -rss_limit_mb=4096 \
    -max_len=4096 -print_final_stats=1 -artifact_prefix="$artifacts/" >"$log" 2>&1; then
    stats="$(grep -E '^#[0-9]+.*(DONE|pulse)' "$log" | tail -1 || true)"
    summary+=("$target: ok  $stats")
  else
    tail -n 60 "$log"
    summary+=("$target: CRASH (input in $artifacts/, log $log)")
    failed=1
  fi
done

step "Summary"
printf '%s\n' "${summary[@]}"
exit "$failed"
