// The entry point of helios-micro-bench: Google Benchmark's own command line
// (--benchmark_filter, --benchmark_out, ...); the shared demo database is removed at the end.
#include <benchmark/benchmark.h>

#include "bench_env.h"

int main(int argc, char** argv) {
  helios::bench::RegisterEngineBenchmarks();
  helios::bench::RegisterCacheBenchmarks();
  helios::bench::RegisterGuardBenchmarks();
  helios::bench::RegisterJsonBenchmarks();
  helios::bench::RegisterRequestBenchmarks();
  helios::bench::RegisterPipelineBenchmarks();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  helios::bench::BenchEnv::Destroy();
  return 0;
}
