// Calibration of the engine's confidence (eval/calibrate.h): the logistic fit recovers a known
// relation, boosted trees learn what it cannot and are scored by the engine as fitted, the
// threshold is the lowest that meets the precision target, folds are stable, and every figure
// Calibrate reports comes from databases the model did not see.
#include "eval/calibrate.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "nl2sql/engine/confidence.h"

namespace helios::eval {
namespace {

TEST(CalibrateTest, FoldsDependOnTheNameOnly) {
  EXPECT_EQ(FoldOf("concert_singer", 5), FoldOf("concert_singer", 5));
  EXPECT_LT(FoldOf("concert_singer", 5), 5u);
  std::vector<size_t> counts(5, 0);
  for (int i = 0; i < 500; ++i) ++counts[FoldOf("db_" + std::to_string(i), 5)];
  for (size_t c : counts) EXPECT_GT(c, 60u) << "folds should be roughly even";
}

TEST(CalibrateTest, LogisticFitRecoversTheRelation) {
  // p(correct) = sigmoid(2 x0 - 1 x1 + 0.5); x2 is noise.
  std::mt19937 rng(7);
  std::normal_distribution<double> n(0, 1);
  std::uniform_real_distribution<double> u(0, 1);
  std::vector<std::vector<double>> xs;
  std::vector<bool> ys;
  for (int i = 0; i < 4000; ++i) {
    std::vector<double> x = {n(rng), n(rng), n(rng)};
    const double p = 1 / (1 + std::exp(-(2 * x[0] - x[1] + 0.5)));
    xs.push_back(x);
    ys.push_back(u(rng) < p);
  }
  std::vector<Sample> samples;
  for (size_t i = 0; i < xs.size(); ++i) samples.push_back({&xs[i], ys[i]});
  const LogisticModel m = FitLogistic(samples, 3, 0.1);
  EXPECT_NEAR(m.weights[0], 2.0, 0.25);
  EXPECT_NEAR(m.weights[1], -1.0, 0.2);
  EXPECT_NEAR(m.weights[2], 0.0, 0.15);
  EXPECT_NEAR(m.bias, 0.5, 0.2);
  EXPECT_GT(m.Predict({2, 0, 0}), 0.95);
  EXPECT_LT(m.Predict({-2, 0, 0}), 0.05);
}

TEST(CalibrateTest, ConstantFeaturesKeepWeightZero) {
  std::vector<std::vector<double>> xs = {{1, 0}, {1, 1}, {1, 0}, {1, 1}};
  std::vector<Sample> samples;
  for (size_t i = 0; i < xs.size(); ++i) samples.push_back({&xs[i], i % 2 == 1});
  const LogisticModel m = FitLogistic(samples, 2, 1.0);
  EXPECT_EQ(m.weights[0], 0.0);
  EXPECT_GT(m.weights[1], 0.0);
}

TEST(CalibrateTest, ThresholdIsTheLowestMeetingTheTarget) {
  // Sorted by probability: 10 right, then alternating right/wrong.
  std::vector<std::pair<double, bool>> scored;
  for (int i = 0; i < 10; ++i) scored.push_back({0.99 - i * 0.01, true});
  for (int i = 0; i < 10; ++i) scored.push_back({0.80 - i * 0.01, i % 2 == 0});
  // Precision of the top k: 10/10 ... at 0.80 11/11, at 0.79 11/12 (91.7%), at 0.78 12/13
  // (92.3%), at 0.77 12/14 (85.7%).
  EXPECT_DOUBLE_EQ(ChooseThreshold(scored, 0.9, 5), 0.78);
  EXPECT_DOUBLE_EQ(ChooseThreshold(scored, 1.0, 5), 0.80);
  // Too few answers above any threshold that meets it: decline everything.
  EXPECT_GT(ChooseThreshold(scored, 1.0, 12), 1.0);
  // Ties are kept or dropped together.
  std::vector<std::pair<double, bool>> tied = {{0.9, true}, {0.5, true}, {0.5, false}};
  EXPECT_DOUBLE_EQ(ChooseThreshold(tied, 0.9, 1), 0.9);
}

// A report whose answers are right exactly when feature 0 is positive.
Report Separable(size_t databases, size_t per_database) {
  Report r;
  std::mt19937 rng(3);
  std::normal_distribution<double> n(0, 1);
  for (size_t d = 0; d < databases; ++d) {
    for (size_t q = 0; q < per_database; ++q) {
      QuestionResult x;
      x.database = "db" + std::to_string(d);
      x.item = q;
      x.difficulty = Difficulty::kEasy;
      if (q % 5 == 0) {
        x.outcome = Outcome::kDeclined;
      } else {
        x.features = {n(rng), n(rng)};
        x.outcome = x.features[0] > 0 ? Outcome::kCorrect : Outcome::kWrong;
      }
      r.results.push_back(x);
    }
  }
  return r;
}

TEST(CalibrateTest, HeldOutFiguresMeetTheTargetOnASeparableSignal) {
  const Report r = Separable(40, 50);
  CalibrationOptions o;
  o.folds = 5;
  o.target_precision = 0.9;
  o.model = ModelKind::kLogistic;
  auto c = Calibrate(r, {"signal", "noise"}, o);
  ASSERT_TRUE(c) << c.error().message;
  ASSERT_EQ(c->folds.size(), 5u);
  size_t questions = 0;
  for (const auto& f : c->folds) {
    questions += f.figures.questions;
    EXPECT_GE(f.figures.precision(), 0.85) << "fold " << f.fold;
    EXPECT_LE(f.figures.answered, f.unthresholded.answered);
  }
  EXPECT_EQ(questions, 2000u) << "every question is scored in exactly one held-out fold";
  EXPECT_EQ(c->held_out.questions, 2000u);
  EXPECT_GE(c->held_out.precision(), 0.9);
  // About half the answered questions are right, and the model finds most of them.
  EXPECT_GT(c->held_out.coverage(), 0.3);
  EXPECT_GT(c->model.logistic.weights[0], 1.0);
  EXPECT_LT(std::abs(c->model.logistic.weights[1]), 0.5);
  EXPECT_NE(ModelInclude(*c).find("{\"signal\", "), std::string::npos);
  EXPECT_NE(CalibrationText(*c).find("held out, all folds"), std::string::npos);
}

TEST(CalibrateTest, TreesMeetTheTargetOnHeldOutFoldsToo) {
  const Report r = Separable(40, 50);
  CalibrationOptions o;
  o.folds = 5;
  o.target_precision = 0.9;
  o.boost.trees = 60;
  auto c = Calibrate(r, {"signal", "noise"}, o);
  ASSERT_TRUE(c) << c.error().message;
  ASSERT_EQ(c->model.kind, ModelKind::kTrees);
  EXPECT_EQ(c->held_out.questions, 2000u);
  EXPECT_GE(c->held_out.precision(), 0.9);
  EXPECT_GT(c->held_out.coverage(), 0.3);
  // The trees split on the signal, never on the noise, near the signal's true boundary.
  size_t splits = 0;
  for (const auto& tree : c->model.trees.trees)
    for (const auto& n : tree) {
      if (n.feature < 0) continue;
      ++splits;
      EXPECT_EQ(n.feature, 0);
    }
  EXPECT_GT(splits, 0u);
  EXPECT_EQ(c->model.trees.trees[0][0].feature, 0);
  EXPECT_NEAR(c->model.trees.trees[0][0].threshold, 0.0, 0.1);
  // The include files: a bias alone in the model, one line per node in the trees.
  EXPECT_NE(ModelInclude(*c).find("{\"bias\", "), std::string::npos);
  EXPECT_EQ(ModelInclude(*c).find("{\"signal\", "), std::string::npos);
  size_t nodes = 0;
  for (const auto& tree : c->model.trees.trees) nodes += tree.size();
  const std::string trees = TreesInclude(*c);
  EXPECT_EQ(static_cast<size_t>(std::count(trees.begin(), trees.end(), '\n')), nodes + 2);
}

// y = (a > 0) xor (b > 0): no weighting of a and b separates it; two levels of splits do.
TEST(CalibrateTest, TreesLearnWhatALinearModelCannot) {
  std::mt19937 rng(11);
  std::uniform_real_distribution<double> u(-1, 1);
  std::vector<std::vector<double>> xs, test;
  for (int i = 0; i < 3000; ++i) xs.push_back({u(rng), u(rng), u(rng)});
  for (int i = 0; i < 1000; ++i) test.push_back({u(rng), u(rng), u(rng)});
  auto label = [](const std::vector<double>& x) { return (x[0] > 0) != (x[1] > 0); };
  std::vector<Sample> samples;
  for (const auto& x : xs) samples.push_back({&x, label(x)});
  BoostOptions o;
  o.trees = 100;
  o.depth = 2;
  o.learning_rate = 0.2;
  const BoostedTrees trees = FitBoostedTrees(samples, 3, o);
  const LogisticModel linear = FitLogistic(samples, 3, 1.0);
  size_t trees_right = 0, linear_right = 0;
  for (const auto& x : test) {
    trees_right += (trees.Predict(x) >= 0.5) == label(x) ? 1 : 0;
    linear_right += (linear.Predict(x) >= 0.5) == label(x) ? 1 : 0;
  }
  EXPECT_GT(trees_right, 950u);
  EXPECT_LT(linear_right, 650u);
}

TEST(CalibrateTest, TreesKeepEveryLeafAboveTheSmallestSize) {
  std::mt19937 rng(5);
  std::normal_distribution<double> n(0, 1);
  std::vector<std::vector<double>> xs;
  for (int i = 0; i < 500; ++i) xs.push_back({n(rng), n(rng)});
  std::vector<Sample> samples;
  for (const auto& x : xs) samples.push_back({&x, x[0] + 0.3 * n(rng) > 0});
  BoostOptions o;
  o.trees = 20;
  o.depth = 6;
  o.min_leaf = 40;
  const BoostedTrees trees = FitBoostedTrees(samples, 2, o);
  for (const auto& tree : trees.trees) {
    std::vector<size_t> at_leaf(tree.size(), 0);
    for (const auto& x : xs) {
      size_t at = 0;
      while (tree[at].feature >= 0)
        at = static_cast<size_t>(x[static_cast<size_t>(tree[at].feature)] < tree[at].threshold
                                     ? tree[at].left
                                     : tree[at].right);
      ++at_leaf[at];
    }
    for (size_t i = 0; i < tree.size(); ++i)
      if (tree[i].feature < 0) {
        EXPECT_GE(at_leaf[i], 40u);
      }
  }
}

// The engine evaluates the trees as written (engine/confidence.h) to the same probability the
// calibration computed.
TEST(CalibrateTest, TheEngineScoresTheTreesAsCalibrationDoes) {
  const auto names = nl2sql::engine::ConfidenceFeatureNames();
  ASSERT_GE(names.size(), 3u);
  std::mt19937 rng(9);
  std::normal_distribution<double> n(0, 1);
  std::vector<std::vector<double>> xs;
  for (int i = 0; i < 1500; ++i) {
    std::vector<double> x(names.size(), 0.0);
    x[0] = n(rng);
    x[1] = n(rng);
    x[2] = std::floor(std::abs(n(rng)) * 2);
    xs.push_back(std::move(x));
  }
  std::vector<Sample> samples;
  for (const auto& x : xs) samples.push_back({&x, x[0] - 0.5 * x[2] + 0.3 * n(rng) > 0});
  BoostOptions o;
  o.trees = 40;
  const BoostedTrees trees = FitBoostedTrees(samples, names.size(), o);
  std::vector<std::string> feature_names;
  for (auto name : names) feature_names.emplace_back(name);
  std::vector<nl2sql::engine::ConfidenceTreeNode> nodes;
  for (size_t t = 0; t < trees.trees.size(); ++t)
    for (const auto& node : trees.trees[t])
      nodes.push_back({static_cast<int>(t),
                       node.feature >= 0 ? names[static_cast<size_t>(node.feature)] : "",
                       node.threshold, node.left, node.right, node.value});
  for (size_t i = 0; i < 200; ++i) {
    const double z = trees.bias + nl2sql::engine::TreesScore(nodes, xs[i]);
    EXPECT_NEAR(1 / (1 + std::exp(-z)), trees.Predict(xs[i]), 1e-12);
  }
  // A node pointing at itself or back up its tree is a leaf, not a loop.
  const std::vector<nl2sql::engine::ConfidenceTreeNode> bad = {{0, names[0], 0.0, 0, 1, 0.25},
                                                               {0, "", 0.0, -1, -1, 1.0},
                                                               {1, names[0], 0.0, 1, 1, 0.5},
                                                               {1, "", 0.0, 0, 0, 2.0}};
  EXPECT_DOUBLE_EQ(nl2sql::engine::TreesScore(bad, xs[0]), 0.25 + 2.0);
}

TEST(CalibrateTest, RefusesARunWithoutFeatures) {
  Report r = Separable(10, 20);
  r.results[1].features.clear();  // an answer from a run with a threshold
  auto c = Calibrate(r, {"signal", "noise"}, CalibrationOptions{});
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(c.error().message.find("no confidence threshold"), std::string::npos);
  CalibrationOptions two;
  two.folds = 2;
  EXPECT_FALSE(Calibrate(Separable(10, 20), {"signal", "noise"}, two));
}

}  // namespace
}  // namespace helios::eval
