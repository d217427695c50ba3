#!/usr/bin/env bash
# Builds and runs the micro-benchmarks (bench/micro/, Google Benchmark): an optimised build
# with -DHELIOS_BUILD_BENCH=ON in build/bench-micro (Release at -O2 like scripts/test.sh's
# release build, Ninja, ccache), then helios-micro-bench, printing its table.
#
#   scripts/bench-micro.sh                                   # every benchmark
#   scripts/bench-micro.sh --benchmark_filter='Engine/'      # a subset (a regular expression)
#   scripts/bench-micro.sh --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#   scripts/bench-micro.sh --benchmark_out=micro.json --benchmark_out_format=json
#
# Every argument goes to helios-micro-bench (--help lists Google Benchmark's options). Figures
# depend on the machine and on what else runs on it: the script prints the machine first.
# bench/micro/README.md says what each benchmark measures.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

dir="$HELIOS_ROOT/build/bench-micro"
if ! dpkg-query -W -f='${db:Status-Status}' libbenchmark-dev 2>/dev/null | grep -qx installed; then
  die "Google Benchmark is not installed: apt-get install libbenchmark-dev"
fi
command -v ccache >/dev/null 2>&1 || die "ccache is not installed: scripts/setup.sh"

step "Configuring $dir"
mkdir -p "$CCACHE_DIR"
run cmake -S "$HELIOS_ROOT" -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  "-DCMAKE_CXX_FLAGS_RELEASE=-O2 -DNDEBUG" "-DCMAKE_C_FLAGS_RELEASE=-O2 -DNDEBUG" \
  -DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache \
  -DHELIOS_BUILD_BENCH=ON -DHELIOS_BUILD_TESTS=OFF -DHELIOS_BUILD_WEB=OFF -DHELIOS_SANITIZE=OFF \
  >/dev/null

step "Building helios-micro-bench"
run cmake --build "$dir" --parallel "$HELIOS_JOBS" --target helios-micro-bench

step "Machine"
model="$(grep -m1 '^model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ *//' || true)"
echo "$(nproc) CPUs${model:+ ($model)}, $(free -g 2>/dev/null | awk '/^Mem:/ {print $2 " GiB"}')," \
  "$(uname -srm), load average $(cut -d' ' -f1-3 /proc/loadavg)"

step "Running"
run "$dir/bench/helios-micro-bench" "$@"
