// The engine, unchanged, on databases it was never written for: the Spider 1.0 training
// databases in shared/datasets/spider-train beside the repository. Every database must load
// (introspection and the schema index), and a fixed sample of questions is asked and scored by
// executing both the engine's query and the gold query and comparing their rows.
//
// The scores are reported (RecordProperty and printed lines), not frozen: the assertions are
// the properties that must always hold (every database loads, every query the engine renders
// runs, no error other than a decline) plus a floor on precision, because an engine that
// answers must be right more often than not.
//
// The dataset is not part of the repository; when it is absent the tests are skipped.
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <exception>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/error.h"
#include "db/open.h"
#include "nl2sql/engine/engine.h"
#include "nl2sql/engine/schema_index.h"
#include "sql/render.h"
#include "support/result_compare.h"

namespace helios {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr size_t kSampleStride = 7;           // every 7th database, by sorted db_id
constexpr size_t kQuestionsPerDatabase = 15;  // the first questions of each, in file order
constexpr size_t kMaxDistinct = 1000;         // as the server builds its index
const db::ExecuteOptions kExecuteOptions{100000, std::chrono::seconds(20)};

fs::path SpiderRoot() {
  return (fs::path(HELIOS_SOURCE_DIR) / ".." / "shared" / "datasets" / "spider-train")
      .lexically_normal();
}

fs::path DatabaseFile(const std::string& db_id) {
  return SpiderRoot() / "database" / db_id / (db_id + ".sqlite");
}

bool DatasetPresent() {
  std::error_code ec;
  return fs::is_regular_file(SpiderRoot() / "train_spider.json", ec) &&
         fs::is_regular_file(SpiderRoot() / "tables.json", ec) &&
         fs::is_directory(SpiderRoot() / "database", ec);
}

json LoadJson(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return json::parse(ss.str());
}

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

std::string Describe(const Error& e) {
  return fmt::format("{}: {}", ErrorCodeName(e.code), e.message);
}

// Every db_id that has its SQLite file, sorted bytewise so the sample is the same everywhere.
std::vector<std::string> AllDatabaseIds() {
  std::vector<std::string> ids;
  for (const auto& entry : fs::directory_iterator(SpiderRoot() / "database")) {
    if (!entry.is_directory()) continue;
    std::string id = entry.path().filename().string();
    if (fs::is_regular_file(DatabaseFile(id))) ids.push_back(std::move(id));
  }
  std::sort(ids.begin(), ids.end());
  return ids;
}

std::vector<std::string> SampledDatabaseIds() {
  std::vector<std::string> all = AllDatabaseIds();
  std::vector<std::string> sample;
  for (size_t i = 0; i < all.size(); i += kSampleStride) sample.push_back(all[i]);
  return sample;
}

// One database opened read-only, with its catalog and an engine over it. `failure` says which
// step failed and why; the other members are then partly empty.
struct LoadedDatabase {
  std::string db_id;
  std::unique_ptr<db::DataSource> source;
  std::shared_ptr<const db::SchemaCatalog> catalog;
  std::unique_ptr<nl2sql::engine::Engine> engine;
  std::string failure;
  double seconds = 0;
};

LoadedDatabase Load(const std::string& db_id, const Clock& clock) {
  LoadedDatabase out;
  out.db_id = db_id;
  const auto start = std::chrono::steady_clock::now();
  try {
    db::OpenOptions options;
    options.pool_size = 1;
    auto source = db::OpenDataSource(DatabaseFile(db_id).string(), options);
    if (!source) {
      out.failure = "open: " + Describe(source.error());
      return out;
    }
    out.source = std::move(*source);
    auto catalog = out.source->Introspect();
    if (!catalog) {
      out.failure = "introspect: " + Describe(catalog.error());
      return out;
    }
    out.catalog = *catalog;
    auto index = nl2sql::engine::SchemaIndex::Build(out.catalog, *out.source, kMaxDistinct);
    if (!index) {
      out.failure = "index: " + Describe(index.error());
      return out;
    }
    out.engine = std::make_unique<nl2sql::engine::Engine>(
        std::shared_ptr<const nl2sql::engine::SchemaIndex>(std::move(*index)), clock);
  } catch (const std::exception& e) {
    out.failure = fmt::format("exception: {}", e.what());
  }
  out.seconds = SecondsSince(start);
  return out;
}

// What Spider's tables.json declares that the introspected catalog lacks (SQLite's own
// sqlite_* tables aside, which introspection leaves out on purpose). Empty when complete.
std::vector<std::string> MissingFromCatalog(const json& schema, const db::SchemaCatalog& catalog) {
  std::vector<std::string> missing;
  const auto& tables = schema["table_names_original"];
  for (const auto& t : tables) {
    const std::string name = t.get<std::string>();
    if (name.starts_with("sqlite_")) continue;
    if (!catalog.FindTable(name)) missing.push_back("table " + name);
  }
  for (const auto& c : schema["column_names_original"]) {
    const int table_index = c[0].get<int>();
    if (table_index < 0) continue;  // Spider's "*" entry
    const std::string table = tables[static_cast<size_t>(table_index)].get<std::string>();
    const std::string column = c[1].get<std::string>();
    const db::TableInfo* info = catalog.FindTable(table);
    if (info && !info->FindColumn(column)) missing.push_back("column " + table + "." + column);
  }
  return missing;
}

// Foreign keys whose ends the catalog does not hold: a join along one could never run.
std::vector<std::string> DanglingForeignKeys(const db::SchemaCatalog& catalog) {
  std::vector<std::string> dangling;
  for (const auto& table : catalog.tables) {
    for (const auto& fk : table.foreign_keys) {
      const db::TableInfo* target = catalog.FindTable(fk.ref_table);
      if (!table.FindColumn(fk.column) || !target || !target->FindColumn(fk.ref_column))
        dangling.push_back(
            fmt::format("{}.{} -> {}.{}", table.name, fk.column, fk.ref_table, fk.ref_column));
    }
  }
  return dangling;
}

class SpiderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!DatasetPresent())
      GTEST_SKIP() << "the Spider training set is not present at "
                   << "<source>/../shared/datasets/spider-train; nothing to measure";
  }
  FakeClock clock_;
};

