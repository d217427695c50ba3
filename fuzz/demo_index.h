// The demo database (db/demo_data.h) and the built-in engine's schema index over it, built once
// per fuzzing process in LLVMFuzzerInitialize: writing the demo's 150,000 rows takes seconds,
// far too long for one input. The database lives in a temporary directory removed at exit.
#pragma once

#include <memory>

#include "common/clock.h"
#include "db/data_source.h"
#include "nl2sql/engine/schema_index.h"

namespace helios::fuzz {

struct DemoIndex {
  std::unique_ptr<db::DataSource> source;
  std::shared_ptr<const nl2sql::engine::SchemaIndex> index;
  // Today is a fixed day, so that relative dates ("last year") read the same on every run.
  FakeClock clock;
};

// Builds the demo database and its index on the first call; aborts when that fails, since no
// input could be run without them.
DemoIndex& Demo();

}  // namespace helios::fuzz
