// The tests' name for the benchmark comparison, which lives in src/eval/compare.h so that the
// binary's `eval` command scores answers exactly as the tests do.
// Thread-safety: free functions without shared state.
#pragma once

#include <string>

#include "eval/compare.h"

namespace helios::testing {

using eval::ResultTable;

inline std::string CompareResults(const ResultTable& gold, const ResultTable& got, bool ordered) {
  return eval::CompareResults(gold, got, ordered);
}

inline bool HasOrderBy(const std::string& sql) { return eval::HasOrderBy(sql); }

}  // namespace helios::testing
