// The `eval` command end to end: the real binary over the tiny fixtures (tests/data/eval/) on a
// small SQLite database written here, and the runner in-process on two databases at once.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "eval/benchmark.h"
#include "eval/runner.h"
#include "support/child_process.h"
#include "support/sqlite_file.h"

namespace helios::eval {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const std::string kDataDir = std::string(HELIOS_SOURCE_DIR) + "/tests/data/eval/";

constexpr const char* kShop = R"(
CREATE TABLE singer (singer_id INTEGER PRIMARY KEY, name TEXT NOT NULL, country TEXT NOT NULL,
                     age INTEGER NOT NULL);
INSERT INTO singer VALUES (1, 'Joe Sharp', 'Netherlands', 52),
  (2, 'Timbaland', 'United States', 32),
  (3, 'Justin Brown', 'France', 29), (4, 'Rose White', 'France', 41),
  (5, 'John Nizinik', 'France', 43);
)";

class EvalCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* name : {"shop", "shop2"}) {
      fs::create_directories(root() / name);
      ASSERT_EQ(testing::ExecSqlite(root() / name / (std::string(name) + ".sqlite"), kShop), "");
    }
  }
  fs::path root() const { return dir_.path() / "db"; }

  testing::RunResult Eval(std::vector<std::string> args) {
    args.insert(args.begin(), {HELIOS_BINARY, "eval"});
    return testing::RunToCompletion(args, dir_.path(), testing::ChildEnvironment());
  }

  testing::TempDir dir_{"helios-eval"};
};

void ExpectFigures(const json& f, int questions, int answered, int correct, int declined) {
  EXPECT_EQ(f["questions"], questions) << f.dump();
  EXPECT_EQ(f["answered"], answered) << f.dump();
  EXPECT_EQ(f["correct"], correct) << f.dump();
  EXPECT_EQ(f["declined"], declined) << f.dump();
  EXPECT_DOUBLE_EQ(f["coverage"].get<double>(), static_cast<double>(answered) / questions);
  EXPECT_DOUBLE_EQ(f["precision"].get<double>(),
                   answered == 0 ? 0.0 : static_cast<double>(correct) / answered);
  EXPECT_DOUBLE_EQ(f["accuracy"].get<double>(), static_cast<double>(correct) / questions);
}

