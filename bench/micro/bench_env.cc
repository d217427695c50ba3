#include "bench_env.h"

#include <fmt/format.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <system_error>

#include "db/demo_data.h"
#include "db/open.h"

namespace helios::bench {

namespace {

// 2025-12-15 12:00 UTC: the demo's orders run to 2025-12-31, so "last year" and "this month"
// find rows.
std::chrono::system_clock::time_point BenchNow() {
  return std::chrono::sys_days{std::chrono::year{2025} / 12 / 15} + std::chrono::hours(12);
}

constexpr BenchQuestion kQuestions[] = {
    {"count_filter", "How many customers are in Germany?", ""},
    {"top_n", "What are the 5 most expensive products?", ""},
    {"group_join", "total revenue by country", ""},
    {"date_range", "revenue per month in 2024", ""},
    {"group_region", "number of employees per region", ""},
    {"follow_up", "only in 2024", "total revenue by country"},
};

}  // namespace

BenchEnv* BenchEnv::instance_ = nullptr;

BenchEnv* BenchEnv::Get(benchmark::State& state) {
  if (instance_ == nullptr) instance_ = new BenchEnv();
  if (!instance_->error_.empty()) {
    state.SkipWithError(instance_->error_.c_str());
    return nullptr;
  }
  return instance_;
}

void BenchEnv::Destroy() {
  delete instance_;
  instance_ = nullptr;
}

BenchEnv::BenchEnv() : clock_(BenchNow()) {
  std::error_code ec;
  dir_ = std::filesystem::temp_directory_path(ec) /
         fmt::format("helios-micro-bench-{}", static_cast<long>(::getpid()));
  std::filesystem::create_directories(dir_, ec);
  if (ec) {
    error_ = fmt::format("cannot create {}: {}", dir_.string(), ec.message());
    return;
  }
  database_path_ = dir_ / "demo.db";
  std::fprintf(stderr, "Writing the demo database to %s ...\n", database_path_.c_str());
  if (auto written = db::WriteDemoDatabase(database_path_.string(), 42, /*overwrite=*/true);
      !written) {
    error_ = "demo database: " + written.error().message;
    return;
  }
  auto source = db::OpenDataSource("sqlite://" + database_path_.string());
  if (!source) {
    error_ = "open the demo database: " + source.error().message;
    return;
  }
  source_ = std::move(*source);
  auto catalog = source_->Introspect();
  if (!catalog) {
    error_ = "introspect the demo database: " + catalog.error().message;
    return;
  }
  catalog_ = *catalog;
  auto index = nl2sql::engine::SchemaIndex::Build(catalog_, *source_, kMaxDistinctValues);
  if (!index) {
    error_ = "schema index: " + index.error().message;
    return;
  }
  index_ = std::shared_ptr<const nl2sql::engine::SchemaIndex>(std::move(*index));
  engine_ = std::make_shared<const nl2sql::engine::Engine>(index_, clock_);
}

BenchEnv::~BenchEnv() {
  engine_.reset();
  index_.reset();
  source_.reset();
  if (!dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
}

std::span<const BenchQuestion> Questions() { return kQuestions; }

const BenchQuestion& QuestionNamed(std::string_view name) {
  for (const BenchQuestion& q : kQuestions) {
    if (q.name == name) return q;
  }
  std::fprintf(stderr, "no benchmark question named %.*s\n", static_cast<int>(name.size()),
               name.data());
  std::abort();
}

std::optional<PreparedQuestion> PrepareOrSkip(benchmark::State& state, BenchEnv& env,
                                              const BenchQuestion& q) {
  const nl2sql::engine::Engine& engine = *env.engine();
  PreparedQuestion prepared;
  prepared.q = &q;
  if (!q.previous.empty()) {
    auto first = engine.Understand(q.previous, nullptr);
    if (!first) {
      state.SkipWithError(
          fmt::format("\"{}\" not understood: {}", q.previous, first.error().message).c_str());
      return std::nullopt;
    }
    prepared.previous_query = std::move(first->query);
  }
  auto understood = engine.Understand(q.question, prepared.previous());
  if (!understood) {
    state.SkipWithError(
        fmt::format("\"{}\" not understood: {}", q.question, understood.error().message).c_str());
    return std::nullopt;
  }
  if (prepared.previous_query && !understood->follow_up) {
    state.SkipWithError(fmt::format("\"{}\" was not read as a follow-up", q.question).c_str());
    return std::nullopt;
  }
  prepared.understood = std::move(*understood);
  return prepared;
}

}  // namespace helios::bench