TEST_F(SpiderTest, EveryDatabaseLoadsAndItsCatalogIsComplete) {
  const std::vector<std::string> ids = AllDatabaseIds();
  ASSERT_FALSE(ids.empty()) << "no <db_id>/<db_id>.sqlite under database/";
  std::map<std::string, json> schemas;
  for (const auto& s : LoadJson(SpiderRoot() / "tables.json"))
    schemas[s["db_id"].get<std::string>()] = s;

  const auto start = std::chrono::steady_clock::now();
  std::vector<std::string> failures;
  std::vector<std::string> incomplete;
  std::vector<std::string> dangling;
  size_t tables = 0, columns = 0;
  std::string slowest;
  double slowest_seconds = 0;
  for (const std::string& id : ids) {
    LoadedDatabase loaded = Load(id, clock_);
    if (!loaded.failure.empty()) {
      failures.push_back(fmt::format("{}: {}", id, loaded.failure));
      continue;
    }
    if (loaded.seconds > slowest_seconds) {
      slowest_seconds = loaded.seconds;
      slowest = id;
    }
    tables += loaded.catalog->tables.size();
    for (const auto& t : loaded.catalog->tables) columns += t.columns.size();
    if (auto it = schemas.find(id); it != schemas.end()) {
      for (const std::string& m : MissingFromCatalog(it->second, *loaded.catalog))
        incomplete.push_back(fmt::format("{}: {}", id, m));
    }
    for (const std::string& d : DanglingForeignKeys(*loaded.catalog))
      dangling.push_back(fmt::format("{}: {}", id, d));
  }
  const double seconds = SecondsSince(start);

  fmt::print(
      "[spider] loaded {} of {} databases ({} tables, {} columns) in {:.2f} s; slowest "
      "{} ({:.2f} s)\n",
      ids.size() - failures.size(), ids.size(), tables, columns, seconds, slowest, slowest_seconds);
  for (const auto& f : failures) fmt::print("[spider] load failure: {}\n", f);
  for (const auto& m : incomplete) fmt::print("[spider] missing from the catalog: {}\n", m);
  for (const auto& d : dangling) fmt::print("[spider] dangling foreign key: {}\n", d);
  RecordProperty("databases", static_cast<int>(ids.size()));
  RecordProperty("load_failures", static_cast<int>(failures.size()));
  RecordProperty("load_seconds", fmt::format("{:.2f}", seconds));

  EXPECT_TRUE(failures.empty()) << fmt::format("{}", fmt::join(failures, "\n"));
  EXPECT_TRUE(incomplete.empty()) << fmt::format("{}", fmt::join(incomplete, "\n"));
  EXPECT_TRUE(dangling.empty()) << fmt::format("{}", fmt::join(dangling, "\n"));
}

