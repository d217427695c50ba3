// Shared state of the micro-benchmarks: the demo database (db/demo_data.h, seed 42) written
// once into a temporary directory, the SQLite data source over it, its schema catalog and
// schema index, and the built-in engine, whose today is fixed (2025-12-15, inside the demo's
// orders) so that relative dates read the same on every run. Built on first use, so a run
// filtered to benchmarks that need no database never writes one; removed by Destroy().
// Also: the representative questions the engine benchmarks use, and a stream that discards
// what is written to it (for the logger).
// Thread-safety: Get() and Destroy() are for the benchmark's main thread only; the objects they
// hand out are as thread-safe as their own headers say.
#pragma once

#include <benchmark/benchmark.h>

#include <filesystem>
#include <memory>
#include <optional>
#include <ostream>
#include <span>
#include <streambuf>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "db/data_source.h"
#include "db/schema.h"
#include "nl2sql/engine/engine.h"
#include "nl2sql/engine/schema_index.h"
#include "sql/ir.h"

namespace helios::bench {

// The index is built as the server builds it: text columns with at most this many distinct
// values are indexed for value linking.
inline constexpr size_t kMaxDistinctValues = 1000;

class BenchEnv {
 public:
  // The environment, or null after calling state.SkipWithError with the reason it could not
  // be built (then the benchmark must not enter its loop).
  static BenchEnv* Get(benchmark::State& state);
  static void Destroy();

  const std::filesystem::path& database_path() const { return database_path_; }
  db::DataSource& source() { return *source_; }
  const std::shared_ptr<const db::SchemaCatalog>& catalog() const { return catalog_; }
  const std::shared_ptr<const nl2sql::engine::SchemaIndex>& index() const { return index_; }
  const std::shared_ptr<const nl2sql::engine::Engine>& engine() const { return engine_; }
  FakeClock& clock() { return clock_; }

 private:
  BenchEnv();
  ~BenchEnv();
  BenchEnv(const BenchEnv&) = delete;
  BenchEnv& operator=(const BenchEnv&) = delete;

  static BenchEnv* instance_;
  std::string error_;
  std::filesystem::path dir_;
  std::filesystem::path database_path_;
  FakeClock clock_;
  std::unique_ptr<db::DataSource> source_;
  std::shared_ptr<const db::SchemaCatalog> catalog_;
  std::shared_ptr<const nl2sql::engine::SchemaIndex> index_;
  std::shared_ptr<const nl2sql::engine::Engine> engine_;
};

// A representative question, by the shape of query it asks for.
struct BenchQuestion {
  std::string_view name;      // short, for benchmark names: "count_filter"
  std::string_view question;  // as a user types it
  // Asked after `previous` in the same conversation (a follow-up edit); empty: opens one.
  std::string_view previous;
};

// count_filter, top_n, group_join, date_range, group_region, follow_up: the questions of the
// engine, pipeline and cache benchmarks, in that order.
std::span<const BenchQuestion> Questions();
// The question of that name; aborts on an unknown name (a mistake in the benchmark's code).
const BenchQuestion& QuestionNamed(std::string_view name);

// A question with what the engine made of it, read once outside the timed loops.
struct PreparedQuestion {
  const BenchQuestion* q = nullptr;
  // The conversation's previous query (q->previous understood), for a follow-up.
  std::optional<sql::Query> previous_query;
  nl2sql::engine::Understanding understood;

  const sql::Query* previous() const { return previous_query ? &*previous_query : nullptr; }
};

// The engine's reading of `q` (its edit of the previous query for a follow-up), or nullopt
// after state.SkipWithError saying why: not understood, or a follow-up not read as one.
std::optional<PreparedQuestion> PrepareOrSkip(benchmark::State& state, BenchEnv& env,
                                              const BenchQuestion& q);

// Registration of each file's benchmarks, called by main in this order (so that the output
// follows a question's path through the server).
void RegisterEngineBenchmarks();
void RegisterCacheBenchmarks();
void RegisterGuardBenchmarks();
void RegisterJsonBenchmarks();
void RegisterRequestBenchmarks();
void RegisterPipelineBenchmarks();

// An std::ostream that drops everything written to it.
class NullStream : public std::ostream {
 public:
  NullStream() : std::ostream(&buffer_) {}

 private:
  class Buffer : public std::streambuf {
   protected:
    int_type overflow(int_type c) override { return traits_type::not_eof(c); }
    std::streamsize xsputn(const char*, std::streamsize n) override { return n; }
  };
  Buffer buffer_;
};

}  // namespace helios::bench
