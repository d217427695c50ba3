// The golden test set: questions over the demo database with the result each must produce
// (tests/golden/data, described in tests/golden/README.md). Each single question and each
// conversation is one test; a conversation's turns are asked in one session.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
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

// One demo database and one engine for the whole suite.
class GoldenEnvironment {
 public:
  static GoldenEnvironment& Get() {
    static GoldenEnvironment env;  // destroyed at exit, removing its temporary directory
    return env;
  }
  db::DataSource& source() { return *source_; }
  std::unique_ptr<nl2sql::Pipeline> NewPipeline(conversation::SessionStore& store) {
    return std::make_unique<nl2sql::Pipeline>(*source_, engine_, store, *clock_,
                                              nl2sql::PipelineOptions{});
  }
  FakeClock& clock() { return *clock_; }

 private:
  GoldenEnvironment() {
    auto source = db::OpenDataSource(std::string("sqlite://") + HELIOS_DEMO_DB);
    if (!source) throw std::runtime_error(source.error().message);
    source_ = std::move(*source);
    clock_ = std::make_unique<FakeClock>(ParseDay(LoadJson("questions.json")["now"]));
    auto catalog = source_->Introspect();
    auto index = nl2sql::engine::SchemaIndex::Build(*catalog, *source_, 1000);
    engine_ = std::make_shared<const nl2sql::engine::Engine>(
        std::shared_ptr<const nl2sql::engine::SchemaIndex>(std::move(*index)), *clock_);
  }
  std::unique_ptr<db::DataSource> source_;
  std::unique_ptr<FakeClock> clock_;
  std::shared_ptr<const nl2sql::engine::Engine> engine_;
};

struct Turn {
  std::string question;
  std::string sql;
};
struct GoldenCase {
  std::string id;
  std::vector<Turn> turns;
};

std::vector<GoldenCase> LoadCases() {
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

// Names the case in failure messages instead of dumping its bytes.
void PrintTo(const GoldenCase& c, std::ostream* os) { *os << c.id; }

class GoldenTest : public ::testing::TestWithParam<GoldenCase> {};

TEST_P(GoldenTest, AnswersMatchGoldResults) {
  auto& env = GoldenEnvironment::Get();
  SystemClock store_clock;
  conversation::MemorySessionStore store(store_clock, {});
  auto pipeline = env.NewPipeline(store);
  std::string session;
  for (size_t i = 0; i < GetParam().turns.size(); ++i) {
    const Turn& turn = GetParam().turns[i];
    SCOPED_TRACE(fmt::format("turn {}: {}", i + 1, turn.question));
    auto gold = env.source().Execute(turn.sql, {}, {100000, std::chrono::seconds(30)});
    ASSERT_TRUE(gold.has_value()) << "gold SQL failed: " << gold.error().message;
    nl2sql::AskRequest request;
    request.question = turn.question;
    request.session_id = session;
    auto answer = pipeline->Ask(request);
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
                           std::string name = info.param.id;
                           for (char& c : name)
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           return name;
                         });

}  // namespace
}  // namespace helios