struct Question {
  std::string text;
  std::string gold_sql;
};

// The first kQuestionsPerDatabase questions of each db_id, in the file's order.
std::map<std::string, std::vector<Question>> LoadQuestions() {
  std::map<std::string, std::vector<Question>> by_db;
  for (const auto& q : LoadJson(SpiderRoot() / "train_spider.json")) {
    auto& list = by_db[q["db_id"].get<std::string>()];
    if (list.size() < kQuestionsPerDatabase)
      list.push_back({q["question"].get<std::string>(), q["query"].get<std::string>()});
  }
  return by_db;
}

struct Tally {
  int questions = 0;      // scored: the gold query ran
  int gold_failures = 0;  // the gold query itself failed; not scored
  int declined = 0;       // kNotUnderstood
  int answered = 0;
  int correct = 0;
  std::vector<std::string> wrong;               // answered, ran, other rows than gold
  std::vector<std::string> execution_failures;  // a rendered query the database refused
  std::vector<std::string> understand_errors;   // an error other than kNotUnderstood
  // Answered and correct by the engine's confidence: [0.9, 1], [0.5, 0.9), [0, 0.5).
  int answered_by_band[3] = {0, 0, 0};
  int correct_by_band[3] = {0, 0, 0};
};

constexpr const char* kBandNames[3] = {">= 0.9", "0.5 to 0.9", "< 0.5"};

int ConfidenceBand(double confidence) {
  if (confidence >= 0.9) return 0;
  return confidence >= 0.5 ? 1 : 2;
}

std::string Ratio(int part, int whole) {
  return whole == 0 ? "n/a" : fmt::format("{:.3f}", static_cast<double>(part) / whole);
}

void AskQuestion(const LoadedDatabase& loaded, const Question& q, Tally& tally) {
  auto gold = loaded.source->Execute(q.gold_sql, {}, kExecuteOptions);
  if (!gold) {
    ++tally.gold_failures;
    fmt::print("[spider] gold query failed ({}): {} -- {}\n", loaded.db_id, q.gold_sql,
               Describe(gold.error()));
    return;
  }
  ++tally.questions;
  const std::string where = fmt::format("[{}] {}\n    gold: {}", loaded.db_id, q.text, q.gold_sql);
  Result<nl2sql::engine::Understanding> understood = Fail(ErrorCode::kInternal, "not asked");
  try {
    understood = loaded.engine->Understand(q.text, nullptr);
  } catch (const std::exception& e) {
    tally.understand_errors.push_back(fmt::format("{}\n    threw: {}", where, e.what()));
    return;
  }
  if (!understood) {
    if (understood.error().code == ErrorCode::kNotUnderstood) {
      ++tally.declined;
    } else {
      tally.understand_errors.push_back(
          fmt::format("{}\n    error: {}", where, Describe(understood.error())));
    }
    return;
  }
  ++tally.answered;
  const int band = ConfidenceBand(understood->confidence);
  ++tally.answered_by_band[band];
  const sql::RenderedSql bound = sql::Render(understood->query, {db::Dialect::kSqlite, false});
  const std::string shown = sql::Render(understood->query, {db::Dialect::kSqlite, true}).text;
  auto got = loaded.source->Execute(bound.text, bound.params, kExecuteOptions);
  if (!got) {
    tally.execution_failures.push_back(
        fmt::format("{}\n    predicted: {}\n    error: {}", where, shown, Describe(got.error())));
    return;
  }
  const std::string diff = testing::CompareResults(
      {gold->columns, gold->rows}, {got->columns, got->rows}, testing::HasOrderBy(q.gold_sql));
  if (diff.empty()) {
    ++tally.correct;
    ++tally.correct_by_band[band];
  } else {
    tally.wrong.push_back(fmt::format("{}\n    predicted: {}\n    confidence: {:.2f}\n    diff: {}",
                                      where, shown, understood->confidence, diff));
  }
}

