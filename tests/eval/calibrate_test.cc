// Calibration of the engine's confidence (eval/calibrate.h): the logistic fit recovers a known
// relation, the threshold is the lowest that meets the precision target, folds are stable, and
// every figure Calibrate reports comes from databases the model did not see.
#include "eval/calibrate.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

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
  EXPECT_GT(c->model.weights[0], 1.0);
  EXPECT_LT(std::abs(c->model.weights[1]), 0.5);
  EXPECT_NE(ModelInclude(*c).find("{\"signal\", "), std::string::npos);
  EXPECT_NE(CalibrationText(*c).find("held out, all folds"), std::string::npos);
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
