// FUZZ_CHECK: an invariant of a fuzz target. Unlike assert it stays on in every build type
// (the fuzz build is optimised and may define NDEBUG) and names the failed condition before
// aborting, so that libFuzzer records the input as a crash.
#pragma once

#include <cstdio>
#include <cstdlib>

#define FUZZ_CHECK(condition)                                                                \
  do {                                                                                       \
    if (!(condition)) {                                                                      \
      std::fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #condition); \
      std::abort();                                                                          \
    }                                                                                        \
  } while (false)
