// The golden test set: questions over the demo database with the result each must produce
// (tests/golden/data, described in tests/golden/README.md). Each single question and each
// conversation is one test; a conversation's turns are asked in one session.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>

#include "common/clock.h"
#include "conversation/session_store.h"
#include "db/demo_data.h"
#include "db/open.h"
#include "nl2sql/engine/engine.h"
#include "nl2sql/pipeline.h"
#include "support/result_compare.h"
#include "support/test_databases.h"

namespace helios {
namespace {

using nlohmann::json;

json LoadJson(const std::string& name) {
  std::ifstream in(std::string(HELIOS_SOURCE_DIR) + "/tests/golden/data/" + name);
  std::stringstream ss;
  ss << in.rdbuf();
  return json::parse(ss.str());
}

std::chrono::system_clock::time_point ParseDay(const std::string& iso) {
  std::chrono::year_month_day d{
      std::chrono::year{std::stoi(iso.substr(0, 4))},
      std::chrono::month{static_cast<unsigned>(std::stoi(iso.substr(5, 2)))},
      std::chrono::day{static_cast<unsigned>(std::stoi(iso.substr(8, 2)))}};
  return std::chrono::sys_days{d} + std::chrono::hours(12);
}

// The demo data on one database (SQLite, or the PostgreSQL / MariaDB server of the test run)
// and an engine built from that database's own schema and values.
class Backend {
 public:
  explicit Backend(const std::string& url, FakeClock& clock) {
    auto source = db::OpenDataSource(url);
    if (!source) throw std::runtime_error(source.error().message);
    source_ = std::move(*source);
    auto catalog = source_->Introspect();
    if (!catalog) throw std::runtime_error(catalog.error().message);
    auto index = nl2sql::engine::SchemaIndex::Build(*catalog, *source_, 1000);
    if (!index) throw std::runtime_error(index.error().message);
    engine_ = std::make_shared<const nl2sql::engine::Engine>(
        std::shared_ptr<const nl2sql::engine::SchemaIndex>(std::move(*index)), clock);
  }
  db::DataSource& source() { return *source_; }
  std::shared_ptr<const nl2sql::engine::Engine> engine() { return engine_; }

 private:
  std::unique_ptr<db::DataSource> source_;
  std::shared_ptr<const nl2sql::engine::Engine> engine_;
};

// The gold SQL (SQLite) runs on the SQLite demo; every database's answers are compared with
// those results, so the same question must give the same result on all three.
class GoldenEnvironment {
 public:
  static GoldenEnvironment& Get() {
    static GoldenEnvironment env;
    return env;
  }
  db::DataSource& reference() { return sqlite().source(); }
  FakeClock& clock() { return *clock_; }

  Backend& sqlite() {
    if (!sqlite_)
      sqlite_ = std::make_unique<Backend>(std::string("sqlite://") + HELIOS_DEMO_DB, *clock_);
    return *sqlite_;
  }
  Backend& Of(const std::string& name) {
    if (name == "sqlite") return sqlite();
    auto& slot = servers_[name];
    if (!slot) {
      auto server = testing::SharedServer(name == "postgres" ? testing::ServerKind::kPostgres
                                                             : testing::ServerKind::kMariadb);
      if (!server) throw std::runtime_error(server.error().message);
      slot = std::make_unique<Backend>(server->reader_url, *clock_);
    }
    return *slot;
  }

 private:
  GoldenEnvironment()
      : clock_(std::make_unique<FakeClock>(ParseDay(LoadJson("questions.json")["now"]))) {}
  std::unique_ptr<FakeClock> clock_;
  std::unique_ptr<Backend> sqlite_;
  std::map<std::string, std::unique_ptr<Backend>> servers_;
};

struct Turn {
  std::string question;
  std::string sql;
};
struct GoldenCase {
  std::string id;
  std::vector<Turn> turns;
  std::string backend = {};  // "sqlite", "postgres" or "mariadb"
};

std::vector<GoldenCase> LoadCasesOnce() {
  std::vector<GoldenCase> out;
  json questions = LoadJson("questions.json");
  for (const auto& c : questions["cases"]) out.push_back({c["id"], {{c["question"], c["sql"]}}});
  json conversations = LoadJson("conversations.json");  // named: a temporary would dangle
  for (const auto& c : conversations["conversations"]) {
    GoldenCase g{c["id"], {}};
    for (const auto& t : c["turns"]) g.turns.push_back({t["question"], t["sql"]});
    out.push_back(std::move(g));
  }
  return out;
}

// Every case on every database.
std::vector<GoldenCase> LoadCases() {
  std::vector<GoldenCase> out;
  for (const char* backend : {"sqlite", "postgres", "mariadb"}) {
    for (GoldenCase c : LoadCasesOnce()) {
      c.backend = backend;
      out.push_back(std::move(c));
    }
  }
  return out;
}

// Names the case in failure messages instead of dumping its bytes.
void PrintTo(const GoldenCase& c, std::ostream* os) { *os << c.backend << ":" << c.id; }

class GoldenTest : public ::testing::TestWithParam<GoldenCase> {};

TEST_P(GoldenTest, AnswersMatchGoldResults) {
  auto& env = GoldenEnvironment::Get();
  SystemClock store_clock;
  conversation::MemorySessionStore store(store_clock, {});
  Backend& backend = env.Of(GetParam().backend);
  nl2sql::Pipeline pipeline(backend.source(), backend.engine(), store, env.clock(),
                            nl2sql::PipelineOptions{});
  std::string session;
  for (size_t i = 0; i < GetParam().turns.size(); ++i) {
    const Turn& turn = GetParam().turns[i];
    SCOPED_TRACE(fmt::format("turn {}: {}", i + 1, turn.question));
    auto gold = env.reference().Execute(turn.sql, {}, {100000, std::chrono::seconds(30)});
    ASSERT_TRUE(gold.has_value()) << "gold SQL failed: " << gold.error().message;
    nl2sql::AskRequest request;
    request.question = turn.question;
    request.session_id = session;
    auto answer = pipeline.Ask(request);
    ASSERT_TRUE(answer.has_value()) << answer.error().message;
    session = answer->session_id;
    EXPECT_EQ(answer->turn, static_cast<int>(i + 1));
    std::string diff =
        testing::CompareResults({gold->columns, gold->rows}, {answer->columns, answer->rows},
                                testing::HasOrderBy(turn.sql));
    ASSERT_EQ(diff, "") << "SQL: " << answer->sql;
  }
}

INSTANTIATE_TEST_SUITE_P(Golden, GoldenTest, ::testing::ValuesIn(LoadCases()),
                         [](const ::testing::TestParamInfo<GoldenCase>& info) {
                           std::string name = info.param.backend + "_" + info.param.id;
                           for (char& c : name)
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           return name;
                         });

}  // namespace
}  // namespace helios
