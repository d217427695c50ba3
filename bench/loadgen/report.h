// How helios-loadgen shows what it measured: a summary for people and JSON with the same
// figures (plus every exact status) for scripts. Pure functions of a Report.
// Thread-safety: free functions without state.
#pragma once

#include <chrono>
#include <string>

#include "load_generator.h"

namespace helios::loadgen {

// Several lines, each ending in a newline.
std::string FormatSummary(const Report& report);

// One JSON object; durations in seconds, latencies in milliseconds. Its keys are listed in
// bench/loadgen/README.md.
std::string FormatJson(const Report& report);

// "812 µs", "3.21 ms", "1.50 s".
std::string FormatLatency(std::chrono::nanoseconds value);

}  // namespace helios::loadgen