TEST_F(SpiderTest, AnswersASampleOfQuestionsOnDatabasesItWasNotWrittenFor) {
  const std::vector<std::string> sample = SampledDatabaseIds();
  ASSERT_FALSE(sample.empty());
  const auto questions = LoadQuestions();
  const auto start = std::chrono::steady_clock::now();

  Tally tally;
  std::vector<std::string> load_failures;
  for (const std::string& id : sample) {
    const LoadedDatabase loaded = Load(id, clock_);
    if (!loaded.failure.empty()) {
      load_failures.push_back(fmt::format("{}: {}", id, loaded.failure));
      continue;
    }
    auto it = questions.find(id);
    if (it == questions.end()) continue;  // a database without training questions
    const Tally before = tally;
    for (const Question& q : it->second) AskQuestion(loaded, q, tally);
    fmt::print("[spider] {}: {} tables, {} questions, {} answered, {} correct\n", id,
               loaded.catalog->tables.size(), tally.questions - before.questions,
               tally.answered - before.answered, tally.correct - before.correct);
  }
  const double seconds = SecondsSince(start);

  for (const auto& w : tally.wrong) fmt::print("[spider] WRONG {}\n", w);
  for (const auto& f : tally.execution_failures) fmt::print("[spider] EXECUTION FAILED {}\n", f);
  for (const auto& e : tally.understand_errors) fmt::print("[spider] UNDERSTAND ERROR {}\n", e);
  fmt::print(
      "[spider] {} databases, {} questions ({} gold failures not scored): {} answered, {} "
      "declined, {} correct; coverage {}, precision {}, accuracy {}; {} wrong, {} execution "
      "failures, {} other errors; {:.2f} s\n",
      sample.size(), tally.questions, tally.gold_failures, tally.answered, tally.declined,
      tally.correct, Ratio(tally.answered, tally.questions), Ratio(tally.correct, tally.answered),
      Ratio(tally.correct, tally.questions), tally.wrong.size(), tally.execution_failures.size(),
      tally.understand_errors.size(), seconds);
  for (int b = 0; b < 3; ++b)
    fmt::print("[spider] confidence {}: {} answered, {} correct, precision {}\n", kBandNames[b],
               tally.answered_by_band[b], tally.correct_by_band[b],
               Ratio(tally.correct_by_band[b], tally.answered_by_band[b]));
  RecordProperty("databases", static_cast<int>(sample.size()));
  RecordProperty("questions", tally.questions);
  RecordProperty("answered", tally.answered);
  RecordProperty("correct", tally.correct);
  RecordProperty("coverage", Ratio(tally.answered, tally.questions));
  RecordProperty("precision", Ratio(tally.correct, tally.answered));
  RecordProperty("accuracy", Ratio(tally.correct, tally.questions));
  RecordProperty("execution_failures", static_cast<int>(tally.execution_failures.size()));
  RecordProperty("seconds", fmt::format("{:.2f}", seconds));

  EXPECT_TRUE(load_failures.empty()) << fmt::format("{}", fmt::join(load_failures, "\n"));
  ASSERT_GT(tally.questions, 0) << "no question of the sample could be scored";
  // A query the engine rendered that the database refuses is always a bug.
  EXPECT_TRUE(tally.execution_failures.empty())
      << fmt::format("{}", fmt::join(tally.execution_failures, "\n"));
  // Declining is the engine's way of not knowing; any other error is a bug.
  EXPECT_TRUE(tally.understand_errors.empty())
      << fmt::format("{}", fmt::join(tally.understand_errors, "\n"));
  EXPECT_GT(tally.answered, 0) << "the engine answered none of the sampled questions";
  if (tally.answered > 0) {
    EXPECT_GE(static_cast<double>(tally.correct) / tally.answered, 0.5)
        << fmt::format("precision {} ({} correct of {} answered)",
                       Ratio(tally.correct, tally.answered), tally.correct, tally.answered);
  }
}

}  // namespace
}  // namespace helios