TEST_F(EvalCommandTest, ScoresTheSpiderFixture) {
  const fs::path report = dir_.path() / "report.json";
  auto run = Eval({kDataDir + "tiny_spider.json", "--db-root", root().string(), "--output",
                   report.string(), "--jobs", "2", "--show-wrong", "5"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const json j = json::parse(testing::ReadFile(report));
  EXPECT_EQ(j["format"], "spider");
  EXPECT_EQ(j["items"], 7);
  // Seven questions: four answered right, one wrong (its gold asks for min, not max), one
  // declined, and one whose gold query fails and is not scored.
  EXPECT_EQ(j["gold_errors"], 1);
  ExpectFigures(j["overall"], 6, 5, 4, 1);
  ExpectFigures(j["by_difficulty"]["easy"], 5, 4, 3, 1);
  ExpectFigures(j["by_difficulty"]["medium"], 1, 1, 1, 0);
  ExpectFigures(j["by_database"]["shop"], 6, 5, 4, 1);
  EXPECT_FALSE(j.contains("interactions"));
  // Each answered question carries the signals its confidence came from, by name.
  size_t with_signals = 0;
  for (const auto& q : j["questions"]) {
    if (q["outcome"] != "correct" && q["outcome"] != "wrong") continue;
    ASSERT_TRUE(q.contains("signals")) << q.dump();
    EXPECT_GT(q["signals"].value("tokens", 0.0), 0.0) << q.dump();
    ++with_signals;
  }
  EXPECT_EQ(with_signals, 5u);
  ASSERT_EQ(j["wrong"].size(), 1u);
  EXPECT_EQ(j["wrong"][0]["question"], "What is the maximum age of singers?");
  EXPECT_EQ(j["wrong"][0]["gold"]["rows"][0][0], 29);
  EXPECT_EQ(j["wrong"][0]["predicted"]["rows"][0][0], 52);
  ASSERT_EQ(j["gold_error_list"].size(), 1u);
  EXPECT_EQ(j["gold_error_list"][0]["gold_sql"], "SELECT no_such_column FROM singer");
  // The summary names the figures and lists the wrong answer.
  EXPECT_NE(run.out.find("83.3%"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("SELECT min(age) FROM singer"), std::string::npos) << run.out;
  EXPECT_NE(run.err.find("7/7 questions"), std::string::npos) << run.err;
}

TEST_F(EvalCommandTest, ScoresTheSparcFixtureByQuestionAndByInteraction) {
  const fs::path report = dir_.path() / "report.json";
  auto run = Eval(
      {kDataDir + "tiny_sparc.json", "--db-root", root().string(), "--output", report.string()});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const json j = json::parse(testing::ReadFile(report));
  EXPECT_EQ(j["format"], "sparc");
  EXPECT_EQ(j["items"], 3);
  // Interaction 1: three follow-ups, all right (they only work in one session). 2: one right,
  // then a decline. 3: one right, then a wrong one.
  ExpectFigures(j["overall"], 7, 6, 5, 1);
  ExpectFigures(j["interactions"], 3, 2, 1, 1);
  EXPECT_EQ(j["gold_errors"], 0);
}

TEST_F(EvalCommandTest, LimitAndDatabasesChooseTheItems) {
  const fs::path report = dir_.path() / "report.json";
  auto run = Eval({kDataDir + "tiny_spider.json", "--db-root", root().string(), "--output",
                   report.string(), "--limit", "2", "--databases", "shop,other"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const json j = json::parse(testing::ReadFile(report));
  EXPECT_EQ(j["items"], 2);
  ExpectFigures(j["overall"], 2, 2, 2, 0);
}

// `--calibrate --write-model`: a model fitted on held-out folds, written as the three files the
// engine includes, all of them or none.
TEST_F(EvalCommandTest, CalibrateWritesTheModelFilesOrNone) {
  // 30 databases, so that every fold has some; on each, questions the engine answers right,
  // wrong (their gold asks for something else) and not at all.
  json items = json::array();
  for (int d = 0; d < 30; ++d) {
    const std::string db = "cal" + std::to_string(d);
    fs::create_directories(root() / db);
    ASSERT_EQ(testing::ExecSqlite(root() / db / (db + ".sqlite"), kShop), "");
    items.push_back({{"db_id", db},
                     {"question", "How many singers are there?"},
                     {"query", "SELECT count(*) FROM singer"}});
    items.push_back({{"db_id", db},
                     {"question", "What is the average age of all singers?"},
                     {"query", "SELECT avg(age) FROM singer"}});
    items.push_back({{"db_id", db},
                     {"question", "List the names of singers from France."},
                     {"query", "SELECT name FROM singer WHERE country = 'France'"}});
    items.push_back(
        {{"db_id", db},
         {"question", "What is the maximum age of singers?"},
         {"query", d % 3 == 0 ? "SELECT max(age) FROM singer" : "SELECT min(age) FROM singer"}});
    items.push_back({{"db_id", db},
                     {"question", "Show the names and ages of singers older than 40."},
                     {"query", d % 2 == 0 ? "SELECT name, age FROM singer WHERE age > 40"
                                          : "SELECT name FROM singer WHERE age < 40"}});
    items.push_back({{"db_id", db},
                     {"question", "Which country has the most singers?"},
                     {"query",
                      "SELECT country FROM singer GROUP BY country ORDER BY count(*) "
                      "DESC LIMIT 1"}});
    items.push_back({{"db_id", db},
                     {"question", "Tell me about the purple elephants dancing"},
                     {"query", "SELECT name FROM singer"}});
  }
  const fs::path file = dir_.path() / "cal.json";
  testing::WriteFile(file, items.dump());
  const fs::path model = dir_.path() / "model";
  fs::create_directories(model);
  auto run = Eval({file.string(), "--db-root", root().string(), "--calibrate", "--target-precision",
                   "0.8", "--write-model", model.string()});
  ASSERT_EQ(run.exit_code, 0) << run.err << run.out;
  EXPECT_NE(run.out.find("held out, all folds"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("wrote the model to"), std::string::npos) << run.out;
  EXPECT_NE(testing::ReadFile(model / "confidence_model.inc").find("{\"bias\", "),
            std::string::npos);
  // A tree's nodes: {tree, "feature", threshold, left, right, value}.
  EXPECT_NE(testing::ReadFile(model / "confidence_trees.inc").find("{0, \""), std::string::npos);
  // The threshold: the file's last line, a probability (or 1.01, declining everything).
  std::string threshold_text = testing::ReadFile(model / "confidence_threshold.inc");
  while (!threshold_text.empty() && threshold_text.back() == '\n') threshold_text.pop_back();
  const double threshold = std::stod(threshold_text.substr(threshold_text.rfind('\n') + 1));
  EXPECT_GE(threshold, 0.0);
  EXPECT_LE(threshold, 1.01);
  for (const auto& entry : fs::directory_iterator(model))
    EXPECT_NE(entry.path().extension(), ".tmp") << entry.path();

  // The logistic model instead: its weights in the model file, no trees.
  auto logistic =
      Eval({file.string(), "--db-root", root().string(), "--calibrate", "--confidence-model",
            "logistic", "--target-precision", "0.8", "--write-model", model.string()});
  ASSERT_EQ(logistic.exit_code, 0) << logistic.err << logistic.out;
  EXPECT_EQ(testing::ReadFile(model / "confidence_trees.inc").find("{0, \""), std::string::npos);
  EXPECT_NE(testing::ReadFile(model / "confidence_trees.inc").find("{-1, \""), std::string::npos);

  // A directory that does not exist: a clear error, and nothing written anywhere.
  const fs::path nowhere = dir_.path() / "no" / "such" / "dir";
  auto failed = Eval({file.string(), "--db-root", root().string(), "--calibrate", "--write-model",
                      nowhere.string()});
  EXPECT_NE(failed.exit_code, 0);
  EXPECT_NE(failed.err.find("cannot write"), std::string::npos) << failed.err;
  EXPECT_FALSE(fs::exists(dir_.path() / "no"));
  auto bad_kind = Eval(
      {file.string(), "--db-root", root().string(), "--calibrate", "--confidence-model", "forest"});
  EXPECT_NE(bad_kind.exit_code, 0);
  EXPECT_NE(bad_kind.err.find("forest"), std::string::npos) << bad_kind.err;
}

TEST_F(EvalCommandTest, BadInputFailsWithAClearMessage) {
  auto missing_file = Eval({kDataDir + "no_such.json", "--db-root", root().string()});
  EXPECT_NE(missing_file.exit_code, 0);
  EXPECT_NE(missing_file.err.find("not found"), std::string::npos) << missing_file.err;

  testing::WriteFile(dir_.path() / "bad.json", "[{\"db_id\": ");
  auto malformed = Eval({(dir_.path() / "bad.json").string(), "--db-root", root().string()});
  EXPECT_NE(malformed.exit_code, 0);
  EXPECT_NE(malformed.err.find("not valid JSON"), std::string::npos) << malformed.err;

  testing::WriteFile(dir_.path() / "nodb.json",
                     R"([{"db_id": "nowhere", "question": "q", "query": "SELECT 1"}])");
  auto no_db = Eval({(dir_.path() / "nodb.json").string(), "--db-root", root().string()});
  EXPECT_NE(no_db.exit_code, 0);
  EXPECT_NE(no_db.err.find("database 'nowhere' not found"), std::string::npos) << no_db.err;
}

TEST_F(EvalCommandTest, RunnerKeepsFileOrderAcrossParallelDatabases) {
  auto b = ParseBenchmark(R"([
    {"db_id": "shop", "question": "How many singers are there?",
     "query": "SELECT count(*) FROM singer"},
    {"db_id": "shop2", "question": "How many singers are there?",
     "query": "SELECT count(*) FROM singer"},
    {"db_id": "shop", "question": "Tell me about the purple elephants dancing",
     "query": "SELECT 1"},
    {"db_id": "shop2", "question": "What is the maximum age of singers?",
     "query": "SELECT max(age) FROM singer"}
  ])");
  ASSERT_TRUE(b) << b.error().message;
  RunOptions options;
  options.db_root = root().string();
  options.jobs = 2;
  size_t calls = 0, last_done = 0;
  options.progress = [&](const Progress& p) {
    ++calls;
    EXPECT_GT(p.done, last_done);
    last_done = p.done;
    EXPECT_EQ(p.total, 4u);
  };
  auto report = RunBenchmark(*b, options);
  ASSERT_TRUE(report) << report.error().message;
  EXPECT_EQ(calls, 4u);
  EXPECT_EQ(last_done, 4u);
  ASSERT_EQ(report->results.size(), 4u);
  const std::vector<std::string> dbs = {"shop", "shop2", "shop", "shop2"};
  const std::vector<Outcome> outcomes = {Outcome::kCorrect, Outcome::kCorrect, Outcome::kDeclined,
                                         Outcome::kCorrect};
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(report->results[i].item, i);
    EXPECT_EQ(report->results[i].database, dbs[i]);
    EXPECT_EQ(report->results[i].outcome, outcomes[i]) << i;
  }
  EXPECT_EQ(report->databases, 2u);
}

TEST_F(EvalCommandTest, RunnerNamesEachQuestionByItsPositionInTheFile) {
  // Leaving a database's items out (--databases, --fold) must not renumber the rest: "item" is
  // where the question stands in the file, so a reader can find it there.
  auto b = ParseBenchmark(R"([
    {"db_id": "shop", "question": "How many singers are there?",
     "query": "SELECT count(*) FROM singer"},
    {"db_id": "shop2", "question": "How many singers are there?",
     "query": "SELECT count(*) FROM singer"},
    {"db_id": "shop", "question": "What is the maximum age of singers?",
     "query": "SELECT max(age) FROM singer"},
    {"db_id": "shop2", "question": "What is the maximum age of singers?",
     "query": "SELECT max(age) FROM singer"}
  ])");
  ASSERT_TRUE(b) << b.error().message;
  std::erase_if(b->items, [](const Item& item) { return item.database == "shop"; });
  RunOptions options;
  options.db_root = root().string();
  auto report = RunBenchmark(*b, options);
  ASSERT_TRUE(report) << report.error().message;
  ASSERT_EQ(report->results.size(), 2u);
  EXPECT_EQ(report->results[0].item, 1u);
  EXPECT_EQ(report->results[1].item, 3u);
  EXPECT_EQ(report->results[1].question, "What is the maximum age of singers?");
}

TEST_F(EvalCommandTest, RunnerRefusesAMissingDatabaseBeforeAsking) {
  auto b = ParseBenchmark(R"([{"db_id": "shop", "question": "q", "query": "SELECT 1"},
                              {"db_id": "../shop", "question": "q", "query": "SELECT 1"}])");
  ASSERT_TRUE(b);
  RunOptions options;
  options.db_root = root().string();
  auto report = RunBenchmark(*b, options);
  ASSERT_FALSE(report);
  EXPECT_EQ(report.error().code, ErrorCode::kNotFound);
}

}  // namespace
}  // namespace helios::eval
