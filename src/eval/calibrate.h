// Calibration of the engine's confidence, by cross-validation over databases.
//
// A run of the engine with no confidence threshold (every question it can read is answered)
// gives, per answered question, the engine's signals (engine/confidence.h) and whether it was
// right. A model over those signals (boosted trees, or a logistic model) estimates the probability
// of being right. The databases are split into folds (by a hash of the name, so a database's fold
// never depends on which others are in the file); every figure is measured on databases the model
// and the threshold never saw:
//   - for each fold k: inner cross-validation over the other folds gives out-of-fold
//     probabilities there; the threshold t_k is the lowest at which their precision meets the
//     target; the model fitted on all other folds scores fold k, which keeps the answers with a
//     probability of at least t_k and declines the rest. Those are fold k's figures.
//   - the shipped model is fitted on every fold, with the threshold chosen on the out-of-fold
//     probabilities of all folds.
// Thread-safety: pure functions over values; Calibrate fits its folds on all cores.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "eval/report.h"

namespace helios::eval {

// The fold of a database: FNV-1a of its name, modulo `folds`.
size_t FoldOf(std::string_view database, size_t folds);

struct LogisticModel {
  double bias = 0;
  std::vector<double> weights;  // one per feature
  double Predict(const std::vector<double>& x) const;
};

struct Sample {
  const std::vector<double>* x = nullptr;
  bool correct = false;
};

// L2-regularised logistic regression (Newton's method on standardised features; the weights
// returned apply to the raw features). `l2` is the penalty on the standardised weights.
LogisticModel FitLogistic(const std::vector<Sample>& samples, size_t features, double l2);

// Gradient-boosted regression trees on the log-odds of being right (Newton steps on the
// logistic loss, features cut into at most `bins` quantile bins): they find what a linear model
// cannot, such as a signal that matters only for some kinds of question.
struct TreeNode {
  int feature = -1;           // -1: a leaf
  double threshold = 0;       // x[feature] < threshold goes left
  int left = -1, right = -1;  // indices in the same tree, after this node
  double value = 0;           // a leaf's log-odds
};

struct BoostedTrees {
  double bias = 0;
  std::vector<std::vector<TreeNode>> trees;  // each tree's root first
  double Predict(const std::vector<double>& x) const;
};

struct BoostOptions {
  size_t trees = 200;
  size_t depth = 4;
  double learning_rate = 0.05;
  size_t min_leaf = 30;  // fewest samples a leaf may hold
  double l2 = 1.0;       // on leaf values
  size_t bins = 32;
};

BoostedTrees FitBoostedTrees(const std::vector<Sample>& samples, size_t features,
                             const BoostOptions& options);

enum class ModelKind { kTrees, kLogistic };

// Either kind of model, as calibration fits and ships it.
struct ConfidenceModel {
  ModelKind kind = ModelKind::kTrees;
  LogisticModel logistic;
  BoostedTrees trees;
  double Predict(const std::vector<double>& x) const {
    return kind == ModelKind::kTrees ? trees.Predict(x) : logistic.Predict(x);
  }
};

// The lowest threshold at which the answers with p >= threshold are right at least `target` of
// the time, among thresholds keeping at least `min_answers`; 1.01 (decline everything) when
// none does.
double ChooseThreshold(const std::vector<std::pair<double, bool>>& scored, double target,
                       size_t min_answers);

struct FoldFigures {
  size_t fold = 0;
  size_t databases = 0;
  double threshold = 0;
  Figures figures;        // with the threshold applied
  Figures unthresholded;  // the engine answering everything it read
};

struct CalibrationOptions {
  size_t folds = 5;
  double target_precision = 0.9;
  ModelKind model = ModelKind::kTrees;
  double l2 = 1.0;  // the logistic model's penalty
  BoostOptions boost;
  size_t min_answers = 30;  // fewest answers a threshold may be chosen on
};

struct Calibration {
  std::vector<std::string> feature_names;
  ConfidenceModel model;  // fitted on every fold
  double threshold = 0;   // chosen on out-of-fold probabilities of every fold
  std::vector<FoldFigures> folds;
  Figures held_out;  // the folds' figures summed: every question scored by a model that never
                     // saw its database
  std::map<Difficulty, Figures> held_out_by_difficulty;
  // Out-of-fold probability against outcome, in bins of 0.1: {answers, correct} per bin.
  std::vector<std::pair<size_t, size_t>> reliability;
  // Per result of the report (same order): the probability the model of its held-out fold gave
  // it, or -1 for a question the engine did not answer.
  std::vector<double> held_out_probability;
};

// `report` must come from a run with confidence_threshold 0 (RunOptions), so that each answered
// question carries its features. kInvalidArgument when too few answers or folds.
Result<Calibration> Calibrate(const Report& report, std::vector<std::string> feature_names,
                              const CalibrationOptions& options);

// The model as the C++ initialiser lists and threshold the engine includes
// (confidence_model.inc, confidence_trees.inc, confidence_threshold.inc).
std::string ModelInclude(const Calibration& c);
std::string TreesInclude(const Calibration& c);
std::string ThresholdInclude(const Calibration& c);

// A readable account of the calibration: per fold, held out overall and by difficulty, and the
// reliability table.
std::string CalibrationText(const Calibration& c);

}  // namespace helios::eval
