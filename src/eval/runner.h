// Runs the built-in engine over a benchmark, the way the product answers: each database gets
// its own data source, schema index, engine and Pipeline (engine mode, in-memory sessions), and
// every turn of an item is asked in the same session, so follow-ups take the product's path.
// Each gold query runs with a statement time limit; the engine's answer is scored against it
// with CompareResults (compare.h).
//
// Work is shared by database: `jobs` workers take databases from one queue and ask all of a
// database's questions in file order.
// Thread-safety: RunBenchmark may be called from any thread; it calls `progress` from its
// workers, one call at a time.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/error.h"
#include "eval/benchmark.h"
#include "eval/report.h"

namespace helios::eval {

struct Progress {
  size_t done = 0;  // questions finished
  size_t total = 0;
  size_t correct = 0;
  size_t answered = 0;
  size_t databases_done = 0;
  size_t databases = 0;
};

struct RunOptions {
  std::string db_root;  // holds <db_id>/<db_id>.sqlite
  size_t jobs = 1;      // worker threads (at least 1)
  // Each question's time limit for the gold query and for the answer's query.
  std::chrono::milliseconds statement_timeout{10000};
  size_t max_rows = 100000;    // rows read from each result before comparing
  size_t max_distinct = 1000;  // distinct values indexed per column, as the server does
  // The pipeline's confidence threshold; unset: the product's default. 0 makes the engine
  // answer everything it can read, for calibration (each answer's confidence is recorded).
  std::optional<double> confidence_threshold;
  std::function<void(const Progress&)> progress;  // may be empty
};

// The SQLite file of a benchmark database.
std::string DatabasePath(const std::string& db_root, const std::string& database);

// Asks every item and scores it. kNotFound (naming it) when a database of the benchmark has no
// file under db_root; nothing is asked then. A database that exists but cannot be loaded makes
// its questions errors, not the run's.
Result<Report> RunBenchmark(const Benchmark& benchmark, const RunOptions& options);

}  // namespace helios::eval
