// Every example question in README.md works on the demo database, as a new user would paste
// it: the single questions one by one, and each conversation block in one session.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/clock.h"
#include "conversation/session_store.h"
#include "db/demo_data.h"
#include "db/open.h"
#include "nl2sql/engine/engine.h"
#include "nl2sql/pipeline.h"

namespace helios {
namespace {

// The backticked questions of each `- ` item between <!-- NAME:begin --> and <!-- NAME:end -->,
// one list per block.
std::vector<std::vector<std::string>> ReadBlocks(const std::string& name) {
  std::ifstream in(std::string(HELIOS_SOURCE_DIR) + "/README.md");
  std::vector<std::vector<std::string>> blocks;
  std::string line;
  bool inside = false;
  while (std::getline(in, line)) {
    if (line == "<!-- " + name + ":begin -->") {
      inside = true;
      blocks.emplace_back();
    } else if (line == "<!-- " + name + ":end -->") {
      inside = false;
    } else if (inside && line.starts_with("- `") && line.ends_with("`")) {
      blocks.back().push_back(line.substr(3, line.size() - 4));
    }
  }
  return blocks;
}

class ReadmeExamplesTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto source = db::OpenDataSource(std::string("sqlite://") + HELIOS_DEMO_DB);
    ASSERT_TRUE(source.has_value()) << source.error().message;
    source_ = source->release();
    auto catalog = source_->Introspect();
    ASSERT_TRUE(catalog.has_value());
    auto index = nl2sql::engine::SchemaIndex::Build(*catalog, *source_, 1000);
    ASSERT_TRUE(index.has_value());
    engine_ = new std::shared_ptr<const nl2sql::engine::Engine>(
        std::make_shared<const nl2sql::engine::Engine>(
            std::shared_ptr<const nl2sql::engine::SchemaIndex>(std::move(*index)), clock_));
  }
  static void TearDownTestSuite() {
    delete engine_;
    delete source_;
  }

  static inline db::DataSource* source_ = nullptr;
  static inline SystemClock clock_;
  static inline std::shared_ptr<const nl2sql::engine::Engine>* engine_ = nullptr;
};

TEST_F(ReadmeExamplesTest, EverySingleQuestionIsAnswered) {
  auto blocks = ReadBlocks("examples");
  ASSERT_EQ(blocks.size(), 1u);
  ASSERT_GE(blocks[0].size(), 10u);
  conversation::MemorySessionStore store(clock_, {});
  nl2sql::Pipeline pipeline(*source_, *engine_, store, clock_, {});
  for (const auto& question : blocks[0]) {
    SCOPED_TRACE(question);
    nl2sql::AskRequest request;
    request.question = question;
    auto answer = pipeline.Ask(request);
    ASSERT_TRUE(answer.has_value()) << answer.error().message;
    EXPECT_GT(answer->row_count, 0u) << answer->sql;
    EXPECT_GE(answer->confidence, 0.6);
    EXPECT_EQ(answer->turn, 1);
  }
}

TEST_F(ReadmeExamplesTest, EveryConversationKeepsItsContext) {
  auto blocks = ReadBlocks("conversation");
  ASSERT_GE(blocks.size(), 2u);
  conversation::MemorySessionStore store(clock_, {});
  nl2sql::Pipeline pipeline(*source_, *engine_, store, clock_, {});
  for (const auto& block : blocks) {
    std::string session;
    std::string previous_sql;
    for (size_t i = 0; i < block.size(); ++i) {
      SCOPED_TRACE(block[i]);
      nl2sql::AskRequest request;
      request.question = block[i];
      request.session_id = session;
      auto answer = pipeline.Ask(request);
      ASSERT_TRUE(answer.has_value()) << answer.error().message;
      EXPECT_EQ(answer->turn, static_cast<int>(i + 1));
      EXPECT_GT(answer->row_count, 0u) << answer->sql;
      // A follow-up changes the query it follows.
      EXPECT_NE(answer->sql, previous_sql);
      session = answer->session_id;
      previous_sql = answer->sql;
    }
  }
}

}  // namespace
}  // namespace helios
