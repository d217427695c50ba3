#include "eval/runner.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <exception>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include "common/clock.h"
#include "conversation/session_store.h"
#include "db/open.h"
#include "eval/compare.h"
#include "nl2sql/engine/engine.h"
#include "nl2sql/engine/schema_index.h"
#include "nl2sql/pipeline.h"

namespace helios::eval {
namespace {

constexpr size_t kRowsKept = 3;  // rows of each result kept for a wrong answer

std::vector<db::Row> FirstRows(const std::vector<db::Row>& rows) {
  return {rows.begin(),
          rows.begin() + static_cast<std::ptrdiff_t>(std::min(rows.size(), kRowsKept))};
}

// One database's engine and pipeline, built as the composition root builds them.
struct Loaded {
  std::unique_ptr<db::DataSource> source;
  std::unique_ptr<conversation::MemorySessionStore> sessions;
  std::unique_ptr<nl2sql::Pipeline> pipeline;
};

Result<Loaded> Load(const std::string& path, const RunOptions& options, const Clock& clock) {
  Loaded out;
  db::OpenOptions open;
  open.pool_size = 2;
  auto source = db::OpenDataSource(path, open);
  if (!source) return std::unexpected(source.error());
  out.source = std::move(*source);
  auto catalog = out.source->Introspect();
  if (!catalog) return std::unexpected(catalog.error());
  auto index = nl2sql::engine::SchemaIndex::Build(*catalog, *out.source, options.max_distinct);
  if (!index) return std::unexpected(index.error());
  auto engine = std::make_shared<const nl2sql::engine::Engine>(
      std::shared_ptr<const nl2sql::engine::SchemaIndex>(std::move(*index)), clock);
  out.sessions =
      std::make_unique<conversation::MemorySessionStore>(clock, conversation::MemoryStoreOptions{});
  nl2sql::PipelineOptions po;
  po.mode = nl2sql::Mode::kEngine;
  po.max_rows = options.max_rows;
  po.statement_timeout = options.statement_timeout;
  if (options.confidence_threshold) po.confidence_threshold = *options.confidence_threshold;
  out.pipeline =
      std::make_unique<nl2sql::Pipeline>(*out.source, std::move(engine), *out.sessions, clock, po);
  return out;
}

// Asks one item's turns in one session.
void AskItem(Loaded& loaded, const Item& item, const RunOptions& options,
             std::vector<QuestionResult>& out) {
  std::string session;
  const db::ExecuteOptions exec{options.max_rows, options.statement_timeout};
  for (size_t t = 0; t < item.turns.size(); ++t) {
    const Turn& turn = item.turns[t];
    QuestionResult r;
    r.database = item.database;
    r.item = item.index;
    r.turn = t;
    r.question = turn.question;
    r.gold_sql = turn.gold_sql;
    r.difficulty = ClassifySpider(turn.gold_sql);
    nl2sql::AskRequest request;
    request.question = turn.question;
    request.session_id = session;
    Result<nl2sql::Answer> answer = Fail(ErrorCode::kInternal, "not asked");
    try {
      answer = loaded.pipeline->Ask(request);
    } catch (const std::exception& e) {
      answer = Fail(ErrorCode::kInternal, fmt::format("the engine failed: {}", e.what()));
    }
    if (answer) session = answer->session_id;
    auto gold = loaded.source->Execute(turn.gold_sql, {}, exec);
    if (!gold) {
      r.outcome = Outcome::kGoldError;
      r.detail = fmt::format("{}: {}", ErrorCodeName(gold.error().code), gold.error().message);
    } else if (!answer) {
      r.outcome =
          answer.error().code == ErrorCode::kNotUnderstood ? Outcome::kDeclined : Outcome::kError;
      // Why: the error, or what the engine said when it declined.
      r.detail =
          r.outcome == Outcome::kError
              ? fmt::format("{}: {}", ErrorCodeName(answer.error().code), answer.error().message)
              : answer.error().message;
    } else if (answer->source != "engine") {
      r.outcome = Outcome::kError;
      r.detail = fmt::format("answered by '{}', not the engine", answer->source);
    } else {
      r.predicted_sql = answer->sql;
      r.confidence = answer->confidence;
      r.features = answer->confidence_features;
      const std::string diff = CompareResults(
          {gold->columns, gold->rows}, {answer->columns, answer->rows}, HasOrderBy(turn.gold_sql));
      r.outcome = diff.empty() ? Outcome::kCorrect : Outcome::kWrong;
      r.same_columns = diff.empty() && answer->columns.size() == gold->columns.size();
      if (!diff.empty()) {
        r.detail = diff;
        r.gold_columns = gold->columns;
        r.gold_rows = FirstRows(gold->rows);
        r.predicted_columns = answer->columns;
        r.predicted_rows = FirstRows(answer->rows);
      }
    }
    out.push_back(std::move(r));
  }
}

}  // namespace

std::string DatabasePath(const std::string& db_root, const std::string& database) {
  return (std::filesystem::path(db_root) / database / (database + ".sqlite")).string();
}

Result<Report> RunBenchmark(const Benchmark& benchmark, const RunOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  // The items of each database, in file order; databases in order of first appearance.
  std::vector<std::string> order;
  std::map<std::string, std::vector<size_t>> by_database;
  size_t total = 0;
  for (size_t i = 0; i < benchmark.items.size(); ++i) {
    const Item& item = benchmark.items[i];
    auto [it, inserted] = by_database.try_emplace(item.database);
    if (inserted) order.push_back(item.database);
    it->second.push_back(i);
    total += item.turns.size();
  }
  for (const auto& name : order) {
    std::error_code ec;
    if (name.empty() || name.find('/') != std::string::npos || name == "." || name == ".." ||
        !std::filesystem::is_regular_file(DatabasePath(options.db_root, name), ec))
      return Fail(ErrorCode::kNotFound,
                  fmt::format("database '{}' not found: expected {}/{}.sqlite under --db-root",
                              name, name, name));
  }

  SystemClock clock;
  std::vector<std::vector<QuestionResult>> per_item(benchmark.items.size());
  std::atomic<size_t> next{0};
  std::mutex progress_mu;
  Progress progress;
  progress.total = total;
  progress.databases = order.size();
  auto report_progress = [&](const std::vector<QuestionResult>& done, bool database_done) {
    std::lock_guard lock(progress_mu);
    for (const auto& r : done) {
      ++progress.done;
      progress.answered += r.outcome == Outcome::kCorrect || r.outcome == Outcome::kWrong;
      progress.correct += r.outcome == Outcome::kCorrect;
    }
    if (database_done) ++progress.databases_done;
    if (options.progress) options.progress(progress);
  };

  auto worker = [&] {
    for (size_t d = next++; d < order.size(); d = next++) {
      const std::string& name = order[d];
      const auto& items = by_database[name];
      Result<Loaded> loaded = Fail(ErrorCode::kInternal, "not loaded");
      try {
        loaded = Load(DatabasePath(options.db_root, name), options, clock);
      } catch (const std::exception& e) {
        loaded = Fail(ErrorCode::kInternal, fmt::format("loading failed: {}", e.what()));
      }
      for (size_t k = 0; k < items.size(); ++k) {
        const size_t i = items[k];
        const Item& item = benchmark.items[i];
        if (!loaded) {
          for (size_t t = 0; t < item.turns.size(); ++t) {
            QuestionResult r;
            r.database = name;
            r.item = item.index;
            r.turn = t;
            r.question = item.turns[t].question;
            r.gold_sql = item.turns[t].gold_sql;
            r.difficulty = ClassifySpider(r.gold_sql);
            r.outcome = Outcome::kError;
            r.detail = fmt::format("the database could not be loaded: {}", loaded.error().message);
            per_item[i].push_back(std::move(r));
          }
        } else {
          AskItem(*loaded, item, options, per_item[i]);
        }
        report_progress(per_item[i], k + 1 == items.size());
      }
    }
  };
  const size_t jobs = std::clamp<size_t>(options.jobs, 1, std::max<size_t>(order.size(), 1));
  std::vector<std::thread> threads;
  for (size_t j = 1; j < jobs; ++j) threads.emplace_back(worker);
  worker();
  for (auto& t : threads) t.join();

  std::vector<QuestionResult> results;
  results.reserve(total);
  for (auto& v : per_item)
    for (auto& r : v) results.push_back(std::move(r));
  Report report = Summarize(benchmark.format, std::move(results));
  report.items = benchmark.items.size();
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return report;
}

}  // namespace helios::eval
