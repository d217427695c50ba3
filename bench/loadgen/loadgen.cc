// helios-loadgen: an open-loop HTTP load generator for the benchmarks (bench/loadgen/README.md).
// The command line is parsed by options.h, the load is run by load_generator.h and shown by
// report.h; this file only connects them and chooses the exit status.
#include <fmt/format.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "load_generator.h"
#include "options.h"
#include "report.h"

namespace {

constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;

}  // namespace

int main(int argc, char** argv) {
  using helios::ErrorCode;
  namespace loadgen = helios::loadgen;

  std::vector<std::string> args(argv + 1, argv + argc);
  auto parsed = loadgen::ParseArguments(args);
  if (!parsed) {
    fmt::print(stderr, "helios-loadgen: {}\n", parsed.error().message);
    return kExitUsage;
  }
  if (parsed->help) {
    fmt::print("{}", loadgen::HelpText());
    return 0;
  }
  const loadgen::Options& options = parsed->options;
  // Opened before the run, so that a bad path costs no run.
  std::ofstream json;
  if (!options.json_path.empty()) {
    json.open(options.json_path, std::ios::binary | std::ios::trunc);
    if (!json) {
      fmt::print(stderr, "helios-loadgen: --json: cannot write '{}'\n", options.json_path);
      return kExitUsage;
    }
  }

  auto report = loadgen::RunLoad(options);
  if (!report) {
    fmt::print(stderr, "helios-loadgen: {}\n", report.error().message);
    return report.error().code == ErrorCode::kUnavailable ? kExitUsage : kExitFailure;
  }
  fmt::print("{}", loadgen::FormatSummary(*report));
  if (json.is_open()) {
    json << loadgen::FormatJson(*report);
    json.close();
    if (!json) {
      fmt::print(stderr, "helios-loadgen: cannot write '{}'\n", options.json_path);
      return kExitFailure;
    }
  }
  return 0;
}
