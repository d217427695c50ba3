// The accuracy gate: the engine on a fixed sample of the Spider training set (every 4th
// question, in file order) and on the hand-written conversations (tests/data/eval/
// conversations.json), at the product's confidence threshold. Each figure must stay within
// kMargin of the figure recorded in tests/data/eval/recorded_figures.json; a change that makes
// the engine better should record the new figures there (the test prints them), so that the
// next regression is caught from the new level.
//
// The databases are the Spider training set's, in shared/datasets/spider-train beside the
// repository; when it is absent the tests are skipped (with the path in the message).
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "eval/benchmark.h"
#include "eval/runner.h"

namespace helios::eval {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// Percentage points a figure may fall below the recorded one.
constexpr double kMargin = 1.0;

fs::path SpiderDir() {
  return fs::path(HELIOS_SOURCE_DIR) / ".." / "shared" / "datasets" / "spider-train";
}

json Recorded() {
  std::ifstream in(fs::path(HELIOS_SOURCE_DIR) / "tests" / "data" / "eval" /
                   "recorded_figures.json");
  return json::parse(in);
}

Report RunSample(const Benchmark& b) {
  RunOptions o;
  o.db_root = (SpiderDir() / "database").string();
  o.jobs = std::max(2u, std::thread::hardware_concurrency());
  auto r = RunBenchmark(b, o);
  EXPECT_TRUE(r) << r.error().message;
  return r ? *r : Report{};
}

void ExpectNoWorse(const std::string& name, const Figures& f, const json& recorded) {
  const double coverage = 100 * f.coverage(), precision = 100 * f.precision(),
               accuracy = 100 * f.accuracy();
  std::cout << fmt::format(
      "{}: {} questions, coverage {:.1f}%, precision {:.1f}%, accuracy {:.1f}% (recorded "
      "{:.1f}% / {:.1f}% / {:.1f}%)\n",
      name, f.questions, coverage, precision, accuracy, recorded.at("coverage").get<double>(),
      recorded.at("precision").get<double>(), recorded.at("accuracy").get<double>());
  EXPECT_EQ(f.questions, recorded.at("questions").get<size_t>()) << name << ": the sample changed";
  EXPECT_GE(accuracy, recorded.at("accuracy").get<double>() - kMargin) << name;
  EXPECT_GE(precision, recorded.at("precision").get<double>() - kMargin) << name;
  EXPECT_EQ(f.errors, 0u) << name << ": every query the engine writes must run";
}

class AccuracyGateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::is_directory(SpiderDir() / "database"))
      GTEST_SKIP() << "the Spider training set is not present at " << SpiderDir().string()
                   << "; nothing to measure";
  }
};

TEST_F(AccuracyGateTest, SpiderSampleStaysAtTheRecordedFigures) {
  auto all = ReadBenchmark((SpiderDir() / "train_spider.json").string());
  ASSERT_TRUE(all) << all.error().message;
  Benchmark sample;
  sample.format = all->format;
  for (size_t i = 0; i < all->items.size(); i += 4) sample.items.push_back(all->items[i]);
  ASSERT_GT(sample.items.size(), 1000u);
  const Report r = RunSample(sample);
  ExpectNoWorse("spider sample", r.overall, Recorded().at("spider_every_4th"));
}

TEST_F(AccuracyGateTest, ConversationsStayAtTheRecordedFigures) {
  auto b = ReadBenchmark(std::string(HELIOS_SOURCE_DIR) + "/tests/data/eval/conversations.json");
  ASSERT_TRUE(b) << b.error().message;
  ASSERT_GE(b->items.size(), 40u);
  const Report r = RunSample(*b);
  const json recorded = Recorded().at("conversations");
  ExpectNoWorse("conversation turns", r.overall, recorded.at("turns"));
  ASSERT_TRUE(r.interactions);
  EXPECT_GE(100 * r.interactions->accuracy(),
            recorded.at("interaction_accuracy").get<double>() - kMargin);
}

}  // namespace
}  // namespace helios::eval
